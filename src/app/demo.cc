#include "app/demo.h"

#include "common/files.h"
#include "engine/sqlite/sqlite_engine.h"

namespace lakegate::app {

std::string DemoStackYaml(int port) {
  return R"(# lakegate demo stack (written by `lakegate demo` on first run; edit and re-run
# `lakegate apply stack.yaml` or restart the demo to reconcile).
# It mirrors the seed: a Cognito resource server with three scopes and three
# machine clients.
listen:
  address: 127.0.0.1
  port: )" + std::to_string(port) + R"(
tokens:
  algorithm: ES256
  default_ttl: 1h
resource_servers:
  - identifier: athena-api
    name: Athena query API
    scopes:
      - name: query.read
        description: Run read-only queries
      - name: query.write
        description: Run queries that change data
      - name: query.admin
        description: Run DDL and administrative statements
clients:
  - name: etl-service
    description: ETL jobs (write access)
    scopes: [athena-api/query.read, athena-api/query.write, athena-api/query.admin]
    token_ttl: 1h
  - name: reporting-service
    description: Reporting dashboards (read-only)
    scopes: [athena-api/query.read]
    token_ttl: 1h
  - name: monitoring-service
    description: Monitoring probes (read-only)
    scopes: [athena-api/query.read]
    token_ttl: 1h

# The query API over the lake (one SQLite file per database in ./lake).
query:
  default_database: analytics
  timeout: 30s
  max_rows: 10000

# Lake Formation-style roles: the seed's LF super user and LF dev roles.
roles:
  - name: lf-super-user-role
    description: Everything
    grants:
      - {database: "*", table: "*", permissions: [ALL]}
  - name: lf-dev-role
    description: Read-only; analytics.members without the email column
    grants:
      - {database: analytics, permissions: [DESCRIBE]}
      - database: analytics
        table: members
        permissions: [SELECT, DESCRIBE]
        columns: {exclude: [email]}

# The seed's "Client to Role Mapping": client rules first, then scope rules
# (first match wins), else 403.
role_rules:
  clients:
    - {client: etl-service, role: lf-super-user-role}
    - {client: reporting-service, role: lf-dev-role}
    - {client: monitoring-service, role: lf-dev-role}
  scopes:
    - {scope: athena-api/query.admin, role: lf-super-user-role}
    - {scope: athena-api/query.write, role: lf-super-user-role}
    - {scope: athena-api/query.read, role: lf-dev-role}
)";
}

Result<std::string> PrepareDemoDir(const std::string& dir, int port) {
  LG_RETURN_IF_ERROR(MakeDirectories(dir, 0700));
  std::string path = dir + "/stack.yaml";
  if (!FileExists(path)) LG_RETURN_IF_ERROR(WriteFileAtomic(path, DemoStackYaml(port), 0644));
  return path;
}

Status PrepareDemoData(const std::string& lake_dir) {
  LG_RETURN_IF_ERROR(MakeDirectories(lake_dir, 0700));
  return engine::CreateDemoMembers(lake_dir, kDemoMembers);
}

}  // namespace lakegate::app
