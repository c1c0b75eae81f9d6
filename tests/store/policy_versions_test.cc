// The SQLite side of the versioned policy catalog: pruning to
// kPolicyVersionsKept in the file, injected faults, and migration 2 on an old
// store. What every backend does (numbering, atomicity, concurrent savers) is
// in the conformance suite (store_conformance.cc).
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

TEST(PolicyVersionsTest, MigratesAVersionOneStore) {
  TempDir dir;
  std::string path = dir.File("state.db");
  ASSERT_TRUE(OpenSqliteStore(path).ok());
  // Turn the file back into a schema-1 store, as an older lakegate left it.
  RawExec(path,
          "DROP TABLE access_keys; DROP TABLE policy_versions; "
          "ALTER TABLE clients DROP COLUMN auth_method; "
          "ALTER TABLE clients DROP COLUMN jwks; ALTER TABLE clients DROP COLUMN jwks_uri; "
          "ALTER TABLE clients DROP COLUMN tls_client_auth_field; "
          "ALTER TABLE clients DROP COLUMN tls_client_auth_value; "
          "ALTER TABLE clients DROP COLUMN tls_bound_tokens; "
          "ALTER TABLE clients DROP COLUMN dpop_bound_access_tokens; "
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
