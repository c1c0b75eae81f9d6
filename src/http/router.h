// Router: exact-path routes to handlers, built before Server::Start() and
// immutable afterwards (so lookups need no lock and are safe from every network
// thread at once). Not thread-safe while being built.
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "http/error_response.h"
#include "http/exchange.h"
#include "http/message.h"

namespace lakegate::http {

struct RouteOptions {
  // Requests whose body (Content-Length, or the sum of chunks) is larger get 413.
  size_t max_body_bytes = 64 * 1024;
  // The shape of the errors the server itself answers for this route (413,
  // a handler that failed), so they look like the route's own.
  ErrorFamily error_family = ErrorFamily::kOAuth;
};

struct Route {
  std::string path;
  Method method = Method::kGet;
  Handler handler;
  RouteOptions options;
};

// All routes registered for one path.
class PathRoutes {
 public:
  // The route serving `method`: HEAD falls back to the GET route. nullptr if none.
  const Route* Find(Method method) const;
  // Value for the Allow header, e.g. "GET, HEAD, POST".
  const std::string& allow() const { return allow_; }

 private:
  friend class Router;
  std::array<std::optional<Route>, kMethodCount> by_method_;
  std::string allow_;
};

class Router {
 public:
  // Registers `handler` for (method, path). `path` is matched exactly against the
  // request path (without query string), or, when it ends with '*', as a
  // prefix (the longest registered prefix wins; an exact path wins over any
  // prefix): "/v1/queries/*" serves "/v1/queries/abc/results". Registering
  // the same pair again replaces the earlier route.
  void Add(Method method, std::string path, Handler handler, RouteOptions options = {});

  // Routes for `path`, or nullptr when the path is unknown.
  const PathRoutes* FindPath(std::string_view path) const;

 private:
  std::map<std::string, PathRoutes, std::less<>> paths_;
  // Prefix routes, keyed by the prefix (without the '*').
  std::map<std::string, PathRoutes, std::less<>> prefixes_;
};

}  // namespace lakegate::http
