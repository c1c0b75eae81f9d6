// Clients and their allowed scopes.
#include <unordered_map>
#include <utility>

#include "store/record_checks.h"
#include "store/sqlite/ops.h"

namespace lakegate::store::sqlite {
namespace {

ClientRecord ReadClient(const Stmt& stmt) {
  ClientRecord c;
  c.client_id = stmt.ColumnText(0);
  c.name = stmt.ColumnText(1);
  c.token_ttl_seconds = stmt.ColumnInt(2);
  c.enabled = stmt.ColumnInt(3) != 0;
  c.secret_hash = stmt.ColumnText(4);
  c.previous_secret_hash = stmt.ColumnText(5);
  c.previous_secret_expires_at = stmt.ColumnInt(6);
  c.created_at = stmt.ColumnInt(7);
  c.updated_at = stmt.ColumnInt(8);
  c.managed = stmt.ColumnInt(9) != 0;
  c.auth_method = stmt.ColumnText(10);
  c.jwks = stmt.ColumnText(11);
  c.jwks_uri = stmt.ColumnText(12);
  c.tls_client_auth_field = stmt.ColumnText(13);
  c.tls_client_auth_value = stmt.ColumnText(14);
  c.tls_client_certificate_bound_access_tokens = stmt.ColumnInt(15) != 0;
  c.dpop_bound_access_tokens = stmt.ColumnInt(16) != 0;
  return c;
}

// Binds every column of `c` but client_id, in table order (name through
// dpop_bound_access_tokens), as INSERT and UPDATE list them.
Stmt& BindClientFields(Stmt& stmt, const ClientRecord& c) {
  return stmt.Text(c.name)
      .Int(c.token_ttl_seconds)
      .Int(c.enabled ? 1 : 0)
      .Text(c.secret_hash)
      .Text(c.previous_secret_hash)
      .Int(c.previous_secret_expires_at)
      .Int(c.created_at)
      .Int(c.updated_at)
      .Int(c.managed ? 1 : 0)
      .Text(c.auth_method)
      .Text(c.jwks)
      .Text(c.jwks_uri)
      .Text(c.tls_client_auth_field)
      .Text(c.tls_client_auth_value)
      .Int(c.tls_client_certificate_bound_access_tokens ? 1 : 0)
      .Int(c.dpop_bound_access_tokens ? 1 : 0);
}

}  // namespace

Result<std::vector<ClientRecord>> Ops::ListClients() {
  std::vector<ClientRecord> clients;
  std::unordered_map<std::string, size_t> index;
  {
    LG_ASSIGN_OR_RETURN(
        Stmt stmt,
        conn_->Prepare("SELECT client_id, name, token_ttl_seconds, enabled, "
                       "secret_hash, previous_secret_hash, "
                       "previous_secret_expires_at, created_at, updated_at, "
                       "managed, auth_method, jwks, jwks_uri, tls_client_auth_field, "
                       "tls_client_auth_value, tls_bound_tokens, dpop_bound_access_tokens "
                       "FROM clients ORDER BY name"));
    for (;;) {
      LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      clients.push_back(ReadClient(stmt));
      index.emplace(clients.back().client_id, clients.size() - 1);
    }
  }
  LG_ASSIGN_OR_RETURN(
      Stmt stmt,
      conn_->Prepare("SELECT client_id, scope FROM client_scopes ORDER BY client_id, position"));
  for (;;) {
    LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    auto it = index.find(stmt.ColumnText(0));
    if (it != index.end()) clients[it->second].scopes.push_back(stmt.ColumnText(1));
  }
  return clients;
}

Result<std::optional<ClientRecord>> Ops::FindClient(std::string_view client_id) {
  LG_ASSIGN_OR_RETURN(
      Stmt stmt, conn_->Prepare("SELECT client_id, name, token_ttl_seconds, enabled, "
                                "secret_hash, previous_secret_hash, "
                                "previous_secret_expires_at, created_at, updated_at, "
                                "managed, auth_method, jwks, jwks_uri, tls_client_auth_field, "
                                "tls_client_auth_value, tls_bound_tokens, dpop_bound_access_tokens "
                                "FROM clients WHERE client_id = ?"));
  return FinishFind(stmt.Text(client_id));
}

Result<std::optional<ClientRecord>> Ops::FindClientByName(std::string_view name) {
  LG_ASSIGN_OR_RETURN(
      Stmt stmt, conn_->Prepare("SELECT client_id, name, token_ttl_seconds, enabled, "
                                "secret_hash, previous_secret_hash, "
                                "previous_secret_expires_at, created_at, updated_at, "
                                "managed, auth_method, jwks, jwks_uri, tls_client_auth_field, "
                                "tls_client_auth_value, tls_bound_tokens, dpop_bound_access_tokens "
                                "FROM clients WHERE name = ?"));
  return FinishFind(stmt.Text(name));
}

Status Ops::InsertClient(const ClientRecord& c) {
  LG_RETURN_IF_ERROR(CheckClientRecord(c));
  LG_ASSIGN_OR_RETURN(bool id_taken,
                      Exists(*conn_, "SELECT 1 FROM clients WHERE client_id = ?", c.client_id));
  if (id_taken) return AlreadyExistsError("client id " + Quoted(c.client_id) + " already exists");
  LG_ASSIGN_OR_RETURN(bool name_taken,
                      Exists(*conn_, "SELECT 1 FROM clients WHERE name = ?", c.name));
  if (name_taken) {
    return AlreadyExistsError("a client named " + Quoted(c.name) + " already exists");
  }
  {
    LG_ASSIGN_OR_RETURN(
        Stmt stmt,
        conn_->Prepare("INSERT INTO clients (client_id, name, token_ttl_seconds, enabled, "
                       "secret_hash, previous_secret_hash, previous_secret_expires_at, "
                       "created_at, updated_at, managed, auth_method, jwks, jwks_uri, "
                       "tls_client_auth_field, tls_client_auth_value, tls_bound_tokens, "
                       "dpop_bound_access_tokens) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    LG_RETURN_IF_ERROR(BindClientFields(stmt.Text(c.client_id), c).Run());
  }
  return InsertClientScopes(c);
}

Status Ops::UpdateClient(const ClientRecord& c) {
  LG_RETURN_IF_ERROR(CheckClientRecord(c));
  LG_ASSIGN_OR_RETURN(bool exists,
                      Exists(*conn_, "SELECT 1 FROM clients WHERE client_id = ?", c.client_id));
  if (!exists) return NotFoundError("no client with id " + Quoted(c.client_id));
  {
    LG_ASSIGN_OR_RETURN(Stmt stmt,
                        conn_->Prepare("SELECT 1 FROM clients WHERE name = ? AND client_id <> ?"));
    LG_ASSIGN_OR_RETURN(bool name_taken, stmt.Text(c.name).Text(c.client_id).Step());
    if (name_taken) {
      return AlreadyExistsError("a client named " + Quoted(c.name) + " already exists");
    }
  }
  {
    LG_ASSIGN_OR_RETURN(
        Stmt stmt,
        conn_->Prepare("UPDATE clients SET name = ?, token_ttl_seconds = ?, enabled = ?, "
                       "secret_hash = ?, previous_secret_hash = ?, "
                       "previous_secret_expires_at = ?, created_at = ?, updated_at = ?, "
                       "managed = ?, auth_method = ?, jwks = ?, jwks_uri = ?, "
                       "tls_client_auth_field = ?, tls_client_auth_value = ?, "
                       "tls_bound_tokens = ?, dpop_bound_access_tokens = ? WHERE client_id = ?"));
    LG_RETURN_IF_ERROR(BindClientFields(stmt, c).Text(c.client_id).Run());
  }
  {
    LG_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare("DELETE FROM client_scopes WHERE client_id = ?"));
    LG_RETURN_IF_ERROR(stmt.Text(c.client_id).Run());
  }
  return InsertClientScopes(c);
}

Status Ops::DeleteClient(std::string_view client_id) {
  LG_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare("DELETE FROM clients WHERE client_id = ?"));
  LG_RETURN_IF_ERROR(stmt.Text(client_id).Run());
  if (sqlite3_changes(conn_->db()) == 0) {
    return NotFoundError("no client with id " + Quoted(client_id));
  }
  return Status::Ok();
}

Result<std::optional<ClientRecord>> Ops::FinishFind(Stmt& stmt) {
  LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<ClientRecord>();
  ClientRecord client = ReadClient(stmt);
  LG_ASSIGN_OR_RETURN(
      Stmt scopes,
      conn_->Prepare("SELECT scope FROM client_scopes WHERE client_id = ? ORDER BY position"));
  scopes.Text(client.client_id);
  for (;;) {
    LG_ASSIGN_OR_RETURN(bool more, scopes.Step());
    if (!more) break;
    client.scopes.push_back(scopes.ColumnText(0));
  }
  return std::optional<ClientRecord>(std::move(client));
}

Status Ops::InsertClientScopes(const ClientRecord& c) {
  int64_t position = 0;
  for (const std::string& scope : c.scopes) {
    LG_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare("INSERT INTO client_scopes (client_id, "
                                                  "position, scope) VALUES (?, ?, ?)"));
    LG_RETURN_IF_ERROR(stmt.Text(c.client_id).Int(position++).Text(scope).Run());
  }
  return Status::Ok();
}

}  // namespace lakegate::store::sqlite
