// Ops: every data operation of the state store (store.h) as SQL on one
// connection, one file per kind of record (clients.cc, keys.cc,
// resource_servers.cc, policy_versions.cc).
//
// Private to src/store/sqlite. Not thread-safe: the caller holds the lock of
// the connection, and write operations expect it to have opened a transaction
// or savepoint (sqlite_store.cc makes each call atomic). Return values and
// failure codes are those documented in store.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "store/sqlite/connection.h"
#include "store/store.h"

namespace lakegate::store::sqlite {

class Ops {
 public:
  explicit Ops(Connection* conn) : conn_(conn) {}

  // ---- clients (clients.cc) ----
  Result<std::vector<ClientRecord>> ListClients();
  Result<std::optional<ClientRecord>> FindClient(std::string_view client_id);
  Result<std::optional<ClientRecord>> FindClientByName(std::string_view name);
  Status InsertClient(const ClientRecord& c);
  Status UpdateClient(const ClientRecord& c);
  Status DeleteClient(std::string_view client_id);

  // ---- access keys (access_keys.cc) ----
  Result<std::vector<AccessKeyRecord>> ListAccessKeys();
  Status InsertAccessKey(const AccessKeyRecord& key);
  Status DeleteAccessKey(std::string_view access_key_id);

  // ---- signing keys and revocations (keys.cc) ----
  Result<std::vector<SigningKeyRecord>> ListSigningKeys();
  Status InsertSigningKey(const SigningKeyRecord& key);
  Status UpdateSigningKey(const SigningKeyRecord& key);
  Status DeleteSigningKey(std::string_view kid);
  Status AddRevocation(std::string_view jti, int64_t expires_at);
  Result<std::vector<std::pair<std::string, int64_t>>> ListRevocations(int64_t now);
  Status PurgeExpiredRevocations(int64_t now);

  // ---- resource servers and settings (resource_servers.cc) ----
  Result<std::vector<ResourceServerRecord>> ListResourceServers();
  Status PutResourceServer(const ResourceServerRecord& server);
  Status DeleteResourceServer(std::string_view identifier);
  Result<std::optional<std::string>> GetSetting(std::string_view key);
  Status PutSetting(std::string_view key, std::string_view value);

  // ---- policy versions (policy_versions.cc) ----
  Result<uint64_t> SavePolicy(std::string_view json, std::string_view author);
  Result<std::optional<std::pair<uint64_t, std::string>>> LatestPolicy();

 private:
  // The client the statement's current row describes, with its scopes.
  Result<std::optional<ClientRecord>> FinishFind(Stmt& stmt);
  Status InsertClientScopes(const ClientRecord& c);

  Connection* conn_;
};

}  // namespace lakegate::store::sqlite
