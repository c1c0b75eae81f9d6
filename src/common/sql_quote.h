// SQL quoting shared by every engine (PostgreSQL, Trino, SQLite) and the
// Trino decision point: standard SQL's rule, the quote character doubled.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace lakegate {

// `name` as a double-quoted SQL identifier: a"b -> "a""b".
std::string QuoteIdent(std::string_view name);
// `text` as a single-quoted SQL string literal: it's -> 'it''s' (PostgreSQL
// with standard_conforming_strings, Trino and SQLite read it the same way;
// backslashes are plain characters).
std::string QuoteString(std::string_view text);

}  // namespace lakegate
