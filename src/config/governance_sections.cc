// The governance sections: roles (grants, data-cell filters, masks, tag
// grants), tags (keys and assignments) and filters. They only turn YAML into
// the policy model; the rules of the model are policy/'s (validate.h), and a
// rule the file breaks is reported here at the YAML position of the object
// that breaks it.
#include <algorithm>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "config/stack_sections.h"
#include "policy/policy_json.h"
#include "policy/validate.h"

namespace lakegate::config {
namespace {

using policy::PolicyFailure;
using policy::PolicyPath;

// A handler that stores what `read(yaml, value, path)` returns in `target`.
template <typename T, typename Read>
YamlReader::Handler Into(const YamlReader& yaml, T& target, Read read) {
  return [&yaml, &target, read](const YAML::Node& v, const std::string& p) -> Status {
    LG_ASSIGN_OR_RETURN(target, read(yaml, v, p));
    return Status::Ok();
  };
}

// The permissions a list names; an empty list gives none (policy/ refuses a
// grant or tag grant without permissions).
Result<policy::PermissionSet> ReadPermissions(const YamlReader& yaml, const YAML::Node& node,
                                              const std::string& path) {
  policy::PermissionSet set = 0;
  LG_RETURN_IF_ERROR(yaml.ParseList(
      node, path, [&](const YAML::Node& item, size_t, const std::string& item_path) -> Status {
        LG_ASSIGN_OR_RETURN(std::string name, yaml.ReadNonEmptyString(item, item_path));
        auto bits = policy::ParsePermission(name);
        if (!bits) {
          return yaml.Error(item, item_path,
                            "unknown permission " + Quoted(name) +
                                "; use DESCRIBE, SELECT, INSERT, UPDATE, DELETE, ALTER, DROP, "
                                "CREATE_TABLE or ALL");
        }
        set |= *bits;
        return Status::Ok();
      }));
  return set;
}

// {include: [a, b]} or {exclude: [c]}.
Result<policy::ColumnSpec> ReadColumnSpec(const YamlReader& yaml, const YAML::Node& v,
                                          const std::string& p) {
  policy::ColumnSpec spec;
  bool include = false, exclude = false;
  auto list = [&](bool& seen, policy::ColumnSpec::Kind kind) {
    return [&, kind](const YAML::Node& l, const std::string& lp) -> Status {
      seen = true;
      LG_ASSIGN_OR_RETURN(spec.columns, yaml.ReadStringList(l, lp));
      spec.kind = kind;
      return Status::Ok();
    };
  };
  LG_RETURN_IF_ERROR(
      yaml.ParseMap(v, p, p,
                    {{"include", list(include, policy::ColumnSpec::Kind::kInclude)},
                     {"exclude", list(exclude, policy::ColumnSpec::Kind::kExclude)}}));
  if (include == exclude) return yaml.Error(v, p, "give exactly one of include or exclude");
  return spec;
}

Result<policy::Grant> ReadGrant(const YamlReader& yaml, const YAML::Node& node,
                                const std::string& path) {
  policy::Grant grant;
  LG_RETURN_IF_ERROR(
      yaml.ParseMap(node, path, path,
                    {
                        {"database", yaml.SetString(grant.database), /*required=*/true},
                        {"table", yaml.SetString(grant.table)},
                        {"permissions", Into(yaml, grant.permissions, ReadPermissions),
                         /*required=*/true},
                        {"columns", Into(yaml, grant.columns, ReadColumnSpec)},
                        {"grant_option",
                         [&](const YAML::Node& v, const std::string& p) -> Status {
                           LG_ASSIGN_OR_RETURN(grant.grant_option, ReadPermissions(yaml, v, p));
                           // The model has no empty grant option list (no grant option is
                           // the key left out), so the file may not write one.
                           if (grant.grant_option == 0)
                             return yaml.Error(v, p, "lists no permission");
                           return Status::Ok();
                         }},
                    }));
  return grant;
}

Result<policy::ColumnMask> ReadMask(const YamlReader& yaml, const YAML::Node& node,
                                    const std::string& path) {
  policy::ColumnMask mask;
  bool has_n = false, has_expression = false;
  YAML::Mark kind_mark = node.Mark();
  LG_RETURN_IF_ERROR(yaml.ParseMap(
      node, path, path,
      {
          {"database", yaml.SetString(mask.database), /*required=*/true},
          {"table", yaml.SetString(mask.table), /*required=*/true},
          {"column", yaml.SetString(mask.column), /*required=*/true},
          {"mask",
           [&](const YAML::Node& v, const std::string& p) -> Status {
             LG_ASSIGN_OR_RETURN(std::string kind, yaml.ReadNonEmptyString(v, p));
             auto parsed = policy::ParseMaskKind(kind);
             if (!parsed) {
               return yaml.Error(v, p,
                                 "unknown mask " + Quoted(kind) +
                                     "; use null, redact, hash, show_last_n, year_only or "
                                     "expression");
             }
             mask.kind = *parsed;
             kind_mark = v.Mark();
             return Status::Ok();
           },
           /*required=*/true},
          {"n",
           [&](const YAML::Node& v, const std::string& p) -> Status {
             has_n = true;
             // Its range is a policy rule (ValidateColumnMask).
             LG_ASSIGN_OR_RETURN(mask.n, yaml.ReadInt(v, p, std::numeric_limits<int64_t>::min(),
                                                      std::numeric_limits<int64_t>::max()));
             return Status::Ok();
           }},
          {"expression",
           [&](const YAML::Node& v, const std::string& p) -> Status {
             has_expression = true;
             LG_ASSIGN_OR_RETURN(mask.expression, yaml.ReadNonEmptyString(v, p));
             return Status::Ok();
           }},
      }));
  if (has_n && mask.kind != policy::MaskKind::kShowLastN) {
    return yaml.ErrorAt(kind_mark, path, "n applies to mask: show_last_n only; remove n");
  }
  if (has_expression != (mask.kind == policy::MaskKind::kExpression)) {
    return yaml.ErrorAt(kind_mark, path,
                        has_expression ? "expression applies to mask: expression only"
                                       : "mask: expression needs an expression: key");
  }
  return mask;
}

// {key: [v1, v2], key2: v3}: AND across keys, OR across one key's values.
Result<policy::TagExpression> ReadTagExpression(const YamlReader& yaml, const YAML::Node& node,
                                                const std::string& path) {
  if (!node.IsMap())
    return yaml.Error(node, path,
                      "expected a mapping of tag key to values, e.g. {domain: [sales]}");
  policy::TagExpression expression;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key_node = it->first;
    const YAML::Node value = it->second;
    LG_ASSIGN_OR_RETURN(std::string key, yaml.ReadNonEmptyString(key_node, path));
    std::string key_path = Child(path, key);
    if (expression.clauses.count(key) != 0) {
      return yaml.Error(key_node, path, "duplicate tag key " + Quoted(key));
    }
    std::vector<std::string> values;
    if (value.IsScalar()) {
      LG_ASSIGN_OR_RETURN(std::string single, yaml.ReadNonEmptyString(value, key_path));
      values.push_back(std::move(single));
    } else {
      LG_ASSIGN_OR_RETURN(values, yaml.ReadStringList(value, key_path));
    }
    expression.clauses[key] = std::move(values);
  }
  return expression;
}

Result<policy::TagGrant> ReadTagGrant(const YamlReader& yaml, const YAML::Node& node,
                                      const std::string& path) {
  policy::TagGrant grant;
  LG_RETURN_IF_ERROR(yaml.ParseMap(node, path, path,
                                   {{"expression", Into(yaml, grant.expression, ReadTagExpression),
                                     /*required=*/true},
                                    {"permissions", Into(yaml, grant.permissions, ReadPermissions),
                                     /*required=*/true}}));
  return grant;
}

// A handler that reads every item of a list with `read` into `out`.
template <typename T, typename Read>
YamlReader::Handler ListOf(const YamlReader& yaml, std::vector<T>& out, Read read) {
  return [&yaml, &out, read](const YAML::Node& v, const std::string& p) -> Status {
    return yaml.ParseList(v, p,
                          [&](const YAML::Node& item, size_t, const std::string& ip) -> Status {
                            LG_ASSIGN_OR_RETURN(T value, read(yaml, item, ip));
                            out.push_back(std::move(value));
                            return Status::Ok();
                          });
  };
}

// ---- policy rule violations at their YAML position ----

// `tag key "k" is not declared ...` or `"v" is not a value of tag key ...`.
std::string UndeclaredTag(const StackConfig& config, const std::string& key,
                          const std::string& value) {
  auto declared = std::find_if(config.tag_keys.begin(), config.tag_keys.end(),
                               [&](const policy::TagKey& k) { return k.key == key; });
  if (declared == config.tag_keys.end()) {
    std::vector<std::string> keys;
    for (const policy::TagKey& k : config.tag_keys) keys.push_back(k.key);
    return "tag key " + Quoted(key) + " is not declared under tags.keys" + DidYouMean(key, keys);
  }
  return Quoted(value) + " is not a value of tag key " + Quoted(key) +
         DidYouMean(value, declared->values) + " Allowed: " + Join(declared->values, ", ");
}

bool IsUndeclaredTag(PolicyFailure reason) {
  return reason == PolicyFailure::kUndeclaredTagKey || reason == PolicyFailure::kUndeclaredTagValue;
}

Status TagKeyError(const StackParse& parse, const PolicyPath& at, PolicyFailure reason,
                   const Status& status) {
  const YamlReader& yaml = parse.yaml;
  const YAML::Node keys = parse.root["tags"]["keys"];
  const YAML::Node item = keys[at.index];
  const std::string path = Index("tags.keys", at.index);
  const policy::TagKey& key = parse.config.tag_keys[at.index];
  switch (reason) {
    case PolicyFailure::kTagKeyDeclaredTwice:
      return yaml.Error(item["key"], Child(path, "key"),
                        Duplicate("tag key", key.key, YamlReader::Line(keys[at.first]["key"])));
    case PolicyFailure::kNoTagValue:
      return yaml.Error(item["values"], Child(path, "values"), "lists no value");
    case PolicyFailure::kTagValueListedTwice:
      return yaml.Error(item["values"][at.item], Index(Child(path, "values"), at.item),
                        "value " + Quoted(key.values[at.item]) + " is listed twice");
    default:
      return yaml.Error(item, path, status.message());
  }
}

Status TagAssignmentError(const StackParse& parse, const PolicyPath& at, PolicyFailure reason,
                          const Status& status) {
  const YamlReader& yaml = parse.yaml;
  const YAML::Node assignments = parse.root["tags"]["assign"];
  const YAML::Node item = assignments[at.index];
  const std::string path = Index("tags.assign", at.index);
  const policy::TagAssignment& a = parse.config.tag_assignments[at.index];
  if (reason == PolicyFailure::kColumnWithoutTable) {
    return yaml.Error(item, path, "a column needs its table; add table:");
  }
  if (reason == PolicyFailure::kTagAssignedTwice) {
    return yaml.Error(item, path,
                      policy::ResourceName(a.database, a.table, a.column) +
                          " already has a value for tag key " + Quoted(a.key) + " (line " +
                          std::to_string(YamlReader::Line(assignments[at.first])) +
                          "); a resource carries one value per key");
  }
  if (IsUndeclaredTag(reason)) {
    return yaml.Error(item["value"], path, UndeclaredTag(parse.config, a.key, a.value));
  }
  return yaml.Error(item, path, status.message());
}

Status RoleError(const StackParse& parse, size_t index, const PolicyPath& at, PolicyFailure reason,
                 const Status& status) {
  const YamlReader& yaml = parse.yaml;
  const policy::Role& role = parse.config.roles[index];
  const YAML::Node node = parse.root["roles"][index];
  const std::string path = Index("roles", index);
  switch (at.part) {
    case PolicyPath::Part::kGrant: {
      const YAML::Node grant = node["grants"][at.item];
      const std::string grant_path = Index(Child(path, "grants"), at.item);
      if (reason == PolicyFailure::kColumnsNeedOneTable) {
        return yaml.Error(grant, grant_path,
                          "columns need a single table; name it with table: or drop columns:");
      }
      if (reason == PolicyFailure::kNoPermission) {
        return yaml.Error(grant["permissions"], Child(grant_path, "permissions"),
                          "lists no permission");
      }
      // The grant's own words, without the role (the path names it).
      return yaml.Error(grant, grant_path, policy::ValidateGrant(role.grants[at.item]).message());
    }
    case PolicyPath::Part::kFilter: {
      const std::string& name = role.filters[at.item];
      std::vector<std::string> declared;
      for (const policy::DataCellFilter& f : parse.config.filters) declared.push_back(f.name);
      return yaml.Error(
          node["filters"][at.item], Index(Child(path, "filters"), at.item),
          "filter " + Quoted(name) + " is not declared under filters" + DidYouMean(name, declared));
    }
    case PolicyPath::Part::kMask: {
      const YAML::Node mask = node["masks"][at.item];
      const std::string mask_path = Index(Child(path, "masks"), at.item);
      const policy::ColumnMask& m = role.masks[at.item];
      if (reason == PolicyFailure::kMaskLengthOutOfRange) {
        return yaml.Error(mask["n"], Child(mask_path, "n"),
                          mask["n"].Scalar() + " is out of range; use 0.." +
                              std::to_string(policy::kMaxMaskShowLastN));
      }
      if (reason == PolicyFailure::kMaskedTwice) {
        return yaml.Error(mask, mask_path,
                          policy::ResourceName(m.database, m.table, m.column) +
                              " is masked twice; keep one mask per column");
      }
      // The mask's own words, at its kind.
      return yaml.ErrorAt(mask["mask"].Mark(), mask_path, policy::ValidateColumnMask(m).message());
    }
    case PolicyPath::Part::kTagGrant: {
      const YAML::Node grant = node["tag_grants"][at.item];
      const std::string grant_path = Index(Child(path, "tag_grants"), at.item);
      const std::string expression_path = Child(grant_path, "expression");
      if (reason == PolicyFailure::kEmptyTagExpression) {
        return yaml.Error(grant["expression"], expression_path,
                          "expected a mapping of tag key to values, e.g. {domain: [sales]}");
      }
      if (reason == PolicyFailure::kNoPermission) {
        return yaml.Error(grant["permissions"], Child(grant_path, "permissions"),
                          "lists no permission");
      }
      const YAML::Node values = grant["expression"][at.tag_key];
      const std::string values_path = Child(expression_path, at.tag_key);
      if (reason == PolicyFailure::kNoTagValue) {
        return yaml.Error(values, values_path, "lists no value");
      }
      if (IsUndeclaredTag(reason)) {
        const std::vector<std::string>& listed =
            role.tag_grants[at.item].expression.clauses.at(at.tag_key);
        return yaml.Error(values, values_path,
                          UndeclaredTag(parse.config, at.tag_key, listed[at.tag_value]));
      }
      return yaml.Error(grant, grant_path, status.message());
    }
    default:
      return yaml.Error(node, path, status.message());
  }
}

Status FilterError(const StackParse& parse, size_t index, const Status& status) {
  return parse.yaml.Error(parse.root["filters"][index], Index("filters", index), status.message());
}

// The violation said at the YAML position of the object that breaks it.
Status LocatedError(const StackParse& parse, const policy::PolicyViolation& violation) {
  const PolicyPath& at = violation.path;
  const Status& status = violation.status;
  const PolicyFailure reason =
      status.reason<PolicyFailure>().value_or(PolicyFailure::kInconsistentSnapshot);
  const StackConfig& config = parse.config;
  switch (at.object) {
    case PolicyPath::Object::kTagKey:
      return TagKeyError(parse, at, reason, status);
    case PolicyPath::Object::kTagAssignment:
      return TagAssignmentError(parse, at, reason, status);
    case PolicyPath::Object::kRole:
      for (size_t i = 0; i < config.roles.size(); ++i) {
        if (config.roles[i].name == at.name) return RoleError(parse, i, at, reason, status);
      }
      break;
    case PolicyPath::Object::kFilter:
      for (size_t i = 0; i < config.filters.size(); ++i) {
        if (config.filters[i].name == at.name) return FilterError(parse, i, status);
      }
      break;
    case PolicyPath::Object::kPolicy:
      break;
  }
  return InvalidArgumentError(parse.yaml.file() + ": " + status.message());
}

}  // namespace

Status ParseRoles(StackParse& parse, const YAML::Node& node, const std::string& path) {
  const YamlReader& yaml = parse.yaml;
  YamlReader::NameLines names;
  return yaml.ParseList(
      node, path, [&](const YAML::Node& item, size_t, const std::string& item_path) -> Status {
        policy::Role role;
        LG_RETURN_IF_ERROR(yaml.ParseMap(
            item, item_path + YamlReader::NameSuffix(item, "name"), item_path,
            {
                {"name",
                 [&](const YAML::Node& v, const std::string& p) -> Status {
                   LG_ASSIGN_OR_RETURN(role.name, yaml.ReadNonEmptyString(v, p));
                   return yaml.CheckUnique(names, role.name, v, p, "role");
                 },
                 /*required=*/true},
                {"description", yaml.SetString(role.description, false)},
                {"grants", ListOf(yaml, role.grants, ReadGrant), /*required=*/false,
                 /*allow_null=*/true},
                {"filters",
                 [&](const YAML::Node& v, const std::string& p) -> Status {
                   return yaml.ParseList(
                       v, p, [&](const YAML::Node& f, size_t, const std::string& fp) -> Status {
                         LG_ASSIGN_OR_RETURN(std::string name, yaml.ReadNonEmptyString(f, fp));
                         // A lint of the file: the model tolerates a repeated
                         // name (it grants nothing more).
                         if (std::find(role.filters.begin(), role.filters.end(), name) !=
                             role.filters.end()) {
                           return yaml.Error(
                               f, fp, "filter " + Quoted(name) + " is listed twice; remove one");
                         }
                         role.filters.push_back(std::move(name));
                         return Status::Ok();
                       });
                 },
                 /*required=*/false, /*allow_null=*/true},
                {"masks", ListOf(yaml, role.masks, ReadMask), /*required=*/false,
                 /*allow_null=*/true},
                {"tag_grants", ListOf(yaml, role.tag_grants, ReadTagGrant), /*required=*/false,
                 /*allow_null=*/true},
            }));
        parse.config.roles.push_back(std::move(role));
        return Status::Ok();
      });
}

Status ParseTags(StackParse& parse, const YAML::Node& node, const std::string& path) {
  const YamlReader& yaml = parse.yaml;
  StackConfig& out = parse.config;
  auto read_key = [](const YamlReader& y, const YAML::Node& item,
                     const std::string& ip) -> Result<policy::TagKey> {
    policy::TagKey key;
    LG_RETURN_IF_ERROR(y.ParseMap(item, ip + YamlReader::NameSuffix(item, "key"), ip,
                                  {{"key", y.SetString(key.key), /*required=*/true},
                                   {"values",
                                    [&](const YAML::Node& l, const std::string& lp) -> Status {
                                      LG_ASSIGN_OR_RETURN(key.values, y.ReadStringList(l, lp));
                                      return Status::Ok();
                                    },
                                    /*required=*/true}}));
    return key;
  };
  auto read_assignment = [](const YamlReader& y, const YAML::Node& item,
                            const std::string& ip) -> Result<policy::TagAssignment> {
    policy::TagAssignment a;
    LG_RETURN_IF_ERROR(y.ParseMap(item, ip, ip,
                                  {{"database", y.SetString(a.database), /*required=*/true},
                                   {"table", y.SetString(a.table)},
                                   {"column", y.SetString(a.column)},
                                   {"key", y.SetString(a.key), /*required=*/true},
                                   {"value", y.SetString(a.value), /*required=*/true}}));
    return a;
  };
  return yaml.ParseMap(node, path, path,
                       {{"keys", ListOf(yaml, out.tag_keys, read_key), /*required=*/false,
                         /*allow_null=*/true},
                        {"assign", ListOf(yaml, out.tag_assignments, read_assignment),
                         /*required=*/false, /*allow_null=*/true}});
}

Status ParseFilters(StackParse& parse, const YAML::Node& node, const std::string& path) {
  const YamlReader& yaml = parse.yaml;
  YamlReader::NameLines names;
  return yaml.ParseList(
      node, path, [&](const YAML::Node& item, size_t, const std::string& ip) -> Status {
        policy::DataCellFilter filter;
        LG_RETURN_IF_ERROR(yaml.ParseMap(
            item, ip + YamlReader::NameSuffix(item, "name"), ip,
            {
                {"name",
                 [&](const YAML::Node& v, const std::string& p) -> Status {
                   LG_ASSIGN_OR_RETURN(filter.name, yaml.ReadNonEmptyString(v, p));
                   return yaml.CheckUnique(names, filter.name, v, p, "filter");
                 },
                 /*required=*/true},
                {"database", yaml.SetString(filter.database), /*required=*/true},
                {"table", yaml.SetString(filter.table), /*required=*/true},
                {"rows",
                 [&](const YAML::Node& v, const std::string& p) -> Status {
                   LG_ASSIGN_OR_RETURN(std::string text, yaml.ReadString(v, p));
                   if (TrimWhitespace(text).empty()) return Status::Ok();  // all rows
                   Result<policy::RowFilter> rows = policy::ParseRowFilter(text);
                   if (!rows.ok()) {
                     return yaml.Error(v, p,
                                       "invalid row filter: " + rows.status().message() +
                                           "; e.g. \"region IN ('eu-west', 'eu-central')\"");
                   }
                   filter.rows = std::move(*rows);
                   return Status::Ok();
                 }},
                {"columns", Into(yaml, filter.columns, ReadColumnSpec)},
            }));
        // A lint of the file: a filter on "*" would match only a table named
        // "*", so it is refused here; the model keeps such a filter readable.
        if (filter.table == "*" || filter.database == "*") {
          return yaml.Error(item, ip, "a filter applies to one table; name it without \"*\"");
        }
        parse.config.filters.push_back(std::move(filter));
        return Status::Ok();
      });
}

Status CheckGovernance(const StackParse& parse) {
  std::optional<policy::PolicyViolation> violation =
      policy::FindPolicyViolation(PolicyOf(parse.config));
  if (!violation) return Status::Ok();
  Status located = LocatedError(parse, *violation);
  // The message is the file's; the reason stays the policy's.
  auto reason = violation->status.reason<PolicyFailure>();
  return reason ? Status(located.code(), *reason, located.message()) : located;
}

}  // namespace lakegate::config
