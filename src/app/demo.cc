#include "app/demo.h"

#include <memory>

#include "app/engines.h"
#include "app/trino_link.h"
#include "common/files.h"
#include "common/strings.h"
#include "crypto/keys.h"
#include "crypto/x509.h"
#include "engine/demo_members.h"
#include "jose/jwk.h"
#include "oauth/client_secret.h"

namespace lakegate::app {

namespace {

// `text` as a YAML double-quoted scalar.
std::string YamlQuoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string DemoStackYaml(int port, const DemoKeyClient& key_client, std::string_view state_url,
                          std::string_view engine_url) {
  std::string state;
  if (!state_url.empty()) {
    state =
        "# The state store every node of this stack shares (clients, keys, revocations,\n"
        "# policy); this file is mode 0600 because the URL may hold a password.\n"
        "state:\n  url: " +
        YamlQuoted(state_url) + "\n";
  }
  if (!engine_url.empty()) {
    state += IsTrinoEngineUrl(engine_url)
                 ? "# The query engine: the lake (schema analytics) lives in this Trino cluster's\n"
                   "# catalog, and Trino asks lakegate about the roles below (docs/trino.md).\n"
                 : "# The query engine: the lake (schema analytics) lives in this PostgreSQL "
                   "database\n"
                   "# and PostgreSQL enforces the roles below (docs/postgresql.md).\n";
    state += "engine:\n  url: " + YamlQuoted(engine_url) + "\n";
  }
  return R"(# lakegate demo stack (written by `lakegate demo` on first run; edit and re-run
# `lakegate apply stack.yaml` or restart the demo to reconcile).
# It mirrors the Cognito setup lakegate replaces: a resource server with three
# scopes and three machine clients.
listen:
  address: 127.0.0.1
  port: )" +
         std::to_string(port) + "\n" + state + R"yaml(tokens:
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
  - name: analytics-service
    description: EU analytics (row filter, mask and tag grant; see lf-analyst-role)
    scopes: [athena-api/query.read]
    token_ttl: 1h
)yaml" +
         (key_client.client_id.empty()
              ? std::string()
              : R"yaml(  # Authenticates with a signed JWT (private_key_jwt), not a secret: its private
  # key is in secrets/keyjwt-service.json, only its public key is here.
  - name: keyjwt-service
    client_id: )yaml" +
                    key_client.client_id + R"yaml(
    description: Read-only service that authenticates with its private key
    scopes: [athena-api/query.read]
    token_ttl: 1h
    auth: private_key_jwt
    jwks: )yaml" + key_client.jwks_json +
                    "\n") +
         R"yaml(

# The query API over the lake (one SQLite file per database in ./lake).
query:
  default_database: analytics
  timeout: 30s
  max_rows: 10000

# Lake Formation-style roles: the LF super user and LF dev roles of that setup,
# and an analyst role that shows the governance beyond it (see README.md,
# "Governance"): a data-cell filter, a column mask and an LF-tag grant.
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
  - name: lf-analyst-role
    description: Public columns of every member (tag grant); name and lifetime_value of EU
      members only (filter eu-members), names masked to their last 3 characters; never email
    filters: [eu-members]
    masks:
      - {database: analytics, table: members, column: name, mask: show_last_n, n: 3}
    tag_grants:
      - expression: {domain: [sales], sensitivity: [public]}
        permissions: [SELECT, DESCRIBE]

# LF-tags: keys with allowed values, assigned to databases, tables and columns.
# A column inherits its table's tags, a table its database's; the nearest wins.
tags:
  keys:
    - {key: domain, values: [sales, hr]}
    - {key: sensitivity, values: [public, internal, pii]}
  assign:
    - {database: analytics, key: domain, value: sales}
    - {database: analytics, table: members, key: sensitivity, value: public}
    - {database: analytics, table: members, column: name, key: sensitivity, value: internal}
    - {database: analytics, table: members, column: lifetime_value, key: sensitivity, value: internal}
    - {database: analytics, table: members, column: email, key: sensitivity, value: pii}

# Data-cell filters: rows and columns of one table, granted to roles by name.
filters:
  - name: eu-members
    database: analytics
    table: members
    rows: "region IN ('eu-west', 'eu-central')"
    columns: {exclude: [email]}

# Client to role mapping: client rules first, then scope rules
# (first match wins), else 403.
role_rules:
  clients:
    - {client: etl-service, role: lf-super-user-role}
    - {client: reporting-service, role: lf-dev-role}
    - {client: monitoring-service, role: lf-dev-role}
    - {client: analytics-service, role: lf-analyst-role}
    - {client: keyjwt-service, role: lf-dev-role}
  scopes:
    - {scope: athena-api/query.admin, role: lf-super-user-role}
    - {scope: athena-api/query.write, role: lf-super-user-role}
    - {scope: athena-api/query.read, role: lf-dev-role}
)yaml";
}

Result<DemoKeyClient> WriteDemoKeyClient(const std::string& secrets_dir) {
  LG_ASSIGN_OR_RETURN(crypto::PrivateKey key,
                      crypto::PrivateKey::Generate(crypto::Algorithm::kES256));
  DemoKeyClient client;
  client.client_id = oauth::GenerateClientId();
  const std::string kid = jose::Thumbprint(key.Public());
  client.jwks_json = jose::JwksToJson({jose::Jwk{.kid = kid, .key = key.Public()}});
  LG_RETURN_IF_ERROR(MakeDirectories(secrets_dir, 0700));
  SecretString pem = key.ToPem();
  std::string body = "{\"client_id\": " + JsonQuote(client.client_id) +
                     ", \"kid\": " + JsonQuote(kid) +
                     ", \"private_key_pem\": " + JsonQuote(pem.Reveal()) + "}\n";
  Status written = WriteFileAtomic(secrets_dir + "/keyjwt-service.json", body, 0600);
  std::fill(body.begin(), body.end(), '\0');
  LG_RETURN_IF_ERROR(written);
  return client;
}

Result<std::string> PrepareDemoDir(const std::string& dir, int port, std::string_view state_url,
                                   std::string_view engine_url) {
  LG_RETURN_IF_ERROR(MakeDirectories(dir, 0700));
  std::string path = dir + "/stack.yaml";
  if (!FileExists(path)) {
    // The key client's private key is written before the stack file that
    // registers its public key, so a registered key always has its file.
    LG_ASSIGN_OR_RETURN(DemoKeyClient key_client, WriteDemoKeyClient(dir + "/secrets"));
    LG_RETURN_IF_ERROR(WriteFileAtomic(path, DemoStackYaml(port, key_client, state_url, engine_url),
                                       state_url.empty() && engine_url.empty() ? 0644 : 0600));
  }
  return path;
}

Result<DemoTls> PrepareDemoTls(const std::string& dir) {
  const std::string tls_dir = dir + "/tls";
  LG_RETURN_IF_ERROR(MakeDirectories(tls_dir, 0700));
  DemoTls tls{tls_dir + "/ca.pem", tls_dir + "/server.pem", tls_dir + "/server-key.pem"};
  const std::string ca_key_file = tls_dir + "/ca-key.pem";
  if (FileExists(tls.ca_file) && FileExists(ca_key_file) && FileExists(tls.cert_file) &&
      FileExists(tls.key_file)) {
    return tls;
  }
  // Keys first, certificates last: a file set that exists is whole.
  LG_ASSIGN_OR_RETURN(crypto::IssuedCertificate ca,
                      crypto::MakeCertificateAuthority("lakegate demo CA", 3650));
  LG_ASSIGN_OR_RETURN(crypto::IssuedCertificate server,
                      crypto::IssueServerCertificate(ca, {"localhost"}, {"127.0.0.1", "::1"}, 730));
  LG_RETURN_IF_ERROR(WriteFileAtomic(ca_key_file, ca.key_pem.Reveal(), 0600));
  LG_RETURN_IF_ERROR(WriteFileAtomic(tls.key_file, server.key_pem.Reveal(), 0600));
  LG_RETURN_IF_ERROR(WriteFileAtomic(tls.cert_file, server.certificate_pem, 0644));
  LG_RETURN_IF_ERROR(WriteFileAtomic(tls.ca_file, ca.certificate_pem, 0644));
  return tls;
}

void EnableDemoTls(config::StackConfig& stack, const DemoTls& tls, int tls_port) {
  stack.listen.tls_cert = tls.cert_file;
  stack.listen.tls_key = tls.key_file;
  stack.listen.tls_port = tls_port;
  stack.mtls.enabled = true;
  stack.mtls.ca_file = tls.ca_file;
  stack.mtls.bind_all_tokens = true;
}

Status PrepareDemoData(const std::string& engine_url) {
  engine::EngineSettings settings;
  settings.create_if_missing = true;  // the first Load() makes the lake directory
  LG_ASSIGN_OR_RETURN(std::unique_ptr<engine::Engine> engine, OpenEngine(engine_url, settings));
  return engine::LoadDemoMembers(*engine, kDemoMembers);
}

}  // namespace lakegate::app
