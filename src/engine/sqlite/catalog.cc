#include "engine/sqlite/catalog.h"

#include <algorithm>
#include <functional>
#include <string_view>
#include <utility>
#include <variant>

#include "common/strings.h"
#include "engine/engine.h"
#include "engine/sqlite/connection.h"

namespace lakegate::engine::sqlite_internal {
namespace {

// The SQL of `mask` applied to the raw column `c` (a quoted identifier);
// `column` gives the quoted identifier of any raw column, or "" when the
// table has no such column. Invalid masks, and expressions naming a column
// the table lacks, read NULL (fail closed).
std::string MaskSql(const policy::ColumnMask& mask, const std::string& c,
                    const std::function<std::string(std::string_view)>& column) {
  // `n` x's for a non-negative integer expression n.
  auto xs = [](const std::string& n) { return "replace(hex(zeroblob(" + n + ")), '00', 'x')"; };
  switch (mask.kind) {
    case policy::MaskKind::kNull:
      return "NULL";
    case policy::MaskKind::kRedact:
      return "CASE WHEN typeof(" + c + ") IN ('integer', 'real') THEN 0 WHEN " + c +
             " IS NULL THEN NULL ELSE " + xs("length(" + c + ")") + " END";
    case policy::MaskKind::kHash:
      return std::string(kMaskHashFunction) + "(" + c + ")";
    case policy::MaskKind::kShowLastN: {
      if (!policy::ValidateColumnMask(mask).ok()) return "NULL";
      if (mask.n == 0)
        return "CASE WHEN " + c + " IS NULL THEN NULL ELSE " + xs("length(" + c + ")") + " END";
      std::string n = std::to_string(mask.n);
      return "CASE WHEN " + c + " IS NULL THEN NULL ELSE " +
             xs("max(length(" + c + ") - " + n + ", 0)") + " || substr(" + c + ", -" + n + ") END";
    }
    case policy::MaskKind::kYearOnly:
      return "CASE WHEN typeof(" + c + ") = 'text' AND " + c +
             " GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' THEN substr(" + c + ", 1, 4) END";
    case policy::MaskKind::kExpression: {
      Result<policy::MaskExpression> expression = policy::ParseMaskExpression(mask.expression);
      if (!expression.ok()) return "NULL";
      for (const std::string& name : expression->Columns()) {
        if (column(name).empty()) return "NULL";
      }
      return expression->ToSql(column);
    }
  }
  return "NULL";
}

// Compiles one role's view of a table into `def`: the declared columns, each
// column's expression and the row condition. `all` is every raw column.
void CompileView(const policy::TableView& view, const std::vector<ColumnDef>& all, TableDef& def) {
  auto raw_column = [&all](std::string_view name) -> std::string {
    for (const auto& c : all) {
      if (EqualsIgnoreCase(c.name, name)) return QuoteIdent(c.name);
    }
    return "";
  };
  auto actual = [&raw_column](std::string_view name) -> std::string {
    std::string quoted = raw_column(name);
    // Unreachable: DecideView drops filters on unknown columns.
    return quoted.empty() ? "NULL" : quoted;
  };
  auto any_of = [&actual](const std::vector<const policy::RowFilter*>& filters) {
    std::string sql;
    for (const policy::RowFilter* f : filters) {
      if (!sql.empty()) sql += " OR ";
      sql += f->ToSql(actual);
    }
    return sql;
  };
  if (!view.all_rows) def.row_filter = view.row_filters.empty() ? "0" : any_of(view.row_filters);
  for (const policy::ViewColumn& vc : view.columns) {
    auto raw = std::find_if(all.begin(), all.end(),
                            [&](const ColumnDef& c) { return EqualsIgnoreCase(c.name, vc.name); });
    if (raw == all.end()) continue;
    ColumnDef c = *raw;
    std::string value = QuoteIdent(c.name);
    if (vc.mask != nullptr) {
      value = MaskSql(*vc.mask, value, raw_column);
      using K = policy::MaskKind;
      if (vc.mask->kind == K::kHash || vc.mask->kind == K::kShowLastN ||
          vc.mask->kind == K::kYearOnly) {
        c.type = "TEXT";  // these masks always give text (or NULL)
        c.numeric = false;
        c.text = true;
      } else if (vc.mask->kind == K::kExpression) {
        c.type = "";  // any type: no affinity, the expression's values as they are
        c.numeric = false;
        c.text = false;
      }
    }
    if (!vc.all_rows) value = "CASE WHEN " + any_of(vc.row_filters) + " THEN " + value + " END";
    if (vc.mask != nullptr || !vc.all_rows) c.expr = std::move(value);
    def.columns.push_back(std::move(c));
  }
}

}  // namespace

Status ExecTrusted(sqlite3* db, Guard& guard, const std::string& sql) {
  guard.trusted = true;
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  guard.trusted = false;
  if (rc != SQLITE_OK) {
    std::string message = err != nullptr ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return Status(StatusCode::kInternal, EngineFailure::kInternal,
                  "engine setup failed: " + message);
  }
  return Status::Ok();
}

Status AttachTrusted(sqlite3* db, Guard& guard, const std::string& path, const std::string& name) {
  guard.trusted = true;
  sqlite3_stmt* raw = nullptr;
  std::string sql = "ATTACH DATABASE ?1 AS " + QuoteIdent(name);
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr);
  StmtPtr stmt(raw);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(raw, 1, path.c_str(), -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(raw);
  }
  guard.trusted = false;
  if (rc != SQLITE_OK && rc != SQLITE_DONE) {
    return Status(StatusCode::kInternal, EngineFailure::kInternal,
                  "cannot attach database " + name + ": " + sqlite3_errmsg(db));
  }
  return Status::Ok();
}

std::vector<std::string> AttachOrder(const std::vector<std::string>& databases,
                                     const std::string& database) {
  std::vector<std::string> ordered;
  if (!database.empty()) ordered.push_back(database);
  for (const auto& d : databases) {
    if (d != database) ordered.push_back(d);
  }
  return ordered;
}

std::vector<std::string> DatabasesNamed(std::string_view sql, const std::vector<Param>& params,
                                        const std::vector<std::string>& candidates,
                                        const std::string& database) {
  std::vector<std::string> out;
  if (!database.empty()) out.push_back(database);
  auto consider = [&](std::string_view word) {
    for (const auto& name : candidates) {
      if (EqualsIgnoreCase(name, word)) out.push_back(name);
    }
  };
  auto word_char = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  };
  size_t i = 0;
  while (i < sql.size()) {
    if (!word_char(sql[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < sql.size() && word_char(sql[i])) ++i;
    consider(sql.substr(start, i - start));
  }
  for (const Param& p : params) {
    if (const auto* text = std::get_if<std::string>(&p)) consider(*text);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status CheckAttachLimit(sqlite3* conn, size_t count, const std::string& who) {
  const int max_attached = sqlite3_limit(conn, SQLITE_LIMIT_ATTACHED, -1);
  if (max_attached >= 0 && count <= static_cast<size_t>(max_attached)) return Status::Ok();
  return Status(StatusCode::kFailedPrecondition, EngineFailure::kMisconfigured,
                who + " " + std::to_string(count) +
                    " databases; the sqlite engine attaches at most " +
                    std::to_string(max_attached) + " per connection");
}

Result<std::vector<DatabaseView>> DescribeLake(sqlite3* conn, Guard& guard,
                                               const std::string& lake_dir,
                                               const std::vector<std::string>& databases,
                                               const policy::PolicySnapshot& policy,
                                               const policy::Role& role, bool unrestricted) {
  std::vector<std::string> visible;
  for (const auto& name : databases) {
    if (unrestricted || policy::DecideDatabase(policy, role, name) != 0) visible.push_back(name);
  }
  LG_RETURN_IF_ERROR(CheckAttachLimit(conn, visible.size(), "role " + role.name + " can see"));
  std::vector<DatabaseView> out;
  for (const auto& name : visible) {
    LG_RETURN_IF_ERROR(AttachTrusted(conn, guard, LakeFilePath(lake_dir, name), name));
    DatabaseView view;
    view.name = name;
    guard.trusted = true;
    sqlite3_stmt* raw = nullptr;
    std::string sql = "SELECT name FROM " + QuoteIdent(name) +
                      ".sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE "
                      "'sqlite\\_%' ESCAPE '\\' ORDER BY name";
    sqlite3_prepare_v2(conn, sql.c_str(), -1, &raw, nullptr);
    StmtPtr tables(raw);
    std::vector<std::string> names;
    while (tables != nullptr && sqlite3_step(tables.get()) == SQLITE_ROW) {
      names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(tables.get(), 0)));
    }
    for (const auto& table : names) {
      std::string pragma = "PRAGMA " + QuoteIdent(name) + ".table_info(" + QuoteIdent(table) + ")";
      raw = nullptr;
      sqlite3_prepare_v2(conn, pragma.c_str(), -1, &raw, nullptr);
      StmtPtr info(raw);
      std::vector<ColumnDef> all;
      while (info != nullptr && sqlite3_step(info.get()) == SQLITE_ROW) {
        ColumnDef c;
        c.name = reinterpret_cast<const char*>(sqlite3_column_text(info.get(), 1));
        const unsigned char* type = sqlite3_column_text(info.get(), 2);
        std::string declared = type != nullptr ? reinterpret_cast<const char*>(type) : "";
        c.numeric = HasNumericAffinity(declared);
        c.text = HasTextAffinity(declared);
        c.pk = sqlite3_column_int(info.get(), 5);
        c.type = SafeDeclaredType(declared);
        const char* collation = nullptr;
        if (sqlite3_table_column_metadata(conn, name.c_str(), table.c_str(), c.name.c_str(),
                                          nullptr, &collation, nullptr, nullptr,
                                          nullptr) == SQLITE_OK &&
            collation != nullptr) {
          // Only built-ins: a custom collation does not exist on our connections.
          if (sqlite3_stricmp(collation, "NOCASE") == 0) c.collation = "NOCASE";
          if (sqlite3_stricmp(collation, "RTRIM") == 0) c.collation = "RTRIM";
        }
        all.push_back(std::move(c));
      }
      if (all.empty()) continue;
      TableDef def;
      def.schema = name;
      def.table = table;
      bool without_rowid = false;
      std::string list = "PRAGMA " + QuoteIdent(name) + ".table_list(" + QuoteIdent(table) + ")";
      raw = nullptr;
      sqlite3_prepare_v2(conn, list.c_str(), -1, &raw, nullptr);
      StmtPtr table_list(raw);
      if (table_list != nullptr && sqlite3_step(table_list.get()) == SQLITE_ROW) {
        without_rowid = sqlite3_column_int(table_list.get(), 4) != 0;
      }
      for (const char* alias : {"rowid", "_rowid_", "oid"}) {
        if (without_rowid || !def.rowid_sql.empty()) break;
        if (std::none_of(all.begin(), all.end(),
                         [&](const ColumnDef& c) { return EqualsIgnoreCase(c.name, alias); })) {
          def.rowid_sql = alias;
          def.rowid_columns = 1;
        }
      }
      if (without_rowid) {
        // The primary key identifies a row of a WITHOUT ROWID table.
        std::vector<std::pair<int, std::string>> key;
        for (size_t i = 0; i < all.size(); ++i) {
          if (all[i].pk > 0) key.emplace_back(all[i].pk, QuoteIdent(all[i].name));
        }
        std::sort(key.begin(), key.end());
        for (const auto& [order, column] : key) {
          def.rowid_sql += (def.rowid_sql.empty() ? "" : ", ") + column;
        }
        def.rowid_columns = static_cast<int>(key.size());
      }
      if (unrestricted) {
        def.selectable = true;
        def.columns = all;
      } else {
        std::vector<std::string> all_names;
        for (const auto& c : all) all_names.push_back(c.name);
        policy::TableView table_view = policy::DecideView(policy, role, name, table, all_names);
        if (!table_view.visible()) continue;
        def.selectable = policy::Has(table_view.permissions, policy::Permission::kSelect) &&
                         !table_view.columns.empty();
        def.whole_table = table_view.whole_table;
        def.permissions = table_view.permissions;
        if (def.selectable) {
          CompileView(table_view, all, def);
        } else {
          def.columns = all;  // DESCRIBE only: the names and types, no data
        }
      }
      view.tables.push_back(std::move(def));
    }
    guard.trusted = false;
    out.push_back(std::move(view));
  }
  return out;
}

}  // namespace lakegate::engine::sqlite_internal
