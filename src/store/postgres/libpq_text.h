// libpq's message text as lakegate shows it, for every libpq client (the
// PostgreSQL state store and the PostgreSQL engine). Pure, thread-safe; no
// libpq calls.
#pragma once

#include <string>

namespace lakegate::store {

// A libpq message on one line: `text` (null reads as "") without its
// trailing newlines and spaces, inner newlines as spaces.
std::string OneLine(const char* text);

}  // namespace lakegate::store
