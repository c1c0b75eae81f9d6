#include "app/engines.h"

#include "app/url_scheme.h"
#include "common/strings.h"
#include "engine/postgres/postgres_engine.h"
#include "engine/routing_engine.h"
#include "engine/sqlite/sqlite_engine.h"
#include "engine/trino/trino_engine.h"

namespace lakegate::app {
namespace {

using EngineFactory = Result<std::unique_ptr<engine::Engine>> (*)(
    std::string_view location, const engine::EngineSettings& settings);

struct EngineKind {
  std::string_view scheme;
  EngineFactory open;   // takes the URL without "<scheme>:", or all of it with `server`
  bool server = false;  // a database server: the URL (with its authority) goes as it is
};

// One line per engine; the first is the one a plain path selects.
constexpr EngineKind kEngines[] = {
    {"sqlite", &engine::OpenSqliteEngineAt},
    {"postgresql", &engine::OpenPostgresEngineAt, true},
    {"postgres", &engine::OpenPostgresEngineAt, true},
    {"trino", &engine::OpenTrinoEngineAt, true},
};

const EngineKind* FindEngine(std::string_view scheme) {
  for (const EngineKind& kind : kEngines) {
    if (EqualsIgnoreCase(kind.scheme, scheme)) return &kind;
  }
  return nullptr;
}

Status UnknownScheme(std::string_view scheme) {
  return Status(StatusCode::kInvalidArgument, engine::EngineFailure::kMisconfigured,
                "unknown engine URL scheme '" + std::string(scheme) +
                    ":'; known: " + Join(EngineSchemes(), ", ") + " (or a lake directory path)");
}

}  // namespace

std::vector<std::string> EngineSchemes() {
  std::vector<std::string> out;
  for (const EngineKind& kind : kEngines) out.emplace_back(kind.scheme);
  return out;
}

Result<std::unique_ptr<engine::Engine>> OpenEngine(std::string_view url,
                                                   const engine::EngineSettings& settings) {
  // "foo:bar" without "//" is a path with a colon, not an engine.
  std::string_view scheme = UrlScheme(url).value_or("");
  std::string_view rest = scheme.empty() ? url : url.substr(scheme.size() + 1);
  const EngineKind* kind = scheme.empty() ? nullptr : FindEngine(scheme);
  if (kind == nullptr) {
    // A URL of an engine this build does not have; never its text (it may
    // hold a password).
    if (!scheme.empty() && rest.substr(0, 2) == "//") return UnknownScheme(scheme);
    return kEngines[0].open(url, settings);  // a plain path
  }
  if (kind->server) return kind->open(url, settings);
  if (rest.substr(0, 2) == "//") {
    // scheme://AUTHORITY/PATH: only an empty authority is local.
    rest.remove_prefix(2);
    if (rest.empty() || rest[0] != '/') {
      return Status(StatusCode::kInvalidArgument, engine::EngineFailure::kMisconfigured,
                    "a " + std::string(kind->scheme) + " URL names a local directory: write " +
                        std::string(kind->scheme) + ":PATH or " + std::string(kind->scheme) +
                        ":///ABSOLUTE/PATH");
    }
  }
  return kind->open(rest, settings);
}

Result<std::unique_ptr<engine::Engine>> OpenEngines(
    std::string_view default_url, const std::map<std::string, std::string>& by_database,
    const engine::EngineSettings& settings) {
  LG_ASSIGN_OR_RETURN(std::unique_ptr<engine::Engine> fallback, OpenEngine(default_url, settings));
  if (by_database.empty()) return fallback;
  std::map<std::string, std::vector<std::string>> databases_by_url;
  for (const auto& [database, url] : by_database) {
    if (EqualsIgnoreCase(UrlScheme(url).value_or(""), "trino")) {
      return Status(StatusCode::kInvalidArgument, engine::EngineFailure::kMisconfigured,
                    "engine.databases." + database +
                        ": the Trino engine serves the whole lake only (engine.url)");
    }
    databases_by_url[url].push_back(database);
  }
  std::vector<engine::EngineRoute> routes;
  for (auto& [url, databases] : databases_by_url) {
    LG_ASSIGN_OR_RETURN(std::unique_ptr<engine::Engine> opened, OpenEngine(url, settings));
    routes.push_back({std::move(databases), std::move(opened)});
  }
  return engine::RouteByDatabase(std::move(fallback), std::move(routes));
}

}  // namespace lakegate::app
