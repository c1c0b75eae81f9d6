#include "app/demo.h"

#include "common/files.h"

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
)";
}

Result<std::string> PrepareDemoDir(const std::string& dir, int port) {
  LG_RETURN_IF_ERROR(MakeDirectories(dir, 0700));
  std::string path = dir + "/stack.yaml";
  if (!FileExists(path)) LG_RETURN_IF_ERROR(WriteFileAtomic(path, DemoStackYaml(port), 0644));
  return path;
}

}  // namespace lakegate::app
