#include "app/stores.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>

#include "app/url_scheme.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace lakegate::app {
namespace {

using ::lakegate::testing::HasStatus;
using ::lakegate::testing::TempDir;

TEST(UrlSchemeTest, ReadsTheSchemeBeforeTheFirstColon) {
  EXPECT_EQ(UrlScheme("sqlite:state.db"), std::optional<std::string_view>("sqlite"));
  EXPECT_EQ(UrlScheme("postgresql://db.example/lakegate"),
            std::optional<std::string_view>("postgresql"));
  EXPECT_EQ(UrlScheme("svn+ssh.v-2:x"), std::optional<std::string_view>("svn+ssh.v-2"));
}

TEST(UrlSchemeTest, PlainPathsHaveNoScheme) {
  EXPECT_EQ(UrlScheme("/var/lib/lakegate/state.db"), std::nullopt);
  EXPECT_EQ(UrlScheme("./a:b/state.db"), std::nullopt);
  EXPECT_EQ(UrlScheme("dir/a:b"), std::nullopt);
  EXPECT_EQ(UrlScheme("state.db"), std::nullopt);
  EXPECT_EQ(UrlScheme(":memory:"), std::nullopt);
  EXPECT_EQ(UrlScheme("1st:x"), std::nullopt);
  EXPECT_EQ(UrlScheme("a_b:x"), std::nullopt);
  EXPECT_EQ(UrlScheme(""), std::nullopt);
}

TEST(OpenStoreTest, PlainPathAndSqliteUrlOpenTheSameSqliteFile) {
  TempDir dir;
  const std::string path = dir.path() + "/state.db";
  {
    auto store = OpenStore(path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->PutSetting("issuer", "https://auth.example").ok());
  }
  EXPECT_TRUE(std::filesystem::is_regular_file(path));
  for (const std::string& url : {"sqlite:" + path, "SQLite:" + path}) {
    auto store = OpenStore(url);
    ASSERT_TRUE(store.ok()) << url << ": " << store.status().ToString();
    auto issuer = (*store)->GetSetting("issuer");
    ASSERT_TRUE(issuer.ok()) << issuer.status().ToString();
    EXPECT_EQ(*issuer, std::optional<std::string>("https://auth.example")) << url;
  }
}

TEST(OpenStoreTest, DefaultUrlIsTheStateDirectorysSqliteFile) {
  TempDir dir;
  EXPECT_EQ(DefaultStoreUrl(dir.path()), "sqlite:" + dir.path() + "/state.db");
  auto store = OpenStore(DefaultStoreUrl(dir.path()));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE(std::filesystem::is_regular_file(dir.path() + "/state.db"));
}

TEST(OpenStoreTest, MemoryPathIsAPrivateStore) {
  auto a = OpenStore(":memory:");
  auto b = OpenStore("sqlite::memory:");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_TRUE((*a)->PutSetting("k", "v").ok());
  auto seen = (*b)->GetSetting("k");
  ASSERT_TRUE(seen.ok()) << seen.status().ToString();
  EXPECT_EQ(*seen, std::nullopt);
}

TEST(OpenStoreTest, UnknownSchemeNamesTheKnownOnesAndHidesTheUrl) {
  auto store = OpenStore("mysql://admin:s3cret@db.example/lakegate");
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(HasStatus(store.status(), StatusCode::kInvalidArgument, "unknown scheme 'mysql'"));
  EXPECT_TRUE(HasStatus(store.status(), StatusCode::kInvalidArgument,
                        "known: sqlite (sqlite:PATH or a plain file path), postgresql ("));
  EXPECT_EQ(store.status().message().find("s3cret"), std::string::npos) << store.status().message();
}

// Both spellings of the scheme reach the PostgreSQL store (here: nobody
// listens on port 1, so it is unreachable), and the password stays hidden.
TEST(OpenStoreTest, PostgresUrlsOpenThePostgresStore) {
  for (const char* url : {"postgresql://admin:s3cret@127.0.0.1:1/lakegate",
                          "postgres://admin:s3cret@127.0.0.1:1/lakegate"}) {
    auto store = OpenStore(url);
    EXPECT_TRUE(HasStatus(store.status(), StatusCode::kUnavailable, "is unreachable")) << url;
    EXPECT_EQ(store.status().message().find("s3cret"), std::string::npos)
        << store.status().message();
  }
}

TEST(ChooseStoreUrlTest, FlagThenEnvironmentThenStackFileThenSqliteDefault) {
  config::StackConfig stack;
  stack.state_dir = "/srv/state";
  ::unsetenv("LAKEGATE_STATE_URL");
  EXPECT_EQ(ChooseStoreUrl("", stack), "sqlite:/srv/state/state.db");
  stack.state.url = "postgresql://file@db/lg";
  EXPECT_EQ(ChooseStoreUrl("", stack), "postgresql://file@db/lg");
  ::setenv("LAKEGATE_STATE_URL", "postgresql://env@db/lg", 1);
  EXPECT_EQ(ChooseStoreUrl("", stack), "postgresql://env@db/lg");
  EXPECT_EQ(ChooseStoreUrl("postgresql://flag@db/lg", stack), "postgresql://flag@db/lg");
  ::unsetenv("LAKEGATE_STATE_URL");
}

TEST(OpenStoreTest, TheChosenStoresFailuresPassThrough) {
  TempDir dir;
  EXPECT_TRUE(HasStatus(OpenStore("sqlite:").status(), StatusCode::kInvalidArgument,
                        "state store path is empty"));
  EXPECT_TRUE(HasStatus(OpenStore("sqlite:" + dir.path() + "/missing/state.db").status(),
                        StatusCode::kFailedPrecondition, "does not exist"));
}

}  // namespace
}  // namespace lakegate::app
