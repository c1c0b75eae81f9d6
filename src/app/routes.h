// Routes: every HTTP route lakegate serves, in one table (app/routes.cc):
// method, path, body limit, error family, and the service that answers.
//
// The server binds before the services exist (the issuer of a stack file
// without `issuer:` is the bound URL, known only after binding), so the router
// is built first and the routes of services are bound later: until Bind() they
// answer 503 in their family's error shape, as every route of a family answers
// every error. Operational routes (/healthz, /metrics) answer from the start.
// Thread-safe after BuildRouter(); Bind() is called once.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "audit/metrics.h"
#include "common/thread_pool.h"
#include "gateway/admin_api.h"
#include "gateway/async_api.h"
#include "gateway/athena_api.h"
#include "gateway/pipeline.h"
#include "gateway/query_service.h"
#include "http/error_response.h"
#include "http/router.h"
#include "oauth/authorization_server.h"

namespace lakegate::app {

class TrinoLink;

// What answers requests. A null service is one this process does not serve.
struct Services {
  oauth::AuthorizationServer* auth = nullptr;
  gateway::Pipeline* pipeline = nullptr;
  gateway::QueryService* query = nullptr;
  gateway::AdminApi* admin = nullptr;
  gateway::AsyncApi* async = nullptr;
  gateway::AthenaApi* athena = nullptr;
  ThreadPool* workers = nullptr;
  // The governed Trino cluster's decision point; null when the engine is not Trino.
  TrinoLink* trino = nullptr;
  // When the state store stopped answering (Unix ms), 0 while it answers
  // (readiness).
  std::function<int64_t()> store_failing_since_ms;
};

struct RouteSelection {
  bool auth = true;                     // /oauth2/*, /.well-known/*
  bool query = true;                    // the query API, catalog and admin API
  size_t max_query_bytes = 256 * 1024;  // sizes the query routes' body limit
};

class Routes {
 public:
  // `metrics` (for /metrics) must outlive the routes.
  Routes(RouteSelection selection, audit::Metrics& metrics);
  ~Routes();
  Routes(const Routes&) = delete;
  Routes& operator=(const Routes&) = delete;

  // The router for http::Server. The Routes object must outlive it.
  http::Router BuildRouter();
  // Makes the selected routes answer from `services` (which must outlive the
  // server). Call once.
  void Bind(const Services& services);

 private:
  struct Entry;
  void Add(http::Method method, std::string path, size_t max_body_bytes, http::ErrorFamily family,
           std::function<http::Handler(const Services&)> make);

  const RouteSelection selection_;
  audit::Metrics& metrics_;
  std::vector<Entry> entries_;
  std::unique_ptr<std::vector<http::Handler>> bound_owner_;
  std::atomic<const std::vector<http::Handler>*> bound_{nullptr};
};

}  // namespace lakegate::app
