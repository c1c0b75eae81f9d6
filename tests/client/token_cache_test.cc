// TokenCache: the on-disk format, the 0600/0700 modes, the expiry slack and
// the files it refuses to trust.
#include "client/token_cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "fake_lakegate.h"

namespace lakegate::client {
namespace {

using nlohmann::json;
using testing::TempDir;

class TokenCacheTest : public ::testing::Test {
 protected:
  std::string Dir() const { return dir_.path() + "/lakegate"; }
  TokenCache Cache() const { return TokenCache(Dir(), clock_); }

  TempDir dir_;
  FakeClock clock_{1'800'000'000};
  const TokenKey key_{"http://127.0.0.1:8080", "cid", "athena-api/query.read"};
};

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST_F(TokenCacheTest, StoresOneFilePerKeyOnlyTheUserCanRead) {
  const TokenCache cache = Cache();
  cache.Store(key_, "tok-1", clock_.NowSeconds() + 3600);
  const std::string path = cache.PathFor(key_);
  EXPECT_EQ(path,
            Dir() + "/token-" +
                HexEncode(crypto::Sha256(key_.endpoint + "\n" + key_.client_id + "\n" + key_.scope))
                    .substr(0, 32) +
                ".json");
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(ModeOf(Dir()), 0700u);
  Result<std::string> text = ReadFile(path);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(json::parse(*text), json({{"access_token", "tok-1"},
                                      {"expires_at", clock_.NowSeconds() + 3600},
                                      {"endpoint", key_.endpoint},
                                      {"client_id", "cid"},
                                      {"scope", key_.scope}}));
  std::optional<CachedToken> found = cache.Find(key_);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->access_token.Reveal(), "tok-1");
  EXPECT_EQ(found->expires_at, clock_.NowSeconds() + 3600);

  // Another scope is another entry.
  TokenKey all_scopes = key_;
  all_scopes.scope = "";
  EXPECT_NE(cache.PathFor(all_scopes), path);
  EXPECT_FALSE(cache.Find(all_scopes));
}

TEST_F(TokenCacheTest, TokenIsDroppedSixtySecondsBeforeItExpires) {
  const TokenCache cache = Cache();
  cache.Store(key_, "tok", clock_.NowSeconds() + 61);
  EXPECT_TRUE(cache.Find(key_));
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_FALSE(cache.Find(key_));
}

TEST_F(TokenCacheTest, FilesOthersCouldReadOrWriteAreIgnored) {
  const TokenCache cache = Cache();
  cache.Store(key_, "tok", clock_.NowSeconds() + 3600);
  ASSERT_EQ(::chmod(cache.PathFor(key_).c_str(), 0644), 0);
  EXPECT_FALSE(cache.Find(key_));
  ASSERT_EQ(::chmod(cache.PathFor(key_).c_str(), 0620), 0);
  EXPECT_FALSE(cache.Find(key_));
  // Storing again replaces the file with a private one.
  cache.Store(key_, "tok-2", clock_.NowSeconds() + 3600);
  EXPECT_EQ(ModeOf(cache.PathFor(key_)), 0600u);
  EXPECT_TRUE(cache.Find(key_));
}

TEST_F(TokenCacheTest, MalformedEntriesAreIgnored) {
  const TokenCache cache = Cache();
  ASSERT_TRUE(MakeDirectories(Dir(), 0700).ok());
  for (const char* text : {"not json", "[]", R"({"access_token":"t"})",
                           R"({"access_token":1,"expires_at":1900000000})",
                           R"({"access_token":"t","expires_at":"1900000000"})"}) {
    ASSERT_TRUE(WriteFileAtomic(cache.PathFor(key_), text, 0600).ok());
    EXPECT_FALSE(cache.Find(key_)) << text;
  }
}

TEST_F(TokenCacheTest, DropRemovesTheEntry) {
  const TokenCache cache = Cache();
  cache.Store(key_, "tok", clock_.NowSeconds() + 3600);
  cache.Drop(key_);
  EXPECT_FALSE(FileExists(cache.PathFor(key_)));
  EXPECT_FALSE(cache.Find(key_));
}

TEST_F(TokenCacheTest, DisabledCacheReadsAndWritesNothing) {
  const TokenCache cache("", clock_);
  EXPECT_EQ(cache.PathFor(key_), "");
  cache.Store(key_, "tok", clock_.NowSeconds() + 3600);
  EXPECT_FALSE(cache.Find(key_));
  EXPECT_FALSE(FileExists(Dir()));
}

TEST(TokenCacheDirTest, XdgCacheHomeThenHome) {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  const std::string saved_xdg = xdg ? xdg : "", saved_home = home ? home : "";
  ::setenv("XDG_CACHE_HOME", "/x/cache", 1);
  ::setenv("HOME", "/home/u", 1);
  EXPECT_EQ(TokenCache::DefaultDir(), "/x/cache/lakegate");
  ::unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(TokenCache::DefaultDir(), "/home/u/.cache/lakegate");
  ::unsetenv("HOME");
  EXPECT_EQ(TokenCache::DefaultDir(), "");
  if (xdg) ::setenv("XDG_CACHE_HOME", saved_xdg.c_str(), 1);
  if (home) ::setenv("HOME", saved_home.c_str(), 1);
}

}  // namespace
}  // namespace lakegate::client
