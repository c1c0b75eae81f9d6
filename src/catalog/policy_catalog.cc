#include "catalog/policy_catalog.h"

#include <utility>

#include "catalog/declared_policy.h"

namespace lakegate::catalog {

PolicyCatalog::PolicyCatalog(store::Store& store)
    : store_(store), current_(std::make_shared<const policy::PolicySnapshot>()) {}

std::shared_ptr<const policy::PolicySnapshot> PolicyCatalog::Current() const {
  MutexLock lock(mutex_);
  return current_;
}

Status PolicyCatalog::Refresh() {
  LG_ASSIGN_OR_RETURN(auto latest, store_.LatestPolicy());
  // Nothing stored, or nothing newer: no document to parse.
  if (!latest || latest->first <= Current()->version) return Status::Ok();
  LG_ASSIGN_OR_RETURN(auto snapshot, ReadStoredVersion(latest->first, latest->second));
  Install(std::move(snapshot));
  return Status::Ok();
}

Result<PolicyUpdate> PolicyCatalog::Update(std::string_view author, const PolicyChange& change) {
  LG_ASSIGN_OR_RETURN(PolicyUpdate update, UpdatePolicy(store_, author, change));
  Install(update.policy);
  return update;
}

Result<std::vector<std::string>> PolicyCatalog::ManagedNames() const {
  return LoadManagedPolicyNames(store_);
}

void PolicyCatalog::Install(std::shared_ptr<const policy::PolicySnapshot> snapshot) {
  MutexLock lock(mutex_);
  if (snapshot->version > current_->version) current_ = std::move(snapshot);
}

}  // namespace lakegate::catalog
