// The versioned policy catalog on top of the state store: loading the latest
// version, changing it atomically (read, change, validate, save a new version
// only when something changed), and merging a stack file's governance into it.
//
// Every function is a thin transaction over store::Store; thread-safe as the
// store is. Failures: the store's codes, InvalidArgument when the stored
// document or the changed policy does not validate (the message names the
// object).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/stack_config.h"
#include "policy/policy.h"
#include "store/store.h"

namespace lakegate::app {

// The latest stored policy; version 0 and an empty snapshot when none exists.
Result<std::shared_ptr<const policy::PolicySnapshot>> LoadLatestPolicy(store::Store& store);

struct PolicyUpdate {
  uint64_t old_version = 0;  // 0 = there was none
  uint64_t new_version = 0;  // == old_version when nothing changed
  std::vector<std::string> changes;  // policy::DescribePolicyChanges
  bool changed() const { return new_version != old_version; }
};

// In one transaction: loads the latest policy, calls `change` on a copy,
// validates the result and saves it as a new version when its JSON differs.
// A non-OK status from `change` aborts without writing. `author` is stored
// with the version ("cli grant", "apply stack.yaml").
Result<PolicyUpdate> UpdatePolicy(store::Store& store, const std::string& author,
                                  const std::function<Status(policy::PolicySnapshot&)>& change);

// The names a stack file declares, so that `apply` replaces what the file
// owns and leaves alone what was created with the CLI.
//   "role\t<name>", "filter\t<name>", "tagkey\t<key>", "tag\t<resource>\t<key>"
std::vector<std::string> ManagedPolicyNames(const config::StackConfig& stack);

// The policy `apply` makes from `current`: objects the previous apply
// declared (`previously_managed`) but the file no longer does are removed;
// every object the file declares replaces the one of the same name (a tag
// assignment: of the same resource and key); objects made with the CLI stay.
policy::PolicySnapshot MergeStackPolicy(const policy::PolicySnapshot& current,
                                        const std::vector<std::string>& previously_managed,
                                        const config::StackConfig& stack);

// The store setting that holds the names the last apply declared.
inline constexpr const char* kManagedPolicySetting = "policy.managed";

// Note printed by CLI commands that change an object the stack file owns.
std::string ManagedNote(const std::vector<std::string>& managed, const std::string& kind,
                        const std::string& name);

}  // namespace lakegate::app
