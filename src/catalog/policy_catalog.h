// PolicyCatalog: one process's view of the versioned policy catalog in a
// state store. It holds the version in effect for new readers (queries,
// admin reads) and moves it forward: Refresh() picks up versions other
// processes saved, Update() saves a change and makes it current before it
// returns. Every rule is policy/'s (validate.h); the store and the JSON
// document are policy_versions.h's.
//
// Thread-safe. Current() does no I/O and holds the catalog's mutex only to
// copy a pointer to an immutable snapshot, which the reader keeps for as long
// as it uses it; store I/O and parsing happen outside the mutex. Refresh()
// and Update() may run concurrently from any threads: a version is installed
// only when it is newer than the current one, so an older version never
// replaces a newer one, whatever order they finish in.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/policy_versions.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "policy/policy.h"
#include "store/store.h"

namespace lakegate::catalog {

class PolicyCatalog {
 public:
  // `store` must outlive the catalog. Current() holds the empty version 0
  // until the first successful Refresh().
  explicit PolicyCatalog(store::Store& store);
  PolicyCatalog(const PolicyCatalog&) = delete;
  PolicyCatalog& operator=(const PolicyCatalog&) = delete;

  // The version in effect for new readers; never null.
  std::shared_ptr<const policy::PolicySnapshot> Current() const EXCLUDES(mutex_);

  // Makes the latest stored version current when it is newer than Current().
  // On failure Current() stays as it was (the last good version) and the
  // store's status, or InvalidArgument [kUnreadableVersion], is returned. A
  // server loads with it at start-up, where an error means there is no
  // policy to serve, and again whenever the store changed.
  Status Refresh() EXCLUDES(mutex_);

  // Changes the policy (UpdatePolicy() on the store) and, when a new version
  // was saved, makes it current before returning, so the caller's next read
  // sees its own write. Fails as UpdatePolicy() does; nothing changes then.
  Result<PolicyUpdate> Update(std::string_view author, const PolicyChange& change) EXCLUDES(mutex_);

  // The names the last `apply` declared (declared_policy.h), for
  // ManagedNote().
  Result<std::vector<std::string>> ManagedNames() const;

 private:
  // Makes `snapshot` current when it is newer than Current().
  void Install(std::shared_ptr<const policy::PolicySnapshot> snapshot) EXCLUDES(mutex_);

  store::Store& store_;
  mutable Mutex mutex_;
  std::shared_ptr<const policy::PolicySnapshot> current_ GUARDED_BY(mutex_);  // never null
};

}  // namespace lakegate::catalog
