#include "trino/opa_decider.h"

#include <algorithm>
#include <iterator>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/strings.h"
#include "engine/trino/trino_engine.h"

namespace lakegate::trino {
namespace {

using Json = nlohmann::json;
using engine::StatementClass;
using policy::Bit;
using policy::Has;
using policy::Permission;

constexpr ReasonInfo kInfos[] = {
    {.name = "malformed_request", .public_code = "invalid_request"},
};
static_assert(std::size(kInfos) == static_cast<size_t>(OpaFailure::kMalformed) + 1,
              "one ReasonInfo per OpaFailure");
constexpr ReasonDomain kDomain("trino_opa", kInfos, static_cast<int>(std::size(kInfos)));

// Answers kept per policy version before the cache starts over (also when
// they hold more than Options::max_cached_bytes).
constexpr size_t kMaxCachedAnswers = 20000;
constexpr std::string_view kEnginePrefix = "lakegate:";

Status Malformed(std::string what) {
  return Status(StatusCode::kInvalidArgument, OpaFailure::kMalformed,
                "not an OPA access-control request: " + std::move(what));
}

std::string Str(const Json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string TableKey(std::string_view schema, std::string_view table) {
  return AsciiLower(schema) + "." + AsciiLower(table);
}

using engine::QuoteIdent;
using engine::QuoteString;

// An expression of type `type` that fails the query with `why` when evaluated.
std::string FailSql(const std::string& why, std::string_view type) {
  return "CAST(fail(" + QuoteString(why) + ") AS " + std::string(type) + ")";
}

bool IsTextType(std::string_view type) {
  std::string t = AsciiLower(type);
  return t.starts_with("varchar") || t.starts_with("char");
}
bool IsIntegerType(std::string_view type) {
  std::string t = AsciiLower(type);
  return t == "bigint" || t == "integer" || t == "smallint" || t == "tinyint";
}
bool IsNumberType(std::string_view type) {
  std::string t = AsciiLower(type);
  return IsIntegerType(t) || t == "double" || t == "real" || t.starts_with("decimal");
}

// The kind of a Trino type's values as a mask expression reads them
// (nullopt: none of them).
std::optional<policy::MaskColumnSql::Kind> KindOf(std::string_view type) {
  if (IsIntegerType(type)) return policy::MaskColumnSql::Kind::kInteger;
  if (IsNumberType(type)) return policy::MaskColumnSql::Kind::kReal;
  if (IsTextType(type)) return policy::MaskColumnSql::Kind::kText;
  return std::nullopt;
}

// A mask for Trino, on column `c` (quoted) of Trino type `type`, with the
// semantics the SQLite engine gives it (engine/sqlite/catalog.cc). Where
// Trino cannot give the same value for that type, the query fails.
// `typed_column` is `column` with the kind of its values.
std::string MaskSql(
    const policy::ColumnMask& mask, const std::string& c, std::string_view type,
    const std::function<std::string(std::string_view)>& column,
    const std::function<std::optional<policy::MaskColumnSql>(std::string_view)>& typed_column,
    const std::string& hash_key_hex) {
  auto unsupported = [&](std::string_view kind) {
    return FailSql("lakegate: the " + std::string(kind) + " mask on " + mask.column + " (a " +
                       std::string(type) + " column) is not supported on Trino",
                   type);
  };
  auto xs = [](const std::string& n) { return "rpad('', " + n + ", 'x')"; };
  switch (mask.kind) {
    case policy::MaskKind::kNull:
      return "CAST(NULL AS " + std::string(type) + ")";
    case policy::MaskKind::kRedact:
      if (IsNumberType(type)) return "CASE WHEN " + c + " IS NULL THEN NULL ELSE 0 END";
      if (!IsTextType(type)) return unsupported("redact");
      return xs("length(" + c + ")");  // NULL stays NULL: rpad of a NULL length
    case policy::MaskKind::kHash:
      if (!IsTextType(type)) return unsupported("hash");
      return "lower(to_hex(hmac_sha256(to_utf8(" + c + "), from_hex('" + hash_key_hex + "'))))";
    case policy::MaskKind::kShowLastN: {
      if (!IsTextType(type)) return unsupported("show_last_n");
      if (!policy::ValidateColumnMask(mask).ok()) return "CAST(NULL AS " + std::string(type) + ")";
      // The last n characters (all of a shorter value), 'x'-padded on the
      // left to the value's length; one expression, no branch: a NULL value
      // stays NULL (substr() and lpad() of NULL are NULL).
      if (mask.n == 0) return xs("length(" + c + ")");
      return "lpad(substr(" + c + ", greatest(length(" + c + ") - " + std::to_string(mask.n - 1) +
             ", 1)), length(" + c + "), 'x')";
    }
    case policy::MaskKind::kYearOnly:
      if (!IsTextType(type)) return unsupported("year_only");
      return "CASE WHEN regexp_like(" + c + ", '^[0-9]{4}-[0-9]{2}-[0-9]{2}') THEN substr(" + c +
             ", 1, 4) END";
    case policy::MaskKind::kExpression: {
      Result<policy::MaskExpression> expression = policy::ParseMaskExpression(mask.expression);
      if (!expression.ok()) return "CAST(NULL AS " + std::string(type) + ")";
      for (const std::string& name : expression->Columns()) {
        if (column(name).empty()) return "CAST(NULL AS " + std::string(type) + ")";
      }
      Result<std::string> sql = expression->ToTrinoSql(typed_column, KindOf(type));
      if (!sql.ok()) {
        return FailSql("lakegate: the expression mask on " + mask.column + " (a " +
                           std::string(type) +
                           " column) is not supported on Trino: " + sql.status().message(),
                       type);
      }
      return "CAST(" + *sql + " AS " + std::string(type) + ")";
    }
  }
  return "CAST(NULL AS " + std::string(type) + ")";
}

// The columns an expression over `filters` references, added to `out`.
void AddFilterColumns(const std::vector<const policy::RowFilter*>& filters,
                      std::vector<std::string>* out) {
  for (const policy::RowFilter* f : filters) {
    std::vector<std::string> columns = f->Columns();
    out->insert(out->end(), columns.begin(), columns.end());
  }
}

// True when the role may SELECT every one of `columns` (the SelectFromColumns
// rule below). Trino then evaluates an expression over them as the caller and
// checks them within the caller's own SelectFromColumns for the query; an
// expression with an identity of its own costs a second AccessCatalog +
// SelectFromColumns pair per query, asked for that identity.
bool RoleReadsAll(const policy::TableView& view, const std::vector<std::string>& columns) {
  if (!Has(view.permissions, Permission::kSelect)) return false;
  return std::all_of(columns.begin(), columns.end(), [&](const std::string& c) {
    return std::any_of(view.columns.begin(), view.columns.end(),
                       [&](const policy::ViewColumn& v) { return EqualsIgnoreCase(v.name, c); });
  });
}

// A row filter or mask for the plugin: evaluated as the caller when it may
// read every column the expression references, else as kExpressionPrincipal.
Json ViewExpression(std::string expression, const policy::TableView& view,
                    const std::vector<std::string>& columns) {
  Json e = {{"expression", std::move(expression)}};
  if (!RoleReadsAll(view, columns)) e["identity"] = kExpressionPrincipal;
  return e;
}

std::string AnyOf(const std::vector<const policy::RowFilter*>& filters) {
  if (filters.empty()) return "FALSE";
  std::string sql;
  for (const policy::RowFilter* f : filters) {
    if (!sql.empty()) sql += " OR ";
    sql += "(" + f->ToSql(QuoteIdent, policy::SqlDialect::kTrino) + ")";
  }
  return sql;
}

}  // namespace

const ReasonDomain& ReasonDomainOf(OpaFailure) { return kDomain; }

std::string EnginePrincipal(std::string_view role, StatementClass max_class) {
  return std::string(kEnginePrefix) + std::string(engine::StatementClassName(max_class)) + ":" +
         std::string(role);
}

bool ParseEnginePrincipal(std::string_view user, TrinoPrincipal* out) {
  if (!user.starts_with(kEnginePrefix)) return false;
  user.remove_prefix(kEnginePrefix.size());
  size_t colon = user.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view cls = user.substr(0, colon);
  std::string_view role = user.substr(colon + 1);
  if (role.empty()) return false;
  for (StatementClass c : {StatementClass::kRead, StatementClass::kWrite, StatementClass::kAdmin}) {
    if (cls == engine::StatementClassName(c)) {
      out->role = std::string(role);
      out->max_class = c;
      return true;
    }
  }
  return false;
}

// One parsed request.
struct OpaDecider::Request {
  std::string user;
  std::string operation;
  Json resource;  // null when absent
  std::vector<Json> filter_resources;
};

namespace {

Result<OpaDecider::Request> ParseRequest(std::string_view body) {
  Json doc = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Malformed("the body is not a JSON object");
  auto input = doc.find("input");
  if (input == doc.end() || !input->is_object()) return Malformed("no \"input\" object");
  auto context = input->find("context");
  auto action = input->find("action");
  if (context == input->end() || action == input->end() || !action->is_object()) {
    return Malformed("no input.context or input.action");
  }
  OpaDecider::Request r;
  auto identity = context->find("identity");
  if (identity == context->end()) return Malformed("no input.context.identity");
  r.user = Str(*identity, "user");
  r.operation = Str(*action, "operation");
  if (r.operation.empty()) return Malformed("no input.action.operation");
  auto resource = action->find("resource");
  if (resource != action->end()) r.resource = *resource;
  auto filter = action->find("filterResources");
  if (filter != action->end()) {
    if (!filter->is_array()) return Malformed("input.action.filterResources is not an array");
    r.filter_resources.assign(filter->begin(), filter->end());
  }
  return r;
}

// What one principal may do, with the policy it was decided under.
class Judge {
 public:
  Judge(const policy::PolicySnapshot& policy, const policy::Role* role, StatementClass max_class,
        bool superuser, const std::string& catalog)
      : policy_(policy),
        role_(role),
        max_class_(max_class),
        catalog_(catalog),
        superuser_(superuser) {
    unrestricted_ = superuser_ || (role_ != nullptr && policy::IsUnrestricted(*role_));
  }

  bool known() const { return role_ != nullptr || superuser_; }
  bool unrestricted() const { return unrestricted_; }

  bool IsLake(std::string_view catalog) const { return EqualsIgnoreCase(catalog, catalog_); }

  bool CatalogVisible(std::string_view catalog) const {
    if (!known()) return false;
    if (unrestricted_) return true;
    if (EqualsIgnoreCase(catalog, "system")) return true;
    return IsLake(catalog);
  }

  bool SchemaVisible(std::string_view catalog, std::string_view schema) const {
    if (!CatalogVisible(catalog)) return false;
    if (unrestricted_) return true;
    if (EqualsIgnoreCase(schema, "information_schema")) return true;
    if (!IsLake(catalog))
      return EqualsIgnoreCase(schema, "jdbc") || EqualsIgnoreCase(schema, "metadata");
    return policy::DecideDatabase(policy_, *role_, schema) != 0;
  }

  // The role's view of a lake table; `columns` are its columns when known.
  policy::TableView View(std::string_view schema, std::string_view table,
                         const std::vector<std::string>& columns) const {
    return policy::DecideView(policy_, *role_, schema, table, columns);
  }

  bool TableVisible(std::string_view catalog, std::string_view schema, std::string_view table,
                    const std::vector<std::string>& columns) const {
    if (!SchemaVisible(catalog, schema)) return false;
    if (unrestricted_ || EqualsIgnoreCase(schema, "information_schema")) return true;
    if (!IsLake(catalog)) return true;  // system.jdbc / system.metadata tables
    return View(schema, table, columns).visible();
  }

  bool ClassAllows(StatementClass needed) const {
    return static_cast<int>(max_class_) >= static_cast<int>(needed);
  }

  // DML on a lake table: the scope's class, the permission and whole-table access.
  bool MayChangeRows(std::string_view catalog, std::string_view schema, std::string_view table,
                     const std::vector<std::string>& columns, Permission permission) const {
    if (!known() || !ClassAllows(StatementClass::kWrite)) return false;
    if (unrestricted_) return true;
    if (!IsLake(catalog)) return false;
    policy::TableView view = View(schema, table, columns);
    return Has(view.permissions, permission) && view.whole_table;
  }

  bool MayOnTable(std::string_view catalog, std::string_view schema, std::string_view table,
                  const std::vector<std::string>& columns, StatementClass cls,
                  Permission permission) const {
    if (!known() || !ClassAllows(cls)) return false;
    if (unrestricted_) return true;
    if (!IsLake(catalog)) return false;
    return Has(View(schema, table, columns).permissions, permission);
  }

  bool MayOnSchema(std::string_view catalog, std::string_view schema, StatementClass cls,
                   Permission permission) const {
    if (!known() || !ClassAllows(cls)) return false;
    if (unrestricted_) return true;
    if (!IsLake(catalog)) return false;
    return Has(policy::DecideDatabase(policy_, *role_, schema), permission);
  }

 private:
  const policy::PolicySnapshot& policy_;
  const policy::Role* role_;
  const StatementClass max_class_;
  const std::string& catalog_;
  const bool superuser_;
  bool unrestricted_ = false;
};

struct TableRef {
  std::string catalog, schema, table;
  std::vector<std::string> columns;  // when the resource lists them
  bool has_columns = false;
};

TableRef TableOf(const Json& resource) {
  TableRef t;
  if (!resource.is_object()) return t;
  auto table = resource.find("table");
  if (table == resource.end() || !table->is_object()) return t;
  t.catalog = Str(*table, "catalogName");
  t.schema = Str(*table, "schemaName");
  t.table = Str(*table, "tableName");
  auto columns = table->find("columns");
  if (columns != table->end() && columns->is_array()) {
    t.has_columns = true;
    for (const Json& c : *columns) {
      if (c.is_string()) t.columns.push_back(c.get<std::string>());
    }
  }
  return t;
}

}  // namespace

OpaDecider::OpaDecider(Options options, PolicyFn policy, PrincipalFn principal,
                       GenerationFn generation, ColumnsFn columns)
    : options_(std::move(options)),
      policy_(std::move(policy)),
      principal_(std::move(principal)),
      generation_(std::move(generation)),
      columns_fn_(std::move(columns)),
      answers_(options_.answers != nullptr
                   ? *options_.answers
                   : own_metrics_.AddCounter("lakegate_trino_decisions_total", "", {"answer"})),
      cached_(answers_.WithLabels({"cached"})),
      computed_(answers_.WithLabels({"computed"})) {}

Result<std::string> OpaDecider::Allow(std::string_view body) { return Answer(Kind::kAllow, body); }
Result<std::string> OpaDecider::Batch(std::string_view body) { return Answer(Kind::kBatch, body); }
Result<std::string> OpaDecider::RowFilters(std::string_view body) {
  return Answer(Kind::kRowFilters, body);
}
Result<std::string> OpaDecider::ColumnMasks(std::string_view body) {
  return Answer(Kind::kColumnMasks, body);
}

uint64_t OpaDecider::cache_hits() const { return static_cast<uint64_t>(cached_->value()); }
uint64_t OpaDecider::cache_misses() const { return static_cast<uint64_t>(computed_->value()); }

void OpaDecider::ClearCache() {
  cache_.clear();
  cached_bytes_ = 0;
}

void OpaDecider::RememberColumns(std::string_view schema, std::string_view table,
                                 std::vector<std::string> columns) {
  // What the ColumnsFn knows is used first: what Trino listed changes no answer.
  if (columns_fn_ && !columns_fn_(schema, table).empty()) return;
  // Trino's hidden columns ($path, $file_size, ...: connector metadata no
  // grant names) come with the mask requests but not with FilterColumns: they
  // are not the table's columns, and counting them would make the two
  // listings disagree and start the cache over for every query.
  std::erase_if(columns, [](const std::string& c) { return c.starts_with('$'); });
  const std::string key = TableKey(schema, table);
  MutexLock lock(mu_);
  auto it = columns_.find(key);
  if (it != columns_.end() && it->second == columns) return;
  if (columns_.size() > kMaxCachedAnswers) columns_.clear();
  columns_[key] = std::move(columns);
  // Answers about this table may have been decided without its columns.
  ClearCache();
}

std::vector<std::string> OpaDecider::KnownColumns(std::string_view schema,
                                                  std::string_view table) const {
  if (columns_fn_) {
    std::vector<std::string> columns = columns_fn_(schema, table);
    if (!columns.empty()) return columns;
  }
  MutexLock lock(mu_);
  auto it = columns_.find(TableKey(schema, table));
  return it == columns_.end() ? std::vector<std::string>{} : it->second;
}

Result<std::string> OpaDecider::Answer(Kind kind, std::string_view body) {
  std::shared_ptr<const policy::PolicySnapshot> policy = policy_();
  if (policy == nullptr) return Status(StatusCode::kUnavailable, "the policy is not loaded yet");
  const uint64_t generation = generation_ ? generation_() : 0;
  std::string key = std::to_string(static_cast<int>(kind));
  key += '\n';
  key.append(body);
  {
    MutexLock lock(mu_);
    if (cached_version_ != policy->version || cached_generation_ != generation) {
      ClearCache();
      cached_version_ = policy->version;
      cached_generation_ = generation;
    }
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      cached_->Inc();
      return it->second;
    }
  }
  computed_->Inc();
  LG_ASSIGN_OR_RETURN(Request request, ParseRequest(body));
  LG_ASSIGN_OR_RETURN(std::string answer, Decide(kind, request, *policy));
  MutexLock lock(mu_);
  // A decision made under an older policy is not kept for the newer one.
  if (cached_version_ == policy->version && cached_generation_ == generation) {
    const size_t bytes = key.size() + answer.size();
    if (cache_.size() >= kMaxCachedAnswers || cached_bytes_ + bytes > options_.max_cached_bytes) {
      ClearCache();
    }
    if (bytes <= options_.max_cached_bytes && cache_.emplace(std::move(key), answer).second) {
      cached_bytes_ += bytes;
    }
  }
  return answer;
}

Result<std::string> OpaDecider::Decide(Kind kind, const Request& request,
                                       const policy::PolicySnapshot& policy) {
  // Who asks: lakegate's engine names role and class; a client id is resolved.
  TrinoPrincipal principal;
  bool resolved = ParseEnginePrincipal(request.user, &principal);
  if (request.user == kExpressionPrincipal) {
    principal = TrinoPrincipal{.role = "", .max_class = StatementClass::kRead, .superuser = true};
    resolved = true;
  }
  if (!resolved && !request.user.empty() && principal_) {
    Result<TrinoPrincipal> p = principal_(request.user);
    if (p.ok()) {
      principal = std::move(p).value();
      resolved = true;
    }
  }
  const policy::Role* role = resolved ? policy.FindRole(principal.role) : nullptr;
  Judge judge(policy, role, principal.max_class, principal.superuser, options_.catalog);
  const std::string& op = request.operation;

  auto columns_of = [this](const TableRef& t) {
    std::vector<std::string> known = KnownColumns(t.schema, t.table);
    if (known.empty()) return t.columns;
    for (const std::string& c : t.columns) {
      if (std::none_of(known.begin(), known.end(),
                       [&](const std::string& k) { return EqualsIgnoreCase(k, c); })) {
        known.push_back(c);
      }
    }
    return known;
  };

  // One allow question about `resource`.
  auto allowed = [&](const Json& resource) -> bool {
    if (!judge.known()) return false;
    if (op == "ExecuteQuery") return true;
    if (op == "ImpersonateUser" || op == "SetUser") return false;
    if (op == "ViewQueryOwnedBy" || op == "KillQueryOwnedBy" || op == "FilterViewQueryOwnedBy") {
      const Json* user =
          resource.is_object() && resource.contains("user") ? &resource["user"] : nullptr;
      return user != nullptr && Str(*user, "user") == request.user;
    }
    if (op == "ShowFunctions" || op == "ShowRoles" || op == "ShowCurrentRoles" ||
        op == "ShowRoleGrants") {
      return true;
    }
    if (op == "ExecuteFunction" || op == "FilterFunctions") {
      const Json* f =
          resource.is_object() && resource.contains("function") ? &resource["function"] : nullptr;
      if (f == nullptr) return false;
      return judge.unrestricted() || (EqualsIgnoreCase(Str(*f, "catalogName"), "system") &&
                                      EqualsIgnoreCase(Str(*f, "schemaName"), "builtin"));
    }
    if (op == "AccessCatalog" || op == "FilterCatalogs" || op == "ShowSchemas") {
      const Json* c =
          resource.is_object() && resource.contains("catalog") ? &resource["catalog"] : nullptr;
      return c != nullptr && judge.CatalogVisible(Str(*c, "name"));
    }
    if (op == "FilterSchemas" || op == "ShowTables" || op == "ShowFunctions") {
      const Json* s =
          resource.is_object() && resource.contains("schema") ? &resource["schema"] : nullptr;
      return s != nullptr && judge.SchemaVisible(Str(*s, "catalogName"), Str(*s, "schemaName"));
    }
    if (op == "CreateSchema" || op == "DropSchema" || op == "RenameSchema" ||
        op == "SetSchemaAuthorization" || op == "ShowCreateSchema") {
      const Json* s =
          resource.is_object() && resource.contains("schema") ? &resource["schema"] : nullptr;
      if (s == nullptr) return false;
      if (op == "ShowCreateSchema") {
        return judge.SchemaVisible(Str(*s, "catalogName"), Str(*s, "schemaName"));
      }
      return judge.unrestricted() && judge.ClassAllows(StatementClass::kAdmin);
    }
    TableRef t = TableOf(resource);
    if (t.table.empty()) return judge.unrestricted();  // any other question: fail closed
    std::vector<std::string> columns = columns_of(t);
    if (op == "FilterTables" || op == "ShowColumns" || op == "ShowCreateTable") {
      return judge.TableVisible(t.catalog, t.schema, t.table, columns);
    }
    if (op == "SelectFromColumns") {
      if (!judge.TableVisible(t.catalog, t.schema, t.table, columns)) return false;
      if (judge.unrestricted() || !judge.IsLake(t.catalog) ||
          EqualsIgnoreCase(t.schema, "information_schema")) {
        return true;
      }
      policy::TableView view = judge.View(t.schema, t.table, columns);
      if (!Has(view.permissions, Permission::kSelect)) return false;
      for (const std::string& c : t.columns) {
        if (std::none_of(
                view.columns.begin(), view.columns.end(),
                [&](const policy::ViewColumn& v) { return EqualsIgnoreCase(v.name, c); })) {
          return false;
        }
      }
      return true;
    }
    if (op == "InsertIntoTable") {
      return judge.MayChangeRows(t.catalog, t.schema, t.table, columns, Permission::kInsert);
    }
    if (op == "DeleteFromTable" || op == "TruncateTable") {
      return judge.MayChangeRows(t.catalog, t.schema, t.table, columns, Permission::kDelete);
    }
    if (op == "UpdateTableColumns") {
      return judge.MayChangeRows(t.catalog, t.schema, t.table, columns, Permission::kUpdate);
    }
    if (op == "CreateTable") {
      return judge.MayOnSchema(t.catalog, t.schema, StatementClass::kWrite,
                               Permission::kCreateTable);
    }
    if (op == "DropTable") {
      return judge.MayOnTable(t.catalog, t.schema, t.table, columns, StatementClass::kAdmin,
                              Permission::kDrop);
    }
    if (op == "AddColumn" || op == "DropColumn" || op == "RenameColumn" || op == "AlterColumn" ||
        op == "SetTableComment" || op == "SetColumnComment" || op == "SetTableProperties") {
      return judge.MayOnTable(t.catalog, t.schema, t.table, columns, StatementClass::kAdmin,
                              Permission::kAlter);
    }
    // Views, materialized views, procedures, table functions, renames,
    // authorization changes and anything new: the unrestricted role only.
    return judge.unrestricted() && judge.ClassAllows(StatementClass::kAdmin);
  };

  switch (kind) {
    case Kind::kAllow:
      return Json{{"result", allowed(request.resource)}}.dump();
    case Kind::kBatch: {
      Json indices = Json::array();
      // FilterColumns: one resource, a table with its columns; the indices
      // are those of the columns.
      if (op == "FilterColumns") {
        if (request.filter_resources.size() != 1) {
          return Malformed("FilterColumns without exactly one table");
        }
        TableRef t = TableOf(request.filter_resources[0]);
        if (judge.IsLake(t.catalog) && t.has_columns) {
          RememberColumns(t.schema, t.table, t.columns);
        }
        if (!judge.TableVisible(t.catalog, t.schema, t.table, t.columns)) {
          return Json{{"result", indices}}.dump();
        }
        bool all = judge.unrestricted() || !judge.IsLake(t.catalog) ||
                   EqualsIgnoreCase(t.schema, "information_schema");
        policy::TableView view;
        if (!all) view = judge.View(t.schema, t.table, t.columns);
        for (size_t i = 0; i < t.columns.size(); ++i) {
          bool ok = all || std::any_of(view.columns.begin(), view.columns.end(),
                                       [&](const policy::ViewColumn& v) {
                                         return EqualsIgnoreCase(v.name, t.columns[i]);
                                       });
          if (ok) indices.push_back(i);
        }
        return Json{{"result", indices}}.dump();
      }
      for (size_t i = 0; i < request.filter_resources.size(); ++i) {
        if (allowed(request.filter_resources[i])) indices.push_back(i);
      }
      return Json{{"result", indices}}.dump();
    }
    case Kind::kRowFilters: {
      Json filters = Json::array();
      TableRef t = TableOf(request.resource);
      if (!judge.known()) {
        // Never reached for a query that passed the allow checks; fail closed.
        filters.push_back({{"expression", "FALSE"}});
        return Json{{"result", filters}}.dump();
      }
      if (judge.unrestricted() || !judge.IsLake(t.catalog) ||
          EqualsIgnoreCase(t.schema, "information_schema")) {
        return Json{{"result", filters}}.dump();
      }
      std::vector<std::string> columns = KnownColumns(t.schema, t.table);
      policy::TableView view = judge.View(t.schema, t.table, columns);
      if (columns.empty() && !view.all_rows) {
        // Trino asked before it listed the columns: a filter computed
        // without them could admit rows of a source that covers no column.
        filters.push_back(
            {{"expression", FailSql("lakegate: the columns of " + t.schema + "." + t.table +
                                        " are not known yet; retry the query",
                                    "boolean")}});
        return Json{{"result", filters}}.dump();
      }
      if (!view.all_rows) {
        std::vector<std::string> referenced;
        AddFilterColumns(view.row_filters, &referenced);
        filters.push_back(ViewExpression(AnyOf(view.row_filters), view, referenced));
      }
      return Json{{"result", filters}}.dump();
    }
    case Kind::kColumnMasks: {
      Json masks = Json::array();
      // Every resource is a column of the same table (one request per table).
      struct Col {
        std::string name, type;
      };
      std::vector<Col> cols;
      TableRef t;
      for (const Json& r : request.filter_resources) {
        const Json* c = r.is_object() && r.contains("column") ? &r["column"] : nullptr;
        if (c == nullptr) return Malformed("a column mask resource without a column");
        if (t.table.empty()) {
          t.catalog = Str(*c, "catalogName");
          t.schema = Str(*c, "schemaName");
          t.table = Str(*c, "tableName");
        }
        cols.push_back({Str(*c, "columnName"), Str(*c, "columnType")});
      }
      if (cols.empty() || !judge.known() || judge.unrestricted() || !judge.IsLake(t.catalog) ||
          EqualsIgnoreCase(t.schema, "information_schema")) {
        return Json{{"result", masks}}.dump();
      }
      std::vector<std::string> names;
      for (const Col& c : cols) names.push_back(c.name);
      RememberColumns(t.schema, t.table, names);
      policy::TableView view = judge.View(t.schema, t.table, names);
      auto column = [&cols](std::string_view name) -> std::string {
        for (const Col& c : cols) {
          if (EqualsIgnoreCase(c.name, name)) return QuoteIdent(c.name);
        }
        return "";
      };
      auto typed_column = [&cols](std::string_view name) -> std::optional<policy::MaskColumnSql> {
        for (const Col& c : cols) {
          if (!EqualsIgnoreCase(c.name, name)) continue;
          std::optional<policy::MaskColumnSql::Kind> column_kind = KindOf(c.type);
          if (!column_kind) return std::nullopt;
          return policy::MaskColumnSql{.sql = QuoteIdent(c.name), .kind = *column_kind};
        }
        return std::nullopt;
      };
      // The filters of the row filter Trino applies to this table (RowFilters
      // decides it from the same columns): every row Trino lets through
      // satisfies one of them, so a column covered by all of them needs no
      // CASE (Trino filters rows before it masks).
      std::vector<const policy::RowFilter*> row_filter;
      if (std::vector<std::string> known = KnownColumns(t.schema, t.table); !known.empty()) {
        policy::TableView rows = judge.View(t.schema, t.table, known);
        if (!rows.all_rows) row_filter = rows.row_filters;
      }
      auto rows_implied = [&row_filter](const policy::ViewColumn& c) {
        return !row_filter.empty() &&
               std::all_of(row_filter.begin(), row_filter.end(), [&](const policy::RowFilter* f) {
                 return std::find(c.row_filters.begin(), c.row_filters.end(), f) !=
                        c.row_filters.end();
               });
      };
      const std::string key_hex = HexEncode(options_.mask_hash_key.Reveal());
      for (size_t i = 0; i < cols.size(); ++i) {
        auto vc = std::find_if(
            view.columns.begin(), view.columns.end(),
            [&](const policy::ViewColumn& v) { return EqualsIgnoreCase(v.name, cols[i].name); });
        // A column the role may not read gets no mask: SelectFromColumns
        // refuses it and SELECT * hides it, and Trino analyzes a column's
        // mask only after asking SelectFromColumns for it (a NULL mask there
        // would cost two decision round trips per query and protect nothing).
        if (vc == view.columns.end()) continue;
        const bool all_rows = vc->all_rows || rows_implied(*vc);
        if (vc->mask == nullptr && all_rows) continue;
        std::string expression = QuoteIdent(cols[i].name);
        std::vector<std::string> referenced = {cols[i].name};
        if (vc->mask != nullptr) {
          expression = MaskSql(*vc->mask, expression, cols[i].type, column, typed_column, key_hex);
          if (vc->mask->kind == policy::MaskKind::kExpression) {
            Result<policy::MaskExpression> parsed =
                policy::ParseMaskExpression(vc->mask->expression);
            if (parsed.ok()) {
              std::vector<std::string> more = parsed->Columns();
              referenced.insert(referenced.end(), more.begin(), more.end());
            }
          }
        }
        if (!all_rows) {
          expression = "CASE WHEN " + AnyOf(vc->row_filters) + " THEN " + expression + " END";
          AddFilterColumns(vc->row_filters, &referenced);
        }
        masks.push_back(
            {{"index", i},
             {"viewExpression", ViewExpression(std::move(expression), view, referenced)}});
      }
      return Json{{"result", masks}}.dump();
    }
  }
  return Json{{"result", false}}.dump();
}

}  // namespace lakegate::trino
