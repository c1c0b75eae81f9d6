#include "policy/validate.h"

#include <algorithm>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

#include "common/strings.h"

namespace lakegate::policy {
namespace {

constexpr ReasonInfo kPolicyFailureInfos[] = {
    {"empty_name"},
    {"missing_resource"},
    {"no_permission"},
    {"columns_need_one_table"},
    {"grant_option_without_permission"},
    {"grant_option_on_excluded_columns"},
    {"unknown_filter"},
    {"mask_length_out_of_range"},
    {"invalid_mask_expression"},
    {"masked_twice"},
    {"empty_tag_expression"},
    {"no_tag_value"},
    {"empty_tag_value"},
    {"tag_key_declared_twice"},
    {"tag_value_listed_twice"},
    {"undeclared_tag_key"},
    {"undeclared_tag_value"},
    {"column_without_table"},
    {"tag_assigned_twice"},
    {"inconsistent_snapshot"},
};
constexpr ReasonDomain kPolicyFailureDomain("policy", kPolicyFailureInfos,
                                            static_cast<int>(sizeof(kPolicyFailureInfos) /
                                                             sizeof(kPolicyFailureInfos[0])));
static_assert(sizeof(kPolicyFailureInfos) / sizeof(kPolicyFailureInfos[0]) ==
                  static_cast<size_t>(PolicyFailure::kInconsistentSnapshot) + 1,
              "one ReasonInfo per PolicyFailure");

Status Invalid(PolicyFailure reason, std::string message) {
  return Status(StatusCode::kInvalidArgument, reason, std::move(message));
}

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Checks one snapshot front to back and keeps the first violation.
class Checker {
 public:
  Checker(const PolicySnapshot& policy, bool stored) : policy_(policy), stored_(stored) {}

  std::optional<PolicyViolation> Run() {
    if (CheckTagKeys() && CheckTagAssignments() && CheckFilters() && CheckRoles()) {
      return std::nullopt;
    }
    return std::move(violation_);
  }

 private:
  // Records the violation; false, so that a check can `return Fail(...)`.
  bool Fail(PolicyPath path, Status status) {
    violation_ = PolicyViolation{std::move(path), std::move(status)};
    return false;
  }

  static PolicyPath At(PolicyPath::Object object, size_t index) {
    PolicyPath path;
    path.object = object;
    path.index = index;
    return path;
  }
  static PolicyPath AtRole(const std::string& name, PolicyPath::Part part, size_t item) {
    PolicyPath path;
    path.object = PolicyPath::Object::kRole;
    path.name = name;
    path.part = part;
    path.item = item;
    return path;
  }

  bool CheckTagKeys() {
    const std::vector<TagKey>& keys = policy_.tag_keys;
    for (size_t i = 0; i < keys.size(); ++i) {
      const TagKey& k = keys[i];
      PolicyPath path = At(PolicyPath::Object::kTagKey, i);
      if (k.key.empty()) {
        return Fail(path, Invalid(PolicyFailure::kEmptyName, "a tag key has an empty name"));
      }
      auto [first, inserted] = keys_.emplace(k.key, i);
      if (!inserted) {
        path.first = first->second;
        return Fail(path, Invalid(PolicyFailure::kTagKeyDeclaredTwice,
                                  "tag key " + Quoted(k.key) + " is declared twice"));
      }
      if (k.values.empty()) {
        return Fail(path, Invalid(PolicyFailure::kNoTagValue,
                                  "tag key " + Quoted(k.key) + " declares no value"));
      }
      path.part = PolicyPath::Part::kValue;
      std::map<std::string_view, size_t> seen;  // value -> index
      for (size_t v = 0; v < k.values.size(); ++v) {
        path.item = v;
        if (k.values[v].empty()) {
          return Fail(path, Invalid(PolicyFailure::kEmptyTagValue,
                                    "tag key " + Quoted(k.key) + " has an empty value"));
        }
        auto [earlier, fresh] = seen.emplace(k.values[v], v);
        if (!fresh) {
          path.first = earlier->second;
          return Fail(path, Invalid(PolicyFailure::kTagValueListedTwice,
                                    "tag key " + Quoted(k.key) + " lists value " +
                                        Quoted(k.values[v]) + " twice"));
        }
      }
    }
    return true;
  }

  // OK when `key` is declared and allows `value`; `where` starts the message.
  Status CheckTagValue(const std::string& key, const std::string& value,
                       const std::string& where) const {
    auto it = keys_.find(key);
    if (it == keys_.end()) {
      return Invalid(PolicyFailure::kUndeclaredTagKey,
                     where + ": tag key " + Quoted(key) +
                         " is not declared; create it first (tag key create)");
    }
    const std::vector<std::string>& values = policy_.tag_keys[it->second].values;
    if (std::find(values.begin(), values.end(), value) == values.end()) {
      return Invalid(PolicyFailure::kUndeclaredTagValue,
                     where + ": " + Quoted(value) + " is not a value of tag key " + Quoted(key) +
                         "; allowed: " + Join(values, ", "));
    }
    return Status::Ok();
  }

  bool CheckTagAssignments() {
    std::map<std::string, size_t> tagged;  // "resource\0key" (lower-case resource) -> index
    for (size_t i = 0; i < policy_.tag_assignments.size(); ++i) {
      const TagAssignment& a = policy_.tag_assignments[i];
      PolicyPath path = At(PolicyPath::Object::kTagAssignment, i);
      std::string resource = ResourceName(a.database, a.table, a.column);
      if (a.database.empty()) {
        return Fail(path,
                    Invalid(PolicyFailure::kMissingResource, "a tag assignment has no database"));
      }
      if (!a.column.empty() && a.table.empty()) {
        return Fail(path, Invalid(PolicyFailure::kColumnWithoutTable,
                                  "tag assignment on " + resource + ": a column needs its table"));
      }
      if (Status s = CheckTagValue(a.key, a.value, "tag assignment on " + resource); !s.ok()) {
        return Fail(path, std::move(s));
      }
      auto [first, inserted] = tagged.emplace(AsciiLower(resource) + '\0' + a.key, i);
      if (!inserted) {
        path.first = first->second;
        return Fail(path, Invalid(PolicyFailure::kTagAssignedTwice,
                                  resource + " carries tag key " + Quoted(a.key) +
                                      " twice; a resource has at most one value per key"));
      }
    }
    return true;
  }

  bool CheckFilters() {
    for (const auto& [name, f] : policy_.filters) {
      PolicyPath path;
      path.object = PolicyPath::Object::kFilter;
      path.name = name;
      if (name != f.name) {
        return Fail(path, Status(StatusCode::kInternal, PolicyFailure::kInconsistentSnapshot,
                                 "filter map key differs from its name " + f.name));
      }
      if (f.name.empty() || f.database.empty() || f.table.empty()) {
        return Fail(path,
                    Invalid(PolicyFailure::kMissingResource,
                            "filter " + Quoted(f.name) + " needs a name, database and table"));
      }
    }
    return true;
  }

  bool CheckRoles() {
    for (const auto& [name, role] : policy_.roles) {
      if (role.name.empty()) {
        return Fail(AtRole(name, PolicyPath::Part::kSelf, 0),
                    Invalid(PolicyFailure::kEmptyName, "a role has an empty name"));
      }
      const std::string where = "role " + Quoted(role.name);
      if (!CheckGrants(role, where) || !CheckRoleFilters(role, where) || !CheckMasks(role, where) ||
          !CheckTagGrants(role, where)) {
        return false;
      }
    }
    return true;
  }

  bool CheckGrants(const Role& role, const std::string& where) {
    for (size_t i = 0; i < role.grants.size(); ++i) {
      if (Status s = ValidateGrant(role.grants[i]); !s.ok()) {
        return Fail(AtRole(role.name, PolicyPath::Part::kGrant, i), s.WithPrefix(where));
      }
    }
    return true;
  }

  bool CheckRoleFilters(const Role& role, const std::string& where) {
    for (size_t i = 0; i < role.filters.size(); ++i) {
      if (policy_.filters.find(role.filters[i]) == policy_.filters.end()) {
        return Fail(AtRole(role.name, PolicyPath::Part::kFilter, i),
                    Invalid(PolicyFailure::kUnknownFilter,
                            where + ": filter " + Quoted(role.filters[i]) + " does not exist"));
      }
    }
    return true;
  }

  bool CheckMasks(const Role& role, const std::string& where) {
    std::map<std::string, size_t> masked;  // lower-case resource -> index
    for (size_t i = 0; i < role.masks.size(); ++i) {
      const ColumnMask& m = role.masks[i];
      PolicyPath path = AtRole(role.name, PolicyPath::Part::kMask, i);
      std::string resource = ResourceName(m.database, m.table, m.column);
      if (m.database.empty() || m.table.empty() || m.column.empty()) {
        return Fail(path, Invalid(PolicyFailure::kMissingResource,
                                  where + ": a mask needs a database, table and column"));
      }
      if (m.kind == MaskKind::kExpression && TrimWhitespace(m.expression).empty()) {
        return Fail(path, Invalid(PolicyFailure::kInvalidMaskExpression,
                                  where + ": mask on " + resource + " has no expression"));
      }
      if (Status s = ValidateColumnMask(m, stored_); !s.ok())
        return Fail(path, s.WithPrefix(where));
      auto [first, inserted] = masked.emplace(AsciiLower(resource), i);
      if (!inserted) {
        path.first = first->second;
        return Fail(path, Invalid(PolicyFailure::kMaskedTwice,
                                  where + ": " + resource + " is masked twice"));
      }
    }
    return true;
  }

  bool CheckTagGrants(const Role& role, const std::string& where) {
    for (size_t i = 0; i < role.tag_grants.size(); ++i) {
      const TagGrant& t = role.tag_grants[i];
      PolicyPath path = AtRole(role.name, PolicyPath::Part::kTagGrant, i);
      if (t.expression.clauses.empty()) {
        return Fail(path, Invalid(PolicyFailure::kEmptyTagExpression,
                                  where + ": a tag grant has an empty expression"));
      }
      if (t.permissions == 0) {
        return Fail(path, Invalid(PolicyFailure::kNoPermission,
                                  where + ": a tag grant lists no permission"));
      }
      for (const auto& [key, values] : t.expression.clauses) {
        path.tag_key = key;
        if (values.empty()) {
          return Fail(path, Invalid(PolicyFailure::kNoTagValue,
                                    where + ": tag grant key " + Quoted(key) + " lists no value"));
        }
        for (size_t v = 0; v < values.size(); ++v) {
          path.tag_value = v;
          if (Status s = CheckTagValue(key, values[v], where + ": tag grant"); !s.ok()) {
            return Fail(path, std::move(s));
          }
        }
      }
    }
    return true;
  }

  const PolicySnapshot& policy_;
  bool stored_ = false;
  std::map<std::string, size_t> keys_;  // declared tag key -> index in tag_keys
  std::optional<PolicyViolation> violation_;
};

}  // namespace

const ReasonDomain& ReasonDomainOf(PolicyFailure) { return kPolicyFailureDomain; }

Status ValidateGrant(const Grant& grant) {
  if (grant.database.empty()) {
    return Invalid(PolicyFailure::kMissingResource, "a grant has no database");
  }
  if (grant.permissions == 0) {
    return Invalid(PolicyFailure::kNoPermission, "a grant lists no permission");
  }
  if (grant.columns.kind != ColumnSpec::Kind::kAll && (grant.table.empty() || grant.table == "*")) {
    return Invalid(PolicyFailure::kColumnsNeedOneTable,
                   "grant on " + GrantResourceName(grant) + ": columns need a single table");
  }
  if ((grant.grant_option & ~grant.permissions) != 0) {
    return Invalid(PolicyFailure::kGrantOptionWithoutPermission,
                   "grant on " + GrantResourceName(grant) + ": the grant option of " +
                       PermissionNames(grant.grant_option & ~grant.permissions) +
                       " needs the permission itself; grant it too");
  }
  if (grant.grant_option != 0 && grant.columns.kind == ColumnSpec::Kind::kExclude) {
    return Invalid(PolicyFailure::kGrantOptionOnExcludedColumns,
                   "grant on " + GrantResourceName(grant) +
                       ": the grant option on a column-limited grant needs an include "
                       "list (name the columns), not an exclude list");
  }
  return Status::Ok();
}

Status ValidateColumnMask(const ColumnMask& mask, bool stored) {
  std::string where = mask.database + "." + mask.table + "." + mask.column;
  switch (mask.kind) {
    case MaskKind::kNull:
    case MaskKind::kRedact:
    case MaskKind::kHash:
    case MaskKind::kYearOnly:
      return Status::Ok();
    case MaskKind::kShowLastN:
      if (mask.n < 0 || mask.n > kMaxMaskShowLastN) {
        return Invalid(PolicyFailure::kMaskLengthOutOfRange,
                       "mask on " + where + ": show_last_n needs n between 0 and " +
                           std::to_string(kMaxMaskShowLastN));
      }
      return Status::Ok();
    case MaskKind::kExpression:
      if (Result<MaskExpression> parsed = stored ? ParseStoredMaskExpression(mask.expression)
                                                 : ParseMaskExpression(mask.expression);
          !parsed.ok()) {
        return Invalid(PolicyFailure::kInvalidMaskExpression,
                       "mask on " + where + ": " + parsed.status().message());
      }
      return Status::Ok();
  }
  return Invalid(PolicyFailure::kInconsistentSnapshot, "mask on " + where + ": unknown kind");
}

std::optional<PolicyViolation> FindPolicyViolation(const PolicySnapshot& policy, bool stored) {
  return Checker(policy, stored).Run();
}

Status ValidatePolicy(const PolicySnapshot& policy) {
  std::optional<PolicyViolation> violation = FindPolicyViolation(policy);
  return violation ? violation->status : Status::Ok();
}

}  // namespace lakegate::policy
