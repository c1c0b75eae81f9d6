#include "app/server_app.h"

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "app/apply.h"
#include "app/engines.h"
#include "app/policy_admin.h"
#include "audit/audit_log.h"
#include "audit/metrics.h"
#include "common/clock.h"
#include "common/files.h"
#include "common/log.h"
#include "common/thread_pool.h"
#include "gateway/admin_api.h"
#include "gateway/bearer_authenticator.h"
#include "gateway/jwks_fetcher.h"
#include "gateway/query_service.h"
#include "http/server.h"
#include "oauth/authorization_server.h"
#include "store/sqlite_store.h"
#include "store/store.h"

namespace lakegate::app {
namespace {

class HttpMetricsObserver final : public http::RequestObserver {
 public:
  explicit HttpMetricsObserver(audit::Metrics& metrics)
      : requests_(metrics.AddCounter("lakegate_http_requests_total",
                                     "HTTP requests by route and status", {"route", "status"})),
        latency_(metrics.AddHistogram(
            "lakegate_http_request_duration_seconds", "HTTP request latency by route", {"route"},
            {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
             2.5, 5, 10, 30})) {}

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

http::Response ToHttp(oauth::EndpointResponse r) {
  http::Response out;
  out.status = r.status;
  out.body = std::move(r.body);
  out.headers.reserve(r.headers.size());
  for (auto& [name, value] : r.headers) out.headers.push_back({std::move(name), std::move(value)});
  return out;
}

oauth::EndpointRequest FromHttp(const http::Request& r) {
  return oauth::EndpointRequest{r.GetHeader("content-type"), r.GetHeader("authorization"), r.body,
                                r.remote_address};
}

http::Response JsonResponse(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

http::Response NotReady() {
  http::Response r = JsonResponse(503, "{\"error\":\"temporarily_unavailable\","
                                       "\"error_description\":\"the server is starting\"}");
  r.headers.push_back({"Retry-After", "1"});
  return r;
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
  for (const auto& rule : stack.client_rules) {
    o.client_rules.push_back({rule.client_id, rule.client_name, rule.role});
  }
  for (const auto& rule : stack.scope_rules) o.scope_rules.push_back({rule.scope, rule.role});
  o.default_database = q.default_database;
  o.query_timeout = std::chrono::seconds(q.timeout_seconds);
  o.max_rows = q.max_rows;
  o.max_result_bytes = q.max_result_bytes;
  o.max_concurrent_per_client = static_cast<int>(q.max_concurrent_per_client);
  o.max_queued_per_client = static_cast<int>(q.max_queued_per_client);
  o.audit_sql = q.audit_sql;
  return o;
}

}  // namespace

struct ServerApp::Impl {
  ServeOptions options;
  std::string state_dir;
  std::string issuer;
  std::string listen_url;  // the bound address, e.g. http://127.0.0.1:8080
  std::unique_ptr<store::Store> store;
  std::unique_ptr<audit::AuditLog> audit;
  audit::Metrics metrics;
  std::unique_ptr<HttpMetricsObserver> observer;
  std::unique_ptr<oauth::AuthorizationServer> auth_owner;
  std::atomic<oauth::AuthorizationServer*> auth{nullptr};
  std::unique_ptr<ThreadPool> workers;
  // The query API. Built once the issuer is known; the routes reach it
  // through `query`, which stays null until then (503).
  std::unique_ptr<engine::Engine> engine;
  // The policy version new queries use: the latest one in the store, swapped
  // with std::atomic_store by the reload loop. Running queries hold the
  // snapshot they started with.
  std::shared_ptr<const policy::PolicySnapshot> policy;
  std::unique_ptr<gateway::JwksFetcher> fetcher;
  std::unique_ptr<gateway::BearerAuthenticator> authenticator;
  std::unique_ptr<gateway::QueryService> query_owner;
  std::atomic<gateway::QueryService*> query{nullptr};
  std::unique_ptr<gateway::AdminApi> admin_owner;
  std::atomic<gateway::AdminApi*> admin{nullptr};
  std::unique_ptr<http::Server> server;
  std::atomic<bool> store_healthy{true};

  // Serializes ReloadPolicy() between the reload loop and admin API writes,
  // so an older version never replaces a newer one.
  std::mutex policy_reload_mutex;
  std::mutex reload_mutex;
  std::condition_variable reload_cv;
  bool stopping = false;  // GUARDED_BY(reload_mutex)
  std::thread reloader;

  http::Router BuildRouter();
  void AddAuthRoutes(http::Router& router);
  void AddQueryRoutes(http::Router& router);
  void AddOperationalRoutes(http::Router& router);
  Status StartQuery();
  void ReloadLoop();
  // Loads the latest policy version when it is newer than the one in use.
  void ReloadPolicy();
};

http::Router ServerApp::Impl::BuildRouter() {
  http::Router router;
  if (options.serve_auth) AddAuthRoutes(router);
  if (options.serve_query) AddQueryRoutes(router);
  AddOperationalRoutes(router);
  return router;
}

void ServerApp::Impl::AddAuthRoutes(http::Router& router) {
  constexpr size_t kOAuthBodyLimit = 16 * 1024;
  auto endpoint = [this](oauth::EndpointResponse (oauth::AuthorizationServer::*method)(
                      const oauth::EndpointRequest&)) {
    return [this, method](std::shared_ptr<http::Exchange> ex) {
      oauth::AuthorizationServer* a = auth.load(std::memory_order_acquire);
      if (!a) return ex->Respond(NotReady());
      ex->Respond(ToHttp((a->*method)(FromHttp(ex->request()))));
    };
  };
  // Token issue and introspection are CPU only (snapshot reads + signing):
  // they run on the network thread, which is the fastest path.
  router.Add(http::Method::kPost, "/oauth2/token", endpoint(&oauth::AuthorizationServer::Token),
             {kOAuthBodyLimit});
  router.Add(http::Method::kPost, "/oauth2/introspect",
             endpoint(&oauth::AuthorizationServer::Introspect), {kOAuthBodyLimit});
  // Revocation writes to the store: a worker thread does it.
  router.Add(
      http::Method::kPost, "/oauth2/revoke",
      [this](std::shared_ptr<http::Exchange> ex) {
        oauth::AuthorizationServer* a = auth.load(std::memory_order_acquire);
        if (!a) return ex->Respond(NotReady());
        bool queued = workers->Submit([a, ex] { ex->Respond(ToHttp(a->Revoke(FromHttp(ex->request())))); });
        if (!queued) {
          http::Response busy = JsonResponse(
              503, "{\"error\":\"temporarily_unavailable\",\"error_description\":\"server busy\"}");
          busy.headers.push_back({"Retry-After", "1"});
          ex->Respond(std::move(busy));
        }
      },
      {kOAuthBodyLimit});

  auto get_json = [this](std::string (oauth::AuthorizationServer::*method)() const,
                         std::string cache_control) {
    return [this, method, cache_control](std::shared_ptr<http::Exchange> ex) {
      oauth::AuthorizationServer* a = auth.load(std::memory_order_acquire);
      if (!a) return ex->Respond(NotReady());
      http::Response r = JsonResponse(200, (a->*method)());
      r.headers.push_back({"Cache-Control", cache_control});
      ex->Respond(std::move(r));
    };
  };
  // Short max-age: after a rotation, verifiers pick up the new key quickly
  // (they also refetch on an unknown kid).
  router.Add(http::Method::kGet, "/.well-known/jwks.json",
             get_json(&oauth::AuthorizationServer::JwksJson, "public, max-age=60"));
  router.Add(http::Method::kGet, "/.well-known/oauth-authorization-server",
             get_json(&oauth::AuthorizationServer::MetadataJson, "public, max-age=300"));
  router.Add(http::Method::kGet, "/.well-known/openid-configuration",
             get_json(&oauth::AuthorizationServer::MetadataJson, "public, max-age=300"));

}

void ServerApp::Impl::AddQueryRoutes(http::Router& router) {
  // The query API: the service registers its routes; until it exists
  // (the first milliseconds after binding) they answer 503.
  constexpr size_t kQueryBodyLimit = 1 << 20;
  auto query_route = [this](bool catalog) {
    return [this, catalog](std::shared_ptr<http::Exchange> ex) {
      gateway::QueryService* q = query.load(std::memory_order_acquire);
      if (!q) return ex->Respond(NotReady());
      catalog ? q->HandleCatalog(std::move(ex)) : q->Handle(std::move(ex));
    };
  };
  router.Add(http::Method::kPost, "/query-client-creds", query_route(false), {kQueryBodyLimit});
  router.Add(http::Method::kPost, "/v1/query", query_route(false), {kQueryBodyLimit});
  router.Add(http::Method::kGet, "/v1/catalog", query_route(true));
  // The admin API (policy catalog, admin scope only).
  const std::pair<const char*, gateway::AdminApi::Resource> admin_routes[] = {
      {"/v1/admin/policy", gateway::AdminApi::Resource::kPolicy},
      {"/v1/admin/roles", gateway::AdminApi::Resource::kRoles},
      {"/v1/admin/filters", gateway::AdminApi::Resource::kFilters},
      {"/v1/admin/tags", gateway::AdminApi::Resource::kTags},
  };
  for (const auto& [path, resource] : admin_routes) {
    router.Add(http::Method::kGet, path, [this, r = resource](std::shared_ptr<http::Exchange> ex) {
      gateway::AdminApi* a = admin.load(std::memory_order_acquire);
      if (!a) return ex->Respond(NotReady());
      a->Handle(r, std::move(ex));
    });
  }
  // Grants and revocations: the admin scope, or delegation by grant option.
  constexpr size_t kAdminBodyLimit = 64 * 1024;
  const std::pair<const char*, gateway::AdminApi::Action> write_routes[] = {
      {"/v1/admin/grant", gateway::AdminApi::Action::kGrant},
      {"/v1/admin/revoke", gateway::AdminApi::Action::kRevoke},
  };
  for (const auto& [path, action] : write_routes) {
    router.Add(
        http::Method::kPost, path,
        [this, act = action](std::shared_ptr<http::Exchange> ex) {
          gateway::AdminApi* a = admin.load(std::memory_order_acquire);
          if (!a) return ex->Respond(NotReady());
          a->HandleWrite(act, std::move(ex));
        },
        {kAdminBodyLimit});
  }

}

void ServerApp::Impl::AddOperationalRoutes(http::Router& router) {
  router.Add(http::Method::kGet, "/healthz", [](std::shared_ptr<http::Exchange> ex) {
    ex->Respond(JsonResponse(200, "{\"status\":\"ok\"}"));
  });
  router.Add(http::Method::kGet, "/readyz", [this](std::shared_ptr<http::Exchange> ex) {
    if (!auth.load(std::memory_order_acquire)) return ex->Respond(NotReady());
    if (!store_healthy.load()) {
      return ex->Respond(JsonResponse(503, "{\"status\":\"unavailable\",\"reason\":\"state store\"}"));
    }
    ex->Respond(JsonResponse(200, "{\"status\":\"ready\"}"));
  });
  router.Add(http::Method::kGet, "/metrics", [this](std::shared_ptr<http::Exchange> ex) {
    http::Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics.RenderPrometheus();
    ex->Respond(std::move(r));
  });
}

void ServerApp::Impl::ReloadLoop() {
  uint64_t last = 0;
  if (auto c = store->ChangeCounter(); c.ok()) last = *c;
  // A policy saved between Start() loading it and the counter read above
  // would otherwise wait for the next store change.
  ReloadPolicy();
  // A store change (a CLI grant, a new client, a rotated key) reaches new
  // requests within one tick; PRAGMA data_version makes a tick cheap.
  constexpr auto kTick = std::chrono::milliseconds(250);
  constexpr int kTicksPerMinute = 240;
  int ticks = 0;
  std::unique_lock<std::mutex> lock(reload_mutex);
  while (!reload_cv.wait_for(lock, kTick, [&] { return stopping; })) {
    lock.unlock();
    auto counter = store->ChangeCounter();
    store_healthy = counter.ok();
    bool due = ++ticks % kTicksPerMinute == 0;  // once a minute: expire keys and revocations
    if (counter.ok() && (*counter != last || due)) {
      last = *counter;
      if (due) store->PurgeExpiredRevocations(SystemClock::Get().NowSeconds()).IgnoreError();
      Status s = auth.load()->Reload();
      if (!s.ok()) log::Error("reload from the state store failed: " + s.ToString());
      ReloadPolicy();
    }
    lock.lock();
  }
}

void ServerApp::Impl::ReloadPolicy() {
  std::lock_guard<std::mutex> lock(policy_reload_mutex);
  std::shared_ptr<const policy::PolicySnapshot> current = std::atomic_load(&policy);
  auto latest = store->LatestPolicy();
  if (!latest.ok()) {
    log::Error("cannot read the policy from the state store: " + latest.status().ToString());
    return;
  }
  if (!*latest || (current && (*latest)->first == current->version)) return;
  auto loaded = LoadLatestPolicy(*store);
  if (!loaded.ok()) {
    // Keep serving the last good version rather than none.
    log::Error("policy not reloaded, still using version " +
               std::to_string(current ? current->version : 0) + ": " +
               loaded.status().ToString());
    return;
  }
  std::atomic_store(&policy, *loaded);
  log::Info("policy version " + std::to_string((*loaded)->version) + " in effect for new queries");
}

// The query API over the lake: engine, bearer authentication (our own tokens
// through the authorization server's keys), query service and admin API.
Status ServerApp::Impl::StartQuery() {
  Impl& d = *this;
  const config::StackConfig& stack = d.options.stack;
  LG_RETURN_IF_ERROR(MakeDirectories(stack.query.lake_dir, 0700));
  // The key of the keyed-hash column mask lives beside the secret hash key, so
  // masked values stay the same across restarts (joins on them keep working).
  LG_ASSIGN_OR_RETURN(SecretString mask_key, oauth::LoadOrCreateHashKey(d.state_dir + "/mask.key"));
  engine::EngineSettings engine_settings;
  engine_settings.mask_hash_key = std::move(mask_key);
  LG_ASSIGN_OR_RETURN(d.engine, OpenEngine(stack.query.lake_dir, engine_settings));
  LG_ASSIGN_OR_RETURN(d.policy, LoadLatestPolicy(*d.store));
  gateway::GatewayOptions gateway_options = GatewayOptionsFrom(stack);
  LG_RETURN_IF_ERROR(gateway::ValidateGatewayOptions(gateway_options));
  d.fetcher = gateway::MakeCurlJwksFetcher({});
  oauth::AuthorizationServer* auth_server = d.auth_owner.get();
  d.authenticator = std::make_unique<gateway::BearerAuthenticator>(
      gateway_options, d.issuer,
      [auth_server](std::string_view token) { return auth_server->VerifyOwnToken(token); },
      [auth_server](std::string_view jti) { return auth_server->IsRevoked(jti); }, *d.fetcher,
      SystemClock::Get());
  audit::AuditLog* audit_log = d.audit.get();
  d.query_owner = std::make_unique<gateway::QueryService>(
      gateway_options, *d.authenticator, *d.engine, [&d] { return std::atomic_load(&d.policy); },
      *d.workers, SystemClock::Get(),
      [audit_log](std::string_view line) { audit_log->Record(line); }, &d.metrics);
  d.query.store(d.query_owner.get(), std::memory_order_release);
  auto write_policy = [&d](const std::string& author,
                           const std::function<Status(policy::PolicySnapshot&)>& change)
      -> Result<gateway::AdminApi::PolicyWrite> {
    LG_ASSIGN_OR_RETURN(PolicyUpdate update, UpdatePolicy(*d.store, author, change));
    if (update.changed()) d.ReloadPolicy();  // in effect before the response
    return gateway::AdminApi::PolicyWrite{update.old_version, update.new_version,
                                          std::move(update.changes)};
  };
  d.admin_owner = std::make_unique<gateway::AdminApi>(
      gateway_options, *d.authenticator, [&d] { return std::atomic_load(&d.policy); },
      *d.workers, write_policy, [audit_log](std::string_view line) { audit_log->Record(line); });
  d.admin.store(d.admin_owner.get(), std::memory_order_release);
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
  LG_ASSIGN_OR_RETURN(d.store, store::OpenSqliteStore(d.state_dir + "/state.db"));
  LG_ASSIGN_OR_RETURN(SecretString hash_key, oauth::LoadOrCreateHashKey(d.state_dir + "/hash.key"));
  oauth::SecretHasher hasher(std::move(hash_key));

  LG_ASSIGN_OR_RETURN(ApplyResult applied,
                      ApplyStack(stack, *d.store, hasher, SystemClock::Get(),
                                 SecretsDir(stack), false));
  if (!d.options.quiet_apply && !applied.changes.empty()) {
    std::cout << FormatChanges(applied, false) << std::flush;
  }

  std::string audit_path = stack.audit.path.empty() ? d.state_dir + "/audit.log" : stack.audit.path;
  LG_ASSIGN_OR_RETURN(d.audit, audit::AuditLog::Open(audit_path));

  http::ServerOptions http_options;
  http_options.address = d.options.address_override.empty() ? stack.listen.address
                                                            : d.options.address_override;
  http_options.port = static_cast<uint16_t>(d.options.port_override >= 0 ? d.options.port_override
                                                                         : stack.listen.port);
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  http_options.threads = stack.listen.threads > 0 ? stack.listen.threads : static_cast<int>(cores);
  http_options.tls_cert_file = stack.listen.tls_cert;
  http_options.tls_key_file = stack.listen.tls_key;

  // Queries block on SQLite for up to their timeout, so the pool is larger
  // than the core count: one client's slow queries (capped per client) must
  // not stall everybody else's.
  d.workers = std::make_unique<ThreadPool>(std::max(16u, 4 * cores), 4096);
  d.observer = std::make_unique<HttpMetricsObserver>(d.metrics);
  d.server = std::make_unique<http::Server>(http_options, d.BuildRouter(), d.observer.get());
  LG_RETURN_IF_ERROR(d.server->Start());

  {
    std::string host = http_options.address;
    if (host == "0.0.0.0" || host == "::" || host.empty()) host = "127.0.0.1";
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    d.listen_url = std::string(http_options.tls_cert_file.empty() ? "http://" : "https://") +
                   host + ":" + std::to_string(d.server->port());
  }
  d.issuer = stack.issuer.empty() ? d.listen_url : stack.issuer;
  while (!d.issuer.empty() && d.issuer.back() == '/') d.issuer.pop_back();

  oauth::AuthServerOptions auth_options;
  auth_options.issuer = d.issuer;
  auto alg = crypto::ParseAlgorithm(stack.tokens.algorithm);
  if (!alg) return InvalidArgumentError("unsupported token algorithm " + stack.tokens.algorithm);
  auth_options.algorithm = *alg;
  auth_options.audience = stack.tokens.audience;
  auth_options.scope_omitted_grants_all = stack.tokens.scope_omitted_grants_all;
  auth_options.failed_auth_per_minute_per_client = stack.limits.failed_auth_per_minute_per_client;
  auth_options.failed_auth_per_minute_per_address = stack.limits.failed_auth_per_minute_per_address;
  d.auth_owner = std::make_unique<oauth::AuthorizationServer>(
      auth_options, *d.store, std::move(hasher), SystemClock::Get(), d.audit.get(), &d.metrics);
  Status loaded = d.auth_owner->Reload();
  if (!loaded.ok()) {
    d.server->Stop(std::chrono::milliseconds(0));
    return loaded;
  }
  d.auth.store(d.auth_owner.get(), std::memory_order_release);

  if (d.options.serve_query) LG_RETURN_IF_ERROR(d.StartQuery());
  d.reloader = std::thread([&d] { d.ReloadLoop(); });
  return Status::Ok();
}

void ServerApp::Stop() {
  Impl& d = *impl_;
  if (d.server) d.server->Stop(std::chrono::milliseconds(5000));
  {
    std::lock_guard<std::mutex> lock(d.reload_mutex);
    d.stopping = true;
  }
  d.reload_cv.notify_all();
  if (d.reloader.joinable()) d.reloader.join();
  d.workers.reset();  // runs what is queued, then joins
  if (d.audit) d.audit->Flush();
}

uint16_t ServerApp::port() const { return impl_->server ? impl_->server->port() : 0; }
const std::string& ServerApp::issuer() const { return impl_->issuer; }
std::string ServerApp::base_url() const { return impl_->listen_url; }

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
