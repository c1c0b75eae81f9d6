// Fuzzes the redaction of PostgreSQL state-store URLs
// (store::RedactPostgresUrl: what every message and log line shows of the
// URL), with libpq's own parser as the judge: whatever libpq reads from the
// redacted text, it must find no password there but "***", and every other
// option it finds (user, database, port, query parameters) must be as in the
// original URL. (The host may differ: with a password, everything up to the
// last '@' of the userinfo is hidden, though libpq ends the password at the
// first.)
//
// Input: the URL or key/value connection string (any bytes).
#include <libpq-fe.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

#include "fuzz_target.h"
#include "store/postgres/url.h"

namespace {

// The options libpq parses from `conninfo` (only those given), or nullopt-like
// `ok == false` when libpq refuses it.
struct Parsed {
  bool ok = false;
  std::map<std::string, std::string> options;
};

Parsed Parse(const std::string& conninfo) {
  Parsed parsed;
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (error != nullptr) PQfreemem(error);
  if (options == nullptr) return parsed;
  parsed.ok = true;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) parsed.options[o->keyword] = o->val;
  }
  PQconninfoFree(options);
  return parsed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string url(reinterpret_cast<const char*>(data), size);
  if (url.find('\0') != std::string::npos) return 0;  // not a C string libpq could be given
  const Parsed original = Parse(url);
  if (!original.ok) return 0;  // libpq refuses it: no connection, nothing to leak through it
  const std::string redacted = lakegate::store::RedactPostgresUrl(url);
  const Parsed shown = Parse(redacted);
  if (!shown.ok) std::fprintf(stderr, "libpq refuses: %s -> %s\n", url.c_str(), redacted.c_str());
  FUZZ_CHECK(shown.ok);
  auto password = shown.options.find("password");
  if (password != shown.options.end() && password->second != "***") {
    std::fprintf(stderr, "password leaks: %s -> %s (libpq reads \"%s\")\n", url.c_str(),
                 redacted.c_str(), password->second.c_str());
  }
  FUZZ_CHECK(password == shown.options.end() || password->second == "***");
  for (const auto& [keyword, value] : original.options) {
    if (keyword == "password" || keyword == "host") continue;
    auto after = shown.options.find(keyword);
    const bool same = after != shown.options.end() && after->second == value;
    if (!same)
      std::fprintf(stderr, "%s changes: %s -> %s\n", keyword.c_str(), url.c_str(),
                   redacted.c_str());
    FUZZ_CHECK(same);
  }
  for (const auto& [keyword, value] : shown.options) {
    if (keyword == "password" || keyword == "host") continue;
    const bool known = original.options.count(keyword) == 1;
    if (!known)
      std::fprintf(stderr, "%s appears: %s -> %s\n", keyword.c_str(), url.c_str(),
                   redacted.c_str());
    FUZZ_CHECK(known);
  }
  return 0;
}
