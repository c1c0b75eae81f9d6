#include "client/token_cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/strings.h"
#include "crypto/hash.h"

namespace lakegate::client {

using nlohmann::json;

namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

}  // namespace

TokenCache::TokenCache(std::string dir, const Clock& clock) : dir_(std::move(dir)), clock_(clock) {}

std::string TokenCache::DefaultDir() {
  std::string base = Env("XDG_CACHE_HOME");
  if (base.empty()) {
    std::string home = Env("HOME");
    if (home.empty()) return "";
    base = home + "/.cache";
  }
  return base + "/lakegate";
}

std::string TokenCache::PathFor(const TokenKey& key) const {
  if (dir_.empty()) return "";
  std::string name = key.endpoint + "\n" + key.client_id + "\n" + key.scope;
  if (!key.certificate.empty()) name += "\n" + key.certificate;
  if (!key.dpop.empty()) name += "\ndpop " + key.dpop;
  const std::string digest = crypto::Sha256(name);
  return dir_ + "/token-" + HexEncode(digest).substr(0, 32) + ".json";
}

std::optional<CachedToken> TokenCache::Find(const TokenKey& key) const {
  const std::string path = PathFor(key);
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return std::nullopt;
  if ((st.st_mode & 077) != 0 || st.st_uid != ::geteuid()) return std::nullopt;
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return std::nullopt;
  const json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("access_token") || !doc["access_token"].is_string() ||
      !doc.contains("expires_at") || !doc["expires_at"].is_number_integer()) {
    return std::nullopt;
  }
  const int64_t expires_at = doc["expires_at"].get<int64_t>();
  if (expires_at - kExpirySlack.count() <= clock_.NowSeconds()) return std::nullopt;
  CachedToken token{SecretString(doc["access_token"].get<std::string>()), expires_at, {}};
  if (doc.contains("dpop_key_pem") && doc["dpop_key_pem"].is_string()) {
    token.dpop_key_pem = SecretString(doc["dpop_key_pem"].get<std::string>());
  }
  return token;
}

void TokenCache::Store(const TokenKey& key, std::string_view access_token, int64_t expires_at,
                       std::string_view dpop_key_pem) const {
  const std::string path = PathFor(key);
  if (path.empty() || !MakeDirectories(dir_, 0700).ok()) return;
  json doc = {{"access_token", access_token},
              {"expires_at", expires_at},
              {"endpoint", key.endpoint},
              {"client_id", key.client_id},
              {"scope", key.scope}};
  if (!key.dpop.empty()) doc["dpop"] = key.dpop;
  if (!dpop_key_pem.empty()) doc["dpop_key_pem"] = dpop_key_pem;
  WriteFileAtomic(path, doc.dump() + "\n", 0600).IgnoreError();
}

void TokenCache::Drop(const TokenKey& key) const {
  const std::string path = PathFor(key);
  if (!path.empty()) ::unlink(path.c_str());
}

}  // namespace lakegate::client
