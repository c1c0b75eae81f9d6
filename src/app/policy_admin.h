// Exists for server_app.cc's wiring only, until it holds a catalog::PolicyCatalog.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "catalog/policy_versions.h"
#include "policy/policy.h"
#include "store/store.h"

namespace lakegate::app {

using PolicyUpdate = catalog::PolicyUpdate;

inline Result<std::shared_ptr<const policy::PolicySnapshot>> LoadLatestPolicy(
    store::Store& store) {
  return catalog::LoadLatestPolicy(store);
}

inline Result<PolicyUpdate> UpdatePolicy(
    store::Store& store, const std::string& author,
    const std::function<Status(policy::PolicySnapshot&)>& change) {
  return catalog::UpdatePolicy(store, author, change);
}

}  // namespace lakegate::app
