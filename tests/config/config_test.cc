#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "common/files.h"
#include "config/stack_config.h"
#include "testing/status_matchers.h"

namespace lakegate::config {
namespace {

using ::testing::HasSubstr;

using ::lakegate::testing::HasStatus;

Result<StackConfig> Parse(std::string_view yaml) {
  return ParseStack(yaml, "stack.yaml", "/srv/lakegate");
}

// The error of parsing `yaml`, which must fail with kInvalidArgument.
std::string ErrorOf(std::string_view yaml) {
  auto result = Parse(yaml);
  EXPECT_FALSE(result.ok()) << "parsed without error:\n" << yaml;
  if (result.ok()) return "";
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status().ToString();
  return result.status().message();
}

constexpr std::string_view kServers = R"(resource_servers:
  - identifier: athena-api
    scopes: [query.read, query.write]
)";

std::string WithServers(std::string_view rest) { return std::string(kServers) + std::string(rest); }

TEST(ParseStackTest, FullStack) {
  auto config = Parse(R"(version: 1
issuer: https://auth.example.com
state_dir: data
listen:
  address: 0.0.0.0
  port: 9443
  threads: 4
  tls_cert: tls/cert.pem
  tls_key: /etc/tls/key.pem
tokens:
  algorithm: EdDSA
  audience: [athena-api, other]
  default_ttl: 30m
  scope_omitted_grants_all: false
limits:
  failed_auth_per_minute_per_client: 10
  failed_auth_per_minute_per_client_address: 15
  failed_auth_per_minute_per_address: 100
audit:
  path: logs/../logs/audit.log
metrics:
  client_labels: true
resource_servers:
  - identifier: athena-api
    name: Athena query API
    scopes:
      - {name: query.read, description: Run SELECT statements}
      - query.write
      - name: query.admin
  - identifier: https://billing.example.com
    scopes: [invoices.read]
clients:
  - name: etl-service
    client_id: etl-Fixed_id.1~
    scopes: [athena-api/query.read, athena-api/query.write, athena-api/query.admin]
    token_ttl: 1h
    description: nightly ETL
  - name: reporting-service
    scopes:
      - athena-api/query.read
      - https://billing.example.com/invoices.read
    enabled: false
    token_ttl: 86400
  - name: monitoring-service
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->source_path, "stack.yaml");
  EXPECT_EQ(config->issuer, "https://auth.example.com");
  EXPECT_EQ(config->state_dir, "/srv/lakegate/data");
  EXPECT_EQ(config->listen.address, "0.0.0.0");
  EXPECT_EQ(config->listen.port, 9443);
  EXPECT_EQ(config->listen.threads, 4);
  EXPECT_EQ(config->listen.tls_cert, "/srv/lakegate/tls/cert.pem");
  EXPECT_EQ(config->listen.tls_key, "/etc/tls/key.pem");
  EXPECT_EQ(config->tokens.algorithm, "EdDSA");
  EXPECT_EQ(config->tokens.audience, (std::vector<std::string>{"athena-api", "other"}));
  EXPECT_EQ(config->tokens.default_ttl_seconds, 1800);
  EXPECT_FALSE(config->tokens.scope_omitted_grants_all);
  EXPECT_EQ(config->limits.failed_auth_per_minute_per_client, 10);
  EXPECT_EQ(config->limits.failed_auth_per_minute_per_client_address, 15);
  EXPECT_EQ(config->limits.failed_auth_per_minute_per_address, 100);
  EXPECT_EQ(config->audit.path, "/srv/lakegate/logs/audit.log");
  EXPECT_TRUE(config->metrics.client_labels);

  ASSERT_EQ(config->resource_servers.size(), 2u);
  const ResourceServerSpec& athena = config->resource_servers[0];
  EXPECT_EQ(athena.identifier, "athena-api");
  EXPECT_EQ(athena.name, "Athena query API");
  ASSERT_EQ(athena.scopes.size(), 3u);
  EXPECT_EQ(athena.scopes[0].name, "query.read");
  EXPECT_EQ(athena.scopes[0].description, "Run SELECT statements");
  EXPECT_EQ(athena.scopes[1].name, "query.write");
  EXPECT_EQ(athena.scopes[1].description, "");
  EXPECT_EQ(athena.scopes[2].name, "query.admin");
  EXPECT_EQ(config->resource_servers[1].name, "https://billing.example.com");  // defaults to the id

  ASSERT_EQ(config->clients.size(), 3u);
  const ClientSpec& etl = config->clients[0];
  EXPECT_EQ(etl.name, "etl-service");
  EXPECT_EQ(etl.client_id, "etl-Fixed_id.1~");
  EXPECT_EQ(etl.scopes.size(), 3u);
  EXPECT_EQ(etl.token_ttl_seconds, 3600);
  EXPECT_TRUE(etl.enabled);
  EXPECT_EQ(etl.description, "nightly ETL");
  const ClientSpec& reporting = config->clients[1];
  EXPECT_FALSE(reporting.client_id.has_value());
  EXPECT_FALSE(reporting.enabled);
  EXPECT_EQ(reporting.token_ttl_seconds, 86400);
  EXPECT_EQ(reporting.scopes[1], "https://billing.example.com/invoices.read");
  // Without token_ttl a client gets tokens.default_ttl.
  EXPECT_EQ(config->clients[2].token_ttl_seconds, 1800);
  EXPECT_TRUE(config->clients[2].scopes.empty());
}

TEST(ParseStackTest, Defaults) {
  auto config = Parse("clients:\nresource_servers:\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->issuer, "");
  EXPECT_EQ(config->state_dir, "/srv/lakegate/state");
  EXPECT_EQ(config->listen.address, "127.0.0.1");
  EXPECT_EQ(config->listen.port, 8080);
  EXPECT_EQ(config->listen.threads, 0);
  EXPECT_EQ(config->tokens.algorithm, "ES256");
  EXPECT_TRUE(config->tokens.audience.empty());
  EXPECT_EQ(config->tokens.default_ttl_seconds, 3600);
  EXPECT_TRUE(config->tokens.scope_omitted_grants_all);
  EXPECT_EQ(config->limits.failed_auth_per_minute_per_client, 20);
  EXPECT_EQ(config->limits.failed_auth_per_minute_per_client_address, 20);
  EXPECT_EQ(config->limits.failed_auth_per_minute_per_address, 60);
  EXPECT_FALSE(config->metrics.client_labels);
  EXPECT_EQ(config->audit.path, "");
  EXPECT_EQ(config->query.max_memory_bytes, 256 << 20);
  EXPECT_TRUE(config->clients.empty());
  EXPECT_TRUE(config->resource_servers.empty());
}

TEST(ParseStackTest, SectionOrderDoesNotMatter) {
  auto config = Parse(R"(clients:
  - name: etl-service
    scopes: [athena-api/query.read]
tokens: {default_ttl: 10m}
resource_servers:
  - {identifier: athena-api, scopes: [query.read]}
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->clients[0].token_ttl_seconds, 600);
}

TEST(ParseStackTest, SmallForms) {
  auto config = Parse(R"(tokens: {audience: only-one}
audit: {path: "-"}
listen: {port: 0}
state_dir: /var/lib/lakegate
resource_servers: []
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->tokens.audience, std::vector<std::string>{"only-one"});
  EXPECT_EQ(config->audit.path, "-");
  EXPECT_EQ(config->listen.port, 0);
  EXPECT_EQ(config->state_dir, "/var/lib/lakegate");
}

TEST(ParseStackTest, StateSection) {
  auto config = Parse(R"(state:
  url: postgresql://lakegate:pw@db:5432/lakegate?sslmode=verify-full
  hash_key_file: keys/hash.key
  mask_key_file: /etc/lakegate/mask.key
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->state.url, "postgresql://lakegate:pw@db:5432/lakegate?sslmode=verify-full");
  EXPECT_EQ(config->state.hash_key_file, "/srv/lakegate/keys/hash.key");
  EXPECT_EQ(config->state.mask_key_file, "/etc/lakegate/mask.key");

  auto sqlite = Parse("state: {url: \"sqlite:shared/state.db\"}\n");
  ASSERT_TRUE(sqlite.ok()) << sqlite.status().ToString();
  EXPECT_EQ(sqlite->state.url, "sqlite:/srv/lakegate/shared/state.db");
  auto defaults = Parse("resource_servers: []\n");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->state.url, "");
  EXPECT_EQ(defaults->state.hash_key_file, "");
}

TEST(ParseStackTest, StateSectionErrorsNeverEchoTheUrl) {
  std::string error = ErrorOf("state: {url: \"postgresql://u:s3cret@db/x ?sslmode=require\"}\n");
  EXPECT_NE(error.find("state.url: the state store URL contains whitespace"), std::string::npos)
      << error;
  EXPECT_EQ(error.find("s3cret"), std::string::npos) << error;
  error = ErrorOf("state: {uri: postgresql://db/x}\n");
  EXPECT_NE(error.find("did you mean \"url\""), std::string::npos) << error;
}

TEST(ParseStackTest, TtlForms) {
  for (auto [text, seconds] : std::vector<std::pair<std::string, int64_t>>{{"300", 300},
                                                                           {"\"3600\"", 3600},
                                                                           {"3600s", 3600},
                                                                           {"60m", 3600},
                                                                           {"1h", 3600},
                                                                           {"1d", 86400},
                                                                           {"5m", 300},
                                                                           {"24h", 86400}}) {
    auto config = Parse(WithServers("clients:\n  - name: a\n    token_ttl: " + text + "\n"));
    ASSERT_TRUE(config.ok()) << text << ": " << config.status().ToString();
    EXPECT_EQ(config->clients[0].token_ttl_seconds, seconds) << text;
  }
}

// ---- errors: every message names file:line:column, the key path and the fix ----

TEST(ParseStackTest, QueryRolesRulesAndIssuers) {
  auto config = Parse(WithServers(R"(query:
  lake_dir: data/lake
  default_database: sales
  scopes: {read: athena-api/query.read, write: athena-api/query.write}
  timeout: 2m
  max_rows: 500
  max_memory: 67108864
  max_concurrent_per_client: 8
  audit_sql: false
roles:
  - name: super
    grants: [{database: "*", table: "*", permissions: [ALL]}]
  - name: dev
    description: read-only
    grants:
      - {database: sales, permissions: [DESCRIBE]}
      - database: sales
        table: members
        permissions: [SELECT, describe]
        columns: {exclude: [email]}
role_rules:
  clients:
    - {client: etl-service, role: super}
    - {client_id: abc123, role: dev}
    - {client_id: 5abc, issuer: "https://cognito-idp.us-east-1.amazonaws.com/pool", role: dev}
  scopes:
    - {scope: athena-api/query.read, role: dev}
trusted_issuers:
  - issuer: https://cognito-idp.us-east-1.amazonaws.com/pool
    jwks_uri: https://cognito-idp.us-east-1.amazonaws.com/pool/.well-known/jwks.json
    token_use: access
    require_client_id: true
    refresh_min_interval: 5m
)"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->query.lake_dir, "/srv/lakegate/data/lake");
  EXPECT_EQ(config->query.default_database, "sales");
  EXPECT_EQ(config->query.admin_scope, "");
  EXPECT_EQ(config->query.timeout_seconds, 120);
  EXPECT_EQ(config->query.max_rows, 500);
  EXPECT_EQ(config->query.max_memory_bytes, 64 << 20);
  EXPECT_FALSE(config->query.audit_sql);
  ASSERT_EQ(config->roles.size(), 2u);
  EXPECT_TRUE(policy::IsUnrestricted(config->roles[0]));
  const policy::Role& dev = config->roles[1];
  ASSERT_EQ(dev.grants.size(), 2u);
  EXPECT_EQ(dev.grants[0].table, "");
  EXPECT_EQ(dev.grants[1].columns.kind, policy::ColumnSpec::Kind::kExclude);
  EXPECT_EQ(dev.grants[1].permissions,
            policy::Bit(policy::Permission::kSelect) | policy::Bit(policy::Permission::kDescribe));
  ASSERT_EQ(config->client_rules.size(), 3u);
  EXPECT_EQ(config->client_rules[0].client_name, "etl-service");
  EXPECT_EQ(config->client_rules[1].client_id, "abc123");
  EXPECT_EQ(config->client_rules[1].issuer, "");  // lakegate's own
  EXPECT_EQ(config->client_rules[2].issuer, "https://cognito-idp.us-east-1.amazonaws.com/pool");
  ASSERT_EQ(config->scope_rules.size(), 1u);
  ASSERT_EQ(config->trusted_issuers.size(), 1u);
  EXPECT_EQ(config->trusted_issuers[0].token_use, "access");
  EXPECT_EQ(config->trusted_issuers[0].refresh_min_interval_seconds, 300);
}

TEST(ParseStackTest, DefaultLakeDirIsNextToTheFile) {
  auto config = Parse(kServers);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->query.lake_dir, "/srv/lakegate/lake");
  EXPECT_EQ(config->query.read_scope, "athena-api/query.read");
}

TEST(ParseStackErrorTest, RolesAndRules) {
  EXPECT_THAT(
      ErrorOf(
          WithServers("roles:\n  - name: r\n    grants: [{database: a, permissions: [READ]}]\n")),
      HasSubstr("stack.yaml:6:42: roles[0].grants[0].permissions[0]: unknown permission \"READ\""));
  EXPECT_THAT(
      ErrorOf(WithServers("roles:\n  - name: r\n    grants: [{database: a, permissions: []}]\n")),
      HasSubstr("lists no permission"));
  EXPECT_THAT(ErrorOf(WithServers("roles:\n  - name: r\n    grants: [{database: a, permissions: "
                                  "[ALL], columns: {include: [x]}}]\n")),
              HasSubstr("columns need a single table"));
  EXPECT_THAT(
      ErrorOf(WithServers("roles:\n  - name: r\n    grants: [{database: a, table: t, permissions: "
                          "[SELECT], columns: {include: [x], exclude: [y]}}]\n")),
      HasSubstr("give exactly one of include or exclude"));
  EXPECT_THAT(ErrorOf(WithServers("roles:\n  - name: r\n  - name: r\n")),
              HasSubstr("duplicate role \"r\""));
  EXPECT_THAT(ErrorOf(WithServers("roles:\n  - name: dev\nrole_rules:\n  scopes: [{scope: "
                                  "athena-api/query.read, role: deb}]\n")),
              HasSubstr("role \"deb\" is not declared under roles; did you mean \"dev\"?"));
  EXPECT_THAT(ErrorOf(WithServers("roles:\n  - name: dev\nrole_rules:\n  clients: [{client: a, "
                                  "client_id: b, role: dev}]\n")),
              HasSubstr("give exactly one of client (a client name) or client_id"));
  EXPECT_THAT(ErrorOf(WithServers("roles:\n  - name: dev\nrole_rules:\n  clients: [{client_id: b, "
                                  "issuer: https://idp.test, role: dev}]\n")),
              HasSubstr("issuer \"https://idp.test\" is neither `issuer` nor listed under "
                        "trusted_issuers; omit it to match lakegate's own tokens"));
  EXPECT_THAT(ErrorOf(WithServers("roles:\n  - name: dev\nrole_rules:\n  clients: [{client: a, "
                                  "issuer: https://idp.test, role: dev}]\n")),
              HasSubstr("a client name matches lakegate's own clients only; drop issuer"));
  // The server's own issuer may be named; it is the same as naming none.
  EXPECT_TRUE(
      Parse(WithServers("issuer: https://auth.test\nroles:\n  - name: dev\nrole_rules:\n"
                        "  clients: [{client_id: b, issuer: https://auth.test, role: dev}]\n"))
          .ok());
  EXPECT_THAT(ErrorOf(WithServers("query:\n  scopes: {read: athena-api/query.nope}\n")),
              HasSubstr("scope \"athena-api/query.nope\" is not declared"));
  EXPECT_THAT(ErrorOf(WithServers("query:\n  timeout: 2h\n")),
              HasSubstr("out of range; use 1s..1h"));
  EXPECT_THAT(ErrorOf(WithServers("query:\n  max_memory: 1000\n")),
              HasSubstr("out of range; use 1048576..68719476736"));
  EXPECT_THAT(ErrorOf(WithServers("trusted_issuers:\n  - {issuer: x, jwks_uri: ftp://x}\n")),
              HasSubstr("must be an https:// (or loopback http://) URL"));
  EXPECT_THAT(ErrorOf(WithServers("trusted_issuers:\n  - {issuer: x}\n")),
              HasSubstr("missing required key \"jwks_uri\""));
}

TEST(ParseStackErrorTest, UnknownKeyWithSuggestion) {
  EXPECT_EQ(ErrorOf(WithServers(R"(clients:
  - name: etl-service
    scopes: [athena-api/query.read]
  - name: reporting-service
    scops: [athena-api/query.read]
)")),
            "stack.yaml:8:5: clients[1] (\"reporting-service\"): unknown key \"scops\"; did you "
            "mean \"scopes\"?");
}

TEST(ParseStackErrorTest, UnknownTopLevelKey) {
  EXPECT_EQ(ErrorOf("client:\n  - name: a\n"),
            "stack.yaml:1:1: unknown key \"client\"; did you mean \"clients\"?");
  EXPECT_EQ(ErrorOf("clients: []\nfrobnicate: 1\n"),
            "stack.yaml:2:1: unknown key \"frobnicate\"; valid keys are version, issuer, "
            "state_dir, state, listen, mtls, tokens, limits, audit, metrics, resource_servers, "
            "clients, query, engine, roles, role_rules, trusted_issuers, tags, filters");
}

TEST(ParseStackTest, EngineUrl) {
  auto stack =
      ParseStack("engine:\n  url: postgresql://lakegate@db/lake\n", "stack.yaml", "/etc/lg");
  ASSERT_TRUE(stack.ok()) << stack.status().ToString();
  EXPECT_EQ(stack->query.engine_url, "postgresql://lakegate@db/lake");
  EXPECT_EQ(stack->query.engine(), "postgresql://lakegate@db/lake");
  // A plain path is a lake directory relative to the stack file.
  stack = ParseStack("engine: {url: lake2}\n", "stack.yaml", "/etc/lg");
  ASSERT_TRUE(stack.ok()) << stack.status().ToString();
  EXPECT_EQ(stack->query.engine(), "/etc/lg/lake2");
  EXPECT_FALSE(ParseStack("engine: {url: \"postgresql://a b\"}\n", "stack.yaml", "/etc/lg").ok());
}

TEST(ParseStackTest, EnginePerDatabase) {
  auto stack = ParseStack(
      "engine:\n  url: lake2\n  databases:\n    Sales: postgresql://lakegate@db/sales\n"
      "    archive: old-lake\n",
      "stack.yaml", "/etc/lg");
  ASSERT_TRUE(stack.ok()) << stack.status().ToString();
  EXPECT_EQ(stack->query.engine(), "/etc/lg/lake2");
  EXPECT_EQ(stack->query.EngineFor("sales"), "postgresql://lakegate@db/sales");
  EXPECT_EQ(stack->query.EngineFor("archive"), "/etc/lg/old-lake");
  EXPECT_EQ(stack->query.EngineFor("analytics"), "/etc/lg/lake2");
  EXPECT_FALSE(ParseStack("engine: {databases: {\"a-b\": lake3}}\n", "stack.yaml", "/etc/lg").ok());
  EXPECT_FALSE(
      ParseStack("engine: {databases: {a: lake3, A: lake4}}\n", "stack.yaml", "/etc/lg").ok());
  EXPECT_FALSE(ParseStack("engine: {databases: [a]}\n", "stack.yaml", "/etc/lg").ok());
}

TEST(ParseStackErrorTest, UnknownNestedKeys) {
  EXPECT_EQ(ErrorOf("listen:\n  adress: 0.0.0.0\n"),
            "stack.yaml:2:3: listen: unknown key \"adress\"; did you mean \"address\"?");
  EXPECT_EQ(ErrorOf("tokens:\n  default_tll: 1h\n"),
            "stack.yaml:2:3: tokens: unknown key \"default_tll\"; did you mean \"default_ttl\"?");
  EXPECT_THAT(ErrorOf("resource_servers:\n  - identifier: api\n    scopes:\n      - name: x\n"
                      "        desc: y\n"),
              HasSubstr("stack.yaml:5:9: resource_servers[0].scopes[0] (\"x\"): unknown key "
                        "\"desc\"; did you mean \"description\"?"));
  EXPECT_THAT(ErrorOf("resource_servers:\n  - identifer: api\n"),
              HasSubstr("stack.yaml:2:5: resource_servers[0]: unknown key \"identifer\"; did you "
                        "mean \"identifier\"?"));
  EXPECT_THAT(ErrorOf("limits: {per_client: 10}\n"),
              HasSubstr("stack.yaml:1:10: limits: unknown key \"per_client\""));
  EXPECT_THAT(ErrorOf("audit: {file: x}\n"),
              HasSubstr("stack.yaml:1:9: audit: unknown key \"file\"; valid keys are path"));
}

TEST(ParseStackErrorTest, TtlOutOfRange) {
  std::string yaml = WithServers("clients:\n  - name: etl-service\n    token_ttl:       2d\n");
  EXPECT_EQ(ErrorOf(yaml),
            "stack.yaml:6:22: clients[0].token_ttl: \"2d\" is out of range; use 5m..1d");
  EXPECT_THAT(
      ErrorOf(WithServers("clients:\n  - name: a\n    token_ttl: 4m\n")),
      HasSubstr("stack.yaml:6:16: clients[0].token_ttl: \"4m\" is out of range; use 5m..1d"));
  EXPECT_THAT(ErrorOf(WithServers("clients:\n  - name: a\n    token_ttl: 86401\n")),
              HasSubstr("\"86401\" is out of range; use 5m..1d"));
  EXPECT_THAT(ErrorOf(WithServers("clients:\n  - name: a\n    token_ttl: 999999999999999999d\n")),
              HasSubstr("is out of range; use 5m..1d"));
  EXPECT_THAT(ErrorOf("tokens:\n  default_ttl: 0\n"),
              HasSubstr("stack.yaml:2:16: tokens.default_ttl: \"0\" is out of range; use 5m..1d"));
}

TEST(ParseStackErrorTest, TtlNotADuration) {
  EXPECT_THAT(ErrorOf(WithServers("clients:\n  - name: a\n    token_ttl: 2 days\n")),
              HasSubstr("stack.yaml:6:16: clients[0].token_ttl: \"2 days\" is not a duration; use "
                        "seconds (3600) or a number with s, m, h or d"));
  EXPECT_THAT(ErrorOf(WithServers("clients:\n  - name: a\n    token_ttl: -5m\n")),
              HasSubstr("\"-5m\" is not a duration"));
  EXPECT_THAT(ErrorOf(WithServers("clients:\n  - name: a\n    token_ttl: h\n")),
              HasSubstr("\"h\" is not a duration"));
  EXPECT_THAT(ErrorOf(WithServers("clients:\n  - name: a\n    token_ttl: [1h]\n")),
              HasSubstr("stack.yaml:6:16: clients[0].token_ttl: expected a duration such as "
                        "3600, \"60m\", \"1h\" or \"1d\", got a list"));
}

TEST(ParseStackErrorTest, InvalidClientName) {
  EXPECT_THAT(ErrorOf("clients:\n  - name: ETL\n"),
              HasSubstr("stack.yaml:2:11: clients[0].name: \"ETL\" is not a valid client name; use "
                        "1 to 64 lowercase letters, digits, '.', '_' or '-', starting with a "
                        "letter or digit"));
  EXPECT_THAT(ErrorOf("clients:\n  - name: -etl\n"),
              HasSubstr("\"-etl\" is not a valid client name"));
  EXPECT_THAT(ErrorOf("clients:\n  - name: \"\"\n"), HasSubstr("\"\" is not a valid client name"));
  EXPECT_THAT(ErrorOf("clients:\n  - name: " + std::string(65, 'a') + "\n"),
              HasSubstr("is not a valid client name"));
  EXPECT_TRUE(Parse("clients:\n  - name: " + std::string(64, 'a') + "\n").ok());
}

TEST(ParseStackErrorTest, MissingClientName) {
  EXPECT_EQ(ErrorOf("clients:\n  - enabled: true\n"),
            "stack.yaml:2:5: clients[0]: missing required key \"name\"");
  EXPECT_THAT(
      ErrorOf("resource_servers:\n  - name: x\n"),
      HasSubstr("stack.yaml:2:5: resource_servers[0]: missing required key \"identifier\""));
  EXPECT_THAT(
      ErrorOf("resource_servers:\n  - identifier: x\n    scopes:\n      - description: y\n"),
      HasSubstr("stack.yaml:4:9: resource_servers[0].scopes[0]: missing required key "
                "\"name\""));
}

TEST(ParseStackErrorTest, DuplicateClientName) {
  EXPECT_EQ(
      ErrorOf("clients:\n  - name: etl\n  - name: other\n  - name: etl\n"),
      "stack.yaml:4:11: clients[2].name: duplicate client \"etl\" (first declared at line 2); "
      "client names must be unique");
}

TEST(ParseStackErrorTest, ClientId) {
  EXPECT_THAT(ErrorOf("clients:\n  - name: a\n    client_id: x1\n  - name: b\n    client_id: x1\n"),
              HasSubstr("stack.yaml:5:16: clients[1].client_id: duplicate client_id \"x1\" (first "
                        "declared at line 3)"));
  EXPECT_THAT(ErrorOf("clients:\n  - name: a\n    client_id: a/b\n"),
              HasSubstr("stack.yaml:3:16: clients[0].client_id: \"a/b\" is not a valid client_id; "
                        "use 1 to 128 letters, digits, '-', '.', '_' or '~'"));
  EXPECT_THAT(ErrorOf("clients:\n  - name: a\n    client_id: \"a b\"\n"),
              HasSubstr("\"a b\" is not a valid client_id"));
  EXPECT_THAT(ErrorOf("clients:\n  - name: a\n    client_id: \"a:b\"\n"),
              HasSubstr("\"a:b\" is not a valid client_id"));
}

TEST(ParseStackErrorTest, DuplicateResourceServer) {
  EXPECT_EQ(ErrorOf("resource_servers:\n  - identifier: api\n  - identifier: api\n"),
            "stack.yaml:3:17: resource_servers[1].identifier: duplicate resource server \"api\" "
            "(first declared at line 2); identifiers must be unique");
}

TEST(ParseStackErrorTest, DuplicateScope) {
  EXPECT_EQ(ErrorOf("resource_servers:\n  - identifier: api\n    scopes:\n      - read\n"
                    "      - {name: read}\n"),
            "stack.yaml:5:9: resource_servers[0].scopes[1]: duplicate scope \"read\" (first "
            "declared at line 4)");
  // The same scope name under two resource servers is fine.
  EXPECT_TRUE(Parse("resource_servers:\n  - {identifier: a, scopes: [read]}\n"
                    "  - {identifier: b, scopes: [read]}\n")
                  .ok());
}

TEST(ParseStackErrorTest, InvalidScopeAndIdentifier) {
  EXPECT_THAT(ErrorOf("resource_servers:\n  - identifier: api\n    scopes: [a/b]\n"),
              HasSubstr("stack.yaml:3:14: resource_servers[0].scopes[0]: \"a/b\" is not a valid "
                        "scope name"));
  EXPECT_THAT(
      ErrorOf("resource_servers:\n  - identifier: api\n    scopes:\n      - name: \"a b\"\n"),
      HasSubstr("stack.yaml:4:15: resource_servers[0].scopes[0].name: \"a b\" is not a "
                "valid scope name"));
  EXPECT_THAT(ErrorOf("resource_servers:\n  - identifier: \"my api\"\n"),
              HasSubstr("stack.yaml:2:17: resource_servers[0].identifier: \"my api\" is not a "
                        "valid identifier"));
}

TEST(ParseStackErrorTest, UndeclaredClientScope) {
  std::string message =
      ErrorOf(WithServers("clients:\n  - name: a\n    scopes:\n      - athena-api/query.read\n"
                          "      - athena-api/query.raed\n"));
  EXPECT_EQ(message,
            "stack.yaml:8:9: clients[0].scopes[1]: scope \"athena-api/query.raed\" is not declared "
            "by any resource server; did you mean \"athena-api/query.read\"? Declared scopes: "
            "athena-api/query.read, athena-api/query.write");
  EXPECT_THAT(ErrorOf(WithServers("clients:\n  - name: a\n    scopes: [query.read]\n")),
              HasSubstr("scope \"query.read\" is not declared by any resource server"));
  EXPECT_THAT(ErrorOf("clients:\n  - name: a\n    scopes: [api/read]\n"),
              HasSubstr("stack.yaml:3:14: clients[0].scopes[0]: scope \"api/read\" is not "
                        "declared by any resource server; no scopes are declared"));
}

TEST(ParseStackErrorTest, DuplicateClientScope) {
  EXPECT_THAT(ErrorOf(WithServers("clients:\n  - name: a\n    scopes: [athena-api/query.read, "
                                  "athena-api/query.read]\n")),
              HasSubstr("stack.yaml:6:37: clients[0].scopes[1]: scope \"athena-api/query.read\" is "
                        "listed twice; remove one"));
}

TEST(ParseStackErrorTest, WrongTypes) {
  EXPECT_EQ(ErrorOf("listen:\n  port: \"8080\"\n"),
            "stack.yaml:2:9: listen.port: expected an integer, got the string \"8080\"; remove "
            "the quotes");
  EXPECT_THAT(ErrorOf("listen:\n  port: 80.5\n"),
              HasSubstr("stack.yaml:2:9: listen.port: expected an integer, got \"80.5\""));
  EXPECT_THAT(ErrorOf("listen:\n  port: [1]\n"),
              HasSubstr("stack.yaml:2:9: listen.port: expected an integer, got a list"));
  EXPECT_THAT(ErrorOf("listen: 8080\n"),
              HasSubstr("stack.yaml:1:9: listen: expected a mapping (key: value lines), got a "
                        "scalar"));
  EXPECT_THAT(ErrorOf("clients: {name: a}\n"),
              HasSubstr("stack.yaml:1:10: clients: expected a list (\"- item\" lines or [a, b]), "
                        "got a mapping"));
  EXPECT_THAT(ErrorOf("clients:\n  - etl-service\n"),
              HasSubstr("stack.yaml:2:5: clients[0]: expected a mapping"));
  EXPECT_THAT(ErrorOf("clients:\n  - name: [a]\n"),
              HasSubstr("stack.yaml:2:11: clients[0].name: expected a string, got a list"));
  EXPECT_THAT(
      ErrorOf("clients:\n  - name: a\n    enabled: yes\n"),
      HasSubstr("stack.yaml:3:14: clients[0].enabled: expected true or false, got \"yes\""));
  EXPECT_THAT(ErrorOf("clients:\n  - name: a\n    enabled: \"true\"\n"),
              HasSubstr("expected true or false, got \"true\""));
  EXPECT_THAT(ErrorOf("tokens:\n  scope_omitted_grants_all: {}\n"),
              HasSubstr("stack.yaml:2:29: tokens.scope_omitted_grants_all: expected true or "
                        "false, got a mapping"));
  EXPECT_THAT(ErrorOf("tokens:\n  audience: [a, [b]]\n"),
              HasSubstr("stack.yaml:2:17: tokens.audience[1]: expected a string, got a list"));
  EXPECT_THAT(ErrorOf("clients:\n  - name: a\n    scopes: athena-api/query.read\n"),
              HasSubstr("stack.yaml:3:13: clients[0].scopes: expected a list"));
  EXPECT_THAT(ErrorOf("- a\n- b\n"),
              HasSubstr("stack.yaml:1:1: expected a mapping (key: value lines), got a list"));
  EXPECT_THAT(ErrorOf("? [a, b]\n: 1\n"),
              HasSubstr("stack.yaml:1:3: keys must be plain names, got a list"));
}

TEST(ParseStackErrorTest, OutOfRangeNumbers) {
  EXPECT_THAT(ErrorOf("listen:\n  port: 70000\n"),
              HasSubstr("stack.yaml:2:9: listen.port: 70000 is out of range; use 0..65535"));
  EXPECT_THAT(ErrorOf("listen:\n  threads: -1\n"),
              HasSubstr("stack.yaml:2:12: listen.threads: -1 is out of range; use 0..1024"));
  EXPECT_THAT(ErrorOf("limits:\n  failed_auth_per_minute_per_client: 5\n"),
              HasSubstr("stack.yaml:2:38: limits.failed_auth_per_minute_per_client: 5 is out of "
                        "range; use 10..1000000"));
  EXPECT_THAT(ErrorOf("listen:\n  port: 99999999999999999999\n"),
              HasSubstr("listen.port: expected an integer, got \"99999999999999999999\""));
}

TEST(ParseStackErrorTest, KeyWithoutValue) {
  EXPECT_EQ(ErrorOf("issuer:\nclients: []\n"),
            "stack.yaml:1:1: issuer: has no value; give it one or remove the key");
  EXPECT_THAT(ErrorOf("clients:\n  - name:\n"),
              HasSubstr("stack.yaml:2:5: clients[0].name: has no value"));
  EXPECT_EQ(ErrorOf("clients:\n  -\n"),
            "stack.yaml:2:3: clients[0]: is empty; give the item a value or remove the \"-\"");
  EXPECT_THAT(ErrorOf("clients:\n  - name: a\n  -   \n  - name: b\n"),
              HasSubstr("stack.yaml:3:3: clients[1]: is empty"));
  EXPECT_THAT(ErrorOf("tokens: {audience: [a, ~]}\n"), HasSubstr("tokens.audience[1]: is empty"));
}

TEST(ParseStackErrorTest, DuplicateKey) {
  EXPECT_EQ(ErrorOf("clients:\n  - name: a\n    enabled: true\n    enabled: false\n"),
            "stack.yaml:4:5: clients[0] (\"a\"): duplicate key \"enabled\" (first at line 3); "
            "remove one of them");
  EXPECT_THAT(ErrorOf("clients: []\nclients: []\n"),
              HasSubstr("stack.yaml:2:1: duplicate key \"clients\" (first at line 1)"));
}

TEST(ParseStackErrorTest, YamlSyntaxError) {
  EXPECT_THAT(ErrorOf("clients:\n  - name: a\n    scopes: [a, b\n"),
              HasSubstr("stack.yaml:4:1: invalid YAML: "));
  EXPECT_EQ(ErrorOf("clients: b: c\n"), "stack.yaml:1:11: invalid YAML: illegal map value");
  EXPECT_THAT(ErrorOf("clients:\n  - name: a\n   bad: x\n"),
              HasSubstr("stack.yaml:3:4: invalid YAML: end of sequence not found"));
  EXPECT_THAT(ErrorOf("clients:\n\t- name: a\n"), HasSubstr("stack.yaml:2:"));
  EXPECT_THAT(ErrorOf("a: *unknown\n"), HasSubstr("stack.yaml:1:4: invalid YAML: "));
}

TEST(ParseStackErrorTest, DeeplyNestedInputIsRejectedNotCrashing) {
  std::string deep(100000, '[');
  EXPECT_THAT(ErrorOf("clients: " + deep + "\n"), HasSubstr("invalid YAML: nested too deeply"));
  // Nesting yaml-cpp accepts reaches our type checks instead.
  EXPECT_THAT(ErrorOf("clients: " + std::string(100, '[') + std::string(100, ']') + "\n"),
              HasSubstr("stack.yaml:1:11: clients[0]: expected a mapping"));
}

TEST(ParseStackErrorTest, EmptyAndMultiDocument) {
  EXPECT_EQ(
      ErrorOf(""),
      "stack.yaml:1:1: the stack file is empty; declare at least resource_servers and clients");
  EXPECT_THAT(ErrorOf("# only a comment\n"), HasSubstr("the stack file is empty"));
  EXPECT_THAT(
      ErrorOf("clients: []\n---\nclients: []\n"),
      HasSubstr("stack.yaml:3:1: a stack file holds one YAML document; remove the \"---\""));
}

// yaml-cpp 0.7's LoadAll never returns on these (it yields empty documents
// forever, allocating each); found by tests/fuzz/stack_file_fuzz.cc.
TEST(ParseStackErrorTest, TokensNoRuleConsumesAreInvalidYamlNotAHang) {
  EXPECT_EQ(ErrorOf(",A"), "stack.yaml:1:1: invalid YAML: unexpected \",\"");
  EXPECT_EQ(ErrorOf(","), "stack.yaml:1:1: invalid YAML: unexpected \",\"");
  EXPECT_THAT(ErrorOf("clients: []\n,\n"), HasSubstr("stack.yaml:2:1: invalid YAML"));
  EXPECT_THAT(ErrorOf("clients: []\n---\n,\n"),
              HasSubstr("stack.yaml:3:1: a stack file holds one YAML document"));
}

TEST(ParseStackErrorTest, Version) {
  EXPECT_EQ(ErrorOf("version: 2\n"),
            "stack.yaml:1:10: version: version 2 is not supported by this lakegate; use version: "
            "1 or upgrade lakegate");
  EXPECT_THAT(ErrorOf("version: one\n"), HasSubstr("version: expected an integer, got \"one\""));
}

TEST(ParseStackErrorTest, Issuer) {
  for (const char* bad : {"ftp://x.example", "https://x.example?a=b", "https://x.example#f",
                          "auth.example.com", "https://", "https:///path", "\"https://a b\""}) {
    std::string message = ErrorOf(std::string("issuer: ") + bad + "\n");
    EXPECT_THAT(message, HasSubstr("stack.yaml:1:9: issuer: ")) << bad;
    EXPECT_THAT(message, HasSubstr("is not a valid issuer; use an https:// URL without query or "
                                   "fragment"))
        << bad;
  }
  EXPECT_TRUE(Parse("issuer: http://127.0.0.1:8080\n").ok());
  auto empty = Parse("issuer: \"\"\n");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->issuer, "");
}

TEST(ParseStackErrorTest, Algorithm) {
  EXPECT_EQ(ErrorOf("tokens:\n  algorithm: es256\n"),
            "stack.yaml:2:14: tokens.algorithm: unsupported algorithm \"es256\"; did you mean "
            "\"ES256\"?; use ES256, EdDSA or RS256");
  EXPECT_THAT(ErrorOf("tokens:\n  algorithm: HS256\n"),
              HasSubstr("unsupported algorithm \"HS256\"; use ES256, EdDSA or RS256"));
}

TEST(ParseStackErrorTest, TlsCertAndKeyGoTogether) {
  EXPECT_EQ(ErrorOf("listen:\n  port: 8443\n  tls_cert: cert.pem\n"),
            "stack.yaml:2:3: listen: tls_cert and tls_key go together; set both or neither");
  EXPECT_THAT(ErrorOf("listen:\n  tls_key: key.pem\n"),
              HasSubstr("tls_cert and tls_key go together"));
}

TEST(ParseStackErrorTest, EmptyStrings) {
  EXPECT_THAT(ErrorOf("state_dir: \"\"\n"),
              HasSubstr("stack.yaml:1:12: state_dir: must not be empty"));
  EXPECT_THAT(ErrorOf("listen: {address: \"\"}\n"),
              HasSubstr("stack.yaml:1:19: listen.address: must not be empty"));
  EXPECT_THAT(ErrorOf("listen: {address: \"1.2.3.4 \"}\n"),
              HasSubstr("listen.address: \"1.2.3.4 \" is not an address"));
}

// ---- LoadStackFile ----

class LoadStackFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "lakegate-config-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string dir_;
};

TEST_F(LoadStackFileTest, ResolvesPathsAgainstTheFilesDirectory) {
  ASSERT_TRUE(MakeDirectories(dir_ + "/conf").ok());
  std::string path = dir_ + "/conf/stack.yaml";
  ASSERT_TRUE(WriteFileAtomic(path, "state_dir: ../state\naudit: {path: audit.log}\n").ok());
  auto config = LoadStackFile(path);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->source_path, path);
  EXPECT_EQ(config->state_dir, dir_ + "/state");
  EXPECT_EQ(config->audit.path, dir_ + "/conf/audit.log");
}

TEST_F(LoadStackFileTest, DefaultStateDirIsNextToTheFile) {
  std::string path = dir_ + "/stack.yaml";
  ASSERT_TRUE(WriteFileAtomic(path, "clients: []\n").ok());
  auto config = LoadStackFile(path);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->state_dir, dir_ + "/state");
}

TEST_F(LoadStackFileTest, ErrorsNameThePathAsGiven) {
  std::string path = dir_ + "/stack.yaml";
  ASSERT_TRUE(WriteFileAtomic(path, "clients:\n  - name: a\n    scops: []\n").ok());
  EXPECT_TRUE(HasStatus(LoadStackFile(path).status(), StatusCode::kInvalidArgument,
                        path + ":3:5: clients[0] (\"a\"): unknown key \"scops\"; did you mean "
                               "\"scopes\"?"));
}

TEST_F(LoadStackFileTest, MissingFile) {
  EXPECT_TRUE(HasStatus(LoadStackFile(dir_ + "/nope.yaml").status(), StatusCode::kNotFound,
                        "stack file " + dir_ + "/nope.yaml does not exist"));
}

TEST_F(LoadStackFileTest, DirectoryInsteadOfFile) {
  EXPECT_TRUE(HasStatus(LoadStackFile(dir_).status(), StatusCode::kFailedPrecondition,
                        "stack file " + dir_ + " is not a regular file"));
}

TEST_F(LoadStackFileTest, TooLarge) {
  std::string path = dir_ + "/big.yaml";
  ASSERT_TRUE(WriteFileAtomic(path, std::string((4 << 20) + 1, '#')).ok());
  EXPECT_TRUE(HasStatus(LoadStackFile(path).status(), StatusCode::kFailedPrecondition,
                        "is larger than 4 MiB"));
}

}  // namespace
}  // namespace lakegate::config

namespace lakegate::config {
namespace {

TEST(ParseStackTest, PrivateKeyJwtClients) {
  auto config = Parse(WithServers(R"(clients:
  - name: inline
    auth: private_key_jwt
    jwks: {keys: [{kty: EC, crv: P-256, kid: k1, x: "AAA", y: "BBB"}]}
  - name: as-text
    auth: private_key_jwt
    jwks: '{"keys":[]}'
  - name: by-uri
    auth: private_key_jwt
    jwks_uri: https://keys.example/jwks.json
  - name: post
    auth: client_secret_post
  - name: default
)"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const auto& c = config->clients;
  ASSERT_EQ(c.size(), 5u);
  EXPECT_EQ(c[0].auth, "private_key_jwt");
  EXPECT_EQ(c[0].jwks, R"({"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"AAA","y":"BBB"}]})");
  EXPECT_EQ(c[1].jwks, R"({"keys":[]})");
  EXPECT_EQ(c[2].jwks_uri, "https://keys.example/jwks.json");
  EXPECT_TRUE(c[2].jwks.empty());
  EXPECT_EQ(c[3].auth, "client_secret_basic");  // one registration for both secret methods
  EXPECT_EQ(c[4].auth, "client_secret_basic");
}

TEST(ParseStackTest, DpopSettings) {
  auto config = Parse(WithServers(R"(tokens:
  dpop_nonce: true
clients:
  - name: bound
    dpop_bound_access_tokens: true
  - name: free
)"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->tokens.dpop_nonce);
  ASSERT_EQ(config->clients.size(), 2u);
  EXPECT_TRUE(config->clients[0].dpop_bound_access_tokens);
  EXPECT_FALSE(config->clients[1].dpop_bound_access_tokens);
  EXPECT_FALSE(Parse(WithServers("clients:\n  - name: a\n")).value().tokens.dpop_nonce);
  EXPECT_THAT(ErrorOf(WithServers("clients:\n  - name: a\n    dpop_bound_access_tokens: maybe\n")),
              HasSubstr("dpop_bound_access_tokens"));
}

TEST(ParseStackErrorTest, PrivateKeyJwtClients) {
  EXPECT_THAT(ErrorOf(WithServers("clients:\n  - name: a\n    auth: kerberos\n")),
              HasSubstr("\"kerberos\" is not a client authentication method"));
  EXPECT_THAT(ErrorOf(WithServers("clients:\n  - name: a\n    auth: private_key_jwt\n")),
              HasSubstr("needs its public keys: add jwks"));
  EXPECT_THAT(ErrorOf(WithServers("clients:\n  - name: a\n    auth: private_key_jwt\n    jwks: "
                                  "'{}'\n    jwks_uri: https://x/j\n")),
              HasSubstr("jwks or jwks_uri, not both"));
  EXPECT_THAT(ErrorOf(WithServers("clients:\n  - name: a\n    jwks_uri: https://x/j\n")),
              HasSubstr("used only by private_key_jwt clients"));
  EXPECT_THAT(ErrorOf(WithServers("clients:\n  - name: a\n    auth: private_key_jwt\n    "
                                  "jwks_uri: ftp://x/j\n")),
              HasSubstr("jwks_uri must be an https:// URL"));
  EXPECT_THAT(ErrorOf(WithServers("clients:\n  - name: a\n    auth: private_key_jwt\n    "
                                  "jwks: [1]\n")),
              HasSubstr("expected a JWK Set"));
}

}  // namespace
}  // namespace lakegate::config

namespace lakegate::config {
namespace {

TEST(ParseStackTest, MutualTlsClientsAndSection) {
  auto config = Parse(WithServers(R"(listen:
  port: 8080
  tls_port: 8443
  tls_cert: tls/server.pem
  tls_key: tls/server-key.pem
mtls:
  ca_file: tls/client-ca.pem
  bind_all_tokens: true
clients:
  - name: by-dn
    auth: tls_client_auth
    tls_client_auth_subject_dn: "CN=by-dn,O=Example\\, Inc."
    tls_client_certificate_bound_access_tokens: true
  - name: by-ip
    auth: tls_client_auth
    tls_client_auth_san_ip: 10.0.0.7
  - name: self
    auth: self_signed_tls_client_auth
    jwks: {keys: [{kty: EC, x5c: [MIIB]}]}
)"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->listen.tls_port, 8443);
  EXPECT_TRUE(config->mtls.enabled);
  EXPECT_EQ(config->mtls.ca_file, "/srv/lakegate/tls/client-ca.pem");
  EXPECT_TRUE(config->mtls.bind_all_tokens);
  const auto& c = config->clients;
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].auth, "tls_client_auth");
  EXPECT_EQ(c[0].tls_client_auth_field, "tls_client_auth_subject_dn");
  EXPECT_EQ(c[0].tls_client_auth_value, "CN=by-dn,O=Example\\, Inc.");
  EXPECT_TRUE(c[0].tls_client_certificate_bound_access_tokens);
  EXPECT_EQ(c[1].tls_client_auth_field, "tls_client_auth_san_ip");
  EXPECT_EQ(c[1].tls_client_auth_value, "10.0.0.7");
  EXPECT_FALSE(c[1].tls_client_certificate_bound_access_tokens);
  EXPECT_EQ(c[2].auth, "self_signed_tls_client_auth");
  EXPECT_EQ(c[2].jwks, R"({"keys":[{"kty":"EC","x5c":["MIIB"]}]})");
  // No mtls section: off.
  auto plain = Parse("listen: {port: 1}\n");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->mtls.enabled);
  EXPECT_EQ(plain->listen.tls_port, -1);
}

TEST(ParseStackErrorTest, MutualTlsClients) {
  EXPECT_THAT(ErrorOf(WithServers("clients:\n  - name: a\n    auth: tls_client_auth\n")),
              HasSubstr("a tls_client_auth client names its certificate: add one of "
                        "tls_client_auth_subject_dn"));
  EXPECT_THAT(ErrorOf(WithServers("clients:\n  - name: a\n    auth: tls_client_auth\n"
                                  "    tls_client_auth_san_dns: a.example\n"
                                  "    tls_client_auth_san_ip: 10.0.0.1\n")),
              HasSubstr("register one certificate field, not both tls_client_auth_san_dns and "
                        "tls_client_auth_san_ip"));
  EXPECT_THAT(ErrorOf(WithServers("clients:\n  - name: a\n    tls_client_auth_san_dns: x\n")),
              HasSubstr("tls_client_auth_san_dns is used only by tls_client_auth clients"));
  EXPECT_THAT(
      ErrorOf(WithServers("clients:\n  - name: a\n    auth: self_signed_tls_client_auth\n")),
      HasSubstr("needs its certificate: add jwks whose keys carry it in x5c"));
  EXPECT_THAT(ErrorOf(WithServers("clients:\n  - name: a\n    auth: self_signed_tls_client_auth\n"
                                  "    jwks_uri: https://x/j\n")),
              HasSubstr("needs its certificate"));
  EXPECT_THAT(ErrorOf("listen:\n  tls_port: 8443\n"),
              HasSubstr("tls_port needs tls_cert and tls_key"));
  EXPECT_THAT(ErrorOf("mtls:\n  ca_fle: x.pem\n"), HasSubstr("did you mean \"ca_file\""));
}

}  // namespace
}  // namespace lakegate::config
