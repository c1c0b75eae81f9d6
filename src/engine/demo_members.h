// The demo's table, analytics.members (architecture §3): 1,000 members
// as deterministic rows, the same on every machine and in every engine.
// The demo and the engine conformance tests load it through Engine::Load().
#pragma once

#include <cstdint>

#include "common/status.h"
#include "engine/engine.h"

namespace lakegate::engine {

// Creates analytics.members(member_id INTEGER, name TEXT, email TEXT, region
// TEXT, tier TEXT, joined_on TEXT, lifetime_value REAL) in `engine` with
// `rows` deterministic rows when the table does not exist; leaves an existing
// table alone. Errors are Engine::Load()'s.
Status LoadDemoMembers(Engine& engine, int64_t rows);

}  // namespace lakegate::engine
