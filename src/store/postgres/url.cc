#include "store/postgres/url.h"

#include <libpq-fe.h>

#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "common/percent_encoding.h"

namespace lakegate::store {
namespace {

// Redaction must find the password exactly where libpq does (its
// conninfo_parse and conninfo_uri_parse), or a password libpq accepts would
// reach a log: the parsers below follow libpq's rules, not a URI RFC.

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

bool IsPasswordKey(std::string_view key) {
  static constexpr std::string_view kKey = "password";
  if (key.size() != kKey.size()) return false;
  for (size_t k = 0; k < kKey.size(); ++k) {
    if (std::tolower(static_cast<unsigned char>(key[k])) != kKey[k]) return false;
  }
  return true;
}

// Key/value form: `key = value` pairs separated by white space, white space
// allowed around '=', values plain (backslash escapes, ending at white space)
// or 'quoted' (backslash escapes). Replaces every password value.
std::string RedactKeyValue(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (IsSpace(s[i])) {
      out += s[i++];
      continue;
    }
    const size_t key_start = i;
    while (i < s.size() && s[i] != '=' && !IsSpace(s[i])) ++i;
    const std::string_view key = s.substr(key_start, i - key_start);
    while (i < s.size() && IsSpace(s[i])) ++i;
    if (i >= s.size() || s[i] != '=') {  // libpq refuses the rest: keep it
      out.append(s.substr(key_start));
      return out;
    }
    ++i;
    while (i < s.size() && IsSpace(s[i])) ++i;
    out.append(s.substr(key_start, i - key_start));  // key, '=', the spaces
    const size_t value_start = i;
    if (i < s.size() && s[i] == '\'') {
      ++i;
      while (i < s.size() && s[i] != '\'') i += s[i] == '\\' ? 2u : 1u;
      if (i < s.size()) ++i;  // the closing quote
    } else {
      while (i < s.size() && !IsSpace(s[i])) i += s[i] == '\\' ? 2u : 1u;
    }
    if (i > s.size()) i = s.size();
    if (IsPasswordKey(key)) {
      out += "***";
      // A quoted value may be followed by the next key at once ('x'user=y):
      // keep "***" a value of its own.
      if (i < s.size() && !IsSpace(s[i])) out += ' ';
    } else {
      out.append(s.substr(value_start, i - value_start));
    }
  }
  return out;
}

// URI query: `key=value` pairs separated by '&', keys percent-decoded as libpq
// decodes them ("pass%77ord" is "password"). `query` starts at the first '?'
// that may begin libpq's query; libpq's own '?' can lie later (inside an IPv6
// "[...]" host), so every '?' also starts a pair here. A password value runs
// to the next '&', as in libpq: every pair libpq can find starts where one
// starts here, and reads "***".
std::string RedactQuery(std::string_view query) {
  std::string out;
  size_t i = 0;
  while (true) {
    size_t end = query.find_first_of("&?", i);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view pair = query.substr(i, end - i);
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && IsPasswordKey(PercentDecodeLenient(pair.substr(0, eq)))) {
      out.append(pair.substr(0, eq + 1));
      out += "***";
      end = query.find('&', i);
      if (end == std::string_view::npos) end = query.size();
    } else {
      out.append(pair);
    }
    if (end == query.size()) return out;
    out += query[end];
    i = end + 1;
  }
}

// The text of `url` with its passwords hidden, following libpq's parsing
// rules; RedactPostgresUrl checks the result with libpq itself.
std::string RedactText(std::string_view url) {
  size_t authority = std::string_view::npos;
  for (std::string_view prefix : {"postgresql://", "postgres://"}) {
    if (url.substr(0, prefix.size()) == prefix) authority = prefix.size();
  }
  if (authority == std::string_view::npos) return RedactKeyValue(url);

  std::string out(url.substr(0, authority));
  // libpq: user[:password] ends at the first '@' before the first '/' (a '?'
  // there is still part of the user). With a password, everything up to the
  // last '@' before the host ends ('/' or '?') is hidden, so that a password
  // with a raw '@' is hidden whole; the query stays as libpq reads it. Not
  // when a '[' is hidden or would start the host shown: libpq reads a host
  // that starts with '[' up to its ']', '/' and '?' included.
  size_t slash = url.find('/', authority);
  if (slash == std::string_view::npos) slash = url.size();
  const size_t first_at = url.substr(0, slash).find('@', authority);
  size_t rest = authority;
  if (first_at != std::string_view::npos) {
    const std::string_view userinfo = url.substr(authority, first_at - authority);
    const size_t colon = userinfo.find(':');
    out.append(userinfo.substr(0, colon));
    if (colon == std::string_view::npos) {
      rest = first_at + 1;
    } else {
      out += ":***";
      size_t host_end = url.find_first_of("/?", first_at + 1);
      if (host_end == std::string_view::npos) host_end = url.size();
      const size_t last_at = url.rfind('@', host_end - 1);
      // Hidden: (first_at, last_at]; shown first: last_at + 1.
      const bool bracket =
          url.substr(first_at + 1, last_at + 1 - first_at).find('[') != std::string_view::npos;
      rest = bracket ? first_at + 1 : last_at + 1;
    }
    out += '@';
  }
  const size_t query = url.find('?', rest);
  if (query == std::string_view::npos) {
    out.append(url.substr(rest));
    return out;
  }
  out.append(url.substr(rest, query + 1 - rest));
  const std::string shown_query = RedactQuery(url.substr(query + 1));
  if (first_at != std::string_view::npos || slash < query) {
    out += shown_query;
    return out;
  }
  // No userinfo, and the '/' that ended libpq's look-ahead for one lies in the
  // query: in a password value it is gone now, and a later '@' would turn the
  // text shown into a URI with a userinfo. libpq decodes %40 back to '@'.
  for (char c : shown_query) {
    if (c == '@') {
      out += "%40";
    } else {
      out += c;
    }
  }
  return out;
}

using Options = std::map<std::string, std::string>;

// The options libpq reads from `conninfo` (only those given), or nullopt when
// it refuses the text.
std::optional<Options> LibpqReads(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &error);
  if (error != nullptr) PQfreemem(error);
  if (parsed == nullptr) return std::nullopt;
  Options options;
  for (const PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) options[o->keyword] = o->val;
  }
  PQconninfoFree(parsed);
  return options;
}

// Whether libpq reads from `shown` what it reads from the original, but no
// password other than "***". The host may differ: the text hides the whole
// of a password with a raw '@', though libpq ends it at the first and reads
// the rest as part of the host.
bool ShowsTheSame(const Options& original, const std::string& shown) {
  std::optional<Options> read = LibpqReads(shown);
  if (!read) return false;
  auto password = read->find("password");
  if (password != read->end() && password->second != "***") return false;
  auto without_secrets = [](Options options) {
    options.erase("password");
    options.erase("host");
    return options;
  };
  return without_secrets(original) == without_secrets(*std::move(read));
}

// The options as a key/value connection string, every value quoted, the
// password "***" and a host with an '@' (most likely the rest of a password
// with a raw '@') "***" too.
std::string KeyValueText(const Options& options) {
  std::string out;
  for (const auto& [key, value] : options) {
    if (!out.empty()) out += ' ';
    out += key;
    out += '=';
    if (key == "password" || (key == "host" && value.find('@') != std::string::npos)) {
      out += "***";
      continue;
    }
    out += '\'';
    for (char c : value) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    out += '\'';
  }
  return out;
}

}  // namespace

std::string RedactPostgresUrl(std::string_view url) {
  // libpq is handed the URL as a C string: it reads up to a NUL, and so
  // does what is shown.
  const std::string conninfo(url.substr(0, url.find('\0')));
  std::string text = RedactText(conninfo);
  const std::optional<Options> original = LibpqReads(conninfo);
  // Text libpq refuses never connects: the text redaction, best effort.
  if (!original || ShowsTheSame(*original, text)) return text;
  // The text redaction changed what libpq reads (URIs no one writes on
  // purpose, found by tests/fuzz/postgres_url_fuzz.cc): show what libpq reads
  // from the original instead.
  std::string options = KeyValueText(*original);
  if (ShowsTheSame(*original, options)) return options;
  return "(a PostgreSQL connection string libpq reads, not shown)";
}

}  // namespace lakegate::store
