// The rules of a policy catalog, in one place for every writer: the stack
// file (config/), the JSON document of the state store and the admin API
// (policy_json.h), the CLI and the catalog's updates (catalog/).
//
// A broken rule is kInvalidArgument with a PolicyFailure reason and a message
// that names the object ("role \"r\": filter \"f\" does not exist"). The
// PolicyPath of a PolicyViolation says which object of the snapshot broke it,
// so that a reader can point at where it read that object (a YAML line and
// column, a JSON path) in its own words. Readers check only the shape of
// their document (types, keys, names unique within a list the model keys by
// name); every rule about the model's content is checked here.
//
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "common/status.h"
#include "policy/policy.h"

namespace lakegate::policy {

enum class PolicyFailure {
  kEmptyName,                     // a role or tag key without a name
  kMissingResource,               // a grant, mask, filter or tag assignment lacks its database,
                                  // table or column
  kNoPermission,                  // a grant or a tag grant lists no permission
  kColumnsNeedOneTable,           // a column list on a database-level grant or on table "*"
  kGrantOptionWithoutPermission,  // grant_option is not a subset of permissions
  kGrantOptionOnExcludedColumns,  // the grant option on an exclude column list
  kUnknownFilter,                 // a role names a data-cell filter that does not exist
  kMaskLengthOutOfRange,          // show_last_n with n outside [0, kMaxMaskShowLastN]
  kInvalidMaskExpression,         // an expression mask without an expression, or one that
                                  // does not parse
  kMaskedTwice,                   // a role masks one column twice
  kEmptyTagExpression,            // a tag grant whose expression names no key
  kNoTagValue,                    // a tag key, or a key of a tag grant, lists no value
  kEmptyTagValue,                 // a tag key lists an empty value
  kTagKeyDeclaredTwice,           // two tag keys of one name
  kTagValueListedTwice,           // a tag key lists one value twice
  kUndeclaredTagKey,              // a tag assignment or tag grant uses an undeclared key
  kUndeclaredTagValue,            // ... or a value its key does not allow
  kColumnWithoutTable,            // a tag assignment on a column names no table
  kTagAssignedTwice,              // a resource carries two values of one key
  kInconsistentSnapshot,          // a filter's map key differs from its name (a writer's bug)
};
const ReasonDomain& ReasonDomainOf(PolicyFailure);

// Which object of a PolicySnapshot broke a rule.
struct PolicyPath {
  enum class Object {
    kPolicy,         // the snapshot as a whole
    kTagKey,         // tag_keys[index]
    kTagAssignment,  // tag_assignments[index]
    kFilter,         // filters.at(name)
    kRole,           // roles.at(name)
  };
  // The part of the object the rule is about.
  enum class Part {
    kSelf,
    kGrant,     // role.grants[item]
    kFilter,    // role.filters[item]
    kMask,      // role.masks[item]
    kTagGrant,  // role.tag_grants[item]; tag_key and tag_value say which value, if any
    kValue,     // tag_keys[index].values[item]
  };
  Object object = Object::kPolicy;
  std::string name;  // kFilter, kRole
  size_t index = 0;  // kTagKey, kTagAssignment
  Part part = Part::kSelf;
  size_t item = 0;
  // kTagGrant: the expression's key the rule is about ("" = the whole tag
  // grant) and the position of the value in that key's list.
  std::string tag_key;
  size_t tag_value = 0;
  // Rules broken by a second declaration (kTagKeyDeclaredTwice,
  // kTagAssignedTwice: `index`; kTagValueListedTwice, kMaskedTwice: `item`):
  // the position of the first one.
  size_t first = 0;
};

struct PolicyViolation {
  PolicyPath path;
  Status status;  // kInvalidArgument (kInternal for kInconsistentSnapshot) with the reason
};

// The first rule `policy` breaks, or nullopt when it breaks none. Checked in
// a fixed order: tag keys, tag assignments, filters, then roles by name (each
// role's grants, filters, masks, tag grants), every list front to back. The
// rules: names, databases, tables and mask columns are non-empty; every grant
// passes ValidateGrant() and every mask ValidateColumnMask(); a role names
// only existing filters and masks a column at most once; tag grants have a
// non-empty expression and a permission; tag keys are declared once with
// distinct non-empty values; tag assignments and tag grants use declared keys
// and values; a tag assignment on a column names its table; a resource
// carries at most one value per key (resources compare case-insensitively).
// `stored`: a stored version read back, its masks read with
// ParseStoredMaskExpression() (ValidateColumnMask's `stored`).
std::optional<PolicyViolation> FindPolicyViolation(const PolicySnapshot& policy,
                                                   bool stored = false);

// OK, or the status of FindPolicyViolation().
Status ValidatePolicy(const PolicySnapshot& policy);

}  // namespace lakegate::policy
