// The state-store registry: a store is chosen by the scheme of its URL, so
// that the rest of the program never names a concrete store. A new backend
// (a folder under src/store/) is one line in stores.cc's table.
//
// Thread-safe: the registry is immutable.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "config/stack_config.h"
#include "store/store.h"

namespace lakegate::app {

// The URL of the state store kept in `state_dir` when the stack file names no
// other: the SQLite file <state_dir>/state.db.
std::string DefaultStoreUrl(std::string_view state_dir);

// The state store URL a command uses, by precedence: `flag` (--state) when
// not empty, else $LAKEGATE_STATE_URL, else the stack file's state.url, else
// the SQLite default in the stack's state_dir.
std::string ChooseStoreUrl(std::string_view flag, const config::StackConfig& stack);
// The state store URL given outside the stack file: `flag`, else
// $LAKEGATE_STATE_URL, else "".
std::string ExplicitStoreUrl(std::string_view flag);

// `url` with any password replaced by "***", for messages and logs.
std::string RedactStoreUrl(std::string_view url);

// True for a store other processes on other machines may share (anything but
// SQLite): then every node must bring the same key files (app/state_keys.h).
bool IsSharedStoreUrl(std::string_view url);

// Opens, creating it when needed, the state store `url` names:
//   sqlite:PATH or a plain PATH   the SQLite store in the file PATH (as written;
//                                 ":memory:" is a private in-memory store)
//   postgresql://... postgres://... the PostgreSQL store in that database (a
//                                 libpq URI: USER[:PASSWORD]@HOST:PORT/DB with
//                                 sslmode, sslrootcert, ...); its tables live
//                                 in the schema "lakegate", made on first use
// InvalidArgument, naming the schemes it knows, for another scheme; otherwise
// the chosen store's failures (store/sqlite/sqlite_store.h: OpenSqliteStore,
// store/postgres/postgres_store.h: OpenPostgresStore).
// The caller owns the store.
Result<std::unique_ptr<store::Store>> OpenStore(std::string_view url);

}  // namespace lakegate::app
