// The scheme of a URL that picks a backend ("sqlite:state.db",
// "postgresql://host/db"): the composition root chooses state stores
// (stores.h) by it. Pure, thread-safe.
#pragma once

#include <optional>
#include <string_view>

namespace lakegate::app {

// The scheme of `url` (RFC 3986 §3.1: a letter, then letters, digits, '+',
// '-' or '.', then ':'), as written; nullopt when `url` does not start with
// one, as for a plain file path ("/var/lib/state.db", "./state.db",
// ":memory:").
std::optional<std::string_view> UrlScheme(std::string_view url);

}  // namespace lakegate::app
