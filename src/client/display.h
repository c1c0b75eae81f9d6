// Showing text that came from a server on a terminal: on one line and cut to
// a width. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace lakegate::client {

// Width in terminal columns, counted as UTF-8 code points (good enough for
// most scripts).
size_t DisplayWidth(std::string_view s);

// `s` on one line: a newline becomes the two characters "\n", other control
// characters a space; cut with "..." to at most `max_width` columns
// (`max_width` >= 4).
std::string FitToWidth(std::string_view s, size_t max_width);

}  // namespace lakegate::client
