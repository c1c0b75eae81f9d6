#include "oracle.h"

#include <openssl/evp.h>
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <string_view>
#include <utility>

namespace lakegate::engine::testing {
namespace {

using policy::ColumnSpec;
using policy::MaskKind;
using policy::Permission;
using policy::PermissionSet;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
bool Same(std::string_view a, std::string_view b) { return Lower(a) == Lower(b); }
bool NameMatches(const std::string& pattern, const std::string& name) {
  return pattern == "*" || Same(pattern, name);
}
bool InList(const std::vector<std::string>& list, const std::string& name) {
  return std::any_of(list.begin(), list.end(), [&](const std::string& c) { return Same(c, name); });
}
bool SpecAllows(const ColumnSpec& spec, const std::string& column) {
  switch (spec.kind) {
    case ColumnSpec::Kind::kAll:
      return true;
    case ColumnSpec::Kind::kInclude:
      return InList(spec.columns, column);
    case ColumnSpec::Kind::kExclude:
      return !InList(spec.columns, column);
  }
  return false;
}

std::string QuoteIdent(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

Cell ColumnCell(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
      return Cell{static_cast<int64_t>(sqlite3_column_int64(stmt, i))};
    case SQLITE_FLOAT:
      return Cell{sqlite3_column_double(stmt, i)};
    case SQLITE_TEXT:
      return Cell{std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, i)),
                              static_cast<size_t>(sqlite3_column_bytes(stmt, i)))};
    case SQLITE_BLOB: {
      const char* p = static_cast<const char*>(sqlite3_column_blob(stmt, i));
      return Cell{
          Blob{std::string(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(stmt, i)))}};
    }
    default:
      return Cell{};
  }
}

int BindCell(sqlite3_stmt* stmt, int index, const Cell& c) {
  if (const auto* i = std::get_if<int64_t>(&c)) return sqlite3_bind_int64(stmt, index, *i);
  if (const auto* d = std::get_if<double>(&c)) return sqlite3_bind_double(stmt, index, *d);
  if (const auto* s = std::get_if<std::string>(&c)) {
    return sqlite3_bind_text(stmt, index, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
  }
  if (const auto* b = std::get_if<Blob>(&c)) {
    return sqlite3_bind_blob(stmt, index, b->bytes.data(), static_cast<int>(b->bytes.size()),
                             SQLITE_TRANSIENT);
  }
  return sqlite3_bind_null(stmt, index);
}

policy::RowFilter::Value ToFilterValue(const Cell& c) {
  policy::RowFilter::Value v;
  if (const auto* i = std::get_if<int64_t>(&c)) {
    v.type = policy::RowFilter::Value::Type::kInteger;
    v.i = *i;
  } else if (const auto* d = std::get_if<double>(&c)) {
    v.type = policy::RowFilter::Value::Type::kReal;
    v.r = *d;
  } else if (const auto* s = std::get_if<std::string>(&c)) {
    v.type = policy::RowFilter::Value::Type::kText;
    v.t = *s;
  }
  return v;
}

// 'YYYY-MM-DD' optionally followed by ' HH:MM' or ' HH:MM:SS', with a valid
// month and day: SQLite's date functions read these the same on every build.
bool IsDateText(const std::string& s) {
  auto digits = [&](size_t from, size_t n) {
    if (from + n > s.size()) return false;
    for (size_t i = from; i < from + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    }
    return true;
  };
  if (s.size() < 10 || !digits(0, 4) || s[4] != '-' || !digits(5, 2) || s[7] != '-' ||
      !digits(8, 2)) {
    return false;
  }
  int month = std::stoi(s.substr(5, 2));
  int day = std::stoi(s.substr(8, 2));
  if (month < 1 || month > 12 || day < 1 || day > 28) return false;
  if (s.size() == 10) return true;
  if (s.size() != 16 && s.size() != 19) return false;
  if (s[10] != ' ' || !digits(11, 2) || s[13] != ':' || !digits(14, 2)) return false;
  if (s.size() == 19 && (s[16] != ':' || !digits(17, 2))) return false;
  return std::stoi(s.substr(11, 2)) < 24 && std::stoi(s.substr(14, 2)) < 60 &&
         (s.size() == 16 || std::stoi(s.substr(17, 2)) < 60);
}

struct Source {
  bool all_rows = false;
  const policy::RowFilter* filter = nullptr;
  std::vector<bool> columns;  // per table column
};

}  // namespace

Result<RawTable> ReadRawTable(const std::string& lake_dir, const std::string& database,
                              const std::string& table) {
  sqlite3* db = nullptr;
  std::string path = lake_dir + "/" + database + ".db";
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "open failed";
    sqlite3_close(db);
    return Status(StatusCode::kInternal, path + ": " + msg);
  }
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> holder(db, sqlite3_close);
  RawTable raw;
  raw.database = database;
  raw.name = table;
  sqlite3_stmt* stmt = nullptr;
  std::string sql = "SELECT name, type FROM pragma_table_info(?1) ORDER BY cid";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    return Status(StatusCode::kInternal, sqlite3_errmsg(db));
  }
  sqlite3_bind_text(stmt, 1, table.c_str(), -1, SQLITE_TRANSIENT);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    raw.columns.push_back(RawColumn{reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)),
                                    reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1))});
  }
  sqlite3_finalize(stmt);
  if (raw.columns.empty()) return Status(StatusCode::kNotFound, "no table " + table);
  sql = "SELECT * FROM " + QuoteIdent(table);
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    return Status(StatusCode::kInternal, sqlite3_errmsg(db));
  }
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::vector<Cell> row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) row.push_back(ColumnCell(stmt, i));
    raw.rows.push_back(std::move(row));
  }
  sqlite3_finalize(stmt);
  return raw;
}

std::vector<std::pair<std::string, std::string>> OracleEffectiveTags(
    const policy::PolicySnapshot& policy, const std::string& database, const std::string& table,
    const std::string& column) {
  // level 0 = database, 1 = table, 2 = column; the highest level present wins.
  std::map<std::string, std::pair<int, std::string>> best;
  for (const auto& a : policy.tag_assignments) {
    if (!Same(a.database, database)) continue;
    int level;
    if (a.table.empty()) {
      if (!a.column.empty()) continue;
      level = 0;
    } else {
      if (!Same(a.table, table) || table.empty()) continue;
      if (a.column.empty()) {
        level = 1;
      } else {
        if (column.empty() || !Same(a.column, column)) continue;
        level = 2;
      }
    }
    auto it = best.find(a.key);
    if (it == best.end() || it->second.first < level) best[a.key] = {level, a.value};
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [k, v] : best) out.emplace_back(k, v.second);
  return out;
}

namespace {

bool TagsMatch(const policy::TagExpression& e,
               const std::vector<std::pair<std::string, std::string>>& tags) {
  if (e.clauses.empty()) return false;  // an empty expression matches nothing
  for (const auto& [key, values] : e.clauses) {
    auto it = std::find_if(tags.begin(), tags.end(), [&](const auto& t) { return t.first == key; });
    if (it == tags.end()) return false;
    if (std::find(values.begin(), values.end(), it->second) == values.end()) return false;
  }
  return true;
}

}  // namespace

struct MaskExpressionEvaluator::Impl {
  std::vector<RawColumn> columns;
  sqlite3* db = nullptr;
  // Per expression text: the prepared statement, or nullptr when the
  // expression reads NULL (does not parse, or names an unknown column).
  std::map<std::string, sqlite3_stmt*> statements;

  ~Impl() {
    for (auto& [text, stmt] : statements) sqlite3_finalize(stmt);
    sqlite3_close(db);
  }

  Status Open() {
    if (db != nullptr) return Status::Ok();
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
        SQLITE_OK) {
      std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
      sqlite3_close(db);
      db = nullptr;
      return Status(StatusCode::kInternal, "oracle expression connection: " + msg);
    }
    // The compiled SQL quotes identifiers with "": never read them as strings.
    sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DML, 0, nullptr);
    sqlite3_db_config(db, SQLITE_DBCONFIG_DQS_DDL, 0, nullptr);
    return Status::Ok();
  }

  // The statement of `text` (cached), or nullptr for an expression that
  // reads NULL.
  Result<sqlite3_stmt*> Statement(const std::string& text) {
    auto it = statements.find(text);
    if (it != statements.end()) return it->second;
    sqlite3_stmt* stmt = nullptr;
    Result<policy::MaskExpression> parsed = policy::ParseMaskExpression(text);
    bool known = parsed.ok();
    if (known) {
      for (const std::string& name : parsed->Columns()) {
        known = known && std::any_of(columns.begin(), columns.end(),
                                     [&](const RawColumn& c) { return Same(c.name, name); });
      }
    }
    if (known) {
      // ?N is the N-th raw column (1-based); column names match
      // case-insensitively, as in the engine.
      std::string sql = "SELECT " + parsed->ToSql([&](std::string_view name) {
        for (size_t i = 0; i < columns.size(); ++i) {
          if (Same(columns[i].name, name)) return "?" + std::to_string(i + 1);
        }
        return std::string("NULL");  // unreachable: checked above
      });
      LG_RETURN_IF_ERROR(Open());
      const char* tail = nullptr;
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, &tail) != SQLITE_OK || stmt == nullptr ||
          (tail != nullptr && *tail != '\0')) {
        std::string msg = stmt == nullptr && sqlite3_errcode(db) == SQLITE_OK
                              ? std::string("no statement")
                              : std::string(sqlite3_errmsg(db));
        sqlite3_finalize(stmt);
        return Status(StatusCode::kInternal, "oracle expression: " + msg + " in " + sql);
      }
    }
    statements.emplace(text, stmt);
    return stmt;
  }
};

MaskExpressionEvaluator::MaskExpressionEvaluator(std::vector<RawColumn> columns)
    : impl_(std::make_unique<Impl>()) {
  impl_->columns = std::move(columns);
}

MaskExpressionEvaluator::~MaskExpressionEvaluator() = default;

Result<Cell> MaskExpressionEvaluator::Evaluate(const std::string& expression,
                                               const std::vector<Cell>& row) {
  if (row.size() != impl_->columns.size()) {
    return Status(StatusCode::kInvalidArgument,
                  "row of " + std::to_string(row.size()) + " cells for " +
                      std::to_string(impl_->columns.size()) + " columns");
  }
  LG_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, impl_->Statement(expression));
  if (stmt == nullptr) return Cell{};  // fail closed, as the engine
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  // ?N up to the highest column the expression names.
  int params = sqlite3_bind_parameter_count(stmt);
  for (int i = 1; i <= params && static_cast<size_t>(i) <= row.size(); ++i) {
    if (BindCell(stmt, i, row[static_cast<size_t>(i - 1)]) != SQLITE_OK) {
      return Status(StatusCode::kInternal,
                    std::string("oracle expression bind: ") + sqlite3_errmsg(impl_->db));
    }
  }
  int rc = sqlite3_step(stmt);
  if (rc != SQLITE_ROW) {
    std::string msg = sqlite3_errmsg(impl_->db);
    sqlite3_reset(stmt);
    return Status(StatusCode::kInternal, "oracle expression: " + msg + " evaluating " + expression);
  }
  Cell out = ColumnCell(stmt, 0);
  sqlite3_reset(stmt);
  return out;
}

Result<Cell> ApplyMask(const policy::ColumnMask& mask, const Cell& value,
                       const std::string& hash_key) {
  if (mask.kind == MaskKind::kExpression) {
    return Status(StatusCode::kInvalidArgument,
                  "an expression mask needs the row: use MaskExpressionEvaluator");
  }
  if (std::holds_alternative<std::monostate>(value)) return Cell{};
  switch (mask.kind) {
    case MaskKind::kNull:
      return Cell{};
    case MaskKind::kRedact:
      if (const auto* s = std::get_if<std::string>(&value))
        return Cell{std::string(s->size(), 'x')};
      if (std::holds_alternative<int64_t>(value)) return Cell{int64_t{0}};
      if (std::holds_alternative<double>(value)) return Cell{0.0};
      return Cell{};
    case MaskKind::kShowLastN: {
      const auto* s = std::get_if<std::string>(&value);
      if (s == nullptr) return Status(StatusCode::kInvalidArgument, "show-last-n on a non-text");
      std::string out = *s;
      size_t n = mask.n < 0 ? 0 : static_cast<size_t>(mask.n);
      for (size_t i = 0; i + n < out.size(); ++i) out[i] = 'x';
      return Cell{out};
    }
    case MaskKind::kYearOnly: {
      const auto* s = std::get_if<std::string>(&value);
      if (s == nullptr || !IsDateText(*s)) return Cell{};
      return Cell{s->substr(0, 4)};
    }
    case MaskKind::kExpression:
      break;  // handled above
    case MaskKind::kHash: {
      if (hash_key.empty()) return Status(StatusCode::kInvalidArgument, "no hash key");
      std::string text;
      if (const auto* s = std::get_if<std::string>(&value)) {
        text = *s;
      } else if (const auto* i = std::get_if<int64_t>(&value)) {
        text = std::to_string(*i);
      } else {
        return Status(StatusCode::kInvalidArgument, "hash of a non-text, non-integer value");
      }
      unsigned char md[EVP_MAX_MD_SIZE];
      size_t len = 0;
      if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, hash_key.data(), hash_key.size(),
                    reinterpret_cast<const unsigned char*>(text.data()), text.size(), md,
                    sizeof(md), &len) == nullptr) {
        return Status(StatusCode::kInternal, "HMAC failed");
      }
      static const char kHex[] = "0123456789abcdef";
      std::string hex;
      for (size_t k = 0; k < len; ++k) {
        hex += kHex[md[k] >> 4];
        hex += kHex[md[k] & 15];
      }
      return Cell{hex};
    }
  }
  return Status(StatusCode::kInvalidArgument, "the oracle cannot compute a keyed hash");
}

Result<GovernedTable> ComputeView(const policy::PolicySnapshot& policy, const policy::Role& role,
                                  const RawTable& raw, const std::string& hash_key) {
  const size_t ncol = raw.columns.size();
  GovernedTable view;
  std::vector<Source> sources;
  PermissionSet perms = 0;

  for (const policy::Grant& g : role.grants) {
    if (g.table.empty() || g.permissions == 0) continue;
    if (!NameMatches(g.database, raw.database) || !NameMatches(g.table, raw.name)) continue;
    perms |= g.permissions;
    if (!policy::Has(g.permissions, Permission::kSelect)) continue;
    Source s;
    s.all_rows = true;
    for (const auto& c : raw.columns) s.columns.push_back(SpecAllows(g.columns, c.name));
    sources.push_back(std::move(s));
  }
  auto table_tags = OracleEffectiveTags(policy, raw.database, raw.name, "");
  for (const policy::TagGrant& tg : role.tag_grants) {
    if (tg.permissions == 0 || !TagsMatch(tg.expression, table_tags)) continue;
    perms |= tg.permissions;
    if (!policy::Has(tg.permissions, Permission::kSelect)) continue;
    Source s;
    s.all_rows = true;
    for (const auto& c : raw.columns) {
      s.columns.push_back(
          TagsMatch(tg.expression, OracleEffectiveTags(policy, raw.database, raw.name, c.name)));
    }
    sources.push_back(std::move(s));
  }
  for (const std::string& name : role.filters) {
    auto it = policy.filters.find(name);
    if (it == policy.filters.end()) continue;
    const policy::DataCellFilter& f = it->second;
    if (!Same(f.database, raw.database) || !Same(f.table, raw.name)) continue;
    perms |= policy::Bit(Permission::kSelect) | policy::Bit(Permission::kDescribe);
    Source s;
    s.all_rows = f.rows.all_rows();
    s.filter = s.all_rows ? nullptr : &f.rows;
    for (const auto& c : raw.columns) s.columns.push_back(SpecAllows(f.columns, c.name));
    sources.push_back(std::move(s));
  }
  // A source that covers no column covers nothing.
  sources.erase(std::remove_if(sources.begin(), sources.end(),
                               [](const Source& s) {
                                 return std::none_of(s.columns.begin(), s.columns.end(),
                                                     [](bool b) { return b; });
                               }),
                sources.end());
  if (perms != 0) perms |= policy::Bit(Permission::kDescribe);
  view.permissions = perms;
  if (perms == 0) {
    view.access = GovernedTable::Access::kHidden;
    return view;
  }
  if (!policy::Has(perms, Permission::kSelect) || sources.empty()) {
    view.access = GovernedTable::Access::kDescribeOnly;
    return view;
  }
  view.access = GovernedTable::Access::kSelectable;

  std::vector<size_t> visible;
  std::vector<const policy::ColumnMask*> masks;
  for (size_t c = 0; c < ncol; ++c) {
    bool any =
        std::any_of(sources.begin(), sources.end(), [&](const Source& s) { return s.columns[c]; });
    if (!any) continue;
    visible.push_back(c);
    RawColumn column = raw.columns[c];
    const policy::ColumnMask* mask = nullptr;
    for (const auto& m : role.masks) {
      if (Same(m.database, raw.database) && Same(m.table, raw.name) &&
          Same(m.column, column.name)) {
        mask = &m;
        break;
      }
    }
    if (mask != nullptr && (mask->kind == MaskKind::kHash || mask->kind == MaskKind::kShowLastN ||
                            mask->kind == MaskKind::kYearOnly)) {
      column.type = "TEXT";  // masks that always give text declare TEXT
    } else if (mask != nullptr && mask->kind == MaskKind::kExpression) {
      column.type = "";  // any value: no affinity (see the header)
    }
    view.columns.push_back(column);
    masks.push_back(mask);
  }

  MaskExpressionEvaluator expressions(raw.columns);
  for (const auto& row : raw.rows) {
    auto value = [&](std::string_view name) {
      for (size_t c = 0; c < ncol; ++c) {
        if (Same(raw.columns[c].name, name)) return ToFilterValue(row[c]);
      }
      return policy::RowFilter::Value{};
    };
    std::vector<bool> covers(sources.size());
    bool row_visible = false;
    for (size_t i = 0; i < sources.size(); ++i) {
      covers[i] = sources[i].all_rows || sources[i].filter->Matches(value);
      row_visible = row_visible || covers[i];
    }
    if (!row_visible) continue;
    std::vector<Cell> out;
    for (size_t k = 0; k < visible.size(); ++k) {
      size_t c = visible[k];
      bool cell = false;
      for (size_t i = 0; i < sources.size() && !cell; ++i)
        cell = covers[i] && sources[i].columns[c];
      if (!cell) {
        out.emplace_back(std::monostate{});
      } else if (masks[k] != nullptr && masks[k]->kind == MaskKind::kExpression) {
        // On the whole raw row, also when this cell's own value is NULL.
        auto m = expressions.Evaluate(masks[k]->expression, row);
        if (!m.ok()) return m.status();
        out.push_back(*m);
      } else if (masks[k] != nullptr) {
        auto m = ApplyMask(*masks[k], row[c], hash_key);
        if (!m.ok()) return m.status();
        out.push_back(*m);
      } else {
        out.push_back(row[c]);
      }
    }
    view.rows.push_back(std::move(out));
  }
  return view;
}

struct Oracle::Impl {
  sqlite3* db = nullptr;
  std::vector<std::string> databases;
  Status Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "error";
      sqlite3_free(err);
      return Status(StatusCode::kInternal, "oracle: " + msg + " in " + sql);
    }
    return Status::Ok();
  }
};

Oracle::Oracle() : impl_(std::make_unique<Impl>()) {
  sqlite3_open(":memory:", &impl_->db);
  // Like the engine: double-quoted strings are identifiers, never literals.
  sqlite3_db_config(impl_->db, SQLITE_DBCONFIG_DQS_DML, 0, nullptr);
  sqlite3_db_config(impl_->db, SQLITE_DBCONFIG_DQS_DDL, 0, nullptr);
}

Oracle::~Oracle() { sqlite3_close(impl_->db); }

Status Oracle::AddDatabase(const std::string& database) {
  if (InList(impl_->databases, database)) return Status::Ok();
  impl_->databases.push_back(database);
  return impl_->Exec("ATTACH ':memory:' AS " + QuoteIdent(database));
}

Status Oracle::AddTable(const std::string& database, const std::string& table,
                        const GovernedTable& view) {
  LG_RETURN_IF_ERROR(AddDatabase(database));
  if (view.access != GovernedTable::Access::kSelectable) return Status::Ok();
  std::string create = "CREATE TABLE " + QuoteIdent(database) + "." + QuoteIdent(table) + "(";
  std::string params;
  for (size_t i = 0; i < view.columns.size(); ++i) {
    create += (i ? ", " : "") + QuoteIdent(view.columns[i].name) + " " + view.columns[i].type;
    params += (i ? ", ?" : "?") + std::to_string(i + 1);
  }
  LG_RETURN_IF_ERROR(impl_->Exec(create + ")"));
  LG_RETURN_IF_ERROR(impl_->Exec("BEGIN"));
  std::string insert =
      "INSERT INTO " + QuoteIdent(database) + "." + QuoteIdent(table) + " VALUES (" + params + ")";
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(impl_->db, insert.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    return Status(StatusCode::kInternal, sqlite3_errmsg(impl_->db));
  }
  for (const auto& row : view.rows) {
    for (size_t i = 0; i < row.size(); ++i) BindCell(stmt, static_cast<int>(i + 1), row[i]);
    if (sqlite3_step(stmt) != SQLITE_DONE) {
      sqlite3_finalize(stmt);
      return Status(StatusCode::kInternal, sqlite3_errmsg(impl_->db));
    }
    sqlite3_reset(stmt);
  }
  sqlite3_finalize(stmt);
  return impl_->Exec("COMMIT");
}

OracleResult Oracle::Run(const std::string& sql) {
  OracleResult r;
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  if (sqlite3_prepare_v2(impl_->db, sql.c_str(), -1, &stmt, &tail) != SQLITE_OK) {
    r.error = sqlite3_errmsg(impl_->db);
    return r;
  }
  if (stmt == nullptr) {
    r.error = "empty statement";
    return r;
  }
  for (int i = 0; i < sqlite3_column_count(stmt); ++i)
    r.columns.push_back(sqlite3_column_name(stmt, i));
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    std::vector<Cell> row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) row.push_back(ColumnCell(stmt, i));
    r.rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) {
    r.error = sqlite3_errmsg(impl_->db);
    r.rows.clear();
  } else {
    r.ok = true;
  }
  sqlite3_finalize(stmt);
  return r;
}

}  // namespace lakegate::engine::testing
