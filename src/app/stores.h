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
#include "store/store.h"

namespace lakegate::app {

// The URL of the state store kept in `state_dir` when the stack file names no
// other: the SQLite file <state_dir>/state.db.
std::string DefaultStoreUrl(std::string_view state_dir);

// Opens, creating it when needed, the state store `url` names:
//   sqlite:PATH or a plain PATH   the SQLite store in the file PATH (as written;
//                                 ":memory:" is a private in-memory store)
// InvalidArgument, naming the schemes it knows, for another scheme; otherwise
// the chosen store's failures (store/sqlite/sqlite_store.h: OpenSqliteStore).
// The caller owns the store.
Result<std::unique_ptr<store::Store>> OpenStore(std::string_view url);

}  // namespace lakegate::app
