// The engine registry of the composition root: an engine is chosen by the
// scheme of its URL, and each engine's folder under engine/ is one line here.
//
//   sqlite:PATH   the embedded SQLite engine over the lake directory PATH
//                 (sqlite:///srv/lake, with an empty authority, names /srv/lake)
//   PATH          a plain lake directory path: the SQLite engine
//   postgresql://USER:PASSWORD@HOST:PORT/DB?...  (or postgres://) the PostgreSQL
//                 engine over that database: each schema is a catalog database
//                 (engine/postgres/postgres_engine.h)
//
// Text is a URL when it starts with a scheme ([A-Za-z][A-Za-z0-9+.-]*) and a
// ':' that the registry knows, or that "//" follows; anything else is a path.
// Thread-safe (no state).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "engine/engine.h"

namespace lakegate::app {

// Opens the engine `url` names with `settings`. InvalidArgument
// (engine::EngineFailure::kMisconfigured) for an unknown scheme, naming the
// schemes it knows; otherwise the engine's own errors (e.g. a lake directory
// that does not exist).
Result<std::unique_ptr<engine::Engine>> OpenEngine(std::string_view url,
                                                   const engine::EngineSettings& settings);

// The engines of a stack file: `default_url` for every catalog database but
// those `by_database` names, each served by the engine of its URL (one
// engine per distinct URL), behind engine::RouteByDatabase(). Just
// OpenEngine(default_url) when `by_database` is empty. A Trino URL serves
// the whole lake only (kMisconfigured in `by_database`).
Result<std::unique_ptr<engine::Engine>> OpenEngines(
    std::string_view default_url, const std::map<std::string, std::string>& by_database,
    const engine::EngineSettings& settings);

// The schemes OpenEngine() knows, in registration order.
std::vector<std::string> EngineSchemes();

}  // namespace lakegate::app
