// The state store's schema: hardening of a fresh connection, write-ahead
// logging, the application_id mark and the versioned migrations.
//
// Private to src/store/sqlite. Thread-safe (no shared state); a Connection is
// used by one thread at a time.
#pragma once

#include "common/status.h"
#include "store/sqlite/connection.h"

namespace lakegate::store::sqlite {

// The newest schema version this binary knows.
int LatestSchemaVersion();

// Hardens `conn` (defensive mode, no trusted schema, no double-quoted strings,
// no extension loading), sets the busy timeout, turns on WAL, synchronous=FULL,
// foreign keys and secure_delete, then checks that the file is a lakegate
// state store (or empty) and applies pending migrations in one IMMEDIATE
// transaction, so that concurrent openers serialize and a failure leaves the
// schema as it was. FailedPrecondition when the file is another application's
// database, has a newer schema than this binary knows (upgrade lakegate), or
// cannot use WAL; otherwise the codes of Connection::Error.
Status Configure(Connection& conn, int busy_timeout_ms);

// The hardening part of Configure alone (extended result codes, busy timeout,
// defensive mode, no trusted schema, no double-quoted strings, no extension
// loading), for the store's other files.
void Harden(Connection& conn, int busy_timeout_ms);

}  // namespace lakegate::store::sqlite
