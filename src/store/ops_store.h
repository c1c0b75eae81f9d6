// OpsStore: every data method of Store (store.h) implemented once, by handing
// a call of the backend's Ops class (its SQL for each operation) to the
// derived class's Read (no write) or Write (atomic write) wrapper. Each
// backend's store object and the Store& of its transactions derive from it,
// so the Store interface is spelled out in one place.
//
// Private to the store backends (src/store/*/). Thread-safety is the derived
// class's.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "store/store.h"

namespace lakegate::store {

template <typename Derived, typename Ops>
class OpsStore : public Store {
 public:
  Result<std::vector<ClientRecord>> ListClients() override {
    return self().Read([](Ops& ops) { return ops.ListClients(); });
  }
  Result<std::optional<ClientRecord>> FindClient(std::string_view client_id) override {
    return self().Read([&](Ops& ops) { return ops.FindClient(client_id); });
  }
  Result<std::optional<ClientRecord>> FindClientByName(std::string_view name) override {
    return self().Read([&](Ops& ops) { return ops.FindClientByName(name); });
  }
  Status InsertClient(const ClientRecord& client) override {
    return self().Write([&](Ops& ops) { return ops.InsertClient(client); });
  }
  Status UpdateClient(const ClientRecord& client) override {
    return self().Write([&](Ops& ops) { return ops.UpdateClient(client); });
  }
  Status DeleteClient(std::string_view client_id) override {
    return self().Write([&](Ops& ops) { return ops.DeleteClient(client_id); });
  }
  Result<std::vector<AccessKeyRecord>> ListAccessKeys() override {
    return self().Read([](Ops& ops) { return ops.ListAccessKeys(); });
  }
  Status InsertAccessKey(const AccessKeyRecord& key) override {
    return self().Write([&](Ops& ops) { return ops.InsertAccessKey(key); });
  }
  Status DeleteAccessKey(std::string_view access_key_id) override {
    return self().Write([&](Ops& ops) { return ops.DeleteAccessKey(access_key_id); });
  }
  Result<std::vector<SigningKeyRecord>> ListSigningKeys() override {
    return self().Read([](Ops& ops) { return ops.ListSigningKeys(); });
  }
  Status InsertSigningKey(const SigningKeyRecord& key) override {
    return self().Write([&](Ops& ops) { return ops.InsertSigningKey(key); });
  }
  Status UpdateSigningKey(const SigningKeyRecord& key) override {
    return self().Write([&](Ops& ops) { return ops.UpdateSigningKey(key); });
  }
  Status DeleteSigningKey(std::string_view kid) override {
    return self().Write([&](Ops& ops) { return ops.DeleteSigningKey(kid); });
  }
  Status AddRevocation(std::string_view jti, int64_t expires_at) override {
    return self().Write([&](Ops& ops) { return ops.AddRevocation(jti, expires_at); });
  }
  Result<std::vector<std::pair<std::string, int64_t>>> ListRevocations(int64_t now) override {
    return self().Read([&](Ops& ops) { return ops.ListRevocations(now); });
  }
  Status PurgeExpiredRevocations(int64_t now) override {
    return self().Write([&](Ops& ops) { return ops.PurgeExpiredRevocations(now); });
  }
  Result<std::vector<ResourceServerRecord>> ListResourceServers() override {
    return self().Read([](Ops& ops) { return ops.ListResourceServers(); });
  }
  Status PutResourceServer(const ResourceServerRecord& server) override {
    return self().Write([&](Ops& ops) { return ops.PutResourceServer(server); });
  }
  Status DeleteResourceServer(std::string_view identifier) override {
    return self().Write([&](Ops& ops) { return ops.DeleteResourceServer(identifier); });
  }
  Result<std::optional<std::string>> GetSetting(std::string_view key) override {
    return self().Read([&](Ops& ops) { return ops.GetSetting(key); });
  }
  Status PutSetting(std::string_view key, std::string_view value) override {
    return self().Write([&](Ops& ops) { return ops.PutSetting(key, value); });
  }
  Result<uint64_t> SavePolicy(std::string_view json, std::string_view author) override {
    uint64_t version = 0;
    LG_RETURN_IF_ERROR(self().Write([&](Ops& ops) -> Status {
      LG_ASSIGN_OR_RETURN(version, ops.SavePolicy(json, author));
      return Status::Ok();
    }));
    return version;
  }
  Result<std::optional<std::pair<uint64_t, std::string>>> LatestPolicy() override {
    return self().Read([](Ops& ops) { return ops.LatestPolicy(); });
  }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

// The Store& a backend hands to a RunInTransaction body: the data calls of
// OpsStore on the transaction, and the calls that cannot join a transaction
// refused the same way by every backend.
template <typename Derived, typename Ops>
class TxOpsStore : public OpsStore<Derived, Ops> {
 public:
  Result<uint64_t> ChangeCounter() override {
    return FailedPreconditionError(
        "ChangeCounter() is not available inside RunInTransaction; call it on the store");
  }
  Result<bool> RememberOnce(std::string_view, int64_t, int64_t) override {
    return FailedPreconditionError(
        "RememberOnce() is not available inside RunInTransaction; call it on the store");
  }
  Status RunInTransaction(const std::function<Status(Store&)>&) override {
    return FailedPreconditionError("RunInTransaction is not re-entrant");
  }
};

}  // namespace lakegate::store
