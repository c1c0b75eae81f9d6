#include "app/engines.h"

#include "common/strings.h"
#include "engine/sqlite/sqlite_engine.h"

namespace lakegate::app {
namespace {

using EngineFactory = Result<std::unique_ptr<engine::Engine>> (*)(
    std::string_view location, const engine::EngineSettings& settings);

struct EngineKind {
  std::string_view scheme;
  EngineFactory open;  // takes the URL without "<scheme>:"
};

// One line per engine; the first is the one a plain path selects.
constexpr EngineKind kEngines[] = {
    {"sqlite", &engine::OpenSqliteEngineAt},
};

const EngineKind* FindEngine(std::string_view scheme) {
  for (const EngineKind& kind : kEngines) {
    if (EqualsIgnoreCase(kind.scheme, scheme)) return &kind;
  }
  return nullptr;
}

// The scheme of `url` ("" for a plain path): [A-Za-z][A-Za-z0-9+.-]* before
// the first ':'.
std::string_view SchemeOf(std::string_view url) {
  size_t colon = url.find(':');
  if (colon == std::string_view::npos || colon == 0) return {};
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  if (!alpha(url[0])) return {};
  for (char c : url.substr(1, colon - 1)) {
    if (!alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '.' && c != '-') return {};
  }
  return url.substr(0, colon);
}

Status UnknownScheme(std::string_view scheme) {
  return Status(StatusCode::kInvalidArgument, engine::EngineFailure::kMisconfigured,
                "unknown engine URL scheme '" + std::string(scheme) +
                    ":'; known: " + Join(EngineSchemes(), ", ") + " (or a lake directory path)");
}

}  // namespace

std::vector<std::string> EngineSchemes() {
  std::vector<std::string> out;
  for (const EngineKind& kind : kEngines) out.emplace_back(kind.scheme);
  return out;
}

Result<std::unique_ptr<engine::Engine>> OpenEngine(std::string_view url,
                                                   const engine::EngineSettings& settings) {
  std::string_view scheme = SchemeOf(url);
  std::string_view rest = scheme.empty() ? url : url.substr(scheme.size() + 1);
  const EngineKind* kind = scheme.empty() ? nullptr : FindEngine(scheme);
  if (kind == nullptr) {
    // A URL of an engine this build does not have; never its text (it may
    // hold a password).
    if (!scheme.empty() && rest.substr(0, 2) == "//") return UnknownScheme(scheme);
    return kEngines[0].open(url, settings);  // a plain path
  }
  if (rest.substr(0, 2) == "//") {
    // scheme://AUTHORITY/PATH: only an empty authority is local.
    rest.remove_prefix(2);
    if (rest.empty() || rest[0] != '/') {
      return Status(StatusCode::kInvalidArgument, engine::EngineFailure::kMisconfigured,
                    "a " + std::string(kind->scheme) + " URL names a local directory: write " +
                        std::string(kind->scheme) + ":PATH or " + std::string(kind->scheme) +
                        ":///ABSOLUTE/PATH");
    }
  }
  return kind->open(rest, settings);
}

}  // namespace lakegate::app
