// The PostgreSQL engine against the ctest fixture's server: governance by
// PostgreSQL objects (per-role login roles, governed views), and the leak
// suite of issue 10 -- every way a statement could become another role,
// outlive its request, lift a limit or read around the policy.
#include "engine/postgres/postgres_engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <thread>

#include "engine/routing_engine.h"
#include "engine/sqlite/sqlite_engine.h"
#include "engine_test_util.h"
#include "store/postgres_test_server.h"

namespace lakegate::engine {
namespace {

using ::lakegate::testing::PostgresTestServerUrl;
using ::lakegate::testing::RawQuery;
using ::lakegate::testing::TestDatabase;
using testing::CollectingSink;
using testing::Outcome;

policy::Role AnalystRole() {
  policy::Role r;
  r.name = "lf-analyst-role";
  r.filters = {"eu-members"};
  r.masks.push_back({"analytics", "members", "name", policy::MaskKind::kShowLastN, 3, ""});
  return r;
}

class PostgresEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = PostgresTestServerUrl();
    if (server_.empty()) GTEST_SKIP() << "no PostgreSQL test server (label postgres)";
    db_ = std::make_unique<TestDatabase>(server_);
    EngineSettings settings;
    settings.mask_hash_key = SecretString(std::string(32, 'k'));
    auto engine = OpenPostgresEngineAt(db_->url(), settings);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value();
    ASSERT_TRUE(LoadDemoMembers(*engine_, 200).ok());
    policy_.version = 1;
    policy_.roles["lf-super-user-role"] = testing::SuperRole();
    policy_.roles["lf-dev-role"] = testing::DevRole();
    policy_.roles["lf-analyst-role"] = AnalystRole();
    policy::DataCellFilter eu;
    eu.name = "eu-members";
    eu.database = "analytics";
    eu.table = "members";
    eu.rows = *policy::ParseRowFilter("region IN ('eu-west', 'eu-central')");
    eu.columns = {policy::ColumnSpec::Kind::kExclude, {"email"}};
    policy_.filters[eu.name] = eu;
  }

  Outcome Run(const std::string& role, const std::string& sql,
              StatementClass max_class = StatementClass::kRead, std::vector<Param> params = {},
              QueryLimits limits = {}) {
    QueryRequest req;
    req.sql = sql;
    req.database = "analytics";
    req.params = std::move(params);
    req.max_class = max_class;
    req.limits = limits;
    CollectingSink sink;
    Outcome out;
    auto r = engine_->Execute(policy_, *policy_.FindRole(role), req, sink);
    out.status = r.status();
    if (r.ok()) out.result = *r;
    out.columns = sink.columns();
    out.rows = sink.rows();
    out.dump = sink.Dump();
    return out;
  }
  std::string Admin(const std::string& sql) { return RawQuery(db_->url(), sql); }
  // The login role of lakegate role `role` in this test's database (roles
  // are the server's: other databases' engines have theirs).
  std::string Login(const std::string& role) {
    return Admin(
        "SELECT rolname FROM pg_roles WHERE shobj_description(oid, 'pg_authid') = 'lakegate "
        "role " +
        role +
        "' AND has_schema_privilege(oid, (SELECT nspname FROM pg_namespace WHERE nspname LIKE "
        "'lg\\_%\\_private'), 'USAGE')");
  }
  // Advisory locks held in this test's database (pg_locks lists the
  // server's, and other tests run beside this one).
  std::string AdvisoryLocks() {
    return Admin(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database())");
  }

  static constexpr const char* kDev = "lf-dev-role";
  static constexpr const char* kSuper = "lf-super-user-role";
  static constexpr const char* kAnalyst = "lf-analyst-role";

  std::string server_;
  std::unique_ptr<TestDatabase> db_;
  std::unique_ptr<Engine> engine_;
  policy::PolicySnapshot policy_;
};

// Runs `outcome` once and expects its EngineFailure to be `want`.
#define EXPECT_REASON(outcome, want)                                        \
  do {                                                                      \
    const Outcome& outcome_ = (outcome);                                    \
    EXPECT_EQ(outcome_.status.reason<EngineFailure>(), EngineFailure::want) \
        << outcome_.status.ToString();                                      \
  } while (0)

TEST_F(PostgresEngineTest, QualifiedAndUnqualifiedNamesResolveToTheGovernedView) {
  for (const char* sql : {"SELECT * FROM members ORDER BY member_id LIMIT 3",
                          "SELECT * FROM analytics.members ORDER BY member_id LIMIT 3",
                          "SELECT * FROM \"analytics\".members ORDER BY member_id LIMIT 3"}) {
    SCOPED_TRACE(sql);
    Outcome dev = Run(kDev, sql);
    ASSERT_TRUE(dev.status.ok()) << dev.status.ToString();
    EXPECT_EQ(dev.columns.size(), 6u);
    EXPECT_EQ(dev.dump.find("email"), std::string::npos) << dev.dump;
    EXPECT_EQ(dev.dump.find("@example.com"), std::string::npos) << dev.dump;
    Outcome super = Run(kSuper, sql);
    ASSERT_TRUE(super.status.ok()) << super.status.ToString();
    EXPECT_EQ(super.columns.size(), 7u);
  }
  EXPECT_REASON(Run(kDev, "SELECT email FROM members"), kInvalidQuery);
  EXPECT_REASON(Run(kDev, "SELECT email FROM analytics.members"), kInvalidQuery);
}

TEST_F(PostgresEngineTest, AnalystSeesEuRowsWithMaskedNamesAndNullCellsElsewhere) {
  Outcome all =
      Run(kSuper, "SELECT count(*) FROM members WHERE region IN ('eu-west', 'eu-central')");
  ASSERT_TRUE(all.status.ok());
  Outcome eu = Run(kAnalyst,
                   "SELECT count(*), min(name), max(length(name)) FROM analytics.members "
                   "WHERE name IS NOT NULL");
  ASSERT_TRUE(eu.status.ok()) << eu.status.ToString();
  EXPECT_EQ(std::get<int64_t>(eu.rows[0][0]), std::get<int64_t>(all.rows[0][0]));
  EXPECT_TRUE(std::get<std::string>(eu.rows[0][1]).starts_with("xxx")) << eu.dump;
  // Masked values are what predicates see.
  Outcome raw_name = Run(kAnalyst, "SELECT count(*) FROM members WHERE name LIKE 'Jon%'");
  ASSERT_TRUE(raw_name.status.ok());
  EXPECT_EQ(std::get<int64_t>(raw_name.rows[0][0]), 0);
}

TEST_F(PostgresEngineTest, NoWayToBecomeAnotherRole) {
  for (const char* sql :
       {"SET ROLE lakegate", "RESET ROLE", "SET SESSION AUTHORIZATION lakegate",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", "COMMIT", "SET LOCAL ROLE NONE"}) {
    SCOPED_TRACE(sql);
    EXPECT_REASON(Run(kDev, sql), kStatementNotAllowed);
  }
  // set_config() inside a SELECT reaches PostgreSQL, which refuses it: the
  // login role is a member of no role.
  Outcome set_role = Run(kDev, "SELECT set_config('role', '" + db_->name() + "', false)");
  EXPECT_FALSE(set_role.status.ok());
  std::string owner = Admin("SELECT rolname FROM pg_roles WHERE rolname LIKE 'lg\\_%\\_owner'");
  ASSERT_FALSE(owner.empty());
  EXPECT_REASON(Run(kDev, "SELECT set_config('role', '" + owner + "', false)"), kPermissionDenied);
  EXPECT_REASON(Run(kDev, "SELECT set_config('session_authorization', 'lakegate', false)"),
                kPermissionDenied);
  Outcome who = Run(kDev,
                    "SELECT current_user = session_user, "
                    "(SELECT count(*) FROM pg_auth_members WHERE member = current_user::regrole)");
  ASSERT_TRUE(who.status.ok()) << who.status.ToString();
  EXPECT_EQ(std::get<int64_t>(who.rows[0][0]), 1);
  EXPECT_EQ(std::get<int64_t>(who.rows[0][1]), 0);
  // The read-only transaction cannot be turned into a read-write one.
  EXPECT_FALSE(Run(kDev, "SELECT set_config('transaction_read_only', 'off', true)").status.ok());
}

TEST_F(PostgresEngineTest, ReadScopeRefusesMaintenanceAndSessionStatements) {
  for (const char* sql :
       {"ANALYZE", "ANALYZE members", "VACUUM", "NOTIFY lakegate, 'x'", "LISTEN lakegate",
        "PREPARE p AS SELECT 1", "DECLARE c CURSOR WITH HOLD FOR SELECT 1", "DO $$BEGIN END$$",
        "COPY (SELECT 1) TO PROGRAM 'id'", "COPY (SELECT 1) TO '/tmp/x'", "CALL p()",
        "CREATE TEMP TABLE t(a int)", "LOCK members"}) {
    SCOPED_TRACE(sql);
    Outcome o = Run(kDev, sql);
    ASSERT_FALSE(o.status.ok());
    EXPECT_REASON(o, kStatementNotAllowed);
  }
  // One statement per request (the extended protocol refuses more).
  EXPECT_REASON(Run(kDev, "SELECT 1; COMMIT"), kInvalidQuery);
  EXPECT_REASON(Run(kSuper, "SELECT 1; DROP TABLE analytics.members", StatementClass::kAdmin),
                kInvalidQuery);
}

TEST_F(PostgresEngineTest, LargeObjectWritesAreRevoked) {
  for (const char* role : {kDev, kSuper}) {
    for (StatementClass scope : {StatementClass::kRead, StatementClass::kAdmin}) {
      Outcome o = Run(role, "SELECT lo_from_bytea(0, '\\x01'::bytea)", scope);
      EXPECT_REASON(o, kPermissionDenied);
      EXPECT_REASON(Run(role, "SELECT lo_create(0)", scope), kPermissionDenied);
    }
  }
  EXPECT_EQ(Admin("SELECT count(*) FROM pg_largeobject_metadata"), "0");
}

TEST_F(PostgresEngineTest, ServerFilesAndProgramsAreOutOfReach) {
  EXPECT_REASON(Run(kSuper, "SELECT pg_read_file('/etc/passwd')"), kPermissionDenied);
  EXPECT_REASON(Run(kSuper, "SELECT pg_ls_dir('.')"), kPermissionDenied);
  EXPECT_REASON(Run(kSuper, "SELECT lo_import('/etc/passwd')", StatementClass::kAdmin),
                kPermissionDenied);
  EXPECT_REASON(Run(kSuper, "COPY analytics.members TO PROGRAM 'id'", StatementClass::kAdmin),
                kStatementNotAllowed);
  // No dblink / postgres_fdw, and no CREATE on the database to add them.
  EXPECT_REASON(Run(kSuper, "CREATE EXTENSION dblink", StatementClass::kAdmin),
                kStatementNotAllowed);
  EXPECT_FALSE(Run(kDev, "SELECT dblink_connect('x')").status.ok());
}

TEST_F(PostgresEngineTest, StatisticsAndActivityShowNothingOfOthers) {
  Admin("ANALYZE analytics.members");
  Outcome stats = Run(kDev, "SELECT count(*) FROM pg_stats WHERE tablename = 'members'");
  ASSERT_TRUE(stats.status.ok()) << stats.status.ToString();
  EXPECT_EQ(std::get<int64_t>(stats.rows[0][0]), 0);
  Outcome statistic = Run(kDev, "SELECT count(*) FROM pg_statistic");
  EXPECT_REASON(statistic, kPermissionDenied);
  // Another role's statement text stays hidden while it runs.
  std::thread slow([&] { (void)Run(kSuper, "SELECT pg_sleep(1.5), 'SECRET-SQL-TEXT'"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  Outcome activity = Run(kDev, "SELECT coalesce(string_agg(query, ' '), '') FROM pg_stat_activity");
  slow.join();
  ASSERT_TRUE(activity.status.ok()) << activity.status.ToString();
  EXPECT_EQ(activity.dump.find("SECRET-SQL-TEXT"), std::string::npos) << activity.dump;
  EXPECT_REASON(Run(kDev, "EXPLAIN SELECT * FROM members"), kPermissionDenied);
  Outcome explained = Run(kSuper, "EXPLAIN SELECT * FROM members");
  EXPECT_TRUE(explained.status.ok()) << explained.status.ToString();
}

TEST_F(PostgresEngineTest, HiddenTablesReadLikeMissingOnes) {
  ASSERT_TRUE(Run(kSuper, "CREATE TABLE analytics.secret_table(code text)", StatementClass::kAdmin)
                  .status.ok());
  ASSERT_TRUE(Run(kSuper, "INSERT INTO secret_table VALUES ('TOPSECRET-1')", StatementClass::kWrite)
                  .status.ok());
  for (const char* sql : {"SELECT * FROM secret_table", "SELECT * FROM analytics.secret_table"}) {
    Outcome o = Run(kDev, sql);
    EXPECT_REASON(o, kInvalidQuery);
    EXPECT_NE(o.status.message().find("no such table"), std::string::npos) << o.status.ToString();
  }
  Outcome listed = Run(kDev,
                       "SELECT count(*) FROM information_schema.tables WHERE table_name = "
                       "'secret_table'");
  ASSERT_TRUE(listed.status.ok());
  EXPECT_EQ(std::get<int64_t>(listed.rows[0][0]), 0);
}

TEST_F(PostgresEngineTest, NothingOutlivesTheRequest) {
  Outcome lock = Run(kDev, "SELECT pg_advisory_lock(42)");
  ASSERT_TRUE(lock.status.ok()) << lock.status.ToString();
  // Released when the request ended, not when the connection is next used.
  EXPECT_EQ(AdvisoryLocks(), "0");
  Outcome setting = Run(kDev, "SELECT set_config('statement_timeout', '0', false)");
  ASSERT_TRUE(setting.status.ok());
  Outcome after = Run(kDev, "SELECT current_setting('statement_timeout')");
  ASSERT_TRUE(after.status.ok());
  EXPECT_NE(std::get<std::string>(after.rows[0][0]), "0");
  ASSERT_TRUE(
      Run(kSuper, "CREATE TABLE analytics.notes(n text)", StatementClass::kAdmin).status.ok());
  Outcome tx = Run(kSuper, "INSERT INTO notes VALUES ('x')", StatementClass::kWrite);
  ASSERT_TRUE(tx.status.ok()) << tx.status.ToString();
  EXPECT_EQ(tx.result.changes, 1);
  EXPECT_EQ(Admin("SELECT count(*) FROM analytics.notes"), "1");
  // A write under read scope: PostgreSQL's READ ONLY refuses it.
  EXPECT_REASON(
      Run(kSuper, "WITH w AS (INSERT INTO notes VALUES ('y') RETURNING 1) SELECT * FROM w"),
      kStatementNotAllowed);
  EXPECT_EQ(Admin("SELECT count(*) FROM analytics.notes"), "1");
}

// One round trip per read (pipeline mode): whatever happens to the
// statement, the request's end still runs and the connection goes back to
// the pool clean.
TEST_F(PostgresEngineTest, AFailedStatementInThePipelineLeavesACleanConnection) {
  Outcome pid = Run(kDev, "SELECT pg_backend_pid()");
  ASSERT_TRUE(pid.status.ok()) << pid.status.ToString();
  // Takes a session-level advisory lock, then fails at run time.
  Outcome failed = Run(kDev,
                       "SELECT CASE WHEN pg_try_advisory_lock(7) THEN 1 / (g - 1) END "
                       "FROM generate_series(1, 1) g");
  EXPECT_REASON(failed, kInvalidQuery);
  EXPECT_NE(failed.status.message().find("division by zero"), std::string::npos)
      << failed.status.ToString();
  EXPECT_EQ(AdvisoryLocks(), "0");
  // The same connection, idle and read-only again.
  Outcome again = Run(kDev,
                      "SELECT pg_backend_pid(), current_setting('transaction_read_only'), "
                      "(SELECT count(*) FROM pg_prepared_statements WHERE NOT "
                      "starts_with(name, 'lg_'))");
  ASSERT_TRUE(again.status.ok()) << again.status.ToString();
  EXPECT_EQ(std::get<int64_t>(again.rows[0][0]), std::get<int64_t>(pid.rows[0][0]));
  EXPECT_EQ(std::get<std::string>(again.rows[0][1]), "on");
  EXPECT_EQ(std::get<int64_t>(again.rows[0][2]), 0);  // the user's statement is never kept
  // A cancelled read (max rows reached mid-stream) too.
  QueryLimits limits;
  limits.max_rows = 3;
  Outcome cut = Run(kDev, "SELECT pg_advisory_lock(8), g FROM generate_series(1, 1000000) g",
                    StatementClass::kRead, {}, limits);
  ASSERT_TRUE(cut.status.ok()) << cut.status.ToString();
  EXPECT_TRUE(cut.result.truncated);
  EXPECT_EQ(AdvisoryLocks(), "0");
  Outcome after = Run(kDev, "SELECT pg_backend_pid()");
  ASSERT_TRUE(after.status.ok()) << after.status.ToString();
  EXPECT_EQ(std::get<int64_t>(after.rows[0][0]), std::get<int64_t>(pid.rows[0][0]));
}

TEST_F(PostgresEngineTest, AStatementCannotEndTheRequestsTransaction) {
  // Transaction control never reaches PostgreSQL, alone or after another
  // statement (the extended protocol takes one statement).
  EXPECT_REASON(Run(kDev, "COMMIT"), kStatementNotAllowed);
  EXPECT_REASON(Run(kDev, "SELECT 1; COMMIT"), kInvalidQuery);
  EXPECT_REASON(Run(kDev, "SELECT 1; SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE"),
                kInvalidQuery);
  ASSERT_TRUE(
      Run(kSuper, "CREATE TABLE analytics.notes(n text)", StatementClass::kAdmin).status.ok());
  EXPECT_REASON(Run(kSuper, "INSERT INTO notes VALUES ('x'); COMMIT", StatementClass::kWrite),
                kInvalidQuery);
  // Every request is READ ONLY by itself, whatever the one before did.
  EXPECT_REASON(Run(kSuper, "INSERT INTO notes VALUES ('y')"), kStatementNotAllowed);
  EXPECT_EQ(Admin("SELECT count(*) FROM analytics.notes"), "0");
  // A failed write rolls back and its connection serves the next write.
  EXPECT_FALSE(Run(kSuper, "INSERT INTO notes VALUES (1 / 0)", StatementClass::kWrite).status.ok());
  Outcome w = Run(kSuper, "INSERT INTO notes VALUES ('z')", StatementClass::kWrite);
  ASSERT_TRUE(w.status.ok()) << w.status.ToString();
  EXPECT_EQ(Admin("SELECT string_agg(n, ',') FROM analytics.notes"), "z");
  // A write's session keeps nothing (DISCARD ALL), lakegate's own prepared
  // statements included; the next request prepares them again.
  Outcome kept = Run(kSuper, "SELECT count(*) FROM pg_prepared_statements", StatementClass::kWrite);
  ASSERT_TRUE(kept.status.ok()) << kept.status.ToString();
  Outcome read = Run(kSuper, "SELECT current_setting('transaction_read_only')");
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  EXPECT_EQ(std::get<std::string>(read.rows[0][0]), "on");
}

// A statement of write scope that reads only (by its text) runs on the read
// path: READ ONLY, one round trip. One that writes after all is refused by
// PostgreSQL (25006) before any row and runs again as a write, exactly once;
// a refusal after rows were sent fails the request, and nothing was written.
TEST_F(PostgresEngineTest, WriteScopeReadsRunReadOnlyAndWritesAreRetried) {
  const auto write = StatementClass::kWrite;
  Admin("CREATE SEQUENCE analytics.seq");  // before the first compile grants it
  Outcome read = Run(kSuper, "SELECT current_setting('transaction_read_only')", write);
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  EXPECT_EQ(std::get<std::string>(read.rows[0][0]), "on");
  EXPECT_EQ(read.result.statement_class, StatementClass::kRead);
  // The same connection serves the next write-scope read, read-only again.
  Outcome again = Run(kDev, "SELECT current_setting('transaction_read_only')", write);
  ASSERT_TRUE(again.status.ok()) << again.status.ToString();
  EXPECT_EQ(std::get<std::string>(again.rows[0][0]), "on");
  // Locking clauses and writing functions the text names take the write path.
  for (const char* sql :
       {"SELECT current_setting('transaction_read_only') FROM analytics.members LIMIT 1 FOR UPDATE",
        "SELECT current_setting('transaction_read_only') FROM analytics.members LIMIT 1 FOR SHARE",
        "SELECT current_setting('transaction_read_only'), nextval('analytics.seq')"}) {
    SCOPED_TRACE(sql);
    Outcome o = Run(kSuper, sql, write);
    ASSERT_TRUE(o.status.ok()) << o.status.ToString();
    EXPECT_EQ(std::get<std::string>(o.rows[0][0]), "off");
  }
  EXPECT_EQ(Admin("SELECT last_value FROM analytics.seq"), "1");
  // A writing function the lexer does not see (a quoted name): refused in
  // the read attempt, run once on the write path.
  Outcome retried = Run(kSuper, "SELECT \"nextval\"('analytics.seq')", write);
  ASSERT_TRUE(retried.status.ok()) << retried.status.ToString();
  ASSERT_EQ(retried.rows.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(retried.rows[0][0]), 2);
  EXPECT_EQ(retried.columns.size(), 1u);
  EXPECT_EQ(Admin("SELECT last_value FROM analytics.seq"), "2");
  // The same with the read scope: refused, nothing written.
  Outcome read_scope = Run(kSuper, "SELECT \"nextval\"('analytics.seq')");
  EXPECT_REASON(read_scope, kStatementNotAllowed);
  EXPECT_EQ(Admin("SELECT last_value FROM analytics.seq"), "2");
  // The retry keeps the write path's rules: a role that may not see the raw
  // schema reads it like a missing one, as it would without the read path.
  Outcome dev = Run(kDev, "SELECT \"nextval\"('analytics.seq')", write);
  EXPECT_REASON(dev, kInvalidQuery);
  EXPECT_TRUE(dev.status.message().starts_with("no such table")) << dev.status.ToString();
  EXPECT_EQ(Admin("SELECT last_value FROM analytics.seq"), "2");
  // Refused after two rows were sent: the request fails, saying why and what
  // to do, and the read attempt wrote nothing.
  Outcome late = Run(kSuper,
                     "SELECT g, CASE WHEN g > 2 THEN \"nextval\"('analytics.seq') END "
                     "FROM generate_series(1, 5) g",
                     write);
  EXPECT_REASON(late, kInvalidQuery);
  EXPECT_NE(late.status.message().find("the statement writes"), std::string::npos)
      << late.status.ToString();
  EXPECT_NE(late.status.message().find("FOR UPDATE"), std::string::npos) << late.status.ToString();
  EXPECT_EQ(late.rows.size(), 2u);
  EXPECT_EQ(Admin("SELECT last_value FROM analytics.seq"), "2");
  EXPECT_EQ(AdvisoryLocks(), "0");
  // Named, the same statement runs as a write from the start.
  Outcome named = Run(kSuper,
                      "SELECT g, CASE WHEN g > 2 THEN nextval('analytics.seq') END "
                      "FROM generate_series(1, 5) g",
                      write);
  ASSERT_TRUE(named.status.ok()) << named.status.ToString();
  EXPECT_EQ(named.rows.size(), 5u);
  EXPECT_EQ(Admin("SELECT last_value FROM analytics.seq"), "5");
}

// max_memory becomes the request's work_mem (per sort or hash of the plan).
TEST_F(PostgresEngineTest, MaxMemoryBoundsEachSortAndHash) {
  QueryLimits limits;
  limits.max_memory_bytes = int64_t{8} << 20;
  Outcome o = Run(kDev, "SELECT current_setting('work_mem')", StatementClass::kRead, {}, limits);
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(std::get<std::string>(o.rows[0][0]), "8MB");
  // A statement's own SET LOCAL ends with its request.
  limits.max_memory_bytes = 0;  // no limit: the server's setting
  Outcome server =
      Run(kDev, "SELECT current_setting('work_mem')", StatementClass::kRead, {}, limits);
  ASSERT_TRUE(server.status.ok()) << server.status.ToString();
  EXPECT_EQ(std::get<std::string>(server.rows[0][0]), Admin("SHOW work_mem"));
}

// The session keeps lakegate's settings between requests (one statement
// fewer per read) only while they are the request's: each request sees its
// own, whatever the one before set or asked for.
TEST_F(PostgresEngineTest, EachRequestSeesItsOwnSettings) {
  const std::string sql =
      "SELECT current_setting('work_mem'), current_setting('statement_timeout'), "
      "current_setting('search_path') <> 'pg_catalog', pg_backend_pid()";
  QueryLimits a, b;
  a.max_memory_bytes = int64_t{8} << 20;
  a.timeout = std::chrono::milliseconds(1000);
  b.max_memory_bytes = int64_t{16} << 20;
  b.timeout = std::chrono::milliseconds(2000);
  Outcome first = Run(kDev, sql, StatementClass::kRead, {}, a);
  ASSERT_TRUE(first.status.ok()) << first.status.ToString();
  EXPECT_EQ(std::get<std::string>(first.rows[0][0]), "8MB");
  EXPECT_EQ(std::get<std::string>(first.rows[0][1]), "3s");
  // A statement's own session-level settings end with its request.
  ASSERT_TRUE(Run(kDev,
                  "SELECT set_config('work_mem', '1GB', false), "
                  "set_config('search_path', 'pg_catalog', false)",
                  StatementClass::kRead, {}, a)
                  .status.ok());
  Outcome same = Run(kDev, sql, StatementClass::kRead, {}, a);
  ASSERT_TRUE(same.status.ok()) << same.status.ToString();
  EXPECT_EQ(std::get<std::string>(same.rows[0][0]), "8MB");
  EXPECT_EQ(std::get<int64_t>(same.rows[0][2]), 1);
  EXPECT_EQ(std::get<int64_t>(same.rows[0][3]), std::get<int64_t>(first.rows[0][3]));
  Outcome other = Run(kDev, sql, StatementClass::kRead, {}, b);
  ASSERT_TRUE(other.status.ok()) << other.status.ToString();
  EXPECT_EQ(std::get<std::string>(other.rows[0][0]), "16MB");
  EXPECT_EQ(std::get<std::string>(other.rows[0][1]), "4s");
  EXPECT_EQ(std::get<int64_t>(other.rows[0][3]), std::get<int64_t>(first.rows[0][3]));
}

TEST_F(PostgresEngineTest, TimeoutCancelsTheBackend) {
  QueryLimits limits;
  limits.timeout = std::chrono::milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  Outcome o = Run(kDev, "SELECT set_config('statement_timeout', '0', true), pg_sleep(30)",
                  StatementClass::kRead, {}, limits);
  EXPECT_REASON(o, kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(Admin("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND "
                  "query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()"),
            "0");
  EXPECT_TRUE(Run(kDev, "SELECT 1").status.ok());
}

TEST_F(PostgresEngineTest, TerminatedBackendsCostTheNextRequestsNothing) {
  // Two pooled connections of the dev role.
  std::thread other([&] { (void)Run(kDev, "SELECT pg_sleep(0.3)"); });
  (void)Run(kDev, "SELECT pg_sleep(0.3)");
  other.join();
  Outcome killed = Run(kDev,
                       "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE usename = current_user AND pid <> pg_backend_pid()");
  ASSERT_TRUE(killed.status.ok()) << killed.status.ToString();
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(Run(kDev, "SELECT 1").status.ok()) << i;
  // Its own backend: that request fails, the next one does not.
  (void)Run(kDev, "SELECT pg_terminate_backend(pg_backend_pid())");
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(Run(kDev, "SELECT 1").status.ok()) << i;
}

TEST_F(PostgresEngineTest, MaxRowsTruncatesAStreamedResult) {
  QueryLimits limits;
  limits.max_rows = 5;
  Outcome o =
      Run(kSuper, "SELECT g FROM generate_series(1, 1000000) g", StatementClass::kRead, {}, limits);
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.rows.size(), 5u);
  EXPECT_TRUE(o.result.truncated);
  limits.max_string_bytes = 100;
  EXPECT_REASON(Run(kSuper, "SELECT repeat('x', 1000)", StatementClass::kRead, {}, limits),
                kValueTooLarge);
}

TEST_F(PostgresEngineTest, TypesBecomeTypedValues) {
  Outcome o =
      Run(kSuper,
          "SELECT 1::int2 AS a, 2::int8 AS b, 1.5::numeric AS c, true AS d, 'x'::text AS e, "
          "date '2024-01-02' AS f, timestamp '2024-01-02 03:04:05' AS g, "
          "timestamptz '2024-01-02 03:04:05+00' AS h, '\\x01ff'::bytea AS i, "
          "'{\"k\": 1}'::jsonb AS j, ARRAY[1, 2] AS k, NULL::int AS l, 2.5::float8 AS m");
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  ASSERT_EQ(o.rows.size(), 1u);
  const auto& r = o.rows[0];
  EXPECT_EQ(std::get<int64_t>(r[0]), 1);
  EXPECT_EQ(std::get<int64_t>(r[1]), 2);
  EXPECT_DOUBLE_EQ(std::get<double>(r[2]), 1.5);
  EXPECT_EQ(std::get<int64_t>(r[3]), 1);
  EXPECT_EQ(std::get<std::string>(r[4]), "x");
  EXPECT_EQ(std::get<std::string>(r[5]), "2024-01-02");
  EXPECT_EQ(std::get<std::string>(r[6]), "2024-01-02T03:04:05");
  EXPECT_EQ(std::get<std::string>(r[7]), "2024-01-02T03:04:05Z");
  EXPECT_EQ(std::get<Blob>(r[8]).bytes, std::string("\x01\xff", 2));
  EXPECT_EQ(std::get<std::string>(r[9]), "{\"k\": 1}");
  EXPECT_EQ(std::get<std::string>(r[10]), "{1,2}");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(r[11]));
  EXPECT_DOUBLE_EQ(std::get<double>(r[12]), 2.5);
  EXPECT_EQ(o.columns[0].type, "INTEGER");
  EXPECT_EQ(o.columns[2].type, "NUMERIC");
  EXPECT_EQ(o.columns[7].type, "TIMESTAMPTZ");
  EXPECT_EQ(o.columns[8].type, "BLOB");
}

TEST_F(PostgresEngineTest, BoundParameters) {
  Outcome o = Run(kDev, "SELECT member_id, name FROM members WHERE member_id = $1 OR name = $2",
                  StatementClass::kRead, {int64_t{7}, std::string("no such name")});
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  ASSERT_EQ(o.rows.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(o.rows[0][0]), 7);
}

TEST_F(PostgresEngineTest, WritesNeedWholeTablesAndTheScope) {
  EXPECT_REASON(Run(kDev, "INSERT INTO members(member_id) VALUES (-1)"), kStatementNotAllowed);
  EXPECT_FALSE(Run(kDev, "DELETE FROM members", StatementClass::kWrite).status.ok());
  EXPECT_REASON(Run(kSuper, "CREATE TABLE analytics.t(a int)", StatementClass::kRead),
                kStatementNotAllowed);
  EXPECT_REASON(Run(kSuper, "CREATE INDEX ON analytics.members(member_id)", StatementClass::kWrite),
                kStatementNotAllowed);
  // A governed role with whole-table write permissions writes through its view.
  policy::Role writer;
  writer.name = "writer";
  writer.grants.push_back({"analytics", "orders", policy::kAllPermissions, {}});
  policy_.roles["writer"] = writer;
  policy_.version++;
  ASSERT_TRUE(
      Run(kSuper, "CREATE TABLE analytics.orders(id int, amount float8)", StatementClass::kAdmin)
          .status.ok());
  Outcome w = Run("writer", "INSERT INTO orders VALUES (1, 2.5)", StatementClass::kWrite);
  ASSERT_TRUE(w.status.ok()) << w.status.ToString();
  EXPECT_EQ(Admin("SELECT count(*) FROM analytics.orders"), "1");
  EXPECT_FALSE(Run("writer", "SELECT * FROM members").status.ok());
}

// DDL by permission, enforced by PostgreSQL: CREATE on the schema for
// CREATE_TABLE, membership in a table's own owner role for DROP/ALTER on it
// (only where the role reads the whole table), and nothing a role creates
// stays its own.
TEST_F(PostgresEngineTest, DdlRunsWithExactlyThePermissionPostgresEnforces) {
  using policy::Bit;
  using P = policy::Permission;
  policy::Role creator;
  creator.name = "creator";
  creator.grants.push_back({"analytics", "", Bit(P::kCreateTable) | Bit(P::kDescribe), {}});
  creator.filters = {"eu-members"};
  policy::Role owner;  // reads scratch whole, may ALTER and DROP it
  owner.name = "owner";
  owner.grants.push_back(
      {"analytics", "scratch", Bit(P::kSelect) | Bit(P::kAlter) | Bit(P::kDrop), {}});
  policy::Role reader;
  reader.name = "reader";
  reader.grants.push_back({"analytics", "scratch", Bit(P::kSelect), {}});
  policy::Role filtered_dropper;  // may DROP members, sees it filtered
  filtered_dropper.name = "filtered_dropper";
  filtered_dropper.grants.push_back({"analytics", "members", Bit(P::kDrop) | Bit(P::kAlter), {}});
  filtered_dropper.filters = {"eu-members"};
  for (const policy::Role& r : {creator, owner, reader, filtered_dropper}) {
    policy_.roles[r.name] = r;
  }
  policy_.version++;
  const auto admin = StatementClass::kAdmin;
  auto login = [&](const std::string& role) { return Login(role); };

  // Without CREATE_TABLE: SQLite's denial; with it, the table is created.
  Outcome denied = Run(kDev, "CREATE TABLE analytics.scratch(id int)", admin);
  EXPECT_REASON(denied, kPermissionDenied);
  EXPECT_EQ(denied.status.message(), "role lf-dev-role lacks CREATE_TABLE on database analytics");
  EXPECT_REASON(Run("reader", "SELECT * FROM scratch"), kInvalidQuery);
  Outcome created = Run("creator", "CREATE TABLE scratch(id int, v text)", StatementClass::kWrite);
  ASSERT_TRUE(created.status.ok()) << created.status.ToString();
  // The creator keeps nothing of it: the owner role has it.
  const std::string creator_login = login("creator");
  ASSERT_FALSE(creator_login.empty());
  EXPECT_EQ(Admin("SELECT pg_has_role('" + creator_login +
                  "', relowner, 'USAGE') FROM pg_class WHERE oid = 'analytics.scratch'::regclass"),
            "f");
  EXPECT_EQ(
      Admin("SELECT has_table_privilege('" + creator_login + "', 'analytics.members', 'SELECT')"),
      "f");
  // Other roles see it per policy.
  ASSERT_TRUE(Run(kSuper, "INSERT INTO analytics.scratch VALUES (1, 'a')", StatementClass::kWrite)
                  .status.ok());
  Outcome read = Run("reader", "SELECT * FROM scratch");
  ASSERT_TRUE(read.status.ok()) << read.status.ToString();
  EXPECT_EQ(read.rows.size(), 1u);
  // Its CREATE reads raw names, where it holds nothing: no copy of the rows
  // it sees filtered.
  EXPECT_FALSE(
      Run("creator", "CREATE TABLE analytics.copy AS SELECT * FROM analytics.members", admin)
          .status.ok());
  EXPECT_EQ(Admin("SELECT to_regclass('analytics.copy') IS NULL"), "t");
  // No other CREATE: functions, views, schemas, temp tables; no GRANT.
  for (const char* sql :
       {"CREATE FUNCTION analytics.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        "CREATE VIEW analytics.v AS SELECT * FROM analytics.members", "CREATE SCHEMA mine",
        "CREATE TEMP TABLE t(a int)", "CREATE SEQUENCE analytics.s",
        "GRANT SELECT ON analytics.scratch TO PUBLIC", "SELECT 1 INTO TEMP t2"}) {
    SCOPED_TRACE(sql);
    EXPECT_FALSE(Run("creator", sql, admin).status.ok());
  }
  EXPECT_EQ(Admin("SELECT has_database_privilege('" + creator_login +
                  "', current_database(), 'CREATE') OR has_database_privilege('" + creator_login +
                  "', current_database(), 'TEMP')"),
            "f");

  // ALTER/DROP: only with the permission on the table.
  Outcome alter = Run("reader", "ALTER TABLE analytics.scratch ADD COLUMN w int", admin);
  EXPECT_REASON(alter, kPermissionDenied);
  EXPECT_EQ(alter.status.message(), "role reader lacks ALTER on analytics.scratch");
  EXPECT_REASON(Run("creator", "DROP TABLE analytics.scratch", admin), kPermissionDenied);
  EXPECT_TRUE(Run("owner", "ALTER TABLE scratch ADD COLUMN w int", admin).status.ok());
  Outcome widened = Run("reader", "SELECT * FROM scratch");
  ASSERT_TRUE(widened.status.ok()) << widened.status.ToString();
  EXPECT_EQ(widened.columns.size(), 3u);
  // Ownership gives no way to hand out more: no GRANT, no OWNER TO, and the
  // owner role holds the one table.
  const std::string owner_login = login("owner");
  EXPECT_REASON(Run("owner", "GRANT SELECT ON analytics.scratch TO PUBLIC", admin),
                kStatementNotAllowed);
  EXPECT_REASON(
      Run("owner", "ALTER TABLE analytics.scratch OWNER TO \"" + owner_login + "\"", admin),
      kStatementNotAllowed);
  EXPECT_EQ(
      Admin("SELECT count(*) FROM pg_auth_members WHERE member = '" + owner_login + "'::regrole"),
      "1");
  EXPECT_EQ(Admin("SELECT count(*) FROM pg_class c JOIN pg_auth_members m ON m.roleid = "
                  "c.relowner WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND m.member = '" +
                  owner_login + "'::regrole"),
            "1");
  // DROP/ALTER of a table the role sees filtered: refused, and PostgreSQL
  // gives it no ownership.
  Outcome filtered = Run("filtered_dropper", "DROP TABLE analytics.members", admin);
  EXPECT_REASON(filtered, kPermissionDenied);
  EXPECT_NE(filtered.status.message().find("whole table"), std::string::npos)
      << filtered.status.ToString();
  EXPECT_EQ(Admin("SELECT count(*) FROM pg_auth_members WHERE member = '" +
                  login("filtered_dropper") + "'::regrole"),
            "0");
  EXPECT_EQ(Admin("SELECT to_regclass('analytics.members') IS NOT NULL"), "t");

  ASSERT_TRUE(Run("owner", "DROP TABLE analytics.scratch", admin).status.ok());
  EXPECT_REASON(Run("reader", "SELECT * FROM scratch"), kInvalidQuery);
  EXPECT_TRUE(Run(kDev, "SELECT count(*) FROM members").status.ok());
  // What it owned is gone with the table: its membership owns nothing.
  EXPECT_EQ(Admin("SELECT count(*) FROM pg_class c JOIN pg_auth_members m ON m.roleid = "
                  "c.relowner WHERE m.member = '" +
                  owner_login + "'::regrole"),
            "0");
}

// An engine per catalog database: analytics on PostgreSQL, sales on SQLite.
// release_tables() (SECURITY DEFINER, EXECUTE for every login role) drops
// the governed views over a table only for a caller whose login holds the
// table's ownership -- PostgreSQL's own test for DROP and ALTER TABLE --
// whoever calls it and however.
TEST_F(PostgresEngineTest, ReleaseTablesNeedsTheTablesOwnership) {
  using policy::Bit;
  using P = policy::Permission;
  const auto write = StatementClass::kWrite;
  policy::Role reader;  // reads scratch whole, no DROP or ALTER
  reader.name = "reader";
  reader.grants.push_back({"analytics", "scratch", Bit(P::kSelect), {}});
  policy::Role alterer;  // may ALTER scratch, not DROP it
  alterer.name = "alterer";
  alterer.grants.push_back({"analytics", "scratch", Bit(P::kSelect) | Bit(P::kAlter), {}});
  policy_.roles[reader.name] = reader;
  policy_.roles[alterer.name] = alterer;
  policy_.version++;
  ASSERT_TRUE(
      Run(kSuper, "CREATE TABLE analytics.scratch(id int)", StatementClass::kAdmin).status.ok());
  ASSERT_TRUE(Run(kSuper, "INSERT INTO analytics.scratch VALUES (1)", write).status.ok());
  ASSERT_TRUE(Run("reader", "SELECT * FROM scratch").status.ok());  // compiled with the table
  const std::string views =
      "SELECT count(DISTINCT r.ev_class) FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid "
      "WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = 'analytics.scratch'::regclass "
      "AND r.ev_class <> 'analytics.scratch'::regclass";
  const std::string governed = Admin(views);
  ASSERT_NE(governed, "0");
  const std::string call =
      "SELECT " + Admin("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'lg\\_%\\_private'") +
      ".release_tables(ARRAY['analytics.scratch', '\"analytics\".\"scratch\"'])";
  // Without DROP or ALTER: the call runs and releases nothing, with either
  // scope (the read scope's READ ONLY transaction would refuse the DROP
  // VIEW anyway).
  for (StatementClass scope : {StatementClass::kRead, write}) {
    Outcome o = Run("reader", call, scope);
    EXPECT_TRUE(o.status.ok()) << o.status.ToString();
    EXPECT_EQ(Admin(views), governed);
  }
  EXPECT_EQ(Admin("SELECT pg_has_role('" + Login("reader") +
                  "', relowner, 'USAGE') FROM pg_class WHERE oid = 'analytics.scratch'::regclass"),
            "f");
  Outcome still = Run("reader", "SELECT * FROM scratch");
  ASSERT_TRUE(still.status.ok()) << still.status.ToString();
  EXPECT_EQ(still.rows.size(), 1u);
  // A database-qualified DROP (text the engine does not follow) gives an
  // ALTER-only role no DROP through its ownership.
  const std::string db = Admin("SELECT current_database()");
  for (const std::string& sql : {"DROP TABLE " + db + ".analytics.scratch CASCADE",
                                 "DROP TABLE \"" + db + "\".analytics.scratch"}) {
    SCOPED_TRACE(sql);
    EXPECT_REASON(Run("alterer", sql, StatementClass::kAdmin), kPermissionDenied);
  }
  EXPECT_EQ(Admin("SELECT to_regclass('analytics.scratch') IS NOT NULL"), "t");
  EXPECT_EQ(Admin(views), governed);
  // With the table's ownership (ALTER here), the call releases its views,
  // as the engine does before an ALTER TABLE.
  Outcome released = Run("alterer", call, write);
  EXPECT_TRUE(released.status.ok()) << released.status.ToString();
  EXPECT_EQ(Admin(views), "0");
}

TEST_F(PostgresEngineTest, OneDatabaseOnPostgresTheRestOnSqlite) {
  char tmpl[] = "/tmp/lakegate-routing-XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  ASSERT_TRUE(CreateDatabaseIfMissing(dir, "sales").ok());
  auto sqlite = OpenSqliteEngine(SqliteEngineOptions{dir, 2});
  ASSERT_TRUE(sqlite.ok()) << sqlite.status().ToString();
  std::vector<EngineRoute> routes;
  routes.push_back({{"analytics"}, std::move(engine_)});
  auto routed = RouteByDatabase(std::move(sqlite).value(), std::move(routes));
  ASSERT_TRUE(routed.ok()) << routed.status().ToString();
  engine_ = std::move(routed).value();
  auto in_sales = [&](const std::string& role, const std::string& sql, StatementClass c) {
    QueryRequest req;
    req.sql = sql;
    req.database = "sales";
    req.max_class = c;
    CollectingSink sink;
    return engine_->Execute(policy_, *policy_.FindRole(role), req, sink).status();
  };
  ASSERT_TRUE(
      in_sales(kSuper, "CREATE TABLE orders(id INTEGER, amount REAL)", StatementClass::kAdmin)
          .ok());
  ASSERT_TRUE(in_sales(kSuper, "INSERT INTO orders VALUES (1, 2.5)", StatementClass::kWrite).ok());
  // PostgreSQL's governed view for analytics, SQLite for sales.
  Outcome dev = Run(kDev, "SELECT * FROM analytics.members LIMIT 1");
  ASSERT_TRUE(dev.status.ok()) << dev.status.ToString();
  EXPECT_EQ(dev.columns.size(), 6u);
  Outcome orders = Run(kSuper, "SELECT count(*) FROM sales.orders");
  ASSERT_TRUE(orders.status.ok()) << orders.status.ToString();
  EXPECT_EQ(std::get<int64_t>(orders.rows[0][0]), 1);
  EXPECT_EQ(Admin("SELECT to_regclass('sales.orders') IS NULL"), "t");
  // No join across the two.
  Outcome both =
      Run(kSuper, "SELECT * FROM sales.orders o JOIN analytics.members m ON o.id = m.member_id");
  EXPECT_REASON(both, kInvalidQuery);
  EXPECT_NE(both.status.message().find("different engines"), std::string::npos)
      << both.status.ToString();
  // The catalog lists both engines' databases.
  auto catalog = engine_->Catalog(policy_, *policy_.FindRole(kSuper));
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  std::vector<std::string> names;
  for (const DatabaseInfo& db : *catalog) names.push_back(db.name);
  EXPECT_NE(std::find(names.begin(), names.end(), "analytics"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "sales"), names.end());
  engine_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_F(PostgresEngineTest, FiltersPostgresCannotEvaluateExactlyFailClosed) {
  policy::DataCellFilter f;
  f.name = "by-text-id";
  f.database = "analytics";
  f.table = "members";
  f.rows = *policy::ParseRowFilter("member_id = '5'");  // SQLite: never true
  policy_.filters[f.name] = f;
  policy::Role r;
  r.name = "odd";
  r.filters = {f.name};
  policy_.roles["odd"] = r;
  policy_.version++;
  Outcome o = Run("odd", "SELECT * FROM members");
  EXPECT_REASON(o, kPermissionDenied);
  EXPECT_NE(o.status.message().find("cannot be evaluated exactly"), std::string::npos)
      << o.status.ToString();
  // Other roles are unaffected.
  EXPECT_TRUE(Run(kDev, "SELECT count(*) FROM members").status.ok());
}

// Expression masks render in PostgreSQL's dialect where the values are
// SQLite's exactly: the same role over the same 200 members on both engines.
TEST_F(PostgresEngineTest, ExpressionMasksGiveSqlitesValues) {
  policy::Role r;
  r.name = "masked";
  r.grants = {
      {"analytics",
       "members",
       policy::Bit(policy::Permission::kSelect) | policy::Bit(policy::Permission::kDescribe),
       {}}};
  auto mask = [&](const char* column, const char* expression) {
    r.masks.push_back(
        {"analytics", "members", column, policy::MaskKind::kExpression, 4, expression});
  };
  mask("member_id", "member_id * 2 + (lifetime_value >= 500) - member_id % 3 + -member_id / 4");
  mask("name", "upper(substr(name, 1, 3)) || '***' || length(name) || lower('ÄB')");
  mask("email", "CASE WHEN region LIKE 'EU%' THEN replace(email, '@', ' at ') END");
  mask("region", "trim(lower(region), 'e') || (member_id / 0 IS NULL) || instr(region, '-')");
  mask("tier",
       "coalesce(nullif(tier, 'gold'), 'other') || ':' || (tier IN ('gold', 'silver')) || "
       "(tier BETWEEN 'a' AND 'h') || (NOT tier < 'b')");
  mask("joined_on", "substr(joined_on, 0, 5) || ltrim(rtrim(joined_on, '0123456789'), '0123')");
  mask("lifetime_value",
       "CASE WHEN member_id % 2 = 0 THEN lifetime_value * 2 / 0 ELSE "
       "lifetime_value - member_id END");
  policy_.roles[r.name] = r;
  policy_.version++;
  const std::string sql = "SELECT * FROM members ORDER BY 1, 2, 4, 5, 6";
  Outcome pg = Run("masked", sql);
  ASSERT_TRUE(pg.status.ok()) << pg.status.ToString();
  ASSERT_EQ(pg.rows.size(), 200u);

  testing::Lake lake;
  ASSERT_TRUE(lake.Build(200).ok());
  Outcome sqlite = lake.RunAs(r, sql);
  ASSERT_TRUE(sqlite.status.ok()) << sqlite.status.ToString();
  ASSERT_EQ(sqlite.rows.size(), pg.rows.size());
  // The same values of the same types, row by row.
  std::istringstream pg_lines(pg.dump), sqlite_lines(sqlite.dump);
  for (std::string a, b; std::getline(pg_lines, a) && std::getline(sqlite_lines, b);) {
    ASSERT_EQ(a, b) << "PostgreSQL vs SQLite";
  }
  for (size_t i = 0; i < pg.rows.size(); ++i) {
    for (size_t c = 0; c < pg.rows[i].size(); ++c) {
      EXPECT_EQ(pg.rows[i][c].index(), sqlite.rows[i][c].index()) << "row " << i << " column " << c;
    }
  }
}

TEST_F(PostgresEngineTest, ExpressionMasksPostgresCannotMatchFailClosed) {
  for (const char* expression :
       {"name || lifetime_value", "member_id < 'a'", "substr(name, -2)", "region + 1",
        "CASE WHEN member_id > 5 THEN name ELSE member_id END", "lifetime_value % 2"}) {
    SCOPED_TRACE(expression);
    policy::Role r;
    r.name = "odd-mask";
    r.grants = {{"analytics", "members", policy::Bit(policy::Permission::kSelect), {}}};
    r.masks.push_back(
        {"analytics", "members", "name", policy::MaskKind::kExpression, 4, expression});
    policy_.roles[r.name] = r;
    policy_.version++;
    Outcome o = Run("odd-mask", "SELECT name FROM members");
    EXPECT_REASON(o, kPermissionDenied);
    EXPECT_NE(o.status.message().find("expression masks"), std::string::npos)
        << o.status.ToString();
    EXPECT_NE(o.status.message().find("has no exact PostgreSQL counterpart"), std::string::npos)
        << o.status.ToString();
  }
  EXPECT_TRUE(Run(kDev, "SELECT count(*) FROM members").status.ok());
}

TEST_F(PostgresEngineTest, CatalogListsWhatTheRoleSees) {
  auto dev = engine_->Catalog(policy_, *policy_.FindRole(kDev));
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  bool found = false;
  for (const DatabaseInfo& db : *dev) {
    for (const TableInfo& t : db.tables) {
      if (db.name != "analytics" || t.name != "members") continue;
      found = true;
      EXPECT_EQ(t.columns.size(), 6u);
      for (const ColumnInfo& c : t.columns) EXPECT_NE(c.name, "email");
    }
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace lakegate::engine
