// The governance a stack file declares, merged into the catalog: `apply`
// replaces what the file owns and leaves alone what was made with the CLI or
// the admin API. The names the last apply declared ("managed" names) are a
// store setting, so that the next apply knows what to remove when the file
// stops declaring it, and the CLI can warn before changing such an object.
//
// Managed names: "role\t<name>", "filter\t<name>", "tagkey\t<key>",
// "tag\t<resource, lower case>\t<key>".
//
// Thread-safe as the store is; failures as in policy_versions.h.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "catalog/policy_versions.h"
#include "common/status.h"
#include "policy/policy.h"
#include "store/store.h"

namespace lakegate::catalog {

// The store setting that holds the names the last apply declared.
inline constexpr std::string_view kManagedPolicySetting = "policy.managed";

// The names `declared` owns, sorted.
std::vector<std::string> ManagedPolicyNames(const policy::PolicySnapshot& declared);

// The names the last apply declared (none before the first apply).
Result<std::vector<std::string>> LoadManagedPolicyNames(store::Store& store);

// The policy an apply makes from `current`: objects the previous apply
// declared (`previously_managed`) but `declared` no longer does are removed;
// every object `declared` holds replaces the one of the same name (a tag
// assignment: of the same resource and key); objects made otherwise stay.
policy::PolicySnapshot MergeDeclaredPolicy(const policy::PolicySnapshot& current,
                                           const std::vector<std::string>& previously_managed,
                                           const policy::PolicySnapshot& declared);

// On `store` (the caller's transaction, so that apply commits everything at
// once): merges `declared` into the latest version, saves the result as a new
// version by `author` when it differs, and records the declared names. An
// unreadable latest version is replaced rather than blocking its repair (the
// changes then start with "replaces an unreadable version"). With `dry_run`
// nothing is written and new_version is the number the save would get.
// InvalidArgument with the policy::PolicyFailure reason when the merged
// policy breaks a rule (e.g. a CLI-made role uses a filter the file no longer
// declares); nothing is written then.
Result<PolicyUpdate> ApplyDeclaredPolicy(store::Store& store,
                                         const policy::PolicySnapshot& declared,
                                         std::string_view author, bool dry_run);

// A note for a change to an object the stack file owns ("" for others):
// `kind` is "role", "filter" or "tagkey".
std::string ManagedNote(const std::vector<std::string>& managed, std::string_view kind,
                        std::string_view name);

}  // namespace lakegate::catalog
