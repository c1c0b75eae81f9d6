#include "store/state_cache.h"

#include <utility>

namespace lakegate::store {

const ClientRecord* StateSnapshot::FindClient(std::string_view client_id) const {
  auto it = clients.find(client_id);
  return it == clients.end() ? nullptr : &it->second;
}

const AccessKeyRecord* StateSnapshot::FindAccessKey(std::string_view access_key_id) const {
  auto it = access_keys.find(access_key_id);
  return it == access_keys.end() ? nullptr : &it->second;
}

bool StateSnapshot::IsRevoked(std::string_view jti) const {
  return revocations.find(jti) != revocations.end();
}

bool IsPublished(const SigningKeyRecord& key, int64_t now_seconds) {
  return key.retired_at == 0 || key.publish_until > now_seconds;
}

StateCache::StateCache(Store& store)
    : store_(store), current_(std::make_shared<const StateSnapshot>()) {}

std::shared_ptr<const StateSnapshot> StateCache::Current() const {
  return std::atomic_load(&current_);
}

void StateCache::Subscribe(Listener listener) {
  MutexLock lock(mu_);
  listener(Current());
  listeners_.push_back(std::move(listener));
}

Status StateCache::Refresh() {
  MutexLock lock(mu_);
  // The counter is read before the data: a write landing in between makes the
  // next Refresh() read again, never miss it.
  LG_ASSIGN_OR_RETURN(uint64_t counter, store_.ChangeCounter());
  if (loaded_ && counter == last_counter_) return Status::Ok();

  auto next = std::make_shared<StateSnapshot>();
  LG_RETURN_IF_ERROR(store_.RunInTransaction([&](Store& tx) -> Status {
    // Every revocation the store holds; the authorization server purges the
    // expired ones (their tokens can no longer be presented anyway).
    LG_ASSIGN_OR_RETURN(std::vector<ClientRecord> clients, tx.ListClients());
    LG_ASSIGN_OR_RETURN(next->signing_keys, tx.ListSigningKeys());
    LG_ASSIGN_OR_RETURN(auto revocations, tx.ListRevocations(/*now=*/0));
    LG_ASSIGN_OR_RETURN(next->resource_servers, tx.ListResourceServers());
    LG_ASSIGN_OR_RETURN(std::vector<AccessKeyRecord> access_keys, tx.ListAccessKeys());
    next->clients.reserve(clients.size());
    for (ClientRecord& client : clients) {
      std::string id = client.client_id;
      next->clients.emplace(std::move(id), std::move(client));
    }
    next->revocations.reserve(revocations.size());
    for (auto& [jti, exp] : revocations) next->revocations.emplace(std::move(jti), exp);
    next->access_keys.reserve(access_keys.size());
    for (AccessKeyRecord& key : access_keys) {
      std::string id = key.access_key_id;
      next->access_keys.emplace(std::move(id), std::move(key));
    }
    return Status::Ok();
  }));
  loaded_ = true;
  last_counter_ = counter;
  std::shared_ptr<const StateSnapshot> published = std::move(next);
  std::atomic_store(&current_, published);
  for (const Listener& listener : listeners_) listener(published);
  return Status::Ok();
}

}  // namespace lakegate::store
