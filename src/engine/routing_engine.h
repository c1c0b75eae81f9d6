// An Engine over several engines, one per catalog database: the stack file's
// `engine: {url: DEFAULT, databases: {NAME: URL}}` (docs/stack-file.md).
//
// A statement runs on exactly one engine. It goes to the engine of the
// routed databases it names as qualifiers (`sales.orders`); naming none, to
// the engine of the request's database (unqualified names), which is the
// default engine for a database no route names. A statement that names
// databases of two engines fails (kInvalidQuery): no joins across engines.
// Sent to an engine other than its database's, the request goes without a
// default database, so unqualified names do not reach a database of another
// engine. Catalog() merges what each engine lists for the databases it
// serves; Load() goes to the engine of its database.
//
// Thread-safe as its engines are: the routes are fixed at construction.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"

namespace lakegate::engine {

struct EngineRoute {
  std::vector<std::string> databases;  // catalog databases, case-insensitive
  std::unique_ptr<Engine> engine;
};

// `fallback` serves every database no route names. A database named by two
// routes is kInvalidArgument (kMisconfigured).
Result<std::unique_ptr<Engine>> RouteByDatabase(std::unique_ptr<Engine> fallback,
                                                std::vector<EngineRoute> routes);

// The identifiers `sql` uses as qualifiers (`x` in `x.y`, not in `a.x.y`),
// folded to lower case, in order, skipping strings, comments, dollar-quoted
// text and numbers. Quoted identifiers ("x", `x`) count with their text.
// Dialect-neutral (SQLite, PostgreSQL, Trino; sql_lexer.h's kAnyDialect):
// a table alias counts too.
std::vector<std::string> QualifierNames(std::string_view sql);

}  // namespace lakegate::engine
