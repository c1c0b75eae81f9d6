// The embedded SQLite engine (the default engine).
//
// Each catalog database is one SQLite file, <lake_dir>/<name>.db. A role with
// unrestricted access (policy::IsUnrestricted) runs on a direct connection to
// the raw files. Every other role runs on a governed connection that holds no
// raw data: one attached in-memory schema per visible database, holding one
// virtual table per visible table whose declared columns are exactly the ones
// the role may SELECT; their cursors read the raw table through a second,
// privileged connection owned by the same session. An authorizer (deny by
// default) is the second wall on both paths. Load() writes a lake file
// directly, in one transaction.
//
// Only databases in the lake's listing are attached, and never with
// SQLITE_OPEN_CREATE: no query creates a file. SQLite attaches at most
// SQLITE_LIMIT_ATTACHED (10) databases per connection; a role that sees more
// gets sessions that attach the request's database and the databases its
// statement names. Every statement runs under a memory budget
// (QueryLimits::max_memory_bytes, enforced by the engine's own SQLite
// allocator, memory_budget.h) and a deadline that also reaches inside slow
// built-in functions (bounded_functions.h).
//
// Thread-safe: Execute(), Catalog() and Load() may run concurrently on many
// threads; each query borrows one pooled session, pools are keyed by (role,
// policy version, default database, attached databases), with at most 128
// idle sessions in all.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "engine/engine.h"

namespace lakegate::engine {

struct SqliteEngineOptions {
  std::string lake_dir;  // each catalog database is <lake_dir>/<name>.db
  size_t max_idle_connections_per_role = 4;
  // The key of hash masks (MaskKind::kHash: hex HMAC-SHA256 of the value).
  // Empty = 32 random bytes per engine, so hashes are stable for the life of
  // the process only; set it to keep them stable across restarts.
  std::string mask_hash_key = {};
  // How often the engine looks for schema changes that other processes made
  // to the lake's files (`lakegate load --create`, the sqlite3 shell, a file
  // deleted or replaced). At most once per interval, the first query or
  // Catalog() call to arrive (never waiting for another thread's check)
  // re-lists the lake directory and reads each file's schema cookie (PRAGMA
  // schema_version, which sees WAL commits) on an engine-owned read-only
  // connection per file; when a cookie, a file's identity or the set of files
  // changed, every pooled session is retired and the next query describes the
  // lake again. Staleness bound: a query that starts more than about one
  // interval (plus one check's duration, microseconds per file) after such a
  // change committed sees it; a file that another process keeps locked
  // (SQLITE_BUSY in rollback-journal mode) is skipped, never waited for, and
  // read again at the next check. DDL run through this engine, and tables
  // and databases its Load() creates, are visible to the next query at once.
  // 0 = check before every query (tests).
  std::chrono::milliseconds schema_check_interval = std::chrono::milliseconds(250);
  // EngineSettings::create_if_missing: a missing lake_dir is not an error;
  // the first Load() with create makes it (mode 0700).
  bool create_if_missing = false;
};

// Opens the engine over `options.lake_dir`. Returns InvalidArgument
// (kMisconfigured) when the directory does not exist, unless
// `options.create_if_missing`.
Result<std::unique_ptr<Engine>> OpenSqliteEngine(SqliteEngineOptions options);

// The registry's entry point (app/engines.h): the engine over the lake
// directory `location` (the URL without its "sqlite:" scheme) with the
// engine-neutral `settings`.
Result<std::unique_ptr<Engine>> OpenSqliteEngineAt(std::string_view location,
                                                   const EngineSettings& settings);

// Creates <lake_dir>/<name>.db (mode 0600, WAL journal) unless it exists; the
// lake directory is created 0700 when missing. InvalidArgument (kInvalidName)
// for a bad name, kInternal when a file cannot be created. An administrator's
// helper (loads and tests), never used by user queries.
Status CreateDatabaseIfMissing(const std::string& lake_dir, const std::string& name);

}  // namespace lakegate::engine
