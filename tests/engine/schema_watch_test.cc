// The sqlite engine notices schema changes that other processes make to the
// lake's files (SqliteEngineOptions::schema_check_interval): new, altered,
// dropped and recreated tables and files, for governed roles (whose pooled
// sessions describe the lake once) and for the direct role.
//
// Every scenario runs with interval 0 (the first query after a change must
// see it) and with a short interval (polled against a bounded deadline).
#include <gtest/gtest.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "engine/sqlite/sqlite_engine.h"
#include "engine_test_util.h"
#include "testing/status_matchers.h"

extern char** environ;

namespace lakegate::engine {
namespace {

using lakegate::testing::HasStatus;
using policy::Bit;
using policy::Permission;
using testing::CellText;
using testing::CollectingSink;
using testing::Lake;
using testing::SuperRole;

constexpr policy::PermissionSet kSelectDescribe =
    Bit(Permission::kSelect) | Bit(Permission::kDescribe);
constexpr const char* kChildDbVar = "LAKEGATE_SCHEMA_WATCH_CHILD_DB";
constexpr const char* kChildSqlVar = "LAKEGATE_SCHEMA_WATCH_CHILD_SQL";

// When OtherProcess() below starts this binary again, it runs one SQL script
// on one database file and exits before GoogleTest starts.
[[maybe_unused]] const bool kRanAsChild = [] {
  const char* path = std::getenv(kChildDbVar);
  const char* sql = std::getenv(kChildSqlVar);
  if (path == nullptr || sql == nullptr) return false;
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, nullptr);
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  }
  if (rc != SQLITE_OK) std::fprintf(stderr, "child: %s\n", sqlite3_errmsg(db));
  sqlite3_close(db);
  std::_Exit(rc == SQLITE_OK ? 0 : 1);
}();

// Runs `sql` on `path` in a separate process (this binary, see above): its
// own SQLite library state and its own POSIX locks, like `sqlite3` or
// `lakegate load` next to a running server. Returns the exit status.
int OtherProcess(const std::string& path, const std::string& sql) {
  std::vector<std::string> env_strings = {std::string(kChildDbVar) + "=" + path,
                                          std::string(kChildSqlVar) + "=" + sql};
  std::vector<char*> env;
  for (auto& s : env_strings) env.push_back(s.data());
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  env.push_back(nullptr);
  char arg0[] = "schema_watch_child";
  char* argv[] = {arg0, nullptr};
  pid_t pid = 0;
  if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv, env.data()) != 0) return -1;
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Runs `sql` on `path` through a separate connection of this process.
// SQLite coordinates it with the engine's connections as it would another
// process's.
std::string OtherConnection(const std::string& path, const std::string& sql,
                            int flags = SQLITE_OPEN_READWRITE) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  std::string error;
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  }
  if (rc != SQLITE_OK) error = db != nullptr ? sqlite3_errmsg(db) : "open failed";
  sqlite3_close(db);
  return error;  // "" = OK
}

policy::Grant TableGrant(const std::string& db, const std::string& table,
                         policy::ColumnSpec columns = {}) {
  return policy::Grant{db, table, kSelectDescribe, std::move(columns)};
}

// Every table of analytics, hr and ops, every column: governed (not
// unrestricted), so its sessions describe the lake once.
policy::Role AllTablesRole() {
  policy::Role r;
  r.name = "all-tables";
  r.grants = {TableGrant("analytics", "*"), TableGrant("hr", "*"), TableGrant("ops", "*")};
  return r;
}

// Two named columns of analytics.members.
policy::Role IncludeRole() {
  policy::Role r;
  r.name = "include-list";
  r.grants = {TableGrant("analytics", "members",
                         {policy::ColumnSpec::Kind::kInclude, {"member_id", "name"}})};
  return r;
}

// Every table of analytics, with every column named email redacted.
policy::Role MaskedRole() {
  policy::Role r;
  r.name = "masked";
  r.grants = {TableGrant("analytics", "*")};
  policy::ColumnMask mask;
  mask.database = "*";
  mask.table = "*";
  mask.column = "email";
  mask.kind = policy::MaskKind::kRedact;
  r.masks = {mask};
  return r;
}

// Only the eu rows and two columns of analytics.visits, through a data-cell
// filter that names the table before it exists.
policy::Role FilterRole() {
  policy::Role r;
  r.name = "eu-visits";
  r.filters = {"eu_visits"};
  return r;
}

struct Answer {
  Status status;
  std::vector<ColumnInfo> columns;
  std::string rows;  // "a|b\n" per row
};

class SchemaWatchTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(lake_.Build(10).ok());
    policy_.version = 1;
    for (const policy::Role& r :
         {SuperRole(), AllTablesRole(), IncludeRole(), MaskedRole(), FilterRole()}) {
      policy_.roles[r.name] = r;
    }
    policy::DataCellFilter f;
    f.name = "eu_visits";
    f.database = "analytics";
    f.table = "visits";
    auto rows = policy::ParseRowFilter("region = 'eu'");
    ASSERT_TRUE(rows.ok());
    f.rows = *rows;
    f.columns = {policy::ColumnSpec::Kind::kInclude, {"id", "region"}};
    policy_.filters[f.name] = f;
    SqliteEngineOptions options;
    options.lake_dir = lake_.dir();
    options.schema_check_interval = std::chrono::milliseconds(GetParam());
    auto engine = OpenSqliteEngine(options);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value();
  }

  std::string Path(const std::string& db) const { return lake_.dir() + "/" + db + ".db"; }

  Answer Run(const policy::Role& role, const std::string& sql,
             const std::string& database = "analytics") {
    QueryRequest req;
    req.sql = sql;
    req.database = database;
    CollectingSink sink;
    Answer out;
    out.status = engine_->Execute(policy_, role, req, sink).status();
    out.columns = sink.columns();
    for (const auto& row : sink.rows()) {
      for (size_t i = 0; i < row.size(); ++i) out.rows += (i ? "|" : "") + CellText(row[i]);
      out.rows += "\n";
    }
    return out;
  }

  // The tables (and their columns, "t(a,b)") `role` sees in `database`
  // through Catalog(), or the error.
  std::string CatalogOf(const policy::Role& role, const std::string& database) {
    auto catalog = engine_->Catalog(policy_, role);
    if (!catalog.ok()) return "error: " + catalog.status().ToString();
    std::string out;
    for (const auto& db : *catalog) {
      if (db.name != database) continue;
      for (const auto& t : db.tables) {
        out += t.name + "(";
        for (size_t i = 0; i < t.columns.size(); ++i) out += (i ? "," : "") + t.columns[i].name;
        out += ") ";
      }
    }
    return out;
  }

  // With interval 0 the first attempt must succeed: every query checks. With
  // a non-zero interval the change shows within about one interval; the
  // deadline only bounds a loaded machine.
  ::testing::AssertionResult Eventually(const std::function<::testing::AssertionResult()>& check) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (true) {
      ::testing::AssertionResult r = check();
      if (r || GetParam() == 0 || std::chrono::steady_clock::now() > deadline) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  ::testing::AssertionResult Rows(const policy::Role& role, const std::string& sql,
                                  const std::string& expected,
                                  const std::string& database = "analytics") {
    Answer r = Run(role, sql, database);
    if (!r.status.ok()) return ::testing::AssertionFailure() << sql << ": " << r.status.ToString();
    if (r.rows != expected) {
      return ::testing::AssertionFailure() << sql << ": rows\n" << r.rows << "not\n" << expected;
    }
    return ::testing::AssertionSuccess();
  }

  ::testing::AssertionResult Fails(const policy::Role& role, const std::string& sql,
                                   const std::string& message,
                                   const std::string& database = "analytics") {
    Answer r = Run(role, sql, database);
    if (r.status.code() != StatusCode::kInvalidArgument || r.status.message() != message) {
      return ::testing::AssertionFailure()
             << sql << ": expected InvalidArgument \"" << message << "\", got "
             << r.status.ToString() << " rows " << r.rows;
    }
    return ::testing::AssertionSuccess();
  }

  ::testing::AssertionResult CatalogIs(const policy::Role& role, const std::string& database,
                                       const std::string& expected) {
    std::string got = CatalogOf(role, database);
    if (got != expected) return ::testing::AssertionFailure() << got << " not " << expected;
    return ::testing::AssertionSuccess();
  }

  Lake lake_;
  policy::PolicySnapshot policy_;
  std::unique_ptr<Engine> engine_;
};

INSTANTIATE_TEST_SUITE_P(Intervals, SchemaWatchTest, ::testing::Values(0, 50),
                         [](const ::testing::TestParamInfo<int>& param) {
                           return "Every" + std::to_string(param.param) + "ms";
                         });

TEST_P(SchemaWatchTest, TableCreatedByAnotherProcessBecomesVisible) {
  const policy::Role all = AllTablesRole();
  // Pooled sessions of both kinds exist before the change.
  ASSERT_TRUE(Rows(all, "SELECT count(*) FROM members", "10\n"));
  ASSERT_TRUE(Rows(SuperRole(), "SELECT count(*) FROM members", "10\n"));
  ASSERT_TRUE(Fails(all, "SELECT * FROM visits", "no such table: visits"));
  ASSERT_TRUE(CatalogIs(all, "analytics",
                        "members(member_id,name,email,region,tier,joined_on,lifetime_value) "
                        "orders(order_id,member_id,amount,note,payload) secret_table(code) "));

  ASSERT_EQ(OtherProcess(Path("analytics"),
                         "CREATE TABLE visits(id INTEGER, region TEXT, email TEXT);"
                         "INSERT INTO visits VALUES (1, 'eu', 'ann@x.io'), (2, 'us', 'bob@x.io'),"
                         " (3, 'eu', 'cy@x.io')"),
            0);

  EXPECT_TRUE(Eventually([&] {
    return Rows(all, "SELECT id, email FROM visits ORDER BY id",
                "1|ann@x.io\n2|bob@x.io\n3|cy@x.io\n");
  }));
  EXPECT_TRUE(Eventually([&] {
    return CatalogIs(all, "analytics",
                     "members(member_id,name,email,region,tier,joined_on,lifetime_value) "
                     "orders(order_id,member_id,amount,note,payload) secret_table(code) "
                     "visits(id,region,email) ");
  }));
  // The direct (unrestricted) role, qualified and unqualified.
  EXPECT_TRUE(Eventually([&] { return Rows(SuperRole(), "SELECT count(*) FROM visits", "3\n"); }));
  EXPECT_TRUE(Rows(SuperRole(), "SELECT count(*) FROM analytics.visits", "3\n", ""));
  // A role without a grant on it still reads it as missing.
  EXPECT_TRUE(Fails(IncludeRole(), "SELECT * FROM visits", "no such table: visits"));
}

TEST_P(SchemaWatchTest, AddedColumnFollowsEachRolesColumnGrants) {
  const policy::Role all = AllTablesRole();
  const policy::Role include = IncludeRole();
  ASSERT_TRUE(Rows(all, "SELECT count(*) FROM members", "10\n"));
  ASSERT_TRUE(Rows(include, "SELECT count(*) FROM members", "10\n"));
  ASSERT_TRUE(Fails(all, "SELECT loyalty FROM members", "no such column: loyalty"));

  ASSERT_EQ(OtherProcess(Path("analytics"),
                         "ALTER TABLE members ADD COLUMN loyalty TEXT DEFAULT 'none';"
                         "UPDATE members SET loyalty = 'gold' WHERE member_id = 2"),
            0);

  EXPECT_TRUE(Eventually([&] {
    return Rows(all, "SELECT member_id, loyalty FROM members WHERE member_id <= 2",
                "1|none\n2|gold\n");
  }));
  Answer star = Run(all, "SELECT * FROM members WHERE member_id = 1");
  ASSERT_TRUE(star.status.ok()) << star.status.ToString();
  ASSERT_EQ(star.columns.size(), 8u);
  EXPECT_EQ(star.columns[7].name, "loyalty");
  EXPECT_TRUE(
      CatalogIs(all, "analytics",
                "members(member_id,name,email,region,tier,joined_on,lifetime_value,loyalty) "
                "orders(order_id,member_id,amount,note,payload) secret_table(code) "));
  // The include list does not name it: the rebuilt session still hides it.
  EXPECT_TRUE(Fails(include, "SELECT loyalty FROM members", "no such column: loyalty"));
  Answer narrow = Run(include, "SELECT * FROM members WHERE member_id = 2");
  ASSERT_TRUE(narrow.status.ok()) << narrow.status.ToString();
  EXPECT_EQ(narrow.columns.size(), 2u);
  EXPECT_EQ(narrow.rows.find("gold"), std::string::npos) << narrow.rows;
  EXPECT_TRUE(CatalogIs(include, "analytics", "members(member_id,name) "));
  EXPECT_TRUE(Rows(SuperRole(), "SELECT loyalty FROM members WHERE member_id = 2", "gold\n"));
}

TEST_P(SchemaWatchTest, DroppedTableReadsAsMissing) {
  const policy::Role all = AllTablesRole();
  ASSERT_TRUE(Rows(all, "SELECT count(*) FROM orders", "3\n"));
  ASSERT_TRUE(Rows(SuperRole(), "SELECT count(*) FROM orders", "3\n"));
  const std::string missing = Run(all, "SELECT * FROM nosuch").status.message();
  ASSERT_EQ(missing, "no such table: nosuch");

  ASSERT_EQ(OtherConnection(Path("analytics"), "DROP TABLE orders"), "");

  // Between the drop and the check (interval > 0 only) a pooled session may
  // fail its inner read; it never returns stale rows.
  EXPECT_TRUE(Eventually(
      [&] { return Fails(all, "SELECT count(*) FROM orders", "no such table: orders"); }));
  EXPECT_TRUE(Fails(all, "SELECT * FROM analytics.orders", "no such table: analytics.orders"));
  EXPECT_TRUE(Fails(SuperRole(), "SELECT count(*) FROM orders", "no such table: orders"));
  EXPECT_TRUE(CatalogIs(all, "analytics",
                        "members(member_id,name,email,region,tier,joined_on,lifetime_value) "
                        "secret_table(code) "));
  EXPECT_TRUE(Rows(all, "SELECT count(*) FROM members", "10\n"));
}

TEST_P(SchemaWatchTest, NewTableObeysMasksAndFiltersGrantedThroughWildcardsAndNames) {
  const policy::Role masked = MaskedRole();
  const policy::Role filtered = FilterRole();
  ASSERT_TRUE(Rows(masked, "SELECT count(*) FROM members", "10\n"));
  ASSERT_TRUE(Fails(filtered, "SELECT * FROM visits", "no such table: visits"));

  ASSERT_EQ(OtherConnection(Path("analytics"),
                            "CREATE TABLE visits(id INTEGER, region TEXT, email TEXT);"
                            "INSERT INTO visits VALUES (1, 'eu', 'ann@x.io'),"
                            " (2, 'us', 'bob@x.io'), (3, 'eu', 'cy@x.io')"),
            "");

  // The "*" table grant reaches the new table, and so does the "*.*" mask.
  EXPECT_TRUE(Eventually([&] {
    return Rows(masked, "SELECT id, region, email FROM visits ORDER BY id",
                "1|eu|xxxxxxxx\n2|us|xxxxxxxx\n3|eu|xxxxxxx\n");
  }));
  EXPECT_TRUE(Rows(masked, "SELECT count(*) FROM visits WHERE email LIKE '%@%'", "0\n"));
  // The filter named the table before it existed: eu rows, two columns.
  EXPECT_TRUE(Eventually(
      [&] { return Rows(filtered, "SELECT * FROM visits ORDER BY id", "1|eu\n3|eu\n"); }));
  EXPECT_TRUE(Fails(filtered, "SELECT email FROM visits", "no such column: email"));
  EXPECT_TRUE(Rows(filtered, "SELECT count(*) FROM visits WHERE region = 'us'", "0\n"));
  EXPECT_TRUE(CatalogIs(filtered, "analytics", "visits(id,region) "));
}

TEST_P(SchemaWatchTest, DatabaseFileDeletedAndRecreated) {
  const policy::Role all = AllTablesRole();
  ASSERT_TRUE(Rows(all, "SELECT employee FROM hr.salaries", "SECRET-HR-alice\n"));
  ASSERT_TRUE(Rows(SuperRole(), "SELECT employee FROM hr.salaries", "SECRET-HR-alice\n"));
  ASSERT_TRUE(Rows(SuperRole(), "SELECT employee FROM salaries", "SECRET-HR-alice\n", "hr"));

  for (const char* suffix : {".db", ".db-wal", ".db-shm"}) {
    std::remove((lake_.dir() + "/hr" + suffix).c_str());
  }
  EXPECT_TRUE(Eventually(
      [&] { return Fails(all, "SELECT * FROM hr.salaries", "no such table: hr.salaries"); }));
  EXPECT_TRUE(Fails(SuperRole(), "SELECT * FROM hr.salaries", "no such table: hr.salaries"));
  EXPECT_TRUE(Fails(SuperRole(), "SELECT 1", "unknown database: hr", "hr"));
  EXPECT_TRUE(CatalogIs(all, "hr", ""));

  ASSERT_TRUE(CreateDatabaseIfMissing(lake_.dir(), "hr").ok());
  ASSERT_EQ(OtherProcess(Path("hr"),
                         "CREATE TABLE salaries(employee TEXT, salary INTEGER, grade TEXT);"
                         "INSERT INTO salaries VALUES ('NEW-bob', 7, 'g1')"),
            0);

  EXPECT_TRUE(Eventually([&] { return Rows(all, "SELECT * FROM hr.salaries", "NEW-bob|7|g1\n"); }));
  EXPECT_TRUE(Rows(SuperRole(), "SELECT * FROM hr.salaries", "NEW-bob|7|g1\n"));
  EXPECT_TRUE(Rows(SuperRole(), "SELECT employee FROM salaries", "NEW-bob\n", "hr"));
  EXPECT_TRUE(CatalogIs(all, "hr", "salaries(employee,salary,grade) "));
  EXPECT_TRUE(Fails(all, "SELECT * FROM hr.members", "no such table: hr.members"));

  // Again, with no query in between: the lake lists the same files as
  // before and the new schema cookie equals the old one; only the file's
  // identity changed.
  for (const char* suffix : {".db", ".db-wal", ".db-shm"}) {
    std::remove((lake_.dir() + "/hr" + suffix).c_str());
  }
  ASSERT_TRUE(CreateDatabaseIfMissing(lake_.dir(), "hr").ok());
  ASSERT_EQ(OtherProcess(Path("hr"),
                         "CREATE TABLE salaries(employee TEXT, salary INTEGER, grade TEXT);"
                         "INSERT INTO salaries VALUES ('NEWER-dan', 8, 'g2')"),
            0);
  EXPECT_TRUE(Eventually(
      [&] { return Rows(SuperRole(), "SELECT * FROM hr.salaries", "NEWER-dan|8|g2\n"); }));
  EXPECT_TRUE(
      Eventually([&] { return Rows(all, "SELECT * FROM hr.salaries", "NEWER-dan|8|g2\n"); }));
}

// The file keeps its name and the lake directory keeps its list of files:
// only the file's identity (and maybe its schema cookie) tells them apart.
TEST_P(SchemaWatchTest, DatabaseFileReplacedInOneStep) {
  const policy::Role all = AllTablesRole();
  ASSERT_TRUE(Rows(all, "SELECT employee FROM hr.salaries", "SECRET-HR-alice\n"));
  ASSERT_TRUE(Rows(SuperRole(), "SELECT employee FROM hr.salaries", "SECRET-HR-alice\n"));

  // A rollback-journal file built aside with the same schema and schema
  // cookie (2: two CREATE TABLEs), then swapped in with its WAL files gone.
  const std::string aside = lake_.dir() + "/hr.next";
  ASSERT_EQ(OtherConnection(aside,
                            "CREATE TABLE salaries(employee TEXT, salary INTEGER);"
                            "CREATE TABLE members(member_id INTEGER, name TEXT);"
                            "INSERT INTO salaries VALUES ('SWAPPED-carol', 1)",
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE),
            "");
  for (const char* suffix : {".db-wal", ".db-shm"}) {
    std::remove((lake_.dir() + "/hr" + suffix).c_str());
  }
  ASSERT_EQ(std::rename(aside.c_str(), Path("hr").c_str()), 0);

  EXPECT_TRUE(Eventually(
      [&] { return Rows(SuperRole(), "SELECT employee FROM hr.salaries", "SWAPPED-carol\n"); }));
  EXPECT_TRUE(
      Eventually([&] { return Rows(all, "SELECT employee FROM hr.salaries", "SWAPPED-carol\n"); }));
}

int OpenDescriptors() {
  int n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

// Files replaced again and again: retired sessions and the check's own
// connections close their descriptors of the old files.
TEST_P(SchemaWatchTest, ReplacedFilesDoNotLeakDescriptors) {
  const policy::Role all = AllTablesRole();
  ASSERT_TRUE(Rows(all, "SELECT count(*) FROM hr.salaries", "1\n"));
  ASSERT_TRUE(Rows(SuperRole(), "SELECT count(*) FROM hr.salaries", "1\n"));
  int before = -1;
  for (int i = 0; i < 12; ++i) {
    for (const char* suffix : {".db", ".db-wal", ".db-shm"}) {
      std::remove((lake_.dir() + "/hr" + suffix).c_str());
    }
    ASSERT_TRUE(CreateDatabaseIfMissing(lake_.dir(), "hr").ok());
    const std::string row = "'round-" + std::to_string(i) + "'";
    ASSERT_EQ(OtherConnection(Path("hr"),
                              "CREATE TABLE salaries(employee TEXT);"
                              "INSERT INTO salaries VALUES (" +
                                  row + ")"),
              "");
    const std::string expected = "round-" + std::to_string(i) + "\n";
    ASSERT_TRUE(Eventually([&] { return Rows(all, "SELECT * FROM hr.salaries", expected); }));
    ASSERT_TRUE(
        Eventually([&] { return Rows(SuperRole(), "SELECT * FROM hr.salaries", expected); }));
    if (i == 1) before = OpenDescriptors();
  }
  // A steady state, not one more set of descriptors per replaced file.
  EXPECT_LE(OpenDescriptors(), before + 3);
}

// Another process holding a lock (rollback journal: readers get SQLITE_BUSY)
// neither fails nor holds up queries; the change shows once it commits.
TEST_P(SchemaWatchTest, LockedFileSkipsTheCheck) {
  const policy::Role all = AllTablesRole();
  ASSERT_EQ(
      OtherConnection(Path("ops"),
                      "PRAGMA journal_mode=DELETE; CREATE TABLE t(x); INSERT INTO t VALUES (1)",
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE),
      "");
  ASSERT_TRUE(Eventually([&] { return Rows(all, "SELECT x FROM ops.t", "1\n"); }));
  ASSERT_TRUE(Rows(SuperRole(), "SELECT x FROM ops.t", "1\n"));

  sqlite3* writer = nullptr;
  ASSERT_EQ(sqlite3_open_v2(Path("ops").c_str(), &writer, SQLITE_OPEN_READWRITE, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(writer, "BEGIN EXCLUSIVE; CREATE TABLE t2(y); INSERT INTO t2 VALUES (2)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) {
    // The pooled sessions stay valid: a rebuilt governed session would wait
    // for the lock to describe ops and fail.
    EXPECT_TRUE(Rows(all, "SELECT count(*) FROM members", "10\n"));
    EXPECT_TRUE(Rows(SuperRole(), "SELECT count(*) FROM members", "10\n"));
    EXPECT_FALSE(CatalogOf(IncludeRole(), "analytics").starts_with("error"));
    std::this_thread::sleep_for(std::chrono::milliseconds(GetParam() / 2));
  }
  // The check never waits for the lock (each query would take its 5 s
  // busy timeout otherwise).
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  ASSERT_EQ(sqlite3_exec(writer, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(writer);

  EXPECT_TRUE(Eventually([&] { return Rows(all, "SELECT y FROM ops.t2", "2\n"); }));
  EXPECT_TRUE(Rows(SuperRole(), "SELECT y FROM ops.t2", "2\n"));
}

// Queries never fail while another process creates and drops tables.
TEST_P(SchemaWatchTest, ConcurrentQueriesDuringSchemaChurn) {
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> queries{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      const policy::Role role = t == 0 ? SuperRole() : t == 1 ? AllTablesRole() : MaskedRole();
      while (!stop.load()) {
        ::testing::AssertionResult r = Rows(role, "SELECT count(*) FROM members", "10\n");
        if (!r) {
          ADD_FAILURE() << r.message();
          failures.fetch_add(1);
        }
        queries.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(OtherConnection(Path("analytics"), "CREATE TABLE churn(x); DROP TABLE churn"), "");
    EXPECT_EQ(OtherConnection(Path("analytics"), "CREATE TABLE churn(x)"), "");
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_EQ(OtherConnection(Path("analytics"), "DROP TABLE churn"), "");
  }
  stop.store(true);
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_GT(queries.load(), 0);
  // Afterwards the table is gone for everyone.
  EXPECT_TRUE(Eventually(
      [&] { return Fails(AllTablesRole(), "SELECT * FROM churn", "no such table: churn"); }));
}

// The check is throttled: within the interval a pooled governed session is
// not rebuilt (this is the staleness the interval bounds). Catalog()
// describes the lake afresh, and DDL run through the engine shows at once.
TEST(SchemaWatchThrottleTest, NoCheckWithinTheInterval) {
  Lake lake;
  ASSERT_TRUE(lake.Build(10).ok());
  SqliteEngineOptions options;
  options.lake_dir = lake.dir();
  options.schema_check_interval = std::chrono::hours(1);
  auto opened = OpenSqliteEngine(options);
  ASSERT_TRUE(opened.ok());
  std::unique_ptr<Engine> engine = std::move(opened).value();
  policy::PolicySnapshot policy;
  policy.version = 1;
  const policy::Role all = AllTablesRole();
  auto run = [&](const policy::Role& role, const std::string& sql) {
    QueryRequest req;
    req.sql = sql;
    req.database = "analytics";
    req.max_class = StatementClass::kAdmin;
    CollectingSink sink;
    return engine->Execute(policy, role, req, sink).status();
  };
  ASSERT_TRUE(run(all, "SELECT count(*) FROM members").ok());
  ASSERT_EQ(OtherConnection(lake.dir() + "/analytics.db", "CREATE TABLE visits(id INTEGER)"), "");
  EXPECT_TRUE(HasStatus(run(all, "SELECT * FROM visits"), StatusCode::kInvalidArgument,
                        "no such table: visits"));
  auto catalog = engine->Catalog(policy, all);
  ASSERT_TRUE(catalog.ok());
  ASSERT_FALSE(catalog->empty());
  const auto& tables = catalog->front().tables;
  EXPECT_TRUE(std::any_of(tables.begin(), tables.end(),
                          [](const TableInfo& t) { return t.name == "visits"; }));
  // DDL through the engine retires the pooled sessions at once.
  ASSERT_TRUE(run(SuperRole(), "CREATE TABLE engine_made(id INTEGER)").ok());
  EXPECT_TRUE(run(all, "SELECT * FROM engine_made").ok());
  EXPECT_TRUE(run(all, "SELECT * FROM visits").ok());
}

}  // namespace
}  // namespace lakegate::engine
