// The PostgreSQL store's schema (every table lives in the schema "lakegate")
// and its versioned migrations.
//
// Private to src/store/postgres. Thread-compatible.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "store/postgres/connection.h"

namespace lakegate::store::postgres {

// Advisory lock keys (per database): schema migrations, and the one writer
// at a time that gives every write transaction the serial semantics of the
// SQLite store (read-modify-write calls such as SavePolicy, or a key rotation
// that retires the current key, never interleave across nodes).
inline constexpr int64_t kMigrationLockKey = 0x4C4B475400000001;  // "LKGT" 1
inline constexpr int64_t kWriteLockKey = 0x4C4B475400000002;      // "LKGT" 2

// The NOTIFY channel of change hints.
inline constexpr const char* kChangeChannel = "lakegate_state_changed";

// The newest schema version this binary knows.
int LatestSchemaVersion();

// Applies pending migrations in one transaction under the migration advisory
// lock: when several nodes start at once on an empty database exactly one
// migrates; the others wait for it, then find the schema current. Returns
// kFailedPrecondition when the database holds a newer schema than this binary
// knows (the message says to upgrade) or refuses the DDL (privileges), and the
// connection's failures otherwise. A failure leaves the schema as it was.
Status Migrate(Connection& conn);

}  // namespace lakegate::store::postgres
