// Ops: every data operation of the state store (store.h) as SQL on one
// PostgreSQL connection, with the same results and failure codes as the
// SQLite store's Ops (store/sqlite/ops.h).
//
// Private to src/store/postgres. Not thread-safe: the caller owns the
// connection and has opened the transaction (postgres_store.cc makes each call
// atomic and, for writes, holds the write lock).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "store/postgres/connection.h"
#include "store/store.h"

namespace lakegate::store::postgres {

class Ops {
 public:
  explicit Ops(Connection& conn) : conn_(conn) {}

  Result<std::vector<ClientRecord>> ListClients();
  Result<std::optional<ClientRecord>> FindClient(std::string_view client_id);
  Result<std::optional<ClientRecord>> FindClientByName(std::string_view name);
  Status InsertClient(const ClientRecord& c);
  Status UpdateClient(const ClientRecord& c);
  Status DeleteClient(std::string_view client_id);

  Result<std::vector<AccessKeyRecord>> ListAccessKeys();
  Status InsertAccessKey(const AccessKeyRecord& key);
  Status DeleteAccessKey(std::string_view access_key_id);

  Result<std::vector<SigningKeyRecord>> ListSigningKeys();
  Status InsertSigningKey(const SigningKeyRecord& key);
  Status UpdateSigningKey(const SigningKeyRecord& key);
  Status DeleteSigningKey(std::string_view kid);
  Status AddRevocation(std::string_view jti, int64_t expires_at);
  Result<std::vector<std::pair<std::string, int64_t>>> ListRevocations(int64_t now);
  Status PurgeExpiredRevocations(int64_t now);

  Result<std::vector<ResourceServerRecord>> ListResourceServers();
  Status PutResourceServer(const ResourceServerRecord& server);
  Status DeleteResourceServer(std::string_view identifier);
  Result<std::optional<std::string>> GetSetting(std::string_view key);
  Status PutSetting(std::string_view key, std::string_view value);

  Result<uint64_t> SavePolicy(std::string_view json, std::string_view author);
  Result<std::optional<std::pair<uint64_t, std::string>>> LatestPolicy();

 private:
  Result<std::optional<ClientRecord>> FindOne(const char* sql, std::string_view key);
  Status InsertClientScopes(const ClientRecord& c);
  Result<bool> Exists(const char* sql, std::string_view key);

  Connection& conn_;
};

}  // namespace lakegate::store::postgres
