// StateCache: an in-memory, immutable copy of the state the request path reads
// (clients, signing keys, revocations, resource servers, access keys), so that issuing and
// verifying tokens never touches the store.
//
// Refresh() re-reads everything in one transaction when the store's change
// counter moved (another process or node wrote) and publishes a new snapshot;
// readers take the current one with Current() (lock-free) and keep it alive as
// long as they use it. Components derive their own views (the authorization
// server's client directory and signer, the gateway's verification keys) in a
// listener that runs after each publication, so derived views are rebuilt once
// per change, not per request.
//
// Thread-safe. Refresh() blocks on the store: call it from the reload thread
// or a worker, never from a network thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"
#include "store/store.h"

namespace lakegate::store {

// Hashes std::string and std::string_view alike, so lookups by a view of a
// request's bytes allocate nothing.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// One consistent read of the store. Immutable once published.
struct StateSnapshot {
  StringMap<ClientRecord> clients;                     // by client_id
  std::vector<SigningKeyRecord> signing_keys;          // newest first
  StringMap<int64_t> revocations;                      // jti -> the token's exp
  std::vector<ResourceServerRecord> resource_servers;  // by identifier
  StringMap<AccessKeyRecord> access_keys;              // by access_key_id

  // nullptr when no client has this id.
  const ClientRecord* FindClient(std::string_view client_id) const;
  // nullptr when no access key has this id.
  const AccessKeyRecord* FindAccessKey(std::string_view access_key_id) const;
  bool IsRevoked(std::string_view jti) const;
};

// True when `key` signs now (not retired) or is retired but still published:
// tokens it signed may not have expired yet (publish_until > now).
bool IsPublished(const SigningKeyRecord& key, int64_t now_seconds);

class StateCache {
 public:
  using Listener = std::function<void(const std::shared_ptr<const StateSnapshot>&)>;

  // `store` must outlive the cache. Current() is an empty snapshot until the
  // first Refresh().
  explicit StateCache(Store& store);
  StateCache(const StateCache&) = delete;
  StateCache& operator=(const StateCache&) = delete;

  // Publishes a new snapshot when the store changed since the last one (or
  // none was read yet). Returns the store's error and keeps the previous
  // snapshot when the store cannot be read.
  Status Refresh() EXCLUDES(mu_);

  std::shared_ptr<const StateSnapshot> Current() const;

  // Calls `listener` with every snapshot published from now on, and once now
  // with the current one. Listeners run on the refreshing thread, in the order
  // they were added, after the snapshot is current; they must not call back
  // into the cache. Add them before concurrent Refresh() calls start.
  void Subscribe(Listener listener) EXCLUDES(mu_);

 private:
  Store& store_;
  Mutex mu_;  // serializes loads, so an older read never replaces a newer one
  bool loaded_ GUARDED_BY(mu_) = false;
  uint64_t last_counter_ GUARDED_BY(mu_) = 0;
  std::vector<Listener> listeners_ GUARDED_BY(mu_);
  std::shared_ptr<const StateSnapshot> current_;  // atomic_load / atomic_store only
};

}  // namespace lakegate::store
