// Tests of app/engines.h: an engine is chosen by its URL's scheme.
#include "app/engines.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <string>

#include "testing/status_matchers.h"

namespace lakegate::app {
namespace {

using lakegate::testing::HasReason;

// A load source without records.
class EmptySource final : public engine::RowSource {
 public:
  const std::vector<std::string>& columns() const override { return columns_; }
  Result<bool> Next(std::vector<engine::LoadField>&) override { return false; }
  Status Rewind() override { return Status::Ok(); }
  int64_t line() const override { return 0; }
  uint64_t bytes_read() const override { return 0; }
  uint64_t total_bytes() const override { return 0; }
  const std::string& name() const override { return name_; }

 private:
  std::vector<std::string> columns_;
  std::string name_ = "empty";
};

class EnginesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lakegate-engines-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The databases the engine at `url` lists (it must open).
  size_t Databases(const std::string& url) {
    auto engine = OpenEngine(url, {});
    EXPECT_TRUE(engine.ok()) << url << ": " << engine.status().ToString();
    if (!engine.ok()) return 0;
    policy::PolicySnapshot snapshot;
    policy::Role everything;
    everything.name = "everything";
    everything.grants.push_back({"*", "*", policy::kAllPermissions, {}});
    auto catalog = (*engine)->Catalog(snapshot, everything);
    EXPECT_TRUE(catalog.ok()) << catalog.status().ToString();
    return catalog.ok() ? catalog->size() : 0;
  }

  std::string dir_;
};

TEST_F(EnginesTest, SqliteByPlainPathOrUrl) {
  {
    engine::EngineSettings settings;
    settings.create_if_missing = true;
    auto engine = OpenEngine(dir_ + "/lake", settings);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine::LoadRequest request{"analytics", "t", /*create=*/true, {{"x", "INTEGER"}}};
    EmptySource empty;
    ASSERT_TRUE((*engine)->Load(request, empty, nullptr).ok());
  }
  EXPECT_EQ(Databases(dir_ + "/lake"), 1u);
  EXPECT_EQ(Databases("sqlite:" + dir_ + "/lake"), 1u);
  EXPECT_EQ(Databases("SQLite:" + dir_ + "/lake"), 1u);    // schemes are case-insensitive
  EXPECT_EQ(Databases("sqlite://" + dir_ + "/lake"), 1u);  // empty authority
}

TEST_F(EnginesTest, OneEnginePerListedDatabase) {
  engine::EngineSettings settings;
  settings.create_if_missing = true;
  EmptySource empty;
  // Loads land in the engine of their database.
  std::map<std::string, std::string> by_database = {{"sales", dir_ + "/sales-lake"}};
  {
    auto engines = OpenEngines(dir_ + "/lake", by_database, settings);
    ASSERT_TRUE(engines.ok()) << engines.status().ToString();
    for (const char* database : {"analytics", "sales"}) {
      engine::LoadRequest request{database, "t", /*create=*/true, {{"x", "INTEGER"}}};
      ASSERT_TRUE((*engines)->Load(request, empty, nullptr).ok()) << database;
    }
  }
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/lake/analytics.db"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/lake/sales.db"));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/sales-lake/sales.db"));
  EXPECT_EQ(Databases(dir_ + "/lake"), 1u);
  EXPECT_EQ(Databases(dir_ + "/sales-lake"), 1u);
  // Trino serves the whole lake or nothing.
  by_database["hr"] = "trino://127.0.0.1:1";
  EXPECT_TRUE(HasReason(OpenEngines(dir_ + "/lake", by_database, {}).status(),
                        engine::EngineFailure::kMisconfigured));
}

TEST_F(EnginesTest, UnknownSchemeNamesTheKnownOnesAndHidesTheUrl) {
  auto engine = OpenEngine("mysql://admin:s3cret@db.example/lake", {});
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(HasReason(engine.status(), engine::EngineFailure::kMisconfigured));
  EXPECT_NE(engine.status().message().find("'mysql:'"), std::string::npos)
      << engine.status().message();
  EXPECT_NE(engine.status().message().find("sqlite"), std::string::npos);
  EXPECT_EQ(engine.status().message().find("s3cret"), std::string::npos);
  EXPECT_EQ(EngineSchemes(),
            (std::vector<std::string>{"sqlite", "postgresql", "postgres", "trino"}));
}

TEST_F(EnginesTest, PostgresqlUrlsOpenThePostgresEngineAndHideThePassword) {
  // Nothing listens on port 1: the engine says so without the password.
  for (const char* url : {"postgresql://admin:s3cret@127.0.0.1:1/lake?connect_timeout=2",
                          "postgres://admin:s3cret@127.0.0.1:1/lake?connect_timeout=2"}) {
    auto engine = OpenEngine(url, {});
    ASSERT_FALSE(engine.ok()) << url;
    EXPECT_TRUE(HasReason(engine.status(), engine::EngineFailure::kUnavailable) ||
                HasReason(engine.status(), engine::EngineFailure::kMisconfigured))
        << engine.status().ToString();
    EXPECT_NE(engine.status().message().find("PostgreSQL engine"), std::string::npos);
    EXPECT_EQ(engine.status().message().find("s3cret"), std::string::npos)
        << engine.status().message();
  }
}

TEST_F(EnginesTest, SqliteUrlWithAHostIsRefused) {
  auto engine = OpenEngine("sqlite://host/srv/lake", {});
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(HasReason(engine.status(), engine::EngineFailure::kMisconfigured));
}

TEST_F(EnginesTest, PathsThatLookLikeSchemesArePaths) {
  // No registered scheme and no "//": a relative path with a colon.
  std::filesystem::create_directories(dir_ + "/a:b");
  const std::filesystem::path cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir_);
  EXPECT_EQ(Databases("a:b"), 0u);
  std::filesystem::current_path(cwd);
  // A missing lake directory is the engine's own error.
  auto missing = OpenEngine(dir_ + "/nope", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(HasReason(missing.status(), engine::EngineFailure::kMisconfigured));
}

}  // namespace
}  // namespace lakegate::app
