// The PostgreSQL engine: the policy catalog enforced by PostgreSQL itself.
//
// A catalog database is a schema of the database the engine URL names; its
// tables are that schema's tables. On every policy version and every schema
// change the engine compiles the catalog into PostgreSQL objects
// (catalog_compiler.h): one LOGIN role per lakegate role, a member of no
// other role, with a password derived from the engine key; governed schemas of
// security-barrier views for restricted roles. A request runs on a pooled
// connection of its role's LOGIN role inside `BEGIN READ ONLY` (read scope)
// or `BEGIN READ WRITE`, as one statement of the extended protocol, streamed
// in single-row mode; lakegate's timeout cancels the backend; after each
// request the connection is rolled back or committed and reset (DISCARD ALL:
// prepared statements, cursors, temp objects, advisory locks, LISTEN and
// settings end with the request). docs/postgresql.md has the design and what
// PostgreSQL shows through its catalogs.
//
// The URL's user administers the engine: it needs CREATEROLE and must own
// the database and the catalog schemas (or be a member of their owners).
//
// Thread-safe: Execute(), Catalog() and Load() may run concurrently.
#pragma once

#include <memory>
#include <string_view>

#include "common/status.h"
#include "engine/engine.h"

namespace lakegate::engine {

// The registry's entry point (app/engines.h): `url` is the whole
// postgresql:// or postgres:// URL. Connects at once: kUnavailable when the
// server does not answer, kMisconfigured when it refuses the URL's user.
Result<std::unique_ptr<Engine>> OpenPostgresEngineAt(std::string_view url,
                                                     const EngineSettings& settings);

}  // namespace lakegate::engine
