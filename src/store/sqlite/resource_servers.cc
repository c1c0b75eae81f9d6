// Resource servers with their scopes, and the small settings.
#include <unordered_map>
#include <utility>

#include "store/record_checks.h"
#include "store/sqlite/ops.h"

namespace lakegate::store::sqlite {

Result<std::vector<ResourceServerRecord>> Ops::ListResourceServers() {
  std::vector<ResourceServerRecord> servers;
  std::unordered_map<std::string, size_t> index;
  {
    LG_ASSIGN_OR_RETURN(
        Stmt stmt,
        conn_->Prepare("SELECT identifier, name FROM resource_servers ORDER BY identifier"));
    for (;;) {
      LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      ResourceServerRecord server;
      server.identifier = stmt.ColumnText(0);
      server.name = stmt.ColumnText(1);
      index.emplace(server.identifier, servers.size());
      servers.push_back(std::move(server));
    }
  }
  LG_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare("SELECT resource_server, name, description "
                                                "FROM scopes ORDER BY resource_server, position"));
  for (;;) {
    LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    auto it = index.find(stmt.ColumnText(0));
    if (it == index.end()) continue;
    servers[it->second].scopes.push_back(ScopeRecord{stmt.ColumnText(1), stmt.ColumnText(2)});
  }
  return servers;
}

Status Ops::PutResourceServer(const ResourceServerRecord& server) {
  LG_RETURN_IF_ERROR(CheckResourceServerRecord(server));
  {
    LG_ASSIGN_OR_RETURN(Stmt stmt,
                        conn_->Prepare("INSERT INTO resource_servers (identifier, name) "
                                       "VALUES (?, ?) ON CONFLICT (identifier) DO UPDATE SET "
                                       "name = excluded.name"));
    LG_RETURN_IF_ERROR(stmt.Text(server.identifier).Text(server.name).Run());
  }
  {
    LG_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare("DELETE FROM scopes WHERE resource_server = ?"));
    LG_RETURN_IF_ERROR(stmt.Text(server.identifier).Run());
  }
  int64_t position = 0;
  for (const ScopeRecord& scope : server.scopes) {
    LG_ASSIGN_OR_RETURN(Stmt stmt,
                        conn_->Prepare("INSERT INTO scopes (resource_server, position, name, "
                                       "description) VALUES (?, ?, ?, ?)"));
    LG_RETURN_IF_ERROR(stmt.Text(server.identifier)
                           .Int(position++)
                           .Text(scope.name)
                           .Text(scope.description)
                           .Run());
  }
  return Status::Ok();
}

Status Ops::DeleteResourceServer(std::string_view identifier) {
  LG_ASSIGN_OR_RETURN(Stmt stmt,
                      conn_->Prepare("DELETE FROM resource_servers WHERE identifier = ?"));
  LG_RETURN_IF_ERROR(stmt.Text(identifier).Run());
  if (sqlite3_changes(conn_->db()) == 0) {
    return NotFoundError("no resource server " + Quoted(identifier));
  }
  return Status::Ok();
}

Result<std::optional<std::string>> Ops::GetSetting(std::string_view key) {
  LG_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare("SELECT value FROM settings WHERE name = ?"));
  LG_ASSIGN_OR_RETURN(bool row, stmt.Text(key).Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(stmt.ColumnText(0));
}

Status Ops::PutSetting(std::string_view key, std::string_view value) {
  if (key.empty()) return InvalidArgumentError("setting name is empty");
  LG_ASSIGN_OR_RETURN(Stmt stmt,
                      conn_->Prepare("INSERT INTO settings (name, value) VALUES (?, ?) "
                                     "ON CONFLICT (name) DO UPDATE SET value = excluded.value"));
  return stmt.Text(key).Text(value).Run();
}

}  // namespace lakegate::store::sqlite
