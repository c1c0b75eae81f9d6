#include "app/server_app.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <thread>
#include <unordered_map>

#include "app/access_keys.h"
#include "app/apply.h"
#include "app/demo.h"
#include "app/engines.h"
#include "app/routes.h"
#include "app/state_keys.h"
#include "app/stores.h"
#include "app/trino_link.h"
#include "audit/audit_log.h"
#include "audit/metrics.h"
#include "catalog/policy_catalog.h"
#include "common/clock.h"
#include "common/files.h"
#include "common/log.h"
#include "common/thread_annotations.h"
#include "common/thread_pool.h"
#include "crypto/hash.h"
#include "crypto/x509.h"
#include "engine/demo_members.h"
#include "gateway/async_api.h"
#include "gateway/async_queries.h"
#include "gateway/athena_api.h"
#include "gateway/bearer_authenticator.h"
#include "gateway/jwks_fetcher.h"
#include "gateway/own_issuer.h"
#include "gateway/pipeline.h"
#include "gateway/sigv4_authenticator.h"
#include "http/server.h"
#include "oauth/access_key.h"
#include "oauth/authorization_server.h"
#include "oauth/client_secret.h"
#include "oauth/dpop.h"
#include "store/state_cache.h"
#include "store/store.h"

namespace lakegate::app {
namespace {

class HttpMetricsObserver final : public http::RequestObserver {
 public:
  explicit HttpMetricsObserver(audit::Metrics& metrics)
      : requests_(metrics.AddCounter("lakegate_http_requests_total",
                                     "HTTP requests by route and status", {"route", "status"})),
        latency_(metrics.AddHistogram("lakegate_http_request_duration_seconds",
                                      "HTTP request latency by route", {"route"},
                                      {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                       0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30})) {}

  void OnRequest(std::string_view route, int status, double latency_seconds) override {
    char code[8];
    std::snprintf(code, sizeof code, "%d", status);
    requests_.Inc({route, code});
    latency_.Observe({route}, latency_seconds);
  }

 private:
  audit::Counter& requests_;
  audit::Histogram& latency_;
};

// Queries block on the engine for up to their timeout, so the pool is larger
// than the core count by default: one client's slow queries (capped per
// client) must not stall everybody else's.
size_t WorkerCount(const config::StackConfig& stack) {
  if (stack.query.workers > 0) return static_cast<size_t>(stack.query.workers);
  return std::max(16u, 4 * std::max(1u, std::thread::hardware_concurrency()));
}

// The gateway's settings from the stack file.
gateway::GatewayOptions GatewayOptionsFrom(const config::StackConfig& stack) {
  gateway::GatewayOptions o;
  for (const auto& spec : stack.trusted_issuers) {
    gateway::TrustedIssuer issuer;
    issuer.issuer = spec.issuer;
    issuer.jwks_uri = spec.jwks_uri;
    issuer.audience = spec.audience;
    issuer.token_use = spec.token_use;
    issuer.require_at_jwt_typ = spec.require_at_jwt_typ;
    issuer.require_client_id = spec.require_client_id;
    issuer.refresh_min_interval = std::chrono::seconds(spec.refresh_min_interval_seconds);
    o.trusted_issuers.push_back(std::move(issuer));
  }
  const config::QuerySpec& q = stack.query;
  o.scopes.read = q.read_scope;
  o.scopes.write = q.write_scope;
  o.scopes.admin = q.admin_scope;
  std::string own_issuer = stack.issuer;
  while (!own_issuer.empty() && own_issuer.back() == '/') own_issuer.pop_back();
  for (const auto& rule : stack.client_rules) {
    std::string rule_issuer = rule.issuer;
    while (!rule_issuer.empty() && rule_issuer.back() == '/') rule_issuer.pop_back();
    // Naming our own issuer is the same as naming none.
    if (!own_issuer.empty() && rule_issuer == own_issuer) rule_issuer.clear();
    if (!rule.client_id.empty() && rule_issuer.empty() && !stack.trusted_issuers.empty()) {
      log::Info("role rule for client_id " + rule.client_id +
                " names no issuer: it matches lakegate's own tokens only; add `issuer:` to map "
                "a trusted issuer's client");
    }
    o.client_rules.push_back({rule.client_id, rule.client_name, rule.role, std::move(rule_issuer)});
  }
  for (const auto& rule : stack.scope_rules) o.scope_rules.push_back({rule.scope, rule.role});
  o.default_database = q.default_database;
  o.query_timeout = std::chrono::seconds(q.timeout_seconds);
  o.max_rows = q.max_rows;
  o.max_result_bytes = q.max_result_bytes;
  o.max_query_memory_bytes = q.max_memory_bytes;
  o.max_concurrent_per_client = static_cast<int>(q.max_concurrent_per_client);
  o.max_queued_per_client = static_cast<int>(q.max_queued_per_client);
  o.max_pool_backlog = q.max_backlog > 0 ? static_cast<size_t>(q.max_backlog) : WorkerCount(stack);
  o.audit_sql = q.audit_sql;
  return o;
}

// The issuer of nodes that share a state store without `issuer:` in the stack
// file: the first node's URL, recorded in the store ("issuer" setting) in one
// transaction, so that every node puts the same `iss` in its tokens and
// accepts the others' (nodes started at the same moment agree too).
Result<std::string> SharedIssuer(store::Store& store, const std::string& own_url) {
  std::string issuer;
  LG_RETURN_IF_ERROR(store.RunInTransaction([&](store::Store& tx) -> Status {
    LG_ASSIGN_OR_RETURN(std::optional<std::string> recorded, tx.GetSetting("issuer"));
    if (recorded) {
      issuer = *recorded;
      return Status::Ok();
    }
    issuer = own_url;
    return tx.PutSetting("issuer", issuer);
  }));
  return issuer;
}

// The keys of private_key_jwt clients registered with a jwks_uri: one
// RemoteIssuer per URI, so they are fetched, cached and refreshed exactly like
// a trusted issuer's (at most one fetch per minute for an unknown kid).
class ClientJwksCache {
 public:
  ClientJwksCache(const gateway::GatewayOptions& options, gateway::JwksFetcher& fetcher)
      : options_(options), fetcher_(fetcher) {}

  Result<std::shared_ptr<const jose::KeySet>> KeysFor(const std::string& uri, std::string_view kid)
      EXCLUDES(mu_) {
    std::shared_ptr<gateway::RemoteIssuer> keys;
    {
      MutexLock lock(mu_);
      auto it = by_uri_.find(uri);
      if (it == by_uri_.end()) {
        if (by_uri_.size() >= kMaxUris) by_uri_.clear();
        gateway::TrustedIssuer config;
        config.issuer = uri;
        config.jwks_uri = uri;
        it = by_uri_
                 .emplace(uri, std::make_shared<gateway::RemoteIssuer>(config, options_, fetcher_,
                                                                       SystemClock::Get()))
                 .first;
      }
      keys = it->second;
    }
    return keys->KeysFor(kid);
  }

 private:
  static constexpr size_t kMaxUris = 10000;
  const gateway::GatewayOptions& options_;
  gateway::JwksFetcher& fetcher_;
  Mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<gateway::RemoteIssuer>> by_uri_ GUARDED_BY(mu_);
};

// RFC 8705 at the token endpoint, from the stack's mtls section: the trust
// anchors for tls_client_auth (read once at start) and, when HTTPS runs on a
// port of its own, that listener's URL for mtls_endpoint_aliases.
Result<oauth::MutualTlsServerOptions> MutualTlsOptionsFrom(const config::StackConfig& stack,
                                                           const std::string& tls_url) {
  oauth::MutualTlsServerOptions mtls;
  if (!stack.mtls.enabled) return mtls;
  mtls.enabled = true;
  mtls.endpoint_base = tls_url;
  mtls.bind_all_tokens = stack.mtls.bind_all_tokens;
  if (!stack.mtls.ca_file.empty()) {
    Result<std::string> pem = ReadFile(stack.mtls.ca_file);
    if (!pem.ok()) {
      return InvalidArgumentError("mtls.ca_file " + stack.mtls.ca_file +
                                  " cannot be read: " + pem.status().message());
    }
    Result<crypto::TrustAnchors> anchors = crypto::TrustAnchors::FromPem(*pem);
    if (!anchors.ok()) {
      return InvalidArgumentError("mtls.ca_file " + stack.mtls.ca_file + ": " +
                                  anchors.status().message() +
                                  "; give the PEM certificates of the CAs that issue client "
                                  "certificates");
    }
    mtls.trust_anchors = std::make_shared<const crypto::TrustAnchors>(std::move(*anchors));
  }
  return mtls;
}

}  // namespace

// Start() sets every member before it binds the routes and starts the
// reloader thread, and the parts are thread-safe themselves: the reloader's
// stop flag and the store's health are the only state written while serving.
struct ServerApp::Impl {
  ServeOptions options;
  std::string state_dir;
  std::string issuer;
  std::string listen_url;  // the bound address, e.g. http://127.0.0.1:8080
  std::string node_name;
  gateway::GatewayOptions gateway_options;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<store::StateCache> state;
  std::unique_ptr<audit::AuditLog> audit;
  audit::Metrics metrics;
  std::unique_ptr<HttpMetricsObserver> observer;
  std::unique_ptr<ThreadPool> workers;
  std::unique_ptr<Routes> routes;
  std::unique_ptr<http::Server> server;
  // The HTTPS listener beside the plain one (listen.tls_port); same routes.
  std::unique_ptr<http::Server> tls_server;
  std::string tls_url;
  // When the state store last failed to answer the reloader (Unix ms; 0 = it
  // answers). Written by the reloader, read by /readyz: atomic, no lock.
  std::atomic<int64_t> store_failing_since_ms{0};
  // Pushes the store's change hints to the reloader (null: it only polls).
  std::unique_ptr<store::Store::Subscription> changes;

  // The authorization server (serve_auth only), and the keys of its clients
  // registered by jwks_uri.
  std::unique_ptr<oauth::AuthorizationServer> auth;
  std::unique_ptr<gateway::JwksFetcher> client_jwks_fetcher;
  std::unique_ptr<ClientJwksCache> client_jwks;
  // The query API (serve_query only).
  std::unique_ptr<engine::Engine> engine;
  // The governed Trino cluster, when the engine is one (app/trino_link.h).
  std::unique_ptr<TrinoLink> trino;
  // The policy version new queries use; running queries hold the snapshot
  // they started with.
  std::unique_ptr<catalog::PolicyCatalog> catalog;
  std::unique_ptr<gateway::JwksFetcher> fetcher;
  // DPoP proofs (RFC 9449) at both ends: the options the token endpoint and
  // the query API share, and the query API's verifier.
  oauth::DpopOptions dpop_options;
  std::unique_ptr<oauth::DpopVerifier> dpop;
  std::unique_ptr<gateway::BearerAuthenticator> authenticator;
  // AWS Signature Version 4 with the clients' access keys (the Athena routes).
  std::unique_ptr<gateway::SigV4Authenticator> sigv4;
  // The failed-authentication buckets every client-authentication door
  // charges (token endpoint, SigV4).
  std::shared_ptr<oauth::FailedAuthLimits> failed_auth;
  std::unique_ptr<gateway::Pipeline> pipeline;
  std::unique_ptr<gateway::QueryService> query;
  std::unique_ptr<gateway::AdminApi> admin;
  // Asynchronous executions (their results spooled under the state dir),
  // and the two APIs over them: /v1/queries and the Athena protocol.
  std::unique_ptr<gateway::AsyncQueries> async;
  std::unique_ptr<gateway::AsyncApi> async_api;
  std::unique_ptr<gateway::AthenaApi> athena;

  Mutex reload_mutex;
  CondVar reload_cv;  // `stopping` or `changed` was set
  bool stopping GUARDED_BY(reload_mutex) = false;
  bool changed GUARDED_BY(reload_mutex) = false;  // the store pushed a change hint
  std::thread reloader;

  Status StartAuth(SecretString hash_key);
  // `hash_key` opens the clients' AWS access keys (SigV4 on the Athena routes).
  Status StartQuery(const SecretString& hash_key);
  void ReloadLoop() EXCLUDES(reload_mutex);
  // Records whether the store answered the reloader (readiness, one log line
  // per outage).
  void NoteStoreHealth(const Status& refreshed, int64_t now_ms);
  // A change hint from the store: wake the reloader now.
  void OnStoreChange() EXCLUDES(reload_mutex);
  // Makes the latest stored policy version current for new queries.
  void RefreshPolicy();
};

void ServerApp::Impl::ReloadLoop() {
  // A policy saved between Start() loading it and the first tick would
  // otherwise wait for the next store change.
  if (options.serve_query) RefreshPolicy();
  // A store change (a CLI grant, a new client, a rotated key, another node's
  // revocation) reaches new requests at once when the store pushes a hint,
  // and within one tick otherwise: the tick is the fallback for a missed
  // hint, and the store's change counter makes it cheap.
  constexpr auto kTick = std::chrono::milliseconds(250);
  constexpr int64_t kMaintainEveryMs = 60'000;
  int64_t last_maintained_ms = SystemClock::Get().NowMillis();
  auto woken = [this]() REQUIRES(reload_mutex) { return stopping || changed; };
  MutexLock lock(reload_mutex);
  while (true) {
    reload_cv.WaitFor(reload_mutex, kTick, woken);
    if (stopping) break;
    changed = false;
    lock.Unlock();
    // Once a minute the authorization server forgets keys and revocations
    // nobody can use any more (and refreshes the state itself).
    const int64_t now = SystemClock::Get().NowMillis();
    const bool due = auth && now - last_maintained_ms >= kMaintainEveryMs;
    if (due) last_maintained_ms = now;
    Status refreshed = due ? auth->Maintain(/*at_startup=*/false) : state->Refresh();
    NoteStoreHealth(refreshed, now);
    if (options.serve_query) RefreshPolicy();
    lock.Lock();
  }
}

void ServerApp::Impl::NoteStoreHealth(const Status& refreshed, int64_t now_ms) {
  const int64_t failing_since = store_failing_since_ms.load();
  if (refreshed.ok()) {
    if (failing_since != 0) {
      log::Info("the state store answers again; changes made meanwhile are loaded");
      store_failing_since_ms = 0;
    }
    return;
  }
  if (failing_since == 0) {
    // Once per outage, not every tick.
    log::Error("the state store does not answer (" + refreshed.ToString() +
               "); serving tokens and queries from the last snapshot, writes fail until it "
               "returns");
    store_failing_since_ms = now_ms;
  }
}

void ServerApp::Impl::OnStoreChange() {
  {
    MutexLock lock(reload_mutex);
    changed = true;
  }
  reload_cv.NotifyAll();
}

void ServerApp::Impl::RefreshPolicy() {
  const uint64_t before = catalog->Current()->version;
  if (Status s = catalog->Refresh(); !s.ok()) {
    // The catalog keeps serving the last good version rather than none.
    log::Error("policy not reloaded, still using version " + std::to_string(before) + ": " +
               s.ToString());
    return;
  }
  const uint64_t now = catalog->Current()->version;
  if (now != before)
    log::Info("policy version " + std::to_string(now) + " in effect for new queries");
}

// The authorization server: keys made or checked, then the endpoints.
Status ServerApp::Impl::StartAuth(SecretString hash_key) {
  const config::StackConfig& stack = options.stack;
  oauth::AuthServerOptions auth_options;
  auth_options.issuer = issuer;
  auto alg = crypto::ParseAlgorithm(stack.tokens.algorithm);
  if (!alg) return InvalidArgumentError("unsupported token algorithm " + stack.tokens.algorithm);
  auth_options.algorithm = *alg;
  auth_options.audience = stack.tokens.audience;
  auth_options.scope_omitted_grants_all = stack.tokens.scope_omitted_grants_all;
  auth_options.failed_auth = failed_auth;
  auth_options.metrics_client_labels = stack.metrics.client_labels;
  auth_options.dpop = dpop_options;
  client_jwks_fetcher = gateway::MakeCurlJwksFetcher({});
  client_jwks = std::make_unique<ClientJwksCache>(gateway_options, *client_jwks_fetcher);
  auth_options.client_jwks_uri_keys = [cache = client_jwks.get()](const std::string& uri,
                                                                  std::string_view kid) {
    return cache->KeysFor(uri, kid);
  };
  LG_ASSIGN_OR_RETURN(auth_options.mtls, MutualTlsOptionsFrom(stack, tls_url));
  auth = std::make_unique<oauth::AuthorizationServer>(auth_options, *store, *state,
                                                      oauth::SecretHasher(std::move(hash_key)),
                                                      SystemClock::Get(), audit.get(), &metrics);
  return auth->Maintain(/*at_startup=*/true);
}

// The query API over the lake: engine, bearer authentication (our own tokens
// from the state snapshot, like any trusted issuer's), query service and
// admin API.
Status ServerApp::Impl::StartQuery(const SecretString& hash_key) {
  const config::StackConfig& stack = options.stack;
  const bool on_trino = IsTrinoEngineUrl(stack.query.engine());
  if (stack.query.engine_url.empty())
    LG_RETURN_IF_ERROR(MakeDirectories(stack.query.lake_dir, 0700));
  // The key of the keyed-hash column mask lives beside the secret hash key, so
  // masked values stay the same across restarts and nodes (joins on them keep
  // working).
  LG_ASSIGN_OR_RETURN(SecretString mask_key, LoadStateKey(StateKey::kMask, stack, *store));
  engine::EngineSettings engine_settings;
  if (on_trino) {
    LG_ASSIGN_OR_RETURN(trino, TrinoLink::Open(
                                   stack.query.engine(), issuer, gateway_options,
                                   [this] { return catalog->Current(); }, mask_key, &metrics));
    state->Subscribe([link = trino.get()](const std::shared_ptr<const store::StateSnapshot>& s) {
      link->OnState(s);
    });
    engine_settings.bearer_token = [link = trino.get()](std::string_view principal) {
      return link->Mint(principal);
    };
  }
  engine_settings.mask_hash_key = std::move(mask_key);
  LG_ASSIGN_OR_RETURN(
      engine, OpenEngines(stack.query.engine(), stack.query.engine_databases, engine_settings));
  catalog = std::make_unique<catalog::PolicyCatalog>(*store);
  LG_RETURN_IF_ERROR(catalog->Refresh());
  LG_RETURN_IF_ERROR(gateway::ValidateGatewayOptions(gateway_options));

  fetcher = gateway::MakeCurlJwksFetcher({});
  std::vector<std::unique_ptr<gateway::TokenIssuer>> issuers;
  issuers.push_back(
      std::make_unique<gateway::OwnIssuer>(issuer, gateway_options, *state, SystemClock::Get()));
  for (const gateway::TrustedIssuer& trusted : gateway_options.trusted_issuers) {
    issuers.push_back(std::make_unique<gateway::RemoteIssuer>(trusted, gateway_options, *fetcher,
                                                              SystemClock::Get()));
  }
  dpop = std::make_unique<oauth::DpopVerifier>(dpop_options, *store, SystemClock::Get());
  authenticator = std::make_unique<gateway::BearerAuthenticator>(
      gateway_options, std::move(issuers), SystemClock::Get(), dpop.get());
  audit::AuditLog* audit_log = audit.get();
  auto current_policy = [this] { return catalog->Current(); };
  pipeline = std::make_unique<gateway::Pipeline>(
      gateway_options, *authenticator, current_policy, *workers, SystemClock::Get(),
      [audit_log](std::string_view line) { audit_log->Record(line); }, &metrics);
  query = std::make_unique<gateway::QueryService>(*pipeline, *engine);
  gateway::AsyncOptions async_options;
  async_options.spool_dir = stack.query.async_spool_dir.empty() ? state_dir + "/async-results"
                                                                : stack.query.async_spool_dir;
  async_options.timeout = std::chrono::seconds(stack.query.async_timeout_seconds);
  async_options.max_rows = stack.query.async_max_rows;
  async_options.max_result_bytes = stack.query.async_max_result_bytes;
  async_options.max_memory_bytes = stack.query.max_memory_bytes;
  async_options.retention = std::chrono::seconds(stack.query.async_retention_seconds);
  LG_ASSIGN_OR_RETURN(async,
                      gateway::AsyncQueries::Open(std::move(async_options), *engine, query->slots(),
                                                  *workers, SystemClock::Get()));
  async_api = std::make_unique<gateway::AsyncApi>(*async, pipeline->options());
  // SigV4 yields the same Identity as a token of the key's client; its
  // failures charge the token endpoint's failed-authentication buckets.
  gateway::SigV4Options sigv4_options;
  sigv4_options.failed_auth = failed_auth;
  sigv4 = std::make_unique<gateway::SigV4Authenticator>(
      sigv4_options, [cache = state.get()] { return cache->Current(); },
      oauth::AccessKeySealer(hash_key), issuer, SystemClock::Get());
  athena =
      std::make_unique<gateway::AthenaApi>(*async, *engine, *authenticator, pipeline->options(),
                                           [verifier = sigv4.get()](const http::Request& request) {
                                             return verifier->Authenticate(request);
                                           });
  auto write_policy = [this](const std::string& author,
                             const std::function<Status(policy::PolicySnapshot&)>& change)
      -> Result<gateway::AdminApi::PolicyWrite> {
    // In effect for new queries when it returns.
    LG_ASSIGN_OR_RETURN(catalog::PolicyUpdate update, catalog->Update(author, change));
    return gateway::AdminApi::PolicyWrite{update.old_version, update.new_version,
                                          std::move(update.changes)};
  };
  admin = std::make_unique<gateway::AdminApi>(current_policy, write_policy,
                                              gateway_options.scopes.admin);
  return Status::Ok();
}

ServerApp::ServerApp(ServeOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

ServerApp::~ServerApp() { Stop(); }

Status ServerApp::Start() {
  Impl& d = *impl_;
  const config::StackConfig& stack = d.options.stack;
  if (!d.options.serve_auth && !d.options.serve_query) {
    return InvalidArgumentError("--components names nothing to serve; use auth, query or both");
  }
  if (!(d.options.serve_auth && d.options.serve_query) && stack.issuer.empty()) {
    return InvalidArgumentError(
        "serving only some components needs `issuer:` in the stack file (e.g. the auth "
        "server's public URL): every process must put the same issuer in tokens and expect it");
  }
  d.state_dir = stack.state_dir;
  LG_RETURN_IF_ERROR(MakeDirectories(d.state_dir, 0700));
  const std::string store_url = ChooseStoreUrl(d.options.state_url, stack);
  LG_ASSIGN_OR_RETURN(d.store, OpenStore(store_url));
  if (IsSharedStoreUrl(store_url)) log::Info("state store: " + RedactStoreUrl(store_url));
  // Checked against the store before anything is written with it: a node
  // with another key must not start (docs/high-availability.md).
  LG_ASSIGN_OR_RETURN(SecretString hash_key, LoadStateKey(StateKey::kSecretHash, stack, *d.store));

  LG_ASSIGN_OR_RETURN(ApplyResult applied,
                      ApplyStack(stack, *d.store, oauth::SecretHasher(hash_key), SystemClock::Get(),
                                 SecretsDir(stack), false));
  if (!d.options.quiet_apply && !applied.changes.empty()) {
    std::cout << FormatChanges(applied, false) << std::flush;
  }
  if (d.options.demo_access_keys) {
    LG_RETURN_IF_ERROR(EnsureDemoAccessKeys(stack, *d.store, oauth::AccessKeySealer(hash_key),
                                            SecretsDir(stack), SystemClock::Get().NowSeconds()));
  }

  std::string audit_path = stack.audit.path.empty() ? d.state_dir + "/audit.log" : stack.audit.path;
  LG_ASSIGN_OR_RETURN(d.audit, audit::AuditLog::Open(audit_path));

  http::ServerOptions http_options;
  http_options.address =
      d.options.address_override.empty() ? stack.listen.address : d.options.address_override;
  http_options.port = static_cast<uint16_t>(d.options.port_override >= 0 ? d.options.port_override
                                                                         : stack.listen.port);
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  http_options.threads = stack.listen.threads > 0 ? stack.listen.threads : static_cast<int>(cores);
  // HTTPS on listen.port itself, or on listen.tls_port beside plain HTTP.
  const bool separate_tls = stack.listen.tls_port >= 0 && !stack.listen.tls_cert.empty();
  if (stack.mtls.enabled && stack.listen.tls_cert.empty()) {
    return InvalidArgumentError(
        "mtls needs an HTTPS listener: set listen.tls_cert and listen.tls_key (and "
        "listen.tls_port to keep plain HTTP on listen.port)");
  }
  http::ServerOptions tls_options = http_options;
  tls_options.tls_cert_file = stack.listen.tls_cert;
  tls_options.tls_key_file = stack.listen.tls_key;
  tls_options.request_client_certificates = stack.mtls.enabled;
  if (separate_tls) {
    tls_options.port = static_cast<uint16_t>(stack.listen.tls_port);
  } else {
    http_options = tls_options;
  }

  d.workers = std::make_unique<ThreadPool>(WorkerCount(stack), 4096);
  d.gateway_options = GatewayOptionsFrom(stack);
  d.observer = std::make_unique<HttpMetricsObserver>(d.metrics);
  d.routes = std::make_unique<Routes>(RouteSelection{d.options.serve_auth, d.options.serve_query,
                                                     d.gateway_options.max_query_bytes},
                                      d.metrics);
  d.server =
      std::make_unique<http::Server>(http_options, d.routes->BuildRouter(), d.observer.get());
  LG_RETURN_IF_ERROR(d.server->Start());
  if (separate_tls) {
    d.tls_server =
        std::make_unique<http::Server>(tls_options, d.routes->BuildRouter(), d.observer.get());
    if (Status s = d.tls_server->Start(); !s.ok()) {
      d.server->Stop(std::chrono::milliseconds(0));
      return s;
    }
  }

  {
    std::string host = http_options.address;
    if (host == "0.0.0.0" || host == "::" || host.empty()) host = "127.0.0.1";
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    d.listen_url = std::string(http_options.tls_cert_file.empty() ? "http://" : "https://") + host +
                   ":" + std::to_string(d.server->port());
    if (d.tls_server) d.tls_url = "https://" + host + ":" + std::to_string(d.tls_server->port());
  }
  d.node_name = d.options.node_name;
  if (d.node_name.empty()) {
    char host[256] = {};
    if (gethostname(host, sizeof host - 1) != 0 || host[0] == '\0') std::strcpy(host, "lakegate");
    d.node_name = std::string(host) + ":" + std::to_string(d.server->port());
  }
  d.audit->SetNode(d.node_name);
  d.metrics.SetConstantLabel("node", d.node_name);
  d.issuer = stack.issuer.empty() ? d.listen_url : stack.issuer;
  if (stack.issuer.empty() && IsSharedStoreUrl(store_url)) {
    Result<std::string> shared = SharedIssuer(*d.store, d.listen_url);
    if (!shared.ok()) {
      d.server->Stop(std::chrono::milliseconds(0));
      if (d.tls_server) d.tls_server->Stop(std::chrono::milliseconds(0));
      return shared.status();
    }
    d.issuer = std::move(*shared);
    log::Info("issuer " + d.issuer +
              " (recorded in the shared state store by its first node; set `issuer:` in the "
              "stack file to the URL clients use, e.g. the load balancer's)");
  }
  while (!d.issuer.empty() && d.issuer.back() == '/') d.issuer.pop_back();
  // A DPoP proof names the URL the client addressed: the issuer's, or this
  // node's own. Nonces are an HMAC under a key every node sharing the store
  // derives alike from the secret-hash key.
  d.dpop_options.base_urls = {d.issuer};
  if (d.listen_url != d.issuer) d.dpop_options.base_urls.push_back(d.listen_url);
  if (!d.tls_url.empty() && d.tls_url != d.issuer) d.dpop_options.base_urls.push_back(d.tls_url);
  d.dpop_options.require_nonce = stack.tokens.dpop_nonce;
  d.dpop_options.nonce_key = crypto::HmacSha256(hash_key.Reveal(), "lakegate dpop nonce key");

  d.failed_auth = std::make_shared<oauth::FailedAuthLimits>(oauth::ClientAuthLimits{
      .failed_per_minute_per_client = stack.limits.failed_auth_per_minute_per_client,
      .failed_per_minute_per_client_address =
          stack.limits.failed_auth_per_minute_per_client_address,
      .failed_per_minute_per_address = stack.limits.failed_auth_per_minute_per_address,
  });
  d.state = std::make_unique<store::StateCache>(*d.store);
  const SecretString query_hash_key = hash_key;
  Status started = d.options.serve_auth ? d.StartAuth(std::move(hash_key)) : d.state->Refresh();
  if (started.ok() && d.options.serve_query) started = d.StartQuery(query_hash_key);
  if (!started.ok()) {
    d.server->Stop(std::chrono::milliseconds(0));
    if (d.tls_server) d.tls_server->Stop(std::chrono::milliseconds(0));
    return started;
  }
  Services services;
  services.auth = d.auth.get();
  services.pipeline = d.pipeline.get();
  services.query = d.query.get();
  services.admin = d.admin.get();
  services.async = d.async_api.get();
  services.athena = d.athena.get();
  services.workers = d.workers.get();
  services.trino = d.trino.get();
  services.store_failing_since_ms = [&d] { return d.store_failing_since_ms.load(); };
  d.routes->Bind(services);
  if (d.options.load_demo_data && d.engine) {
    if (Status s = engine::LoadDemoMembers(*d.engine, kDemoMembers); !s.ok()) {
      d.server->Stop(std::chrono::milliseconds(0));
      return s;
    }
  }
  d.reloader = std::thread([&d] { d.ReloadLoop(); });
  // A store shared by many nodes pushes change hints; without them the
  // reloader's tick still finds every change.
  Result<std::unique_ptr<store::Store::Subscription>> changes =
      d.store->SubscribeToChanges([&d] { d.OnStoreChange(); });
  if (changes.ok()) {
    d.changes = std::move(*changes);
  } else {
    log::Warn("no change notifications from the state store (" + changes.status().ToString() +
              "); changes are found by polling every 250 ms");
  }
  return Status::Ok();
}

void ServerApp::Stop() {
  Impl& d = *impl_;
  if (d.tls_server) d.tls_server->Stop(std::chrono::milliseconds(5000));
  if (d.server) d.server->Stop(std::chrono::milliseconds(5000));
  d.changes.reset();  // no more hints: waits for a running one
  {
    MutexLock lock(d.reload_mutex);
    d.stopping = true;
  }
  d.reload_cv.NotifyAll();
  if (d.reloader.joinable()) d.reloader.join();
  // Running asynchronous queries stop now rather than hold the drain below
  // for up to their timeout.
  if (d.async) d.async->Stop();
  d.workers.reset();  // runs what is queued, then joins
  if (d.audit) d.audit->Flush();
}

uint16_t ServerApp::port() const { return impl_->server ? impl_->server->port() : 0; }
const std::string& ServerApp::issuer() const { return impl_->issuer; }
const std::string& ServerApp::node_name() const { return impl_->node_name; }
std::string ServerApp::base_url() const { return impl_->listen_url; }
std::string ServerApp::tls_base_url() const { return impl_->tls_url; }

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int WaitForTerminationSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace lakegate::app
