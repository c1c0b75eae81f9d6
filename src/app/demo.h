// The demo stack of architecture §3: the Cognito + Lake Formation setup lakegate replaces
// (resource server athena-api, clients etl-service, reporting-service and
// monitoring-service), plus analytics-service (governance beyond it) and
// keyjwt-service (private_key_jwt), as a stack file that `lakegate demo`
// writes on first run.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "config/stack_config.h"

namespace lakegate::app {

// The demo's private_key_jwt client (keyjwt-service): its id and its public
// key as an inline JWK Set.
struct DemoKeyClient {
  std::string client_id;  // "" leaves the client out
  std::string jwks_json;
};

// The stack file text for a demo listening on `port`. A non-empty
// `state_url` (a shared state store, e.g. postgresql://...) is recorded as
// `state: {url: ...}`, so admin commands with `--config DIR/stack.yaml` act on
// that store. A non-empty `engine_url` (the lake in PostgreSQL) is recorded
// as `engine: {url: ...}` the same way.
std::string DemoStackYaml(int port, const DemoKeyClient& key_client = {},
                          std::string_view state_url = {}, std::string_view engine_url = {});

// Makes keyjwt-service's key pair (ES256) and writes
// `secrets_dir`/keyjwt-service.json, mode 0600: {"client_id", "kid",
// "private_key_pem"} (PKCS#8). The kid is the key's RFC 7638 thumbprint.
Result<DemoKeyClient> WriteDemoKeyClient(const std::string& secrets_dir);

// Creates DIR and DIR/stack.yaml on first run, with keyjwt-service's key file
// (an existing stack.yaml is kept, so later runs reuse the stack, and a second
// node started with the same DIR and state URL joins it). A stack file that
// records a state or engine URL may hold its password, so it is written 0600.
// Returns the stack file's path.
Result<std::string> PrepareDemoDir(const std::string& dir, int port,
                                   std::string_view state_url = {},
                                   std::string_view engine_url = {});

// The demo's HTTPS files under DIR/tls (`demo --tls-port`).
struct DemoTls {
  std::string ca_file;    // DIR/tls/ca.pem: the CA clients trust (--cacert)
  std::string cert_file;  // DIR/tls/server.pem: the server certificate
  std::string key_file;   // DIR/tls/server-key.pem (0600)
};

// Makes, on first use, a certificate authority (DIR/tls/ca.pem, its key
// DIR/tls/ca-key.pem 0600, EC P-256, 10 years) and a server certificate it
// signs for localhost and 127.0.0.1 (2 years); later runs reuse them.
Result<DemoTls> PrepareDemoTls(const std::string& dir);

// Points `stack` at the demo's HTTPS files: plain HTTP stays on listen.port,
// HTTPS on `tls_port`, clients may present certificates (tls_client_auth
// ones chaining to the demo CA), and every token requested with one is bound
// to it.
void EnableDemoTls(config::StackConfig& stack, const DemoTls& tls, int tls_port);

inline constexpr int64_t kDemoMembers = 1000;

// Creates analytics.members with 1,000 deterministic rows in the engine
// `engine_url` (a lake directory or an engine URL, app/engines.h) when it does
// not exist yet.
Status PrepareDemoData(const std::string& engine_url);

}  // namespace lakegate::app
