// Policy changes shared by the catalog tests.
#pragma once

#include <string>
#include <utility>

#include "catalog/policy_versions.h"
#include "policy/policy.h"

namespace lakegate::catalog {

// Adds (or replaces) a role named `name` with DESCRIBE on analytics.
inline PolicyChange AddRole(std::string name) {
  return [name = std::move(name)](policy::PolicySnapshot& p) -> Status {
    policy::Role role;
    role.name = name;
    role.grants.push_back({"analytics", "", policy::Bit(policy::Permission::kDescribe), {}});
    p.roles.insert_or_assign(name, role);
    return Status::Ok();
  };
}

}  // namespace lakegate::catalog
