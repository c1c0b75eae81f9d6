// Forwards to store/sqlite/sqlite_store.h for src/app/server_app.cc's wiring,
// until it opens its store through app/stores.h; include the new path instead.
#pragma once

#include "store/sqlite/sqlite_store.h"  // IWYU pragma: export
