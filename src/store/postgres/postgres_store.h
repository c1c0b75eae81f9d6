// The PostgreSQL implementation of Store (store.h): one state store shared by
// any number of lakegate nodes.
//
// Design:
//  * Every table lives in the schema "lakegate" of the database the URL
//    names (schema.h); versioned migrations run in one transaction under an
//    advisory lock, so nodes starting together on an empty database migrate
//    once.
//  * A small pool of connections (libpq, blocking, connect timeout 2 s by
//    default, TCP keepalives): a call borrows one, so calls from several
//    threads run in parallel. A connection the server dropped (restart,
//    failover, pg_terminate_backend) is discarded and the call retried once on
//    a new one when nothing was committed yet; while the database is away
//    every call fails fast with kUnavailable [StoreFailure::kUnreachable],
//    and the next call after it returns reconnects.
//  * Reads run in one REPEATABLE READ READ ONLY transaction (one snapshot per
//    call). Writes run in a READ COMMITTED transaction that first takes a
//    transaction-scoped advisory lock: one writer at a time across all nodes,
//    as with SQLite's BEGIN IMMEDIATE, so read-modify-write calls (SavePolicy's
//    next version number, a key rotation that retires the current key inside
//    RunInTransaction) never interleave: one rotation makes exactly one new key.
//  * A write transaction that changed rows also bumps the one-row change
//    counter and sends NOTIFY lakegate_state_changed; ChangeCounter() reads the
//    row and SubscribeToChanges() LISTENs on a connection of its own. The
//    notification carries no data (any role may NOTIFY): it only wakes readers.
//  * TLS, host lists, passwords from ~/.pgpass or PGPASSWORD: whatever the
//    libpq URL says (sslmode=require / verify-full, sslrootcert=...).
//  * Passwords never reach messages or logs (url.h redacts them).
//
// Files of this folder: postgres_store.cc (pool, transactions, change
// counter), ops.cc (the SQL of each operation), schema.cc (migrations),
// change_listener.cc (LISTEN), connection.cc (libpq, error mapping), url.cc.
// Outside src/store and tests, open a store through app/stores.h.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "store/postgres/url.h"
#include "store/store.h"

namespace lakegate::store {

struct PostgresStoreOptions {
  // How long connecting may take before the call fails with kUnavailable
  // (libpq's connect_timeout; a URL's own connect_timeout wins).
  int connect_timeout_seconds = 2;
  // Connections open at once; a call waits for a free one up to the connect
  // timeout, then fails with kUnavailable.
  int max_connections = 4;
};

// The newest schema version this binary knows.
int PostgresStoreSchemaVersion();

// Connects to the database `url` names (a libpq URI such as
// postgresql://USER@HOST:PORT/DB?sslmode=verify-full&sslrootcert=ca.pem),
// and applies pending schema migrations. Returns kUnavailable
// [StoreFailure::kUnreachable] when the server does not answer within the
// connect timeout, kFailedPrecondition when it refuses us (authentication,
// missing database, TLS) or holds a newer schema than this binary knows.
// Messages show the URL with its password redacted.
Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url,
                                                 PostgresStoreOptions options = {});

}  // namespace lakegate::store
