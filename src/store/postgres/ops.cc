// The SQL of every Store operation on PostgreSQL. Booleans travel as 't'/'f'
// text, integers as decimal text (libpq's text protocol).
#include "store/postgres/ops.h"

#include <ctime>
#include <unordered_map>
#include <utility>

#include "store/record_checks.h"

namespace lakegate::store::postgres {
namespace {

ClientRecord ReadClient(const PgResult& r, int row) {
  ClientRecord c;
  c.client_id = r.Text(row, 0);
  c.name = r.Text(row, 1);
  c.token_ttl_seconds = r.Int(row, 2);
  c.enabled = r.Text(row, 3) == "t";
  c.secret_hash = r.Text(row, 4);
  c.previous_secret_hash = r.Text(row, 5);
  c.previous_secret_expires_at = r.Int(row, 6);
  c.created_at = r.Int(row, 7);
  c.updated_at = r.Int(row, 8);
  c.managed = r.Text(row, 9) == "t";
  c.auth_method = r.Text(row, 10);
  c.jwks = r.Text(row, 11);
  c.jwks_uri = r.Text(row, 12);
  c.tls_client_auth_field = r.Text(row, 13);
  c.tls_client_auth_value = r.Text(row, 14);
  c.tls_client_certificate_bound_access_tokens = r.Text(row, 15) == "t";
  c.dpop_bound_access_tokens = r.Text(row, 16) == "t";
  return c;
}

const char* Bool(bool b) { return b ? "t" : "f"; }

}  // namespace

Result<bool> Ops::Exists(const char* sql, std::string_view key) {
  LG_ASSIGN_OR_RETURN(PgResult r, conn_.Exec("cannot read the state store", sql, {key}));
  return r.rows() > 0;
}

// The columns ReadClient reads, in its order.
#define LG_CLIENT_SELECT                                                                       \
  "SELECT client_id, name, token_ttl_seconds, enabled, secret_hash, previous_secret_hash, "    \
  "previous_secret_expires_at, created_at, updated_at, managed, auth_method, jwks, jwks_uri, " \
  "tls_client_auth_field, tls_client_auth_value, tls_bound_tokens, dpop_bound_access_tokens "  \
  "FROM lakegate.clients "

Result<std::vector<ClientRecord>> Ops::ListClients() {
  LG_ASSIGN_OR_RETURN(PgResult rows,
                      conn_.Exec("cannot list clients", LG_CLIENT_SELECT "ORDER BY name"));
  std::vector<ClientRecord> clients;
  std::unordered_map<std::string, size_t> index;
  for (int i = 0; i < rows.rows(); ++i) {
    clients.push_back(ReadClient(rows, i));
    index.emplace(clients.back().client_id, clients.size() - 1);
  }
  LG_ASSIGN_OR_RETURN(PgResult scopes, conn_.Exec("cannot list client scopes",
                                                  "SELECT client_id, scope FROM "
                                                  "lakegate.client_scopes ORDER BY client_id, "
                                                  "position"));
  for (int i = 0; i < scopes.rows(); ++i) {
    auto it = index.find(scopes.Text(i, 0));
    if (it != index.end()) clients[it->second].scopes.push_back(scopes.Text(i, 1));
  }
  return clients;
}

Result<std::optional<ClientRecord>> Ops::FindOne(const char* sql, std::string_view key) {
  LG_ASSIGN_OR_RETURN(PgResult rows, conn_.Exec("cannot read a client", sql, {key}));
  if (rows.rows() == 0) return std::optional<ClientRecord>();
  ClientRecord client = ReadClient(rows, 0);
  LG_ASSIGN_OR_RETURN(PgResult scopes,
                      conn_.Exec("cannot read a client's scopes",
                                 "SELECT scope FROM lakegate.client_scopes WHERE client_id = $1 "
                                 "ORDER BY position",
                                 {client.client_id}));
  for (int i = 0; i < scopes.rows(); ++i) client.scopes.push_back(scopes.Text(i, 0));
  return std::optional<ClientRecord>(std::move(client));
}

Result<std::optional<ClientRecord>> Ops::FindClient(std::string_view client_id) {
  return FindOne(LG_CLIENT_SELECT "WHERE client_id = $1", client_id);
}

Result<std::optional<ClientRecord>> Ops::FindClientByName(std::string_view name) {
  return FindOne(LG_CLIENT_SELECT "WHERE name = $1", name);
}

Status Ops::InsertClient(const ClientRecord& c) {
  LG_RETURN_IF_ERROR(CheckClientRecord(c));
  LG_ASSIGN_OR_RETURN(bool id_taken,
                      Exists("SELECT 1 FROM lakegate.clients WHERE client_id = $1", c.client_id));
  if (id_taken) return AlreadyExistsError("client id " + Quoted(c.client_id) + " already exists");
  LG_ASSIGN_OR_RETURN(bool name_taken,
                      Exists("SELECT 1 FROM lakegate.clients WHERE name = $1", c.name));
  if (name_taken) return AlreadyExistsError("a client named " + Quoted(c.name) + " already exists");
  LG_RETURN_IF_ERROR(
      conn_
          .Exec("cannot insert the client",
                "INSERT INTO lakegate.clients (client_id, name, token_ttl_seconds, "
                "enabled, secret_hash, previous_secret_hash, "
                "previous_secret_expires_at, created_at, updated_at, managed, "
                "auth_method, jwks, jwks_uri, tls_client_auth_field, tls_client_auth_value, "
                "tls_bound_tokens, dpop_bound_access_tokens) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, "
                "$17)",
                {c.client_id, c.name, c.token_ttl_seconds, Bool(c.enabled), c.secret_hash,
                 c.previous_secret_hash, c.previous_secret_expires_at, c.created_at, c.updated_at,
                 Bool(c.managed), c.auth_method, c.jwks, c.jwks_uri, c.tls_client_auth_field,
                 c.tls_client_auth_value, Bool(c.tls_client_certificate_bound_access_tokens),
                 Bool(c.dpop_bound_access_tokens)})
          .status());
  return InsertClientScopes(c);
}

Status Ops::UpdateClient(const ClientRecord& c) {
  LG_RETURN_IF_ERROR(CheckClientRecord(c));
  LG_ASSIGN_OR_RETURN(bool exists,
                      Exists("SELECT 1 FROM lakegate.clients WHERE client_id = $1", c.client_id));
  if (!exists) return NotFoundError("no client with id " + Quoted(c.client_id));
  {
    LG_ASSIGN_OR_RETURN(
        PgResult taken,
        conn_.Exec("cannot read the state store",
                   "SELECT 1 FROM lakegate.clients WHERE name = $1 AND client_id <> $2",
                   {c.name, c.client_id}));
    if (taken.rows() > 0) {
      return AlreadyExistsError("a client named " + Quoted(c.name) + " already exists");
    }
  }
  LG_RETURN_IF_ERROR(
      conn_
          .Exec("cannot update the client",
                "UPDATE lakegate.clients SET name = $1, token_ttl_seconds = $2, "
                "enabled = $3, secret_hash = $4, previous_secret_hash = $5, "
                "previous_secret_expires_at = $6, created_at = $7, "
                "updated_at = $8, managed = $9, auth_method = $10, jwks = $11, "
                "jwks_uri = $12, tls_client_auth_field = $13, tls_client_auth_value = $14, "
                "tls_bound_tokens = $15, dpop_bound_access_tokens = $16 WHERE client_id = $17",
                {c.name, c.token_ttl_seconds, Bool(c.enabled), c.secret_hash,
                 c.previous_secret_hash, c.previous_secret_expires_at, c.created_at, c.updated_at,
                 Bool(c.managed), c.auth_method, c.jwks, c.jwks_uri, c.tls_client_auth_field,
                 c.tls_client_auth_value, Bool(c.tls_client_certificate_bound_access_tokens),
                 Bool(c.dpop_bound_access_tokens), c.client_id})
          .status());
  LG_RETURN_IF_ERROR(conn_
                         .Exec("cannot replace the client's scopes",
                               "DELETE FROM lakegate.client_scopes WHERE client_id = $1",
                               {c.client_id})
                         .status());
  return InsertClientScopes(c);
}

Status Ops::DeleteClient(std::string_view client_id) {
  LG_ASSIGN_OR_RETURN(PgResult r,
                      conn_.Exec("cannot delete the client",
                                 "DELETE FROM lakegate.clients WHERE client_id = $1", {client_id}));
  if (r.Affected() == 0) return NotFoundError("no client with id " + Quoted(client_id));
  return Status::Ok();
}

Status Ops::InsertClientScopes(const ClientRecord& c) {
  int64_t position = 0;
  for (const std::string& scope : c.scopes) {
    LG_RETURN_IF_ERROR(conn_
                           .Exec("cannot insert the client's scopes",
                                 "INSERT INTO lakegate.client_scopes (client_id, position, scope) "
                                 "VALUES ($1, $2, $3)",
                                 {c.client_id, position++, scope})
                           .status());
  }
  return Status::Ok();
}

Result<std::vector<SigningKeyRecord>> Ops::ListSigningKeys() {
  LG_ASSIGN_OR_RETURN(PgResult rows,
                      conn_.Exec("cannot list signing keys",
                                 "SELECT kid, algorithm, private_pem, created_at, retired_at, "
                                 "publish_until FROM lakegate.signing_keys "
                                 "ORDER BY created_at DESC, seq DESC"));
  std::vector<SigningKeyRecord> keys;
  for (int i = 0; i < rows.rows(); ++i) {
    SigningKeyRecord key;
    key.kid = rows.Text(i, 0);
    key.algorithm = rows.Text(i, 1);
    key.private_pem = SecretString(rows.Text(i, 2));
    key.created_at = rows.Int(i, 3);
    key.retired_at = rows.Int(i, 4);
    key.publish_until = rows.Int(i, 5);
    keys.push_back(std::move(key));
  }
  return keys;
}

Status Ops::InsertSigningKey(const SigningKeyRecord& key) {
  if (key.kid.empty()) return InvalidArgumentError("signing key id (kid) is empty");
  LG_ASSIGN_OR_RETURN(bool taken,
                      Exists("SELECT 1 FROM lakegate.signing_keys WHERE kid = $1", key.kid));
  if (taken) return AlreadyExistsError("signing key " + Quoted(key.kid) + " already exists");
  return conn_
      .Exec("cannot insert the signing key",
            "INSERT INTO lakegate.signing_keys (kid, algorithm, private_pem, created_at, "
            "retired_at, publish_until) VALUES ($1, $2, $3, $4, $5, $6)",
            {key.kid, key.algorithm, key.private_pem.Reveal(), key.created_at, key.retired_at,
             key.publish_until})
      .status();
}

Status Ops::UpdateSigningKey(const SigningKeyRecord& key) {
  LG_ASSIGN_OR_RETURN(PgResult r,
                      conn_.Exec("cannot update the signing key",
                                 "UPDATE lakegate.signing_keys SET algorithm = $1, "
                                 "private_pem = $2, created_at = $3, retired_at = $4, "
                                 "publish_until = $5 WHERE kid = $6",
                                 {key.algorithm, key.private_pem.Reveal(), key.created_at,
                                  key.retired_at, key.publish_until, key.kid}));
  if (r.Affected() == 0) return NotFoundError("no signing key " + Quoted(key.kid));
  return Status::Ok();
}

Status Ops::DeleteSigningKey(std::string_view kid) {
  LG_ASSIGN_OR_RETURN(PgResult r,
                      conn_.Exec("cannot delete the signing key",
                                 "DELETE FROM lakegate.signing_keys WHERE kid = $1", {kid}));
  if (r.Affected() == 0) return NotFoundError("no signing key " + Quoted(kid));
  return Status::Ok();
}

Status Ops::AddRevocation(std::string_view jti, int64_t expires_at) {
  if (jti.empty()) return InvalidArgumentError("token id (jti) to revoke is empty");
  return conn_
      .Exec("cannot store the revocation",
            "INSERT INTO lakegate.revocations (jti, expires_at) VALUES ($1, $2) "
            "ON CONFLICT (jti) DO UPDATE SET "
            "expires_at = greatest(lakegate.revocations.expires_at, excluded.expires_at)",
            {jti, expires_at})
      .status();
}

Result<std::vector<std::pair<std::string, int64_t>>> Ops::ListRevocations(int64_t now) {
  LG_ASSIGN_OR_RETURN(PgResult rows, conn_.Exec("cannot list revocations",
                                                "SELECT jti, expires_at FROM lakegate.revocations "
                                                "WHERE expires_at > $1 ORDER BY jti",
                                                {now}));
  std::vector<std::pair<std::string, int64_t>> out;
  out.reserve(static_cast<size_t>(rows.rows()));
  for (int i = 0; i < rows.rows(); ++i) out.emplace_back(rows.Text(i, 0), rows.Int(i, 1));
  return out;
}

Status Ops::PurgeExpiredRevocations(int64_t now) {
  return conn_
      .Exec("cannot purge expired revocations",
            "DELETE FROM lakegate.revocations WHERE expires_at <= $1", {now})
      .status();
}

Result<std::vector<ResourceServerRecord>> Ops::ListResourceServers() {
  LG_ASSIGN_OR_RETURN(PgResult rows,
                      conn_.Exec("cannot list resource servers",
                                 "SELECT identifier, name FROM lakegate.resource_servers "
                                 "ORDER BY identifier"));
  std::vector<ResourceServerRecord> servers;
  std::unordered_map<std::string, size_t> index;
  for (int i = 0; i < rows.rows(); ++i) {
    ResourceServerRecord server;
    server.identifier = rows.Text(i, 0);
    server.name = rows.Text(i, 1);
    index.emplace(server.identifier, servers.size());
    servers.push_back(std::move(server));
  }
  LG_ASSIGN_OR_RETURN(PgResult scopes,
                      conn_.Exec("cannot list scopes",
                                 "SELECT resource_server, name, description FROM lakegate.scopes "
                                 "ORDER BY resource_server, position"));
  for (int i = 0; i < scopes.rows(); ++i) {
    auto it = index.find(scopes.Text(i, 0));
    if (it == index.end()) continue;
    servers[it->second].scopes.push_back(ScopeRecord{scopes.Text(i, 1), scopes.Text(i, 2)});
  }
  return servers;
}

Status Ops::PutResourceServer(const ResourceServerRecord& server) {
  LG_RETURN_IF_ERROR(CheckResourceServerRecord(server));
  LG_RETURN_IF_ERROR(conn_
                         .Exec("cannot store the resource server",
                               "INSERT INTO lakegate.resource_servers (identifier, name) "
                               "VALUES ($1, $2) ON CONFLICT (identifier) DO UPDATE SET "
                               "name = excluded.name",
                               {server.identifier, server.name})
                         .status());
  LG_RETURN_IF_ERROR(conn_
                         .Exec("cannot replace the resource server's scopes",
                               "DELETE FROM lakegate.scopes WHERE resource_server = $1",
                               {server.identifier})
                         .status());
  int64_t position = 0;
  for (const ScopeRecord& scope : server.scopes) {
    LG_RETURN_IF_ERROR(conn_
                           .Exec("cannot store a scope",
                                 "INSERT INTO lakegate.scopes (resource_server, position, name, "
                                 "description) VALUES ($1, $2, $3, $4)",
                                 {server.identifier, position++, scope.name, scope.description})
                           .status());
  }
  return Status::Ok();
}

Status Ops::DeleteResourceServer(std::string_view identifier) {
  LG_ASSIGN_OR_RETURN(
      PgResult r,
      conn_.Exec("cannot delete the resource server",
                 "DELETE FROM lakegate.resource_servers WHERE identifier = $1", {identifier}));
  if (r.Affected() == 0) return NotFoundError("no resource server " + Quoted(identifier));
  return Status::Ok();
}

Result<std::optional<std::string>> Ops::GetSetting(std::string_view key) {
  LG_ASSIGN_OR_RETURN(PgResult r,
                      conn_.Exec("cannot read a setting",
                                 "SELECT value FROM lakegate.settings WHERE name = $1", {key}));
  if (r.rows() == 0) return std::optional<std::string>();
  return std::optional<std::string>(r.Text(0, 0));
}

Status Ops::PutSetting(std::string_view key, std::string_view value) {
  if (key.empty()) return InvalidArgumentError("setting name is empty");
  return conn_
      .Exec("cannot store a setting",
            "INSERT INTO lakegate.settings (name, value) VALUES ($1, $2) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            {key, value})
      .status();
}

Result<uint64_t> Ops::SavePolicy(std::string_view json, std::string_view author) {
  if (json.empty()) return InvalidArgumentError("the policy document is empty");
  // The caller holds the write lock, so max + 1 is not raced by another node.
  LG_ASSIGN_OR_RETURN(PgResult max_row,
                      conn_.Exec("cannot read the policy version",
                                 "SELECT coalesce(max(version), 0) FROM lakegate.policy_versions"));
  const int64_t version = max_row.Int(0, 0) + 1;
  LG_RETURN_IF_ERROR(conn_
                         .Exec("cannot store the policy version",
                               "INSERT INTO lakegate.policy_versions (version, json, created_at, "
                               "author) VALUES ($1, $2, $3, $4)",
                               {version, json, static_cast<int64_t>(std::time(nullptr)), author})
                         .status());
  LG_RETURN_IF_ERROR(conn_
                         .Exec("cannot forget old policy versions",
                               "DELETE FROM lakegate.policy_versions WHERE version <= $1",
                               {version - kPolicyVersionsKept})
                         .status());
  return static_cast<uint64_t>(version);
}

Result<std::optional<std::pair<uint64_t, std::string>>> Ops::LatestPolicy() {
  using Latest = std::optional<std::pair<uint64_t, std::string>>;
  LG_ASSIGN_OR_RETURN(PgResult r, conn_.Exec("cannot read the policy",
                                             "SELECT version, json FROM lakegate.policy_versions "
                                             "ORDER BY version DESC LIMIT 1"));
  if (r.rows() == 0) return Latest();
  return Latest(std::make_pair(static_cast<uint64_t>(r.Int(0, 0)), r.Text(0, 1)));
}

#undef LG_CLIENT_SELECT

}  // namespace lakegate::store::postgres
