// The versioned policy catalog of the state store: SavePolicy / LatestPolicy,
// pruning to kPolicyVersionsKept, atomicity, and migration 2 on an old store.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "store/fault_injecting_store.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/temp_dir.h"

namespace lakegate::store {
namespace {

using ::lakegate::testing::TempDir;

void RawExec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

TEST(PolicyVersionsTest, EmptyStoreHasNoPolicy) {
  auto store = NewInMemoryStore();
  auto latest = store->LatestPolicy();
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_FALSE(latest->has_value());
}

TEST(PolicyVersionsTest, VersionsCountUpAndLatestWins) {
  auto store = NewInMemoryStore();
  auto v1 = store->SavePolicy("{\"roles\":[]}", "test");
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(*v1, 1u);
  auto v2 = store->SavePolicy("{\"roles\":[1]}", "test");
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(*v2, 2u);
  auto latest = store->LatestPolicy();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->first, 2u);
  EXPECT_EQ((*latest)->second, "{\"roles\":[1]}");
}

TEST(PolicyVersionsTest, EmptyDocumentIsRejected) {
  auto store = NewInMemoryStore();
  auto saved = store->SavePolicy("", "test");
  EXPECT_EQ(saved.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(saved.status().message(), "the policy document is empty");
  EXPECT_FALSE(store->LatestPolicy()->has_value());
}

TEST(PolicyVersionsTest, SavingMovesTheChangeCounter) {
  auto store = NewInMemoryStore();
  auto before = store->ChangeCounter();
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(store->SavePolicy("{}", "test").ok());
  auto after = store->ChangeCounter();
  ASSERT_TRUE(after.ok());
  EXPECT_NE(*before, *after);
}

TEST(PolicyVersionsTest, KeepsOnlyTheNewestVersions) {
  TempDir dir;
  std::string path = dir.File("state.db");
  {
    auto store = OpenSqliteStore(path);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    for (int i = 1; i <= kPolicyVersionsKept + 7; ++i) {
      auto v = (*store)->SavePolicy("{\"n\":" + std::to_string(i) + "}", "test");
      ASSERT_TRUE(v.ok());
      EXPECT_EQ(*v, static_cast<uint64_t>(i));
    }
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "SELECT count(*), min(version), max(version) FROM policy_versions", -1,
                         &stmt, nullptr),
      SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), kPolicyVersionsKept);
  EXPECT_EQ(sqlite3_column_int(stmt, 1), 8);
  EXPECT_EQ(sqlite3_column_int(stmt, 2), kPolicyVersionsKept + 7);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  // Numbering continues after pruning (never reuses a number).
  auto store = OpenSqliteStore(path);
  ASSERT_TRUE(store.ok());
  auto v = (*store)->SavePolicy("{}", "test");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, static_cast<uint64_t>(kPolicyVersionsKept + 8));
}

TEST(PolicyVersionsTest, FailedSaveInsideATransactionLeavesNothing) {
  auto store = NewInMemoryStore();
  ASSERT_TRUE(store->SavePolicy("{\"v\":1}", "test").ok());
  Status status = store->RunInTransaction([](Store& tx) -> Status {
    auto v = tx.SavePolicy("{\"v\":2}", "test");
    if (!v.ok()) return v.status();
    return UnavailableError("boom");
  });
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  auto latest = store->LatestPolicy();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->first, 1u);
  EXPECT_EQ((*latest)->second, "{\"v\":1}");
}

TEST(PolicyVersionsTest, InjectedFaults) {
  FaultInjectingStore store(NewInMemoryStore());
  store.FailNextWrites(1);
  auto saved = store.SavePolicy("{}", "test");
  EXPECT_EQ(saved.status().code(), StatusCode::kUnavailable);
  store.SetReadsFail(true);
  EXPECT_EQ(store.LatestPolicy().status().code(), StatusCode::kUnavailable);
  store.SetReadsFail(false);
  ASSERT_TRUE(store.SavePolicy("{}", "test").ok());
  EXPECT_EQ((*store.LatestPolicy())->first, 1u);
}

TEST(PolicyVersionsTest, ConcurrentSaversGetDistinctVersions) {
  TempDir dir;
  std::string path = dir.File("state.db");
  ASSERT_TRUE(OpenSqliteStore(path).ok());
  constexpr int kThreads = 4, kEach = 10;
  std::vector<std::vector<uint64_t>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto store = OpenSqliteStore(path);  // one connection each, like separate processes
      ASSERT_TRUE(store.ok());
      for (int i = 0; i < kEach; ++i) {
        auto v = (*store)->SavePolicy("{}", "thread");
        ASSERT_TRUE(v.ok()) << v.status().ToString();
        got[static_cast<size_t>(t)].push_back(*v);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<uint64_t> all;
  for (const auto& g : got) all.insert(all.end(), g.begin(), g.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], i + 1);
}

TEST(PolicyVersionsTest, MigratesAVersionOneStore) {
  TempDir dir;
  std::string path = dir.File("state.db");
  ASSERT_TRUE(OpenSqliteStore(path).ok());
  // Turn the file back into a schema-1 store, as an older lakegate left it.
  RawExec(path,
          "DROP TABLE policy_versions; ALTER TABLE clients DROP COLUMN auth_method; "
          "ALTER TABLE clients DROP COLUMN jwks; ALTER TABLE clients DROP COLUMN jwks_uri; "
          "DELETE FROM schema_migrations WHERE version >= 2");
  auto store = OpenSqliteStore(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_GE(SqliteStoreSchemaVersion(), 2);
  EXPECT_FALSE((*store)->LatestPolicy()->has_value());
  auto v = (*store)->SavePolicy("{}", "test");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 1u);
}

}  // namespace
}  // namespace lakegate::store
