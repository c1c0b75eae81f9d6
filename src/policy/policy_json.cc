#include "policy/policy_json.h"

#include <algorithm>
#include <exception>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <tuple>
#include <utility>

#include "common/strings.h"

namespace lakegate::policy {
namespace {

using nlohmann::json;

constexpr size_t kMaxPolicyJsonBytes = 16 << 20;

constexpr std::pair<Permission, const char*> kPermissionNames[] = {
    {Permission::kDescribe, "DESCRIBE"}, {Permission::kSelect, "SELECT"},
    {Permission::kInsert, "INSERT"},     {Permission::kUpdate, "UPDATE"},
    {Permission::kDelete, "DELETE"},     {Permission::kAlter, "ALTER"},
    {Permission::kDrop, "DROP"},         {Permission::kCreateTable, "CREATE_TABLE"},
};

constexpr std::pair<MaskKind, const char*> kMaskNames[] = {
    {MaskKind::kNull, "null"},          {MaskKind::kRedact, "redact"},
    {MaskKind::kHash, "hash"},          {MaskKind::kShowLastN, "show_last_n"},
    {MaskKind::kYearOnly, "year_only"}, {MaskKind::kExpression, "expression"},
};

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// ---- writing ----

json ColumnsToJson(const ColumnSpec& spec) {
  json out = json::object();
  out[spec.kind == ColumnSpec::Kind::kInclude ? "include" : "exclude"] = spec.columns;
  return out;
}

json GrantToJson(const Grant& g) {
  json out = {{"database", g.database}, {"permissions", PermissionList(g.permissions)}};
  if (!g.table.empty()) out["table"] = g.table;
  if (g.columns.kind != ColumnSpec::Kind::kAll) out["columns"] = ColumnsToJson(g.columns);
  if (g.grant_option != 0) out["grant_option"] = PermissionList(g.grant_option);
  return out;
}

json MaskToJson(const ColumnMask& m) {
  json out = {{"database", m.database},
              {"table", m.table},
              {"column", m.column},
              {"mask", std::string(MaskKindName(m.kind))}};
  if (m.kind == MaskKind::kShowLastN) out["n"] = m.n;
  if (m.kind == MaskKind::kExpression) out["expression"] = m.expression;
  return out;
}

json TagExpressionToJson(const TagExpression& e) {
  json out = json::object();
  for (const auto& [key, values] : e.clauses) out[key] = values;
  return out;
}

json RoleToJson(const Role& r) {
  json out = {{"name", r.name}};
  if (!r.description.empty()) out["description"] = r.description;
  json grants = json::array();
  for (const Grant& g : r.grants) grants.push_back(GrantToJson(g));
  out["grants"] = std::move(grants);
  if (!r.filters.empty()) out["filters"] = r.filters;
  if (!r.masks.empty()) {
    json masks = json::array();
    for (const ColumnMask& m : r.masks) masks.push_back(MaskToJson(m));
    out["masks"] = std::move(masks);
  }
  if (!r.tag_grants.empty()) {
    json tag_grants = json::array();
    for (const TagGrant& t : r.tag_grants) {
      tag_grants.push_back({{"expression", TagExpressionToJson(t.expression)},
                            {"permissions", PermissionList(t.permissions)}});
    }
    out["tag_grants"] = std::move(tag_grants);
  }
  return out;
}

json FilterToJson(const DataCellFilter& f) {
  json out = {{"name", f.name}, {"database", f.database}, {"table", f.table}};
  if (!f.rows.all_rows() || !f.rows.text.empty()) out["rows"] = f.rows.text;
  if (f.columns.kind != ColumnSpec::Kind::kAll) out["columns"] = ColumnsToJson(f.columns);
  return out;
}

json TagAssignmentToJson(const TagAssignment& a) {
  json out = {{"database", a.database}, {"key", a.key}, {"value", a.value}};
  if (!a.table.empty()) out["table"] = a.table;
  if (!a.column.empty()) out["column"] = a.column;
  return out;
}

// ---- reading ----

// Strict accessors over one JSON object; every error names the path.
class ObjectReader {
 public:
  ObjectReader(const json& object, std::string path) : object_(object), path_(std::move(path)) {}

  Status Check(std::initializer_list<const char*> allowed) const {
    if (!object_.is_object()) return Fail("expected an object");
    for (auto it = object_.begin(); it != object_.end(); ++it) {
      bool known = std::any_of(allowed.begin(), allowed.end(),
                               [&](const char* name) { return it.key() == name; });
      if (!known) {
        std::vector<std::string> names(allowed.begin(), allowed.end());
        return Fail("unknown member " + Quoted(it.key()) + "; expected " + Join(names, ", "));
      }
    }
    return Status::Ok();
  }

  bool Has(const char* name) const { return object_.contains(name); }
  const json& Get(const char* name) const { return object_.at(name); }
  std::string Path(const char* name) const { return path_.empty() ? name : path_ + "." + name; }

  Result<std::string> String(const char* name, bool required, bool non_empty) const {
    if (!Has(name)) {
      if (required) return Fail("missing member " + Quoted(name));
      return std::string();
    }
    const json& v = Get(name);
    if (!v.is_string()) return InvalidArgumentError(Path(name) + ": expected a string");
    std::string s = v.get<std::string>();
    if (non_empty && s.empty()) return InvalidArgumentError(Path(name) + ": must not be empty");
    return s;
  }

  Result<std::vector<std::string>> Strings(const char* name) const {
    std::vector<std::string> out;
    if (!Has(name)) return out;
    const json& v = Get(name);
    if (!v.is_array()) return InvalidArgumentError(Path(name) + ": expected an array of strings");
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string() || v[i].get<std::string>().empty()) {
        return InvalidArgumentError(Path(name) + "[" + std::to_string(i) +
                                    "]: expected a non-empty string");
      }
      out.push_back(v[i].get<std::string>());
    }
    return out;
  }

  Result<const json*> Array(const char* name) const {
    static const json kEmpty = json::array();
    if (!Has(name)) return &kEmpty;
    const json& v = Get(name);
    if (!v.is_array()) return InvalidArgumentError(Path(name) + ": expected an array");
    return &v;
  }

  Status Fail(std::string message) const {
    return InvalidArgumentError(path_.empty() ? message : path_ + ": " + message);
  }

 private:
  const json& object_;
  std::string path_;
};

std::string At(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

// The permissions a member lists; an empty list gives none (ValidateGrant()
// and ValidatePolicy() refuse a grant without permissions).
Result<PermissionSet> ReadPermissions(const ObjectReader& r, const char* name) {
  if (!r.Has(name)) return r.Fail("missing member " + Quoted(name));
  LG_ASSIGN_OR_RETURN(std::vector<std::string> names, r.Strings(name));
  PermissionSet set = 0;
  for (const std::string& n : names) {
    auto bits = ParsePermission(n);
    if (!bits) {
      return InvalidArgumentError(r.Path(name) + ": unknown permission " + Quoted(n) +
                                  "; use DESCRIBE, SELECT, INSERT, UPDATE, DELETE, ALTER, DROP, "
                                  "CREATE_TABLE or ALL");
    }
    set |= *bits;
  }
  return set;
}

std::string NoPermission(const std::string& path) { return path + ": lists no permission"; }

// A grant rule broken by the grant read at `path` ("" = the document itself),
// said with the JSON path of the member that breaks it where there is one.
Status GrantError(const Status& status, const std::string& path) {
  auto reason = status.reason<PolicyFailure>();
  if (!reason) return status;
  switch (*reason) {
    case PolicyFailure::kNoPermission:
      return Status(status.code(), *reason,
                    NoPermission(path.empty() ? "permissions" : path + ".permissions"));
    case PolicyFailure::kColumnsNeedOneTable:
      return Status(status.code(), *reason,
                    (path.empty() ? "" : path + ": ") + "columns need a single table");
    default:
      return status;
  }
}

Result<ColumnSpec> ReadColumns(const ObjectReader& parent, const char* name) {
  ColumnSpec spec;
  if (!parent.Has(name)) return spec;
  ObjectReader r(parent.Get(name), parent.Path(name));
  LG_RETURN_IF_ERROR(r.Check({"include", "exclude"}));
  if (r.Has("include") == r.Has("exclude")) return r.Fail("give exactly one of include or exclude");
  const char* which = r.Has("include") ? "include" : "exclude";
  LG_ASSIGN_OR_RETURN(spec.columns, r.Strings(which));
  spec.kind = r.Has("include") ? ColumnSpec::Kind::kInclude : ColumnSpec::Kind::kExclude;
  return spec;
}

Result<RowFilter> ReadRows(std::string_view text, const std::string& path) {
  if (TrimWhitespace(text).empty()) return RowFilter{};
  Result<RowFilter> parsed = ParseStoredRowFilter(text);
  if (!parsed.ok()) return parsed.status().WithPrefix(path);
  return parsed;
}

Result<Grant> ReadGrant(const json& j, const std::string& path) {
  ObjectReader r(j, path);
  LG_RETURN_IF_ERROR(r.Check({"database", "table", "permissions", "columns", "grant_option"}));
  Grant g;
  LG_ASSIGN_OR_RETURN(g.database, r.String("database", true, true));
  LG_ASSIGN_OR_RETURN(g.table, r.String("table", false, false));
  LG_ASSIGN_OR_RETURN(g.permissions, ReadPermissions(r, "permissions"));
  LG_ASSIGN_OR_RETURN(g.columns, ReadColumns(r, "columns"));
  if (r.Has("grant_option")) {
    LG_ASSIGN_OR_RETURN(g.grant_option, ReadPermissions(r, "grant_option"));
    // An empty list has no meaning in the model (no grant option is the
    // member left out), so the document may not write one.
    if (g.grant_option == 0) return InvalidArgumentError(NoPermission(r.Path("grant_option")));
  }
  return g;
}

std::string MaskLengthError(const std::string& path) {
  return path + ": expected an integer 0.." + std::to_string(kMaxMaskShowLastN);
}

Result<ColumnMask> ReadMask(const json& j, const std::string& path) {
  ObjectReader r(j, path);
  LG_RETURN_IF_ERROR(r.Check({"database", "table", "column", "mask", "n", "expression"}));
  ColumnMask m;
  LG_ASSIGN_OR_RETURN(m.database, r.String("database", true, true));
  LG_ASSIGN_OR_RETURN(m.table, r.String("table", true, true));
  LG_ASSIGN_OR_RETURN(m.column, r.String("column", true, true));
  LG_ASSIGN_OR_RETURN(std::string kind, r.String("mask", true, true));
  auto parsed = ParseMaskKind(kind);
  if (!parsed) {
    return InvalidArgumentError(r.Path("mask") + ": unknown mask " + Quoted(kind) +
                                "; use null, redact, hash, show_last_n, year_only or expression");
  }
  m.kind = *parsed;
  if (r.Has("n")) {
    if (m.kind != MaskKind::kShowLastN) return r.Fail("\"n\" applies to show_last_n only");
    const json& n = r.Get("n");
    if (!n.is_number_integer()) return InvalidArgumentError(MaskLengthError(r.Path("n")));
    m.n = n.get<int64_t>();
  }
  if (r.Has("expression") != (m.kind == MaskKind::kExpression)) {
    return r.Fail("\"expression\" is required by, and only allowed with, mask \"expression\"");
  }
  if (m.kind == MaskKind::kExpression) {
    LG_ASSIGN_OR_RETURN(m.expression, r.String("expression", true, true));
  }
  return m;
}

std::string TagExpressionError(const std::string& path) {
  return path + ": expected an object of key: [values], e.g. {\"domain\": [\"sales\"]}";
}

Result<TagExpression> ReadTagExpression(const ObjectReader& parent, const char* name) {
  if (!parent.Has(name)) return parent.Fail("missing member " + Quoted(name));
  const json& j = parent.Get(name);
  std::string path = parent.Path(name);
  if (!j.is_object()) return InvalidArgumentError(TagExpressionError(path));
  TagExpression e;
  for (auto it = j.begin(); it != j.end(); ++it) {
    ObjectReader values(j, path);
    LG_ASSIGN_OR_RETURN(e.clauses[it.key()], values.Strings(it.key().c_str()));
  }
  return e;
}

Result<Role> ReadRole(const json& j, const std::string& path) {
  ObjectReader r(j, path);
  LG_RETURN_IF_ERROR(r.Check({"name", "description", "grants", "filters", "masks", "tag_grants"}));
  Role role;
  LG_ASSIGN_OR_RETURN(role.name, r.String("name", true, true));
  LG_ASSIGN_OR_RETURN(role.description, r.String("description", false, false));
  LG_ASSIGN_OR_RETURN(const json* grants, r.Array("grants"));
  for (size_t i = 0; i < grants->size(); ++i) {
    LG_ASSIGN_OR_RETURN(Grant g, ReadGrant((*grants)[i], At(r.Path("grants"), i)));
    role.grants.push_back(std::move(g));
  }
  LG_ASSIGN_OR_RETURN(role.filters, r.Strings("filters"));
  LG_ASSIGN_OR_RETURN(const json* masks, r.Array("masks"));
  for (size_t i = 0; i < masks->size(); ++i) {
    LG_ASSIGN_OR_RETURN(ColumnMask m, ReadMask((*masks)[i], At(r.Path("masks"), i)));
    role.masks.push_back(std::move(m));
  }
  LG_ASSIGN_OR_RETURN(const json* tag_grants, r.Array("tag_grants"));
  for (size_t i = 0; i < tag_grants->size(); ++i) {
    ObjectReader t((*tag_grants)[i], At(r.Path("tag_grants"), i));
    LG_RETURN_IF_ERROR(t.Check({"expression", "permissions"}));
    TagGrant grant;
    LG_ASSIGN_OR_RETURN(grant.expression, ReadTagExpression(t, "expression"));
    LG_ASSIGN_OR_RETURN(grant.permissions, ReadPermissions(t, "permissions"));
    role.tag_grants.push_back(std::move(grant));
  }
  return role;
}

Result<DataCellFilter> ReadFilter(const json& j, const std::string& path) {
  ObjectReader r(j, path);
  LG_RETURN_IF_ERROR(r.Check({"name", "database", "table", "rows", "columns"}));
  DataCellFilter f;
  LG_ASSIGN_OR_RETURN(f.name, r.String("name", true, true));
  LG_ASSIGN_OR_RETURN(f.database, r.String("database", true, true));
  LG_ASSIGN_OR_RETURN(f.table, r.String("table", true, true));
  LG_ASSIGN_OR_RETURN(std::string rows, r.String("rows", false, false));
  LG_ASSIGN_OR_RETURN(f.rows, ReadRows(rows, r.Path("rows")));
  LG_ASSIGN_OR_RETURN(f.columns, ReadColumns(r, "columns"));
  return f;
}

// A rule the document breaks (FindPolicyViolation), said with the JSON path
// of the member that breaks it where the document has one; else the
// violation's own message, which names the object. `role_names` are the
// roles in document order.
Status DocumentError(const PolicyViolation& violation, const std::vector<std::string>& role_names) {
  const PolicyPath& where = violation.path;
  const Status& status = violation.status;
  auto reason = status.reason<PolicyFailure>();
  if (!reason) return status;
  auto restate = [&](std::string message) {
    return Status(status.code(), *reason, std::move(message));
  };
  if (where.object == PolicyPath::Object::kTagAssignment &&
      *reason == PolicyFailure::kColumnWithoutTable) {
    return restate(At("tag_assignments", where.index) + ": a column needs its table");
  }
  if (where.object != PolicyPath::Object::kRole) return status;
  auto role = std::find(role_names.begin(), role_names.end(), where.name);
  if (role == role_names.end()) return status;
  const std::string role_path =
      At("roles", static_cast<size_t>(std::distance(role_names.begin(), role)));
  switch (where.part) {
    case PolicyPath::Part::kGrant:
      return GrantError(status, At(role_path + ".grants", where.item));
    case PolicyPath::Part::kMask:
      if (*reason != PolicyFailure::kMaskLengthOutOfRange) return status;
      return restate(MaskLengthError(At(role_path + ".masks", where.item) + ".n"));
    case PolicyPath::Part::kTagGrant: {
      const std::string tag_grant = At(role_path + ".tag_grants", where.item);
      if (*reason == PolicyFailure::kNoPermission) {
        return restate(NoPermission(tag_grant + ".permissions"));
      }
      if (*reason == PolicyFailure::kEmptyTagExpression) {
        return restate(TagExpressionError(tag_grant + ".expression"));
      }
      if (*reason == PolicyFailure::kNoTagValue) {
        return restate(tag_grant + ".expression." + where.tag_key + ": lists no value");
      }
      return status;
    }
    default:
      return status;
  }
}

Result<PolicySnapshot> ReadPolicy(const json& root) {
  ObjectReader r(root, "");
  LG_RETURN_IF_ERROR(r.Check({"format", "roles", "filters", "tag_keys", "tag_assignments"}));
  if (r.Has("format")) {
    const json& f = r.Get("format");
    if (!f.is_number_integer() || f.get<int64_t>() != kPolicyJsonFormat) {
      return InvalidArgumentError("format: unsupported policy format " + f.dump() +
                                  "; this lakegate reads format " +
                                  std::to_string(kPolicyJsonFormat) + " (upgrade lakegate)");
    }
  }
  PolicySnapshot p;
  std::vector<std::string> role_names;  // in document order
  LG_ASSIGN_OR_RETURN(const json* roles, r.Array("roles"));
  for (size_t i = 0; i < roles->size(); ++i) {
    LG_ASSIGN_OR_RETURN(Role role, ReadRole((*roles)[i], At("roles", i)));
    std::string name = role.name;
    role_names.push_back(name);
    if (!p.roles.emplace(name, std::move(role)).second) {
      return InvalidArgumentError(At("roles", i) + ": duplicate role " + Quoted(name));
    }
  }
  LG_ASSIGN_OR_RETURN(const json* filters, r.Array("filters"));
  for (size_t i = 0; i < filters->size(); ++i) {
    LG_ASSIGN_OR_RETURN(DataCellFilter f, ReadFilter((*filters)[i], At("filters", i)));
    std::string name = f.name;
    if (!p.filters.emplace(name, std::move(f)).second) {
      return InvalidArgumentError(At("filters", i) + ": duplicate filter " + Quoted(name));
    }
  }
  LG_ASSIGN_OR_RETURN(const json* keys, r.Array("tag_keys"));
  for (size_t i = 0; i < keys->size(); ++i) {
    ObjectReader k((*keys)[i], At("tag_keys", i));
    LG_RETURN_IF_ERROR(k.Check({"key", "values"}));
    TagKey key;
    LG_ASSIGN_OR_RETURN(key.key, k.String("key", true, true));
    if (!k.Has("values")) return k.Fail("missing member \"values\"");
    LG_ASSIGN_OR_RETURN(key.values, k.Strings("values"));
    p.tag_keys.push_back(std::move(key));
  }
  LG_ASSIGN_OR_RETURN(const json* assignments, r.Array("tag_assignments"));
  for (size_t i = 0; i < assignments->size(); ++i) {
    ObjectReader a((*assignments)[i], At("tag_assignments", i));
    LG_RETURN_IF_ERROR(a.Check({"database", "table", "column", "key", "value"}));
    TagAssignment t;
    LG_ASSIGN_OR_RETURN(t.database, a.String("database", true, true));
    LG_ASSIGN_OR_RETURN(t.table, a.String("table", false, false));
    LG_ASSIGN_OR_RETURN(t.column, a.String("column", false, false));
    LG_ASSIGN_OR_RETURN(t.key, a.String("key", true, true));
    LG_ASSIGN_OR_RETURN(t.value, a.String("value", true, true));
    p.tag_assignments.push_back(std::move(t));
  }
  if (std::optional<PolicyViolation> violation = FindPolicyViolation(p, /*stored=*/true)) {
    return DocumentError(*violation, role_names);
  }
  return p;
}

std::string Dump(const json& j) { return j.dump(); }

// Tag keys and assignments in a canonical order, so that the same set gives
// the same document whatever order it was built in.
json TagKeysToJson(const PolicySnapshot& p) {
  std::vector<const TagKey*> keys;
  for (const TagKey& k : p.tag_keys) keys.push_back(&k);
  std::sort(keys.begin(), keys.end(),
            [](const TagKey* a, const TagKey* b) { return a->key < b->key; });
  json out = json::array();
  for (const TagKey* k : keys) out.push_back({{"key", k->key}, {"values", k->values}});
  return out;
}

json TagAssignmentsToJson(const PolicySnapshot& p) {
  std::vector<const TagAssignment*> list;
  for (const TagAssignment& a : p.tag_assignments) list.push_back(&a);
  auto sort_key = [](const TagAssignment* a) {
    return std::make_tuple(AsciiLower(a->database), AsciiLower(a->table), AsciiLower(a->column),
                           a->key);
  };
  std::stable_sort(list.begin(), list.end(), [&](const TagAssignment* a, const TagAssignment* b) {
    return sort_key(a) < sort_key(b);
  });
  json out = json::array();
  for (const TagAssignment* a : list) out.push_back(TagAssignmentToJson(*a));
  return out;
}

}  // namespace

std::string_view MaskKindName(MaskKind kind) {
  for (const auto& [k, name] : kMaskNames) {
    if (k == kind) return name;
  }
  return "null";
}

std::optional<MaskKind> ParseMaskKind(std::string_view name) {
  for (const auto& [k, n] : kMaskNames) {
    if (EqualsIgnoreCase(name, n)) return k;
  }
  return std::nullopt;
}

std::vector<std::string> PermissionList(PermissionSet set) {
  if ((set & kAllPermissions) == kAllPermissions) return {"ALL"};
  std::vector<std::string> out;
  for (const auto& [p, name] : kPermissionNames) {
    if (Has(set, p)) out.emplace_back(name);
  }
  return out;
}

std::string PolicyToJson(const PolicySnapshot& policy) {
  json root = {{"format", kPolicyJsonFormat}};
  json roles = json::array();
  for (const auto& [name, role] : policy.roles) roles.push_back(RoleToJson(role));
  root["roles"] = std::move(roles);
  json filters = json::array();
  for (const auto& [name, filter] : policy.filters) filters.push_back(FilterToJson(filter));
  root["filters"] = std::move(filters);
  root["tag_keys"] = TagKeysToJson(policy);
  root["tag_assignments"] = TagAssignmentsToJson(policy);
  return root.dump(2) + "\n";
}

Result<PolicySnapshot> PolicyFromJson(std::string_view text) {
  if (text.size() > kMaxPolicyJsonBytes) {
    return InvalidArgumentError("the policy document is larger than 16 MiB");
  }
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("the policy is not valid JSON: ") + e.what());
  }
  try {
    return ReadPolicy(root);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("cannot read the policy: ") + e.what());
  }
}

Result<GrantRequest> GrantRequestFromJson(std::string_view text, bool revoke) {
  if (text.size() > 64 * 1024) return InvalidArgumentError("the request is larger than 64 KiB");
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("the request is not valid JSON: ") + e.what());
  }
  try {
    ObjectReader r(root, "");
    if (revoke) {
      LG_RETURN_IF_ERROR(
          r.Check({"role", "database", "table", "permissions", "columns", "grant_option_only"}));
    } else {
      LG_RETURN_IF_ERROR(
          r.Check({"role", "database", "table", "permissions", "columns", "grant_option"}));
    }
    GrantRequest request;
    LG_ASSIGN_OR_RETURN(request.role, r.String("role", true, true));
    if (r.Has("grant_option_only")) {
      if (!r.Get("grant_option_only").is_boolean()) {
        return InvalidArgumentError("grant_option_only: expected true or false");
      }
      request.grant_option_only = r.Get("grant_option_only").get<bool>();
    }
    json grant = root;
    grant.erase("role");
    grant.erase("grant_option_only");
    LG_ASSIGN_OR_RETURN(request.grant, ReadGrant(grant, ""));
    LG_RETURN_IF_ERROR(GrantError(ValidateGrant(request.grant), ""));
    return request;
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("cannot read the request: ") + e.what());
  }
}

std::vector<std::string> DescribePolicyChanges(const PolicySnapshot& before,
                                               const PolicySnapshot& after) {
  std::vector<std::string> out;
  for (const auto& [name, role] : after.roles) {
    auto it = before.roles.find(name);
    if (it == before.roles.end()) {
      out.push_back("role " + name + " added");
      continue;
    }
    json a = RoleToJson(it->second), b = RoleToJson(role);
    std::vector<std::string> parts;
    for (const char* member : {"description", "grants", "filters", "masks", "tag_grants"}) {
      json va = a.contains(member) ? a[member] : json();
      json vb = b.contains(member) ? b[member] : json();
      if (va != vb) parts.emplace_back(member);
    }
    if (!parts.empty()) out.push_back("role " + name + " " + Join(parts, ", "));
  }
  for (const auto& [name, role] : before.roles) {
    if (after.roles.find(name) == after.roles.end()) out.push_back("role " + name + " removed");
  }
  for (const auto& [name, filter] : after.filters) {
    auto it = before.filters.find(name);
    if (it == before.filters.end()) {
      out.push_back("filter " + name + " added");
    } else if (Dump(FilterToJson(it->second)) != Dump(FilterToJson(filter))) {
      out.push_back("filter " + name + " changed");
    }
  }
  for (const auto& [name, filter] : before.filters) {
    if (after.filters.find(name) == after.filters.end()) {
      out.push_back("filter " + name + " removed");
    }
  }
  auto find_key = [](const PolicySnapshot& p, const std::string& key) -> const TagKey* {
    for (const TagKey& k : p.tag_keys) {
      if (k.key == key) return &k;
    }
    return nullptr;
  };
  for (const TagKey& k : after.tag_keys) {
    const TagKey* old = find_key(before, k.key);
    if (old == nullptr) {
      out.push_back("tag key " + k.key + " added");
    } else if (old->values != k.values) {
      out.push_back("tag key " + k.key + " values");
    }
  }
  for (const TagKey& k : before.tag_keys) {
    if (find_key(after, k.key) == nullptr) out.push_back("tag key " + k.key + " removed");
  }
  if (TagAssignmentsToJson(before) != TagAssignmentsToJson(after)) {
    out.emplace_back("tag assignments");
  }
  return out;
}

}  // namespace lakegate::policy
