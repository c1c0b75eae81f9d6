// The versioned policy catalog in a state store: reading the latest version
// and changing it atomically (read, change, check every policy rule, save a
// new version only when something changed). Each function is one step of
// the caller's choosing on a store::Store, which may be the Store& of a
// transaction the caller runs (apply writes clients and policy together).
// PolicyCatalog (policy_catalog.h) builds the in-process catalog on them.
//
// Thread-safe as the store is. Failures: the store's codes, and
// InvalidArgument with a reason: CatalogFailure::kUnreadableVersion for a
// stored document that does not read back, policy::PolicyFailure for a
// change that breaks a policy rule.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "policy/policy.h"
#include "store/store.h"

namespace lakegate::catalog {

enum class CatalogFailure {
  kUnreadableVersion,  // a stored version does not parse or breaks a policy rule
};
const ReasonDomain& ReasonDomainOf(CatalogFailure);

// Edits a copy of the latest policy; a non-OK status aborts the change.
using PolicyChange = std::function<Status(policy::PolicySnapshot&)>;

struct PolicyUpdate {
  uint64_t old_version = 0;          // 0 = there was none
  uint64_t new_version = 0;          // == old_version when nothing changed
  std::vector<std::string> changes;  // policy::DescribePolicyChanges
  // The latest version once the update is done: the saved one, or the
  // unchanged one.
  std::shared_ptr<const policy::PolicySnapshot> policy;
  bool changed() const { return new_version != old_version; }
};

// Reads back one stored version: the document `json` saved as `version`.
// InvalidArgument [kUnreadableVersion] naming the version when it does not
// parse or breaks a policy rule.
Result<std::shared_ptr<const policy::PolicySnapshot>> ReadStoredVersion(uint64_t version,
                                                                        std::string_view json);

// The latest stored version; version 0 and an empty policy when none exists.
Result<std::shared_ptr<const policy::PolicySnapshot>> LoadLatestPolicy(store::Store& store);

// In one transaction on `store`: loads the latest version, calls `change` on
// a copy, checks every policy rule (policy::ValidatePolicy) and saves the
// result as a new version, by `author` ("cli grant", "apply stack.yaml"),
// when its document differs. Nothing is written when `change` or a rule
// fails; that status is returned.
Result<PolicyUpdate> UpdatePolicy(store::Store& store, std::string_view author,
                                  const PolicyChange& change);

}  // namespace lakegate::catalog
