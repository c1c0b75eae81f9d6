#include "app/url_scheme.h"

namespace lakegate::app {
namespace {

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsSchemeChar(char c) {
  return IsAlpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
}

}  // namespace

std::optional<std::string_view> UrlScheme(std::string_view url) {
  if (url.empty() || !IsAlpha(url.front())) return std::nullopt;
  for (size_t i = 1; i < url.size(); ++i) {
    if (url[i] == ':') return url.substr(0, i);
    if (!IsSchemeChar(url[i])) return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace lakegate::app
