// The SQLite implementation of Store (store.h): one file, <state_dir>/state.db.
//
// Design:
//  * One connection per Store object, guarded by one mutex. Prepared statements
//    are cached on it. Readers are serialized in this process; that is enough
//    because the request path reads in-memory snapshots, not the store. Other
//    processes (e.g. `lakegate apply` while `lakegate serve` runs) open their
//    own connection; WAL lets their readers run beside one writer.
//  * journal_mode=WAL, synchronous=FULL: writes are rare administrative actions
//    whose effects are shown outside the store at once (a client secret that is
//    displayed only once, tokens signed by a freshly rotated key, a revocation
//    acknowledged to the caller). Losing such a commit to a power cut would
//    break those promises, while one extra fsync per commit costs nothing at
//    this write rate. Within a transaction nothing is synced until COMMIT.
//  * Every write runs in a transaction (BEGIN IMMEDIATE, so a writer never
//    fails half-way on a lock upgrade); a crash at any point leaves the last
//    committed state. foreign_keys=ON, secure_delete=ON (deleted signing keys
//    are zeroed in the database file), defensive mode, no double-quoted strings.
//  * The file is created with mode 0600 (it holds private keys); an existing
//    file with wider permissions is narrowed to 0600. SQLite gives its -wal and
//    -shm files the mode of the database file.
//  * Versioned schema migrations, each in its own transaction, recorded in
//    schema_migrations(version, applied_at). The file is marked with an SQLite
//    application_id so that an unrelated SQLite database is never migrated.
//
// Files of this folder: sqlite_store.cc (locking, transactions, the change
// counter), ops.h with clients.cc, keys.cc, resource_servers.cc and
// policy_versions.cc (the SQL of each operation), connection.h (statement
// cache, error mapping), schema.h (hardening and migrations), state_file.h
// (the 0600 file). Outside src/store and tests, open a store through
// app/stores.h rather than naming this backend.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "store/store.h"

namespace lakegate::store {

struct SqliteStoreOptions {
  // How long a write waits for another process's write lock before failing
  // with kUnavailable.
  int busy_timeout_ms = 5000;
};

// The newest schema version this binary knows.
int SqliteStoreSchemaVersion();

// Opens or creates the store at `path` (its directory must exist) and applies
// pending schema migrations. Returns kFailedPrecondition when the directory is
// missing, the file cannot be opened (permissions), is not a lakegate state
// store, is corrupt, or has a schema version newer than this binary knows (the
// message says to upgrade lakegate); kUnavailable when it stays locked longer
// than the busy timeout. Messages name the path and say what to do.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               SqliteStoreOptions options = {});

// A private in-memory store (SQLite ":memory:") with the same schema and
// semantics, for tests of other modules. Wrap it in a FaultInjectingStore
// (fault_injecting_store.h) to make writes fail.
std::unique_ptr<Store> NewInMemoryStore();

}  // namespace lakegate::store
