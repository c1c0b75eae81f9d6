#include "app/stores.h"

#include <cstdlib>
#include <optional>
#include <string>

#include "app/url_scheme.h"
#include "common/strings.h"
#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"

namespace lakegate::app {
namespace {

Result<std::unique_ptr<store::Store>> OpenSqlite(std::string_view url) {
  if (std::optional<std::string_view> scheme = UrlScheme(url)) {
    url.remove_prefix(scheme->size() + 1);
  }
  return store::OpenSqliteStore(std::string(url));
}

// A libpq URI, passed whole: libpq reads host, port, database, user, password
// and the TLS parameters from it.
Result<std::unique_ptr<store::Store>> OpenPostgres(std::string_view url) {
  return store::OpenPostgresStore(std::string(url));
}

struct StoreKind {
  std::string_view scheme;  // without the ':'
  std::string_view syntax;  // how its URLs look, for messages
  // Opens the store from its whole URL.
  Result<std::unique_ptr<store::Store>> (*open)(std::string_view url);
};

// The first kind also opens URLs without a scheme (plain file paths).
constexpr StoreKind kStoreKinds[] = {
    {"sqlite", "sqlite:PATH or a plain file path", &OpenSqlite},
    {"postgresql", "postgresql://USER@HOST:PORT/DB?sslmode=...", &OpenPostgres},
    {"postgres", "postgres://USER@HOST:PORT/DB?sslmode=...", &OpenPostgres},
};

std::string KnownKinds() {
  std::string out;
  for (const StoreKind& kind : kStoreKinds) {
    if (!out.empty()) out += ", ";
    out += std::string(kind.scheme) + " (" + std::string(kind.syntax) + ")";
  }
  return out;
}

}  // namespace

std::string DefaultStoreUrl(std::string_view state_dir) {
  return "sqlite:" + std::string(state_dir) + "/state.db";
}

std::string ExplicitStoreUrl(std::string_view flag) {
  if (!flag.empty()) return std::string(flag);
  const char* env = std::getenv("LAKEGATE_STATE_URL");
  return env != nullptr ? env : "";
}

std::string ChooseStoreUrl(std::string_view flag, const config::StackConfig& stack) {
  if (std::string url = ExplicitStoreUrl(flag); !url.empty()) return url;
  if (!stack.state.url.empty()) return stack.state.url;
  return DefaultStoreUrl(stack.state_dir);
}

std::string RedactStoreUrl(std::string_view url) { return store::RedactPostgresUrl(url); }

bool IsSharedStoreUrl(std::string_view url) {
  std::optional<std::string_view> scheme = UrlScheme(url);
  return scheme && !EqualsIgnoreCase(*scheme, "sqlite");
}

Result<std::unique_ptr<store::Store>> OpenStore(std::string_view url) {
  std::optional<std::string_view> scheme = UrlScheme(url);
  if (!scheme) return kStoreKinds[0].open(url);
  for (const StoreKind& kind : kStoreKinds) {
    if (EqualsIgnoreCase(*scheme, kind.scheme)) return kind.open(url);
  }
  // The URL itself is left out: it may hold a password.
  return InvalidArgumentError("state store URL has an unknown scheme '" + std::string(*scheme) +
                              "'; known: " + KnownKinds());
}

}  // namespace lakegate::app
