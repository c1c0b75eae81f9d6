// FaultInjectingStore: a Store wrapper for tests of other modules (LevelDB's
// fault-injecting Env idea). It forwards every call to a base store and can
// make chosen calls fail with kUnavailable without reaching the base, so that
// callers' error paths (503s, retries, rollbacks) can be exercised.
//
// Thread-safe. The fault settings are shared with the Store& handed to
// RunInTransaction bodies: RunInTransaction itself is not counted as a write,
// the writes made inside the body are.
#pragma once

#include <memory>

#include "store/store.h"

namespace lakegate::store {

class FaultInjectingStore final : public Store {
 public:
  explicit FaultInjectingStore(std::unique_ptr<Store> base);
  ~FaultInjectingStore() override;

  // After `after` more successful write calls, the next `count` write calls
  // fail with kUnavailable. FailWrites(0) stops injecting write faults.
  void FailWrites(int count, int after = 0);
  // The next `count` write calls fail.
  void FailNextWrites(int count) { FailWrites(count, 0); }
  // While true, every read call (ChangeCounter included) fails with kUnavailable.
  void SetReadsFail(bool fail);
  // How many write calls reached the base store (successful or not).
  int64_t writes_forwarded() const;

  Result<std::vector<ClientRecord>> ListClients() override;
  Result<std::optional<ClientRecord>> FindClient(std::string_view client_id) override;
  Result<std::optional<ClientRecord>> FindClientByName(std::string_view name) override;
  Status InsertClient(const ClientRecord& client) override;
  Status UpdateClient(const ClientRecord& client) override;
  Status DeleteClient(std::string_view client_id) override;
  Result<std::vector<AccessKeyRecord>> ListAccessKeys() override;
  Status InsertAccessKey(const AccessKeyRecord& key) override;
  Status DeleteAccessKey(std::string_view access_key_id) override;
  Result<std::vector<SigningKeyRecord>> ListSigningKeys() override;
  Status InsertSigningKey(const SigningKeyRecord& key) override;
  Status UpdateSigningKey(const SigningKeyRecord& key) override;
  Status DeleteSigningKey(std::string_view kid) override;
  Status AddRevocation(std::string_view jti, int64_t expires_at) override;
  Result<std::vector<std::pair<std::string, int64_t>>> ListRevocations(int64_t now) override;
  Status PurgeExpiredRevocations(int64_t now) override;
  Result<bool> RememberOnce(std::string_view key, int64_t expires_at, int64_t now) override;
  Result<std::vector<ResourceServerRecord>> ListResourceServers() override;
  Status PutResourceServer(const ResourceServerRecord& server) override;
  Status DeleteResourceServer(std::string_view identifier) override;
  Result<std::optional<std::string>> GetSetting(std::string_view key) override;
  Status PutSetting(std::string_view key, std::string_view value) override;
  Result<uint64_t> SavePolicy(std::string_view json, std::string_view author) override;
  Result<std::optional<std::pair<uint64_t, std::string>>> LatestPolicy() override;
  Result<uint64_t> ChangeCounter() override;
  Status RunInTransaction(const std::function<Status(Store&)>& body) override;

 private:
  struct State;
  // A non-owning view over `target` sharing `state` (the transaction's Store&).
  FaultInjectingStore(Store* target, std::shared_ptr<State> state);
  Status BeforeWrite();
  Status BeforeRead();

  std::unique_ptr<Store> owned_;
  Store* target_;
  std::shared_ptr<State> state_;
};

}  // namespace lakegate::store
