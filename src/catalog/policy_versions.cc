#include "catalog/policy_versions.h"

#include <string>
#include <utility>

#include "policy/policy_json.h"
#include "policy/validate.h"

namespace lakegate::catalog {
namespace {

constexpr ReasonInfo kCatalogFailureInfos[] = {
    {"unreadable_version"},
};
constexpr ReasonDomain kCatalogFailureDomain("catalog", kCatalogFailureInfos,
                                             static_cast<int>(sizeof(kCatalogFailureInfos) /
                                                              sizeof(kCatalogFailureInfos[0])));

}  // namespace

const ReasonDomain& ReasonDomainOf(CatalogFailure) { return kCatalogFailureDomain; }

Result<std::shared_ptr<const policy::PolicySnapshot>> ReadStoredVersion(uint64_t version,
                                                                        std::string_view json) {
  Result<policy::PolicySnapshot> parsed = policy::PolicyFromJson(json);
  if (!parsed.ok()) {
    return Status(StatusCode::kInvalidArgument, CatalogFailure::kUnreadableVersion,
                  "policy version " + std::to_string(version) +
                      " in the state store is unreadable: " + parsed.status().message());
  }
  auto snapshot = std::make_shared<policy::PolicySnapshot>(std::move(*parsed));
  snapshot->version = version;
  return std::shared_ptr<const policy::PolicySnapshot>(std::move(snapshot));
}

Result<std::shared_ptr<const policy::PolicySnapshot>> LoadLatestPolicy(store::Store& store) {
  LG_ASSIGN_OR_RETURN(auto latest, store.LatestPolicy());
  if (!latest) return std::make_shared<const policy::PolicySnapshot>();
  return ReadStoredVersion(latest->first, latest->second);
}

Result<PolicyUpdate> UpdatePolicy(store::Store& store, std::string_view author,
                                  const PolicyChange& change) {
  PolicyUpdate update;
  LG_RETURN_IF_ERROR(store.RunInTransaction([&](store::Store& tx) -> Status {
    update = PolicyUpdate{};
    LG_ASSIGN_OR_RETURN(auto current, LoadLatestPolicy(tx));
    update.old_version = update.new_version = current->version;
    update.policy = current;
    policy::PolicySnapshot next = *current;
    LG_RETURN_IF_ERROR(change(next));
    LG_RETURN_IF_ERROR(policy::ValidatePolicy(next));
    std::string json = policy::PolicyToJson(next);
    if (current->version != 0 && json == policy::PolicyToJson(*current)) return Status::Ok();
    update.changes = policy::DescribePolicyChanges(*current, next);
    LG_ASSIGN_OR_RETURN(update.new_version, tx.SavePolicy(json, author));
    // What every reader of the store gets for this version (canonical
    // order), not the edited copy.
    LG_ASSIGN_OR_RETURN(update.policy, ReadStoredVersion(update.new_version, json));
    return Status::Ok();
  }));
  return update;
}

}  // namespace lakegate::catalog
