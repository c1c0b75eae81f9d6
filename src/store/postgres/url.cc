#include "store/postgres/url.h"

#include <cctype>

namespace lakegate::store {
namespace {

// Replaces the value of every "password=" key (case-insensitive) that starts
// at `from` or after a separator ('?', '&', ' ').
std::string RedactPasswordParams(std::string s, size_t from) {
  static constexpr std::string_view kKey = "password=";
  for (size_t i = from; i + kKey.size() <= s.size(); ++i) {
    if (i != from && s[i - 1] != '?' && s[i - 1] != '&' && s[i - 1] != ' ') continue;
    bool match = true;
    for (size_t k = 0; k < kKey.size(); ++k) {
      if (std::tolower(static_cast<unsigned char>(s[i + k])) != kKey[k]) {
        match = false;
        break;
      }
    }
    if (!match) continue;
    size_t start = i + kKey.size();
    size_t end = start;
    if (end < s.size() && s[end] == '\'') {
      // key/value form: 'quoted value' with \' escapes
      ++end;
      while (end < s.size() && s[end] != '\'') end += (s[end] == '\\') ? 2u : 1u;
      if (end < s.size()) ++end;
    } else {
      while (end < s.size() && s[end] != '&' && s[end] != ' ') ++end;
    }
    if (end > s.size()) end = s.size();
    s.replace(start, end - start, "***");
    i = start + 3;
  }
  return s;
}

}  // namespace

std::string RedactPostgresUrl(std::string_view url) {
  std::string s(url);
  size_t scheme_end = s.find("://");
  if (scheme_end == std::string::npos) return RedactPasswordParams(std::move(s), 0);
  size_t authority = scheme_end + 3;
  size_t authority_end = s.find_first_of("/?", authority);
  if (authority_end == std::string::npos) authority_end = s.size();
  // The last '@' ends the userinfo (a password may contain an unescaped '@').
  size_t at = s.rfind('@', authority_end);
  if (at != std::string::npos && at >= authority) {
    size_t colon = s.find(':', authority);
    if (colon != std::string::npos && colon < at) {
      s.replace(colon + 1, at - colon - 1, "***");
    }
  }
  size_t query = s.find('?', authority);
  if (query != std::string::npos) s = RedactPasswordParams(std::move(s), query + 1);
  return s;
}

}  // namespace lakegate::store
