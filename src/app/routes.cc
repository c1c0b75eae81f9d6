#include "app/routes.h"

#include "app/trino_link.h"
#include "audit/events.h"
#include "gateway/gateway_failure.h"
#include "oauth/oauth_error.h"

namespace lakegate::app {
namespace {

using gateway::Access;
using gateway::AdminApi;
using gateway::AuditKind;
using gateway::Call;
using gateway::RouteSpec;

constexpr size_t kOAuthBodyLimit = 16 * 1024;
constexpr size_t kAdminBodyLimit = 64 * 1024;
constexpr size_t kNoBody = 0;

http::Response JsonResponse(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

http::Response ToHttp(oauth::EndpointResponse r) {
  http::Response out;
  out.status = r.status;
  out.body = std::move(r.body);
  out.headers.reserve(r.headers.size());
  for (auto& [name, value] : r.headers) out.headers.push_back({std::move(name), std::move(value)});
  return out;
}

// With server DPoP nonces on, every answer carries a fresh one (RFC 9449 §8.2).
http::Response FromResult(oauth::EndpointResult result, const oauth::AuthorizationServer& auth) {
  std::vector<http::Header> extra;
  if (std::string nonce = auth.DpopNonce(); !nonce.empty()) {
    extra.push_back({std::string(oauth::kDpopNonceHeader), std::move(nonce)});
  }
  if (!result.ok()) {
    return http::ErrorResponse(result.status(), http::ErrorFamily::kOAuth,
                               {.headers = std::move(extra)});
  }
  http::Response r = ToHttp(std::move(result).value());
  for (http::Header& h : extra) r.headers.push_back(std::move(h));
  return r;
}

oauth::EndpointRequest FromHttp(const http::Request& r) {
  return oauth::EndpointRequest{.content_type = r.GetHeader("content-type"),
                                .authorization = r.GetHeader("authorization"),
                                .body = r.body,
                                .remote_address = r.remote_address,
                                .client_certificates = r.client_certificates.get(),
                                .dpop_proofs = r.CountHeader(oauth::kDpopHeader),
                                .dpop_proof = r.GetHeader(oauth::kDpopHeader)};
}

Status NotReady(http::ErrorFamily family) {
  return family == http::ErrorFamily::kOAuth
             ? oauth::OAuthFailure(oauth::OAuthError::kUnavailable, "the server is starting")
             : gateway::GatewayError(gateway::GatewayFailure::kNotReady, "the server is starting");
}

// Answers an OAuth request on a worker: 503 when the queue is full.
void AnswerOnWorker(ThreadPool* workers, const oauth::AuthorizationServer* auth,
                    std::shared_ptr<http::Exchange> ex,
                    std::function<oauth::EndpointResult(const http::Request&)> answer) {
  bool queued = workers->Submit(
      [ex, auth, answer] { ex->Respond(FromResult(answer(ex->request()), *auth)); });
  if (!queued) {
    ex->Respond(
        http::ErrorResponse(oauth::OAuthFailure(oauth::OAuthError::kUnavailable, "server busy"),
                            http::ErrorFamily::kOAuth));
  }
}

// An OAuth endpoint. Token issue and introspection with a client secret are
// CPU only (snapshot reads and signing): they run on the network thread, the
// fastest path. A client assertion may fetch the client's keys and records its
// jti in the store, so such a request goes to a worker.
std::function<http::Handler(const Services&)> OAuthEndpoint(
    oauth::EndpointResult (oauth::AuthorizationServer::*method)(const oauth::EndpointRequest&)) {
  return [method](const Services& s) -> http::Handler {
    oauth::AuthorizationServer* auth = s.auth;
    ThreadPool* workers = s.workers;
    return [auth, method, workers](std::shared_ptr<http::Exchange> ex) {
      if (!oauth::AuthorizationServer::MayBlock(FromHttp(ex->request()))) {
        return ex->Respond(FromResult((auth->*method)(FromHttp(ex->request())), *auth));
      }
      AnswerOnWorker(workers, auth, std::move(ex), [auth, method](const http::Request& r) {
        return (auth->*method)(FromHttp(r));
      });
    };
  };
}

// A GET document of the authorization server.
std::function<http::Handler(const Services&)> OAuthDocument(
    std::string (oauth::AuthorizationServer::*method)() const, std::string cache_control) {
  return [method, cache_control](const Services& s) -> http::Handler {
    oauth::AuthorizationServer* auth = s.auth;
    return [auth, method, cache_control](std::shared_ptr<http::Exchange> ex) {
      http::Response r = JsonResponse(200, (auth->*method)());
      r.headers.push_back({"Cache-Control", cache_control});
      ex->Respond(std::move(r));
    };
  };
}

// A gateway route: the pipeline's steps, then `handler`.
std::function<http::Handler(const Services&)> Gateway(
    RouteSpec spec, std::function<void(const Services&, const std::shared_ptr<Call>&)> handler) {
  return [spec, handler](const Services& s) -> http::Handler {
    return s.pipeline->Route(spec,
                             [handler, s](const std::shared_ptr<Call>& call) { handler(s, call); });
  };
}

}  // namespace

struct Routes::Entry {
  http::Method method;
  std::string path;
  size_t max_body_bytes;
  http::ErrorFamily family;
  std::function<http::Handler(const Services&)> make;
};

Routes::Routes(RouteSelection selection, audit::Metrics& metrics)
    : selection_(selection), metrics_(metrics) {
  using http::ErrorFamily;
  using http::Method;
  if (selection_.auth) {
    Add(Method::kPost, "/oauth2/token", kOAuthBodyLimit, ErrorFamily::kOAuth,
        OAuthEndpoint(&oauth::AuthorizationServer::Token));
    Add(Method::kPost, "/oauth2/introspect", kOAuthBodyLimit, ErrorFamily::kOAuth,
        OAuthEndpoint(&oauth::AuthorizationServer::Introspect));
    // Revocation writes to the store: a worker does it.
    Add(Method::kPost, "/oauth2/revoke", kOAuthBodyLimit, ErrorFamily::kOAuth,
        [](const Services& s) -> http::Handler {
          return [auth = s.auth, workers = s.workers](std::shared_ptr<http::Exchange> ex) {
            AnswerOnWorker(workers, auth, std::move(ex),
                           [auth](const http::Request& r) { return auth->Revoke(FromHttp(r)); });
          };
        });
    // Short max-age: after a rotation, verifiers pick up the new key quickly
    // (they also refetch on an unknown kid).
    Add(Method::kGet, "/.well-known/jwks.json", kNoBody, ErrorFamily::kOAuth,
        OAuthDocument(&oauth::AuthorizationServer::JwksJson, "public, max-age=60"));
    Add(Method::kGet, "/.well-known/oauth-authorization-server", kNoBody, ErrorFamily::kOAuth,
        OAuthDocument(&oauth::AuthorizationServer::MetadataJson, "public, max-age=300"));
    Add(Method::kGet, "/.well-known/openid-configuration", kNoBody, ErrorFamily::kOAuth,
        OAuthDocument(&oauth::AuthorizationServer::MetadataJson, "public, max-age=300"));
  }
  if (selection_.query) {
    // The SQL text may be max_query_bytes long and is JSON-escaped in the
    // body; leave room for escapes and the other members.
    const size_t query_body_limit = selection_.max_query_bytes * 2 + 64 * 1024;
    const RouteSpec query{.json_body = true, .access = Access::kQuery, .audit = AuditKind::kQuery};
    auto run_query = [](const Services& s, const std::shared_ptr<Call>& call) {
      s.query->Query(call);
    };
    Add(Method::kPost, "/query-client-creds", query_body_limit, ErrorFamily::kApi,
        Gateway(query, run_query));
    Add(Method::kPost, "/v1/query", query_body_limit, ErrorFamily::kApi, Gateway(query, run_query));
    // Asynchronous queries: /v1/queries/{id} and /v1/queries/{id}/results.
    Add(Method::kPost, "/v1/queries", query_body_limit, ErrorFamily::kApi,
        Gateway(query, [](const Services& s, const std::shared_ptr<Call>& call) {
          s.async->Submit(call);
        }));
    const RouteSpec execution{.access = Access::kQuery, .audit = AuditKind::kQuery};
    Add(Method::kGet, std::string(gateway::kAsyncQueriesPrefix) + "*", kNoBody, ErrorFamily::kApi,
        Gateway(execution,
                [](const Services& s, const std::shared_ptr<Call>& call) { s.async->Read(call); }));
    Add(Method::kDelete, std::string(gateway::kAsyncQueriesPrefix) + "*", kNoBody,
        ErrorFamily::kApi,
        Gateway(execution, [](const Services& s, const std::shared_ptr<Call>& call) {
          s.async->Cancel(call);
        }));
    // The Athena protocols, authenticated by their own call (a Bearer token
    // or a SigV4 signature: the same principal): awsJson1_1 on POST / with
    // X-Amz-Target, and restJson1 (current botocore) on Athena's paths.
    auto athena = [](void (gateway::AthenaApi::*handle)(const std::shared_ptr<Call>&)) {
      return [handle](const Services& s) -> http::Handler {
        gateway::AthenaApi* api = s.athena;
        const RouteSpec spec{
            .access = Access::kQuery,
            .audit = AuditKind::kQuery,
            .errors = ErrorFamily::kAws,
            .authenticate = [api](const http::Request& r) { return api->Authenticate(r); }};
        return s.pipeline->Route(
            spec, [api, handle](const std::shared_ptr<Call>& call) { (api->*handle)(call); });
      };
    };
    Add(Method::kPost, "/", query_body_limit, ErrorFamily::kAws,
        athena(&gateway::AthenaApi::Handle));
    const std::pair<Method, const char*> rest[] = {
        {Method::kPost, "/query-executions"},
        {Method::kGet, "/query-executions"},
        {Method::kGet, "/query-executions/*"},
        {Method::kPost, "/query-executions/*"},
        {Method::kPost, "/batch-get-query-executions"},
        {Method::kGet, "/data-catalogs"},
        {Method::kGet, "/data-catalogs/*"},
        {Method::kGet, "/workgroups"},
        {Method::kGet, "/workgroups/*"},
    };
    for (const auto& [method, path] : rest) {
      Add(method, path, method == Method::kPost ? query_body_limit : kNoBody, ErrorFamily::kAws,
          athena(&gateway::AthenaApi::HandleRest));
    }
    Add(Method::kGet, "/v1/catalog", kNoBody, ErrorFamily::kApi,
        Gateway(
            {.access = Access::kQuery, .audit = AuditKind::kCatalog},
            [](const Services& s, const std::shared_ptr<Call>& call) { s.query->Catalog(call); }));
    const std::pair<const char*, AdminApi::Resource> reads[] = {
        {"/v1/admin/policy", AdminApi::Resource::kPolicy},
        {"/v1/admin/roles", AdminApi::Resource::kRoles},
        {"/v1/admin/filters", AdminApi::Resource::kFilters},
        {"/v1/admin/tags", AdminApi::Resource::kTags},
    };
    for (const auto& [path, resource] : reads) {
      Add(Method::kGet, path, kNoBody, ErrorFamily::kApi,
          Gateway({.access = Access::kAdmin, .audit = AuditKind::kPolicyRead},
                  [r = resource](const Services& s, const std::shared_ptr<Call>& call) {
                    s.admin->Read(r, call);
                  }));
    }
    const std::pair<const char*, AdminApi::Action> writes[] = {
        {"/v1/admin/grant", AdminApi::Action::kGrant},
        {"/v1/admin/revoke", AdminApi::Action::kRevoke},
    };
    for (const auto& [path, action] : writes) {
      Add(Method::kPost, path, kAdminBodyLimit, ErrorFamily::kApi,
          Gateway(
              {.json_body = true, .access = Access::kDelegated, .audit = AuditKind::kPolicyChange},
              [a = action](const Services& s, const std::shared_ptr<Call>& call) {
                s.admin->Write(a, call);
              }));
    }
  }
  if (selection_.query) {
    // Trino's OPA access-control plugin asks here (app/trino_link.h). CPU
    // only, on the network thread: a worker may be waiting for the very
    // Trino query that asks.
    constexpr size_t kDecisionBodyLimit = 4 << 20;
    using Decide = Result<std::string> (trino::OpaDecider::*)(std::string_view);
    const std::pair<const char*, Decide> decisions[] = {
        {"/trino/opa/allow", &trino::OpaDecider::Allow},
        {"/trino/opa/batch", &trino::OpaDecider::Batch},
        {"/trino/opa/row-filters", &trino::OpaDecider::RowFilters},
        {"/trino/opa/column-masks", &trino::OpaDecider::ColumnMasks},
    };
    for (const auto& [path, decide] : decisions) {
      Add(Method::kPost, path, kDecisionBodyLimit, ErrorFamily::kApi,
          [d = decide](const Services& s) -> http::Handler {
            return [link = s.trino, d](std::shared_ptr<http::Exchange> ex) {
              if (link == nullptr) {
                return ex->Respond(JsonResponse(
                    404, "{\"error\":\"this node governs no Trino cluster (engine trino://)\"}"));
              }
              // Only the cluster holds the key (never open: the answers
              // describe the policy).
              if (!link->Authorized(ex->request().query)) {
                return ex->Respond(JsonResponse(401, "{\"error\":\"unknown key\"}"));
              }
              Result<std::string> answer = (link->decider().*d)(ex->request().body);
              if (!answer.ok()) {
                return ex->Respond(http::ErrorResponse(answer.status(), ErrorFamily::kApi));
              }
              ex->Respond(JsonResponse(200, std::move(answer).value()));
            };
          });
    }
  }
  // /readyz: ready once the services are bound. While the state store does
  // not answer, the node still serves tokens and queries from its last
  // snapshot, so it stays in the load balancer (200) but says "degraded".
  Add(Method::kGet, "/readyz", kNoBody, ErrorFamily::kOAuth,
      [](const Services& s) -> http::Handler {
        return [failing = s.store_failing_since_ms](std::shared_ptr<http::Exchange> ex) {
          const int64_t since = failing ? failing() : 0;
          if (since != 0) {
            return ex->Respond(JsonResponse(
                200,
                "{\"status\":\"degraded\",\"reason\":\"the state store does not answer: "
                "tokens and queries are served from the last snapshot, writes fail\","
                "\"since\":\"" +
                    audit::FormatTimestamp(since) + "\"}"));
          }
          ex->Respond(JsonResponse(200, "{\"status\":\"ready\"}"));
        };
      });
}

Routes::~Routes() = default;

void Routes::Add(http::Method method, std::string path, size_t max_body_bytes,
                 http::ErrorFamily family, std::function<http::Handler(const Services&)> make) {
  entries_.push_back(Entry{method, std::move(path), max_body_bytes, family, std::move(make)});
}

http::Router Routes::BuildRouter() {
  http::Router router;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    http::RouteOptions options;
    if (e.max_body_bytes > 0) options.max_body_bytes = e.max_body_bytes;
    options.error_family = e.family;
    router.Add(
        e.method, e.path,
        [this, i, family = e.family](std::shared_ptr<http::Exchange> ex) {
          const std::vector<http::Handler>* handlers = bound_.load(std::memory_order_acquire);
          if (handlers == nullptr)
            return ex->Respond(http::ErrorResponse(NotReady(family), family));
          (*handlers)[i](std::move(ex));
        },
        options);
  }
  router.Add(http::Method::kGet, "/healthz", [](std::shared_ptr<http::Exchange> ex) {
    ex->Respond(JsonResponse(200, "{\"status\":\"ok\"}"));
  });
  router.Add(http::Method::kGet, "/metrics", [this](std::shared_ptr<http::Exchange> ex) {
    http::Response r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = metrics_.RenderPrometheus();
    ex->Respond(std::move(r));
  });
  return router;
}

void Routes::Bind(const Services& services) {
  auto handlers = std::make_unique<std::vector<http::Handler>>();
  handlers->reserve(entries_.size());
  for (const Entry& e : entries_) handlers->push_back(e.make(services));
  bound_owner_ = std::move(handlers);
  bound_.store(bound_owner_.get(), std::memory_order_release);
}

}  // namespace lakegate::app
