#include "http/router.h"

#include <utility>

namespace lakegate::http {

const Route* PathRoutes::Find(Method method) const {
  const auto& route = by_method_[static_cast<size_t>(method)];
  if (route) return &*route;
  if (method == Method::kHead) {
    const auto& get = by_method_[static_cast<size_t>(Method::kGet)];
    if (get) return &*get;
  }
  return nullptr;
}

void Router::Add(Method method, std::string path, Handler handler, RouteOptions options) {
  const bool prefix = !path.empty() && path.back() == '*';
  PathRoutes& routes = prefix ? prefixes_[path.substr(0, path.size() - 1)] : paths_[path];
  routes.by_method_[static_cast<size_t>(method)] =
      Route{std::move(path), method, std::move(handler), options};
  // Rebuild Allow in a stable order; a GET route also serves HEAD.
  std::string allow;
  for (size_t i = 0; i < kMethodCount; ++i) {
    Method m = static_cast<Method>(i);
    bool present = routes.by_method_[i].has_value() ||
                   (m == Method::kHead && routes.by_method_[static_cast<size_t>(Method::kGet)]);
    if (!present || m == Method::kOther) continue;
    if (!allow.empty()) allow += ", ";
    allow += MethodName(m);
  }
  routes.allow_ = std::move(allow);
}

const PathRoutes* Router::FindPath(std::string_view path) const {
  auto it = paths_.find(path);
  if (it != paths_.end()) return &it->second;
  const PathRoutes* best = nullptr;
  size_t best_length = 0;
  for (const auto& [prefix, routes] : prefixes_) {
    if (path.starts_with(prefix) && prefix.size() >= best_length) {
      best = &routes;
      best_length = prefix.size();
    }
  }
  return best;
}

}  // namespace lakegate::http
