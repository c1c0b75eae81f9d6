// ServerApp: the composition root of `lakegate serve` and `lakegate demo`.
// Builds the object graph from a stack file (store, audit log, metrics,
// authorization server, HTTP server, worker pool), applies the stack file to
// the store, serves, reloads snapshots when the store changes (another
// process ran `lakegate client ...`, `lakegate key rotate`, or changed the
// policy with `lakegate grant`/`filter`/`tag`: a new policy version is swapped
// in for new queries, running ones keep theirs), and stops
// gracefully. Start/Stop from one thread; the parts it owns are thread-safe.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "config/stack_config.h"

namespace lakegate::app {

struct ServeOptions {
  config::StackConfig stack;
  int port_override = -1;        // >= 0 replaces stack.listen.port (0 = ephemeral)
  std::string address_override;  // non-empty replaces stack.listen.address
  bool quiet_apply = false;      // do not print the change set
  // Which parts this process serves (`serve --components`). Both by default;
  // a process that serves only one of them needs stack.issuer set, so that
  // the auth process's tokens carry the issuer the query process expects.
  // A query-only process still reads signing keys, clients and revocations
  // from the shared state store to verify tokens; an auth-only process does
  // not open the lake.
  bool serve_auth = true;
  bool serve_query = true;
  // This node's name in every audit line ("node") and every metrics series
  // (label node): which of many nodes behind a load balancer did what.
  // Empty: the host name and the bound port ("host-1:8080").
  std::string node_name = {};
  // The state store URL from --state; "" = $LAKEGATE_STATE_URL, else the
  // stack's state.url, else SQLite in state_dir (app/stores.h ChooseStoreUrl).
  std::string state_url = {};
  // `lakegate demo`: every client of the stack gets an AWS access key and its
  // <secrets>/<client>-aws.json file once (app/access_keys.h).
  bool demo_access_keys = false;
  // Load the demo's table (analytics.members) into the engine once serving,
  // when it is missing: for engines that need the running server (Trino
  // authenticates the load with this server's token).
  bool load_demo_data = false;
};

class ServerApp {
 public:
  explicit ServerApp(ServeOptions options);
  ~ServerApp();

  // Opens the store, applies the stack file, binds and starts serving.
  // Returns an error that says what to do (port in use, unreadable state dir).
  Status Start();
  // Stops accepting, finishes in-flight requests (up to 5 s) and joins threads.
  void Stop();
  uint16_t port() const;
  // The URL of the bound socket (http[s]://address:port); the issuer may
  // differ (stack.issuer, e.g. behind a proxy).
  std::string base_url() const;
  // The URL of the HTTPS listener that runs next to a plain one
  // (listen.tls_port), "" when there is none.
  std::string tls_base_url() const;
  const std::string& issuer() const;
  // This node's name (ServeOptions::node_name or its default).
  const std::string& node_name() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Blocks SIGINT/SIGTERM in the calling thread (call before starting any thread)
// and returns a function that waits for one of them.
void BlockTerminationSignals();
int WaitForTerminationSignal();

}  // namespace lakegate::app
