#include "engine/sqlite/governed_table.h"

#include <algorithm>
#include <cstring>
#include <list>
#include <memory>
#include <utility>

#include "common/log.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "engine/sqlite/guard.h"

namespace lakegate::engine::sqlite_internal {
namespace {

constexpr size_t kMaxPlansPerTable = 256;
constexpr size_t kMaxCachedStatementsPerTable = 16;

std::string Key(std::string_view schema, std::string_view table) {
  std::string key = AsciiLower(schema);
  key += '\0';
  key += AsciiLower(table);
  return key;
}

// One access path chosen by xBestIndex: which columns to read, which
// constraints the inner statement applies, whether LIMIT is pushed.
struct Plan {
  std::vector<int> columns;                      // vtab column indexes read
  std::vector<std::pair<int, int>> constraints;  // (column, SQLITE_INDEX_CONSTRAINT_*)
  bool limit = false;
  std::string sql;                // the inner SELECT
  std::vector<int> result_index;  // vtab column -> inner result column or -1
  int rowid_index = -1;           // inner result column of the raw rowid
};

const char* OperatorSql(int op) {
  switch (op) {
    case SQLITE_INDEX_CONSTRAINT_EQ:
      return "=";
    case SQLITE_INDEX_CONSTRAINT_GT:
      return ">";
    case SQLITE_INDEX_CONSTRAINT_LE:
      return "<=";
    case SQLITE_INDEX_CONSTRAINT_LT:
      return "<";
    case SQLITE_INDEX_CONSTRAINT_GE:
      return ">=";
    default:
      return nullptr;
  }
}

}  // namespace

struct GovernedVtab {
  sqlite3_vtab base;  // first member: SQLite casts between the two
  GovernedModule* module = nullptr;
  const TableDef* def = nullptr;
  std::vector<Plan> plans;
  std::map<std::string, int> plan_index;
  // Idle inner statements, most recently used first: (plan, statement).
  std::list<std::pair<int, sqlite3_stmt*>> idle;
  int open_cursors = 0;

  void FinalizeIdle() {
    for (auto& [plan, stmt] : idle) sqlite3_finalize(stmt);
    idle.clear();
  }

  int InternPlan(Plan plan) {
    std::string key;
    for (int c : plan.columns) key += std::to_string(c) + ",";
    key += "|";
    for (auto [c, op] : plan.constraints) key += std::to_string(c) + ":" + std::to_string(op) + ",";
    key += plan.limit ? "|L" : "|";
    auto it = plan_index.find(key);
    if (it != plan_index.end()) return it->second;

    const TableDef& t = *def;
    // What the role sees of column i: the compiled expression (mask, cell
    // visibility), or the raw column when there is nothing to apply.
    auto column_sql = [&t](int i) {
      const ColumnDef& c = t.columns[static_cast<size_t>(i)];
      return c.expr.empty() ? QuoteIdent(c.name) : "(" + c.expr + ")";
    };
    std::string sql = "SELECT ";
    plan.result_index.assign(t.columns.size(), -1);
    for (size_t i = 0; i < plan.columns.size(); ++i) {
      if (i > 0) sql += ", ";
      sql += column_sql(plan.columns[i]);
      plan.result_index[static_cast<size_t>(plan.columns[i])] = static_cast<int>(i);
    }
    if (plan.columns.empty()) sql += "1";
    // Only plans with pushed constraints can be the arms of SQLite's OR
    // union (the one consumer of vtab rowids here: reading rowid itself is
    // denied), so full scans skip the extra column.
    if (!t.rowid_sql.empty() && !plan.constraints.empty()) {
      sql += ", " + t.rowid_sql;
      plan.rowid_index = static_cast<int>(std::max<size_t>(plan.columns.size(), 1));
    }
    sql += " FROM " + QuoteIdent(t.schema) + "." + QuoteIdent(t.table);
    int arg = 1;
    bool where = false;
    if (!t.row_filter.empty()) {
      sql += " WHERE (" + t.row_filter + ")";
      where = true;
    }
    for (size_t i = 0; i < plan.constraints.size(); ++i) {
      sql += where ? " AND " : " WHERE ";
      where = true;
      auto [c, op] = plan.constraints[i];
      // The pushed comparison is on the same expression the role sees
      // (masked, NULL where hidden), never on the raw value behind it.
      // COLLATE BINARY: xBestIndex pushes only BINARY comparisons, and the
      // raw column may declare another collation.
      sql +=
          column_sql(c) + " " + OperatorSql(op) + " ?" + std::to_string(arg++) + " COLLATE BINARY";
    }
    if (plan.limit) sql += " LIMIT ?" + std::to_string(arg++);
    plan.sql = std::move(sql);
    int index = static_cast<int>(plans.size());
    plans.push_back(std::move(plan));
    plan_index.emplace(std::move(key), index);
    return index;
  }
};

namespace {

struct GovernedCursor {
  sqlite3_vtab_cursor base;  // first member
  sqlite3_stmt* stmt = nullptr;
  int plan = -1;
  int64_t row_number = 0;
  bool eof = true;
};

GovernedVtab* AsVtab(sqlite3_vtab* v) { return reinterpret_cast<GovernedVtab*>(v); }
GovernedCursor* AsCursor(sqlite3_vtab_cursor* c) { return reinterpret_cast<GovernedCursor*>(c); }

void SetError(sqlite3_vtab* vtab, const char* message) {
  sqlite3_free(vtab->zErrMsg);
  vtab->zErrMsg = sqlite3_mprintf("%s", message);
}

// Maps an inner failure to a message that carries no inner detail (the raw
// schema and values stay private); the detail goes to the operational log.
int InnerFailure(GovernedVtab* vt, int rc) {
  int primary = rc & 0xff;
  if (primary == SQLITE_INTERRUPT) {
    SetError(&vt->base, "interrupted");
    return SQLITE_INTERRUPT;
  }
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    SetError(&vt->base, "database is busy");
    return SQLITE_BUSY;
  }
  if (primary == SQLITE_NOMEM) return SQLITE_NOMEM;
  log::Warn(std::string("governed read of ") + vt->def->schema + "." + vt->def->table +
            " failed: " + sqlite3_errmsg(vt->module->privileged()));
  SetError(&vt->base, "governed read failed");
  return SQLITE_ERROR;
}

int Connect(sqlite3* db, void* aux, int argc, const char* const* argv, sqlite3_vtab** out,
            char** err, bool create) {
  auto* module = static_cast<GovernedModule*>(aux);
  if (argc < 3 || (create && !module->creating())) {
    *err = sqlite3_mprintf("not authorized");
    return SQLITE_ERROR;
  }
  const TableDef* def = module->Find(argv[1], argv[2]);
  if (def == nullptr || argc != 3) {
    *err = sqlite3_mprintf("not authorized");
    return SQLITE_ERROR;
  }
  std::string decl = "CREATE TABLE x(";
  for (size_t i = 0; i < def->columns.size(); ++i) {
    if (i > 0) decl += ", ";
    decl += QuoteIdent(def->columns[i].name);
    if (!def->columns[i].type.empty()) decl += " " + def->columns[i].type;
    if (!def->columns[i].collation.empty()) decl += " COLLATE " + def->columns[i].collation;
  }
  decl += ")";
  int rc = sqlite3_declare_vtab(db, decl.c_str());
  if (rc != SQLITE_OK) return rc;
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  auto vt = std::make_unique<GovernedVtab>();
  vt->base = sqlite3_vtab{};
  vt->module = module;
  vt->def = def;
  module->AddVtab(vt.get());
  *out = &vt.release()->base;
  return SQLITE_OK;
}

int XCreate(sqlite3* db, void* aux, int argc, const char* const* argv, sqlite3_vtab** out,
            char** err) {
  return Connect(db, aux, argc, argv, out, err, /*create=*/true);
}

int XConnect(sqlite3* db, void* aux, int argc, const char* const* argv, sqlite3_vtab** out,
             char** err) {
  return Connect(db, aux, argc, argv, out, err, /*create=*/false);
}

int XDisconnect(sqlite3_vtab* v) {
  GovernedVtab* vt = AsVtab(v);
  vt->FinalizeIdle();
  vt->module->RemoveVtab(vt);
  sqlite3_free(vt->base.zErrMsg);
  delete vt;  // NOLINT: created by release() in Connect
  return SQLITE_OK;
}

int XBestIndex(sqlite3_vtab* v, sqlite3_index_info* info) {
  GovernedVtab* vt = AsVtab(v);
  const TableDef& t = *vt->def;
  const int n = static_cast<int>(t.columns.size());
  Plan plan;
  // Must-have 1: read only the columns the outer query uses.
  for (int i = 0; i < n; ++i) {
    uint64_t bit = uint64_t{1} << std::min(i, 63);
    if ((info->colUsed & bit) != 0) plan.columns.push_back(i);
  }
  // Must-have 3: push a constraint only when the inner comparison is exactly
  // the outer one, and then omit the outer check; LIMIT only when every other
  // constraint was pushed and omitted, with no OFFSET and no ORDER BY.
  int next_arg = 0;
  int limit_constraint = -1;
  bool has_offset = false;
  bool all_omitted = true;
  double rows = 1e6;
  for (int i = 0; i < info->nConstraint; ++i) {
    const auto& c = info->aConstraint[i];
    if (c.op == SQLITE_INDEX_CONSTRAINT_LIMIT) {
      if (c.usable) limit_constraint = i;
      continue;
    }
    if (c.op == SQLITE_INDEX_CONSTRAINT_OFFSET) {
      has_offset = true;
      continue;
    }
    const char* op = OperatorSql(c.op);
    if (!c.usable || op == nullptr || c.iColumn < 0 || c.iColumn >= n) {
      all_omitted = false;
      continue;
    }
    const char* collation = sqlite3_vtab_collation(info, i);
    if (collation == nullptr || sqlite3_stricmp(collation, "BINARY") != 0) {
      all_omitted = false;
      continue;
    }
    const ColumnDef& col = t.columns[static_cast<size_t>(c.iColumn)];
    bool exact;
    if (col.expr.empty()) {
      // Raw column. With numeric column affinity both sides convert the
      // right operand the same way whatever its own affinity. With TEXT/BLOB
      // affinity the outer comparison depends on the right operand's
      // affinity, which is known to be "none" only for a constant.
      exact = col.numeric;
      if (!exact) {
        sqlite3_value* rhs = nullptr;
        exact = sqlite3_vtab_rhs_value(info, i, &rhs) == SQLITE_OK && rhs != nullptr;
      }
    } else {
      // A compiled expression has no affinity inside, while the outer side
      // applies the declared column's affinity to the right operand: push
      // only a constant whose storage class that affinity leaves alone.
      sqlite3_value* rhs = nullptr;
      exact = sqlite3_vtab_rhs_value(info, i, &rhs) == SQLITE_OK && rhs != nullptr;
      if (exact) {
        int type = sqlite3_value_type(rhs);
        if (col.numeric) {
          exact = type == SQLITE_INTEGER || type == SQLITE_FLOAT || type == SQLITE_NULL;
        } else if (col.text) {
          exact = type == SQLITE_TEXT || type == SQLITE_BLOB || type == SQLITE_NULL;
        }
      }
    }
    if (!exact) {
      all_omitted = false;
      continue;
    }
    info->aConstraintUsage[i].argvIndex = ++next_arg;
    info->aConstraintUsage[i].omit = 1;
    plan.constraints.emplace_back(c.iColumn, c.op);
    rows /= c.op == SQLITE_INDEX_CONSTRAINT_EQ ? 100.0 : 3.0;
  }
  if (limit_constraint >= 0 && !has_offset && all_omitted && info->nOrderBy == 0) {
    info->aConstraintUsage[limit_constraint].argvIndex = ++next_arg;
    info->aConstraintUsage[limit_constraint].omit = 1;
    plan.limit = true;
  }
  info->estimatedRows = static_cast<sqlite3_int64>(std::max(rows, 1.0));
  info->estimatedCost =
      std::max(rows, 1.0) * (1.0 + 0.1 * static_cast<double>(plan.columns.size()));
  info->idxNum = vt->InternPlan(std::move(plan));
  return SQLITE_OK;
}

int XOpen(sqlite3_vtab* v, sqlite3_vtab_cursor** out) {
  auto cursor = std::make_unique<GovernedCursor>();
  cursor->base = sqlite3_vtab_cursor{};
  AsVtab(v)->open_cursors++;
  *out = &cursor.release()->base;
  return SQLITE_OK;
}

// Must-have 2: an inner statement goes back to the cache reset (an unreset
// statement would hold its read transaction open).
void ReleaseStatement(GovernedVtab* vt, GovernedCursor* cur) {
  if (cur->stmt == nullptr) return;
  sqlite3_reset(cur->stmt);
  sqlite3_clear_bindings(cur->stmt);
  vt->idle.emplace_front(cur->plan, cur->stmt);
  cur->stmt = nullptr;
  while (vt->idle.size() > kMaxCachedStatementsPerTable) {
    sqlite3_finalize(vt->idle.back().second);
    vt->idle.pop_back();
  }
}

int XClose(sqlite3_vtab_cursor* c) {
  GovernedCursor* cur = AsCursor(c);
  GovernedVtab* vt = AsVtab(c->pVtab);
  ReleaseStatement(vt, cur);
  vt->open_cursors--;
  delete cur;  // NOLINT: created by release() in XOpen
  return SQLITE_OK;
}

int Step(GovernedCursor* cur) {
  int rc = sqlite3_step(cur->stmt);
  if (rc == SQLITE_ROW) {
    cur->eof = false;
    cur->row_number++;
    return SQLITE_OK;
  }
  cur->eof = true;
  if (rc == SQLITE_DONE) return SQLITE_OK;
  return InnerFailure(AsVtab(cur->base.pVtab), rc);
}

int XFilter(sqlite3_vtab_cursor* c, int idx_num, const char* /*idx_str*/, int argc,
            sqlite3_value** argv) {
  GovernedCursor* cur = AsCursor(c);
  GovernedVtab* vt = AsVtab(c->pVtab);
  // Defence in depth: the authorizer already denies reads of such tables.
  if (!vt->def->selectable) {
    SetError(&vt->base, "not authorized");
    return SQLITE_AUTH;
  }
  if (idx_num < 0 || static_cast<size_t>(idx_num) >= vt->plans.size()) {
    SetError(&vt->base, "governed read failed");
    return SQLITE_ERROR;
  }
  ReleaseStatement(vt, cur);
  cur->plan = idx_num;
  cur->row_number = 0;
  for (auto it = vt->idle.begin(); it != vt->idle.end(); ++it) {
    if (it->first == idx_num) {
      cur->stmt = it->second;
      vt->idle.erase(it);
      break;
    }
  }
  if (cur->stmt == nullptr) {
    const std::string& sql = vt->plans[static_cast<size_t>(idx_num)].sql;
    int rc = sqlite3_prepare_v3(vt->module->privileged(), sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &cur->stmt, nullptr);
    if (rc != SQLITE_OK) {
      cur->stmt = nullptr;
      cur->eof = true;
      return InnerFailure(vt, rc);
    }
  }
  for (int i = 0; i < argc; ++i) {
    int rc = sqlite3_bind_value(cur->stmt, i + 1, argv[i]);
    if (rc != SQLITE_OK) return InnerFailure(vt, rc);
  }
  return Step(cur);
}

int XNext(sqlite3_vtab_cursor* c) { return Step(AsCursor(c)); }

int XEof(sqlite3_vtab_cursor* c) { return AsCursor(c)->eof ? 1 : 0; }

int XColumn(sqlite3_vtab_cursor* c, sqlite3_context* ctx, int i) {
  GovernedCursor* cur = AsCursor(c);
  GovernedVtab* vt = AsVtab(c->pVtab);
  const Plan& plan = vt->plans[static_cast<size_t>(cur->plan)];
  if (i < 0 || static_cast<size_t>(i) >= plan.result_index.size() ||
      plan.result_index[static_cast<size_t>(i)] < 0 || cur->stmt == nullptr) {
    sqlite3_result_null(ctx);
    return SQLITE_OK;
  }
  sqlite3_result_value(ctx,
                       sqlite3_column_value(cur->stmt, plan.result_index[static_cast<size_t>(i)]));
  return SQLITE_OK;
}

// Writes never reach a governed table (the engine refuses to step any
// statement that is not read-only on the governed connection); this exists
// only so that SQLite reports writes to the authorizer instead of failing
// with "table may not be modified" before the engine can classify them.
int XUpdate(sqlite3_vtab* v, int /*argc*/, sqlite3_value** /*argv*/, sqlite3_int64* /*rowid*/) {
  SetError(v, "not authorized");
  return SQLITE_AUTH;
}

// A keyed hash of the raw rowid: unique per row, so SQLite's OR
// optimisation (a union of scans by rowid) keeps every row, while the raw
// rowid, which may alias a column the role may not read (an INTEGER PRIMARY
// KEY), never crosses. Collisions need ~2^31 rows in one table.
int XRowid(sqlite3_vtab_cursor* c, sqlite3_int64* rowid) {
  GovernedCursor* cur = AsCursor(c);
  GovernedVtab* vt = AsVtab(c->pVtab);
  const Plan& plan = vt->plans[static_cast<size_t>(cur->plan)];
  if (plan.rowid_index < 0 || cur->stmt == nullptr) {
    // WITHOUT ROWID: the row number (unique within one scan only).
    *rowid = cur->row_number;
    return SQLITE_OK;
  }
  std::string input = vt->def->schema;
  input += '\0';
  input += vt->def->table;
  input += '\0';
  auto append64 = [&input](uint64_t v) {
    for (int i = 0; i < 8; ++i) input += static_cast<char>((v >> (8 * i)) & 0xff);
  };
  // A typed, length-prefixed encoding of the identifying values.
  for (int k = 0; k < std::max(vt->def->rowid_columns, 1); ++k) {
    sqlite3_value* v = sqlite3_column_value(cur->stmt, plan.rowid_index + k);
    int type = sqlite3_value_type(v);
    input += static_cast<char>(type);
    if (type == SQLITE_INTEGER) {
      append64(static_cast<uint64_t>(sqlite3_value_int64(v)));
    } else if (type == SQLITE_FLOAT) {
      double d = sqlite3_value_double(v);
      uint64_t bits = 0;
      std::memcpy(&bits, &d, sizeof bits);
      append64(bits);
    } else if (type == SQLITE_TEXT || type == SQLITE_BLOB) {
      const void* p = type == SQLITE_TEXT ? static_cast<const void*>(sqlite3_value_text(v))
                                          : sqlite3_value_blob(v);
      int n = sqlite3_value_bytes(v);
      append64(static_cast<uint64_t>(n));
      if (p != nullptr) input.append(static_cast<const char*>(p), static_cast<size_t>(n));
    }
  }
  std::string mac = crypto::HmacSha256(vt->module->rowid_key(), input);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<unsigned char>(mac[static_cast<size_t>(i)]);
  *rowid = static_cast<sqlite3_int64>(v >> 1);  // non-negative
  return SQLITE_OK;
}

sqlite3_module MakeModule() {
  sqlite3_module m{};
  m.iVersion = 1;
  m.xCreate = XCreate;
  m.xConnect = XConnect;  // distinct from xCreate: the module is not eponymous
  m.xBestIndex = XBestIndex;
  m.xDisconnect = XDisconnect;
  m.xDestroy = XDisconnect;
  m.xOpen = XOpen;
  m.xClose = XClose;
  m.xFilter = XFilter;
  m.xNext = XNext;
  m.xEof = XEof;
  m.xColumn = XColumn;
  m.xRowid = XRowid;
  m.xUpdate = XUpdate;
  return m;
}

const sqlite3_module kModule = MakeModule();

}  // namespace

void GovernedModule::AddTable(TableDef def) {
  std::string key = Key(def.schema, def.table);
  tables_[key] = std::move(def);
}

const TableDef* GovernedModule::Find(std::string_view schema, std::string_view table) const {
  auto it = tables_.find(Key(schema, table));
  return it == tables_.end() ? nullptr : &it->second;
}

bool GovernedModule::CanRead(std::string_view schema, std::string_view table,
                             std::string_view column) const {
  if (schema.empty()) {
    // count(*)-style reads arrive without a schema. Allow them when some
    // table of that name is readable; the cursor of a table that is not
    // (xFilter) refuses to produce rows, so this cannot count hidden rows.
    if (!column.empty()) return false;
    return std::any_of(tables_.begin(), tables_.end(), [&](const auto& entry) {
      return entry.second.selectable && EqualsIgnoreCase(entry.second.table, table);
    });
  }
  const TableDef* def = Find(schema, table);
  if (def == nullptr || !def->selectable) return false;
  if (column.empty()) return true;
  return std::any_of(def->columns.begin(), def->columns.end(),
                     [&](const ColumnDef& c) { return EqualsIgnoreCase(c.name, column); });
}

int GovernedModule::Register(sqlite3* user) {
  return sqlite3_create_module_v2(user, kModuleName, &kModule, this, nullptr);
}

void GovernedModule::TrimPlans() {
  for (GovernedVtab* vt : vtabs_) {
    if (vt->plans.size() > kMaxPlansPerTable && vt->open_cursors == 0) {
      vt->FinalizeIdle();
      vt->plans.clear();
      vt->plan_index.clear();
    }
  }
}

void GovernedModule::RemoveVtab(GovernedVtab* vtab) {
  vtabs_.erase(std::remove(vtabs_.begin(), vtabs_.end(), vtab), vtabs_.end());
}

}  // namespace lakegate::engine::sqlite_internal
