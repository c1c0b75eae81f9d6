#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "engine/demo_members.h"
#include "engine/sqlite/sqlite_engine.h"
#include "engine_test_util.h"
#include "testing/status_matchers.h"

namespace lakegate::engine {
namespace {

using lakegate::testing::HasReason;
using testing::Cell;
using testing::DevRole;
using testing::Lake;
using testing::Outcome;
using testing::SuperRole;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(lake_.Build().ok()); }
  Outcome Dev(const std::string& sql) { return lake_.RunAs(DevRole(), sql); }
  Outcome Super(const std::string& sql, StatementClass c = StatementClass::kRead,
                const std::string& db = "analytics") {
    return lake_.RunAs(SuperRole(), sql, c, db);
  }
  Lake lake_;
};

// A dev result must never contain an email, hr data or the secret table.
void ExpectNoLeak(const Outcome& o, const std::string& sql) {
  EXPECT_EQ(o.dump.find("@example.com"), std::string::npos) << sql << "\n" << o.dump;
  EXPECT_EQ(o.dump.find("SECRET-HR"), std::string::npos) << sql << "\n" << o.dump;
  EXPECT_EQ(o.dump.find("TOPSECRET"), std::string::npos) << sql << "\n" << o.dump;
  EXPECT_EQ(o.dump.find("123456"), std::string::npos) << sql << "\n" << o.dump;
}

TEST(StatementClassNameTest, Names) {
  EXPECT_EQ(StatementClassName(StatementClass::kRead), "read");
  EXPECT_EQ(StatementClassName(StatementClass::kWrite), "write");
  EXPECT_EQ(StatementClassName(StatementClass::kAdmin), "admin");
}

TEST(DatabaseNameTest, Validation) {
  EXPECT_TRUE(IsValidDatabaseName("analytics"));
  EXPECT_TRUE(IsValidDatabaseName("_x9"));
  EXPECT_FALSE(IsValidDatabaseName(""));
  EXPECT_FALSE(IsValidDatabaseName("9x"));
  EXPECT_FALSE(IsValidDatabaseName("a-b"));
  EXPECT_FALSE(IsValidDatabaseName("../etc"));
  EXPECT_FALSE(IsValidDatabaseName(std::string(65, 'a')));
  EXPECT_EQ(CreateDatabaseIfMissing("/tmp", "../x").code(), StatusCode::kInvalidArgument);
}

TEST(OpenTest, MissingLakeDirIsInvalidArgument) {
  auto e = OpenSqliteEngine(SqliteEngineOptions{"/nonexistent/lake", 4});
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(HasReason(e.status(), EngineFailure::kMisconfigured));
}

TEST(OpenTest, CreateIfMissingDefersTheLakeDirectoryToTheFirstLoad) {
  Lake scratch;  // only for its temporary directory
  const std::string dir = scratch.dir() + "/new-lake";
  SqliteEngineOptions options;
  options.lake_dir = dir;
  options.create_if_missing = true;
  auto engine = OpenSqliteEngine(options);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(dir));  // opening creates nothing
  ASSERT_TRUE(LoadDemoMembers(**engine, 3).ok());
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  // The table the load created is visible to the next query at once.
  testing::CollectingSink sink;
  QueryRequest request;
  request.sql = "SELECT count(*) FROM members";
  request.database = "analytics";
  policy::PolicySnapshot snapshot;
  auto result = (*engine)->Execute(snapshot, SuperRole(), request, sink);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(std::get<int64_t>(sink.rows().at(0).at(0)), 3);
}

TEST(ReasonTest, PublicCodesOfTheQueryApi) {
  // The HTTP layer renders engine errors from these alone.
  auto info = [](EngineFailure f) { return ReasonDomainOf(f).Info(static_cast<int>(f)); };
  EXPECT_EQ(ReasonDomainOf(EngineFailure::kTimeout).name(), "engine");
  EXPECT_EQ(info(EngineFailure::kInvalidQuery).public_code, "invalid_query");
  EXPECT_EQ(info(EngineFailure::kInvalidQuery).http_status, 400);
  EXPECT_EQ(info(EngineFailure::kUnknownDatabase).public_code, "invalid_query");
  EXPECT_EQ(info(EngineFailure::kStatementNotAllowed).public_code, "access_denied");
  EXPECT_EQ(info(EngineFailure::kPermissionDenied).http_status, 403);
  EXPECT_EQ(info(EngineFailure::kTimeout).public_code, "query_timeout");
  EXPECT_EQ(info(EngineFailure::kTimeout).http_status, 408);
  EXPECT_EQ(info(EngineFailure::kTimeout).public_message, "");  // the status says the limit
  EXPECT_EQ(info(EngineFailure::kValueTooLarge).public_code, "result_too_large");
  EXPECT_EQ(info(EngineFailure::kValueTooLarge).http_status, 413);
  EXPECT_EQ(info(EngineFailure::kUnavailable).public_code, "unavailable");
  EXPECT_EQ(info(EngineFailure::kUnavailable).http_status, 503);
  EXPECT_EQ(info(EngineFailure::kUnavailable).public_message,
            "the query engine is unavailable; retry later");
  for (EngineFailure hidden : {EngineFailure::kInternal, EngineFailure::kMisconfigured}) {
    EXPECT_EQ(info(hidden).public_code, "internal_error");
    EXPECT_EQ(info(hidden).http_status, 500);
    EXPECT_FALSE(info(hidden).public_message.empty());  // never the status message
  }
  EXPECT_EQ(info(EngineFailure::kInternal).name, "internal");
}

TEST_F(EngineTest, DemoDataIsDeterministicAndPrivate) {
  auto o = Super(
      "SELECT count(*), count(DISTINCT region), min(joined_on) >= '2015', "
      "max(joined_on) < '2026', count(DISTINCT tier) FROM members");
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  ASSERT_EQ(o.rows.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(o.rows[0][0]), 1000);
  EXPECT_EQ(std::get<int64_t>(o.rows[0][1]), 5);
  EXPECT_EQ(std::get<int64_t>(o.rows[0][2]), 1);
  EXPECT_EQ(std::get<int64_t>(o.rows[0][3]), 1);
  EXPECT_EQ(std::get<int64_t>(o.rows[0][4]), 4);
  auto e = Super("SELECT email FROM members WHERE member_id = 42");
  ASSERT_EQ(e.rows.size(), 1u);
  EXPECT_EQ(std::get<std::string>(e.rows[0][0]), "member00042@example.com");
  // Same rows in a second lake.
  Lake other;
  ASSERT_TRUE(other.Build().ok());
  auto a = Super("SELECT * FROM members ORDER BY member_id");
  auto b = other.RunAs(SuperRole(), "SELECT * FROM members ORDER BY member_id");
  EXPECT_EQ(a.dump, b.dump);
  // The rows are pinned: the demo, the docs and every engine show these.
  auto first = Super("SELECT * FROM members WHERE member_id = 1");
  ASSERT_EQ(first.rows.size(), 1u);
  EXPECT_EQ(first.dump.substr(first.dump.find('\n') + 1),
            "1|Jon Alvarez|member00001@example.com|sa-east|bronze|2016-12-22|4735.66|\n");
  // Existing table is left alone.
  EXPECT_TRUE(LoadDemoMembers(lake_.engine(), 5).ok());
  EXPECT_EQ(std::get<int64_t>(Super("SELECT count(*) FROM members").rows[0][0]), 1000);
  struct stat st {};
  ASSERT_EQ(::stat((lake_.dir() + "/analytics.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(EngineTest, DevSeesOnlyGrantedColumns) {
  auto o = Dev("SELECT * FROM members ORDER BY member_id LIMIT 3");
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  ASSERT_EQ(o.columns.size(), 6u);
  std::vector<std::string> names;
  for (auto& c : o.columns) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"member_id", "name", "region", "tier", "joined_on",
                                             "lifetime_value"}));
  EXPECT_EQ(o.columns[0].type, "INTEGER");
  EXPECT_EQ(o.columns[5].type, "REAL");
  ASSERT_EQ(o.rows.size(), 3u);
  EXPECT_EQ(std::get<int64_t>(o.rows[0][0]), 1);
  EXPECT_TRUE(std::holds_alternative<double>(o.rows[0][5]));
  EXPECT_EQ(o.result.statement_type, "SELECT");
  EXPECT_EQ(o.result.statement_class, StatementClass::kRead);
  // Qualified names resolve too, and the results agree.
  auto q = Dev("SELECT * FROM analytics.members ORDER BY member_id LIMIT 3");
  EXPECT_EQ(o.dump, q.dump);
  EXPECT_EQ(std::get<int64_t>(Dev("SELECT count(*) FROM members").rows[0][0]), 1000);
}

TEST_F(EngineTest, GovernedResultsMatchRawResults) {
  for (const char* sql :
       {"SELECT region, count(*), round(sum(lifetime_value), 2) FROM members GROUP BY region "
        "ORDER BY region",
        "SELECT member_id, name FROM members WHERE member_id = 77",
        "SELECT member_id FROM members WHERE member_id BETWEEN 10 AND 20 ORDER BY 1",
        "SELECT member_id FROM members WHERE member_id > 990 LIMIT 3",
        "SELECT member_id FROM members WHERE tier = 'gold' AND member_id < 50 ORDER BY 1",
        "SELECT member_id FROM members WHERE member_id = '5'",
        "SELECT name FROM members LIMIT 5 OFFSET 10",
        "SELECT m.member_id, o.amount FROM members m JOIN orders o ON o.member_id = m.member_id "
        "ORDER BY o.order_id",
        "SELECT count(*) FROM members a JOIN members b ON a.member_id = b.member_id + 1",
        "SELECT member_id FROM members WHERE region = 'eu-central' ORDER BY member_id DESC LIMIT 2",
        "SELECT upper(tier) COLLATE NOCASE, count(*) FROM members GROUP BY 1 ORDER BY 1",
        "SELECT member_id FROM members WHERE name = 'ada alvarez' COLLATE NOCASE ORDER BY 1",
        "SELECT count(*) FROM orders WHERE note IS NULL"}) {
    auto governed = Dev(sql);
    auto raw = Super(sql);
    ASSERT_TRUE(governed.status.ok()) << sql << ": " << governed.status.ToString();
    ASSERT_TRUE(raw.status.ok()) << sql << ": " << raw.status.ToString();
    EXPECT_EQ(governed.dump, raw.dump) << sql;
    EXPECT_FALSE(governed.rows.empty()) << sql;
  }
}

TEST_F(EngineTest, TypedValuesNullsAndBlobs) {
  auto o = Dev("SELECT order_id, amount, note, payload FROM orders ORDER BY order_id");
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  ASSERT_EQ(o.rows.size(), 3u);
  EXPECT_EQ(std::get<int64_t>(o.rows[0][0]), 1);
  EXPECT_DOUBLE_EQ(std::get<double>(o.rows[0][1]), 10.5);
  EXPECT_EQ(std::get<std::string>(o.rows[0][2]), "first");
  EXPECT_EQ(std::get<Blob>(o.rows[0][3]).bytes, std::string("\x00\x01\xff", 3));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(o.rows[1][2]));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(o.rows[1][3]));
  EXPECT_EQ(std::get<Blob>(o.rows[2][3]).bytes, "");
  auto e = Dev("SELECT 1 + 1 AS two, 'x' AS s");
  ASSERT_TRUE(e.status.ok());
  EXPECT_EQ(e.columns[0].name, "two");
  EXPECT_EQ(e.columns[0].type, "");
  EXPECT_EQ(std::get<int64_t>(e.rows[0][0]), 2);
}

TEST_F(EngineTest, ParametersBind) {
  auto o = lake_.RunAs(DevRole(),
                       "SELECT member_id, name FROM members WHERE member_id = ?1 OR name = ?2",
                       StatementClass::kRead, "analytics", {int64_t{7}, std::string("nobody")});
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  ASSERT_EQ(o.rows.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(o.rows[0][0]), 7);
  auto all = lake_.RunAs(DevRole(), "SELECT ?, ?, ?, ?, ?", StatementClass::kRead, "analytics",
                         {std::monostate{}, int64_t{-3}, 2.5, std::string("t"), Blob{"b"}});
  ASSERT_TRUE(all.status.ok());
  EXPECT_TRUE(std::holds_alternative<std::monostate>(all.rows[0][0]));
  EXPECT_EQ(std::get<int64_t>(all.rows[0][1]), -3);
  EXPECT_DOUBLE_EQ(std::get<double>(all.rows[0][2]), 2.5);
  EXPECT_EQ(std::get<std::string>(all.rows[0][3]), "t");
  EXPECT_EQ(std::get<Blob>(all.rows[0][4]).bytes, "b");
  auto wrong = lake_.RunAs(DevRole(), "SELECT ?1", StatementClass::kRead, "analytics", {});
  EXPECT_EQ(wrong.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(wrong.status.message(), "the statement has 1 parameters; the request gave 0");
  EXPECT_TRUE(HasReason(wrong.status, EngineFailure::kInvalidQuery));
  auto extra = lake_.RunAs(DevRole(), "SELECT 1", StatementClass::kRead, "analytics", {int64_t{1}});
  EXPECT_EQ(extra.status.code(), StatusCode::kInvalidArgument);
}

TEST_F(EngineTest, MaxRowsTruncates) {
  QueryLimits limits;
  limits.max_rows = 10;
  auto o = lake_.RunAs(DevRole(), "SELECT member_id FROM members", StatementClass::kRead,
                       "analytics", {}, limits);
  ASSERT_TRUE(o.status.ok());
  EXPECT_EQ(o.rows.size(), 10u);
  EXPECT_EQ(o.result.rows, 10);
  EXPECT_TRUE(o.result.truncated);
  limits.max_rows = 1000;
  auto full = lake_.RunAs(DevRole(), "SELECT member_id FROM members", StatementClass::kRead,
                          "analytics", {}, limits);
  EXPECT_EQ(full.result.rows, 1000);
  EXPECT_FALSE(full.result.truncated);
}

TEST_F(EngineTest, OneStatementPerRequest) {
  for (const char* sql : {"SELECT 1; SELECT 2", "SELECT 1; DROP TABLE members", "SELECT 1;;",
                          "SELECT 1; -- c\n SELECT 2"}) {
    auto o = Super(sql, StatementClass::kAdmin);
    EXPECT_EQ(o.status.code(), StatusCode::kInvalidArgument) << sql;
    EXPECT_EQ(o.status.message(), "one statement per request") << sql;
    EXPECT_TRUE(HasReason(o.status, EngineFailure::kInvalidQuery)) << sql;
  }
  EXPECT_TRUE(Dev("SELECT 1; -- trailing comment\n /* block */ ").status.ok());
  auto empty = Dev("  -- nothing\n");
  EXPECT_EQ(empty.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(empty.status.message(), "empty statement");
  EXPECT_TRUE(HasReason(empty.status, EngineFailure::kInvalidQuery));
}

TEST_F(EngineTest, BadSqlIsInvalidArgumentWithSqliteMessage) {
  auto o = Dev("SELEC 1");
  EXPECT_EQ(o.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(o.status.message().find("syntax error"), std::string::npos);
  EXPECT_TRUE(HasReason(o.status, EngineFailure::kInvalidQuery));
  auto d = lake_.RunAs(DevRole(), "SELECT 1", StatementClass::kRead, "nosuchdb");
  EXPECT_EQ(d.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(d.status.message(), "unknown database: nosuchdb");
  EXPECT_TRUE(HasReason(d.status, EngineFailure::kUnknownDatabase));
  // A database the role cannot see reads exactly like a missing one.
  auto hidden = lake_.RunAs(DevRole(), "SELECT 1", StatementClass::kRead, "hr");
  EXPECT_EQ(hidden.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(hidden.status.message(), "unknown database: hr");
  EXPECT_TRUE(HasReason(hidden.status, EngineFailure::kUnknownDatabase));
  auto bad = lake_.RunAs(DevRole(), "SELECT 1", StatementClass::kRead, "../x");
  EXPECT_EQ(bad.status.message(), "unknown database: ../x");
  EXPECT_TRUE(HasReason(bad.status, EngineFailure::kUnknownDatabase));
}

TEST_F(EngineTest, EmailIsAColumnErrorForDev) {
  for (const char* sql :
       {"SELECT email FROM members", "SELECT \"email\" FROM members",
        "SELECT members.email FROM members", "SELECT count(*) FROM members WHERE email LIKE '%@%'",
        "SELECT member_id FROM members ORDER BY email",
        "SELECT count(*) FROM members GROUP BY email", "SELECT count(email) FROM members",
        "SELECT min(email) FROM members"}) {
    auto o = Dev(sql);
    EXPECT_EQ(o.status.code(), StatusCode::kInvalidArgument) << sql;
    EXPECT_NE(o.status.message().find("no such column"), std::string::npos)
        << sql << ": " << o.status.message();
  }
  EXPECT_EQ(Dev("SELECT email FROM members").status.message(), "no such column: email");
}

TEST_F(EngineTest, HiddenTablesReadLikeMissingTables) {
  auto missing = Dev("SELECT * FROM no_such_table");
  auto secret = Dev("SELECT * FROM secret_table");
  EXPECT_EQ(missing.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(secret.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(secret.status.message(), "no such table: secret_table");
  EXPECT_TRUE(HasReason(secret.status, EngineFailure::kInvalidQuery));
  auto hr = Dev("SELECT * FROM hr.salaries");
  EXPECT_EQ(hr.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(hr.status.message(), "no such table: hr.salaries");
  auto nohr = Dev("SELECT * FROM nothere.salaries");
  EXPECT_EQ(nohr.status.message(), "no such table: nothere.salaries");
  EXPECT_EQ(Dev("SELECT * FROM salaries").status.message(), "no such table: salaries");
}

// The broad suite: every construct we know of, none may surface email,
// hr data or the secret table for the dev role.
TEST_F(EngineTest, DevCannotObtainHiddenDataThroughAnyConstruct) {
  const char* attacks[] = {
      "SELECT * FROM members",
      "SELECT * FROM analytics.members",
      "SELECT * FROM main.members",
      "SELECT \"email\" FROM members",
      "SELECT 'email' FROM members LIMIT 1",
      "SELECT * FROM (SELECT * FROM members)",
      "SELECT (SELECT email FROM members LIMIT 1)",
      "WITH members AS (SELECT * FROM analytics.members) SELECT * FROM members",
      "WITH m(a, b, c, d, e, f, g) AS (SELECT * FROM members) SELECT * FROM m",
      "WITH lakegate_governed AS (SELECT 1) SELECT * FROM members",
      "WITH sqlite_master AS (SELECT * FROM members) SELECT * FROM sqlite_master",
      "SELECT a.*, b.* FROM members a JOIN members b USING (member_id) LIMIT 5",
      "SELECT * FROM members NATURAL JOIN orders",
      "SELECT * FROM members WHERE rowid = 1",
      "SELECT rowid, _rowid_, oid FROM members LIMIT 3",
      "SELECT group_concat(name) FROM members",
      "SELECT json_object('m', json_group_array(json_array(member_id, name))) FROM members",
      "SELECT row_number() OVER (ORDER BY name), * FROM members LIMIT 3",
      "SELECT CASE WHEN member_id > 0 THEN name END FROM members LIMIT 3",
      "SELECT * FROM pragma_table_info('members')",
      "SELECT * FROM pragma_table_xinfo('members')",
      "PRAGMA table_info(members)",
      "PRAGMA table_xinfo(members)",
      "SELECT * FROM sqlite_master",
      "SELECT * FROM sqlite_schema",
      "SELECT * FROM sqlite_temp_master",
      "SELECT * FROM analytics.sqlite_master",
      "SELECT * FROM pragma_table_list",
      "SELECT * FROM pragma_database_list",
      "PRAGMA database_list",
      "SELECT * FROM json_each((SELECT json_group_array(name) FROM members))",
      "SELECT * FROM hr.members",
      "SELECT * FROM secret_table",
      "SELECT * FROM analytics.secret_table",
      "ATTACH DATABASE 'analytics.db' AS raw",
      "VACUUM INTO '/tmp/lakegate-vacuum-out.db'",
      "SELECT load_extension('/tmp/x')",
      "SELECT fts3_tokenizer('simple')",
      "PRAGMA writable_schema = 1",
      "PRAGMA analytics.writable_schema = ON",
      "CREATE TEMP VIEW v AS SELECT * FROM members",
      "CREATE VIRTUAL TABLE analytics.x USING lakegate_governed",
      "CREATE VIRTUAL TABLE temp.email USING lakegate_governed",
      "SELECT * FROM lakegate_governed",
      "SELECT * FROM sqlite_dbpage",
      "SELECT * FROM dbstat",
      "SELECT readfile('/etc/passwd')",
      "SELECT sqlite_compileoption_get(0)",
      "SELECT * FROM members WHERE member_id IN (SELECT salary FROM hr.salaries)",
      "SELECT * FROM pragma_table_info('salaries', 'hr')",
      "PRAGMA hr.table_info(salaries)",
      "SELECT * FROM pragma_index_list('members')",
      "SELECT * FROM members m WHERE EXISTS (SELECT 1 FROM members WHERE email = "
      "'member00001@example.com')",
      "SELECT * FROM members ORDER BY \"email\" LIMIT 1",
  };
  for (const char* sql : attacks) {
    auto o = Dev(sql);
    ExpectNoLeak(o, sql);
  }
  // Introspection shows exactly the granted columns.
  auto info = Dev("SELECT name FROM pragma_table_info('members') ORDER BY cid");
  ASSERT_TRUE(info.status.ok()) << info.status.ToString();
  EXPECT_EQ(info.rows.size(), 6u);
  EXPECT_EQ(info.dump.find("email"), std::string::npos);
  auto pragma = Dev("PRAGMA table_info(members)");
  ASSERT_TRUE(pragma.status.ok()) << pragma.status.ToString();
  EXPECT_EQ(pragma.rows.size(), 6u);
  EXPECT_EQ(pragma.dump.find("email"), std::string::npos);
  EXPECT_EQ(pragma.result.statement_type, "PRAGMA");
  // Schema tables hold only the governed declarations, nothing raw.
  auto schema = Dev("SELECT name, sql FROM analytics.sqlite_schema ORDER BY name");
  ASSERT_TRUE(schema.status.ok());
  EXPECT_EQ(schema.rows.size(), 2u);  // members, orders
  EXPECT_EQ(schema.dump.find("secret"), std::string::npos);
  EXPECT_EQ(schema.dump.find("email"), std::string::npos);
  EXPECT_TRUE(Dev("SELECT * FROM sqlite_schema").rows.empty());
}

TEST_F(EngineTest, DeniedStatementsHaveSpecificErrors) {
  auto attach = Dev("ATTACH DATABASE '" + lake_.dir() + "/analytics.db' AS raw");
  EXPECT_EQ(attach.status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(attach.status.message(), "ATTACH and VACUUM INTO are not allowed");
  EXPECT_TRUE(HasReason(attach.status, EngineFailure::kPermissionDenied));
  auto vacuum = Super("VACUUM INTO '" + lake_.dir() + "/copy.db'", StatementClass::kAdmin);
  EXPECT_EQ(vacuum.status.code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(std::filesystem::exists(lake_.dir() + "/copy.db"));
  auto super_attach = Super("ATTACH DATABASE '/tmp/x.db' AS x", StatementClass::kAdmin);
  EXPECT_EQ(super_attach.status.code(), StatusCode::kPermissionDenied);
  auto ext = Dev("SELECT load_extension('/tmp/libx.so')");
  EXPECT_EQ(ext.status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ext.status.message(), "function load_extension() is not allowed");
  EXPECT_TRUE(HasReason(ext.status, EngineFailure::kPermissionDenied));
  auto ext2 = Super("SELECT load_extension('/tmp/libx.so')", StatementClass::kAdmin);
  EXPECT_EQ(ext2.status.code(), StatusCode::kPermissionDenied);
  auto tok = Dev("SELECT fts3_tokenizer('simple')");
  EXPECT_EQ(tok.status.code(), StatusCode::kPermissionDenied);
  auto ws = Dev("PRAGMA writable_schema = 1");
  EXPECT_EQ(ws.status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ws.status.message(), "PRAGMA writable_schema is not allowed");
  auto ws2 = Super("PRAGMA writable_schema = 1", StatementClass::kAdmin);
  EXPECT_EQ(ws2.status.code(), StatusCode::kPermissionDenied);
  auto jm = Super("PRAGMA journal_mode = DELETE", StatementClass::kAdmin);
  EXPECT_EQ(jm.status.code(), StatusCode::kPermissionDenied);
  auto begin = Super("BEGIN", StatementClass::kAdmin);
  EXPECT_EQ(begin.status.code(), StatusCode::kPermissionDenied);
  auto detach = Super("DETACH DATABASE hr", StatementClass::kAdmin);
  EXPECT_EQ(detach.status.code(), StatusCode::kPermissionDenied);
  auto temp = Super("CREATE TEMP TABLE t(x)", StatementClass::kAdmin);
  EXPECT_EQ(temp.status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(temp.status.message(), "temporary objects are not allowed");
  EXPECT_TRUE(HasReason(temp.status, EngineFailure::kPermissionDenied));
  auto dbpage = Super("SELECT * FROM sqlite_dbpage", StatementClass::kAdmin);
  EXPECT_NE(dbpage.status.code(), StatusCode::kOk);
  auto vt = Dev("CREATE VIRTUAL TABLE analytics.x USING lakegate_governed");
  EXPECT_NE(vt.status.code(), StatusCode::kOk);
  auto ep = Dev("SELECT * FROM lakegate_governed");
  EXPECT_EQ(ep.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ep.status.message(), "no such table: lakegate_governed");
}

TEST_F(EngineTest, ScopesLimitStatementClasses) {
  for (const char* sql :
       {"INSERT INTO members(member_id) VALUES (5000)", "UPDATE members SET name = 'x'",
        "DELETE FROM members", "CREATE TABLE t2(x)", "CREATE TABLE t3 AS SELECT 1"}) {
    auto o = Super(sql, StatementClass::kRead);
    EXPECT_EQ(o.status.code(), StatusCode::kPermissionDenied) << sql;
    EXPECT_EQ(o.status.message(), "statement needs the write scope; the token has only read")
        << sql;
    EXPECT_TRUE(HasReason(o.status, EngineFailure::kStatementNotAllowed)) << sql;
  }
  for (const char* sql : {"DROP TABLE orders", "CREATE INDEX i ON members(region)",
                          "ALTER TABLE members ADD COLUMN x TEXT", "CREATE VIEW v AS SELECT 1"}) {
    auto o = Super(sql, StatementClass::kWrite);
    EXPECT_EQ(o.status.code(), StatusCode::kPermissionDenied) << sql;
    EXPECT_EQ(o.status.message(), "statement needs the admin scope; the token has only write")
        << sql;
    auto r = Super(sql, StatementClass::kRead);
    EXPECT_EQ(r.status.message(), "statement needs the admin scope; the token has only read");
  }
  // Nothing changed.
  EXPECT_EQ(std::get<int64_t>(Super("SELECT count(*) FROM members").rows[0][0]), 1000);
  // Dev with read scope.
  auto dev = Dev("DELETE FROM members");
  EXPECT_EQ(dev.status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(dev.status.message(), "statement needs the write scope; the token has only read");
  EXPECT_TRUE(HasReason(dev.status, EngineFailure::kStatementNotAllowed));
  auto drop = Dev("DROP TABLE members");
  EXPECT_EQ(drop.status.message(), "statement needs the admin scope; the token has only read");
}

TEST_F(EngineTest, RestrictedRolesCannotWrite) {
  auto o =
      lake_.RunAs(DevRole(), "INSERT INTO members(member_id) VALUES (1)", StatementClass::kAdmin);
  EXPECT_EQ(o.status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(o.status.message(), "role lf-dev-role lacks INSERT on analytics.members");
  EXPECT_TRUE(HasReason(o.status, EngineFailure::kPermissionDenied));
  auto d = lake_.RunAs(DevRole(), "DROP TABLE orders", StatementClass::kAdmin);
  EXPECT_EQ(d.status.message(), "role lf-dev-role lacks DROP on analytics.orders");
  auto c = lake_.RunAs(DevRole(), "CREATE TABLE analytics.t(x)", StatementClass::kAdmin);
  EXPECT_EQ(c.status.message(), "role lf-dev-role lacks CREATE_TABLE on database analytics");
  // A restricted role writes whole tables only, reading only whole tables.
  policy::Role writer = DevRole();
  writer.name = "writer";
  writer.grants.push_back(policy::Grant{"analytics", "orders", policy::kAllPermissions, {}});
  writer.grants.push_back(policy::Grant{"analytics",
                                        "members",
                                        policy::kAllPermissions,
                                        {policy::ColumnSpec::Kind::kExclude, {"email"}}});
  const std::string refused =
      ": a restricted role writes only whole tables (no row filters, masks or column limits) "
      "and may read only such tables in the statement";
  for (const char* sql :
       {"INSERT INTO members(member_id) VALUES (1)", "DELETE FROM members WHERE member_id = 1",
        "INSERT INTO orders(order_id, member_id) SELECT 99, member_id FROM members "
        "LIMIT 1",
        "DELETE FROM orders WHERE member_id IN (SELECT member_id FROM members)",
        "UPDATE orders SET note = (SELECT name FROM members LIMIT 1)"}) {
    auto w = lake_.RunAs(writer, sql, StatementClass::kWrite);
    EXPECT_EQ(w.status.code(), StatusCode::kPermissionDenied) << sql;
    std::string type = std::string(sql).substr(0, 6);
    EXPECT_EQ(w.status.message(), "role writer may not run this " + type + refused) << sql;
    EXPECT_TRUE(HasReason(w.status, EngineFailure::kPermissionDenied)) << sql;
  }
  for (const char* sql : {"INSERT INTO orders SELECT * FROM secret_table",
                          "INSERT INTO orders(order_id) SELECT count(*) FROM hr.salaries"}) {
    auto w = lake_.RunAs(writer, sql, StatementClass::kWrite);
    EXPECT_EQ(w.status.code(), StatusCode::kInvalidArgument) << sql;
    EXPECT_NE(w.status.message().find("no such table"), std::string::npos) << w.status.message();
    EXPECT_TRUE(HasReason(w.status, EngineFailure::kInvalidQuery));
  }
  EXPECT_EQ(std::get<int64_t>(Super("SELECT count(*) FROM orders").rows[0][0]), 3);
  auto ok = lake_.RunAs(writer, "INSERT INTO orders(order_id, member_id) VALUES (99, 1)",
                        StatementClass::kWrite);
  ASSERT_TRUE(ok.status.ok()) << ok.status.ToString();
  EXPECT_EQ(ok.result.changes, 1);
  EXPECT_EQ(ok.result.statement_type, "INSERT");
  auto copy = lake_.RunAs(writer,
                          "INSERT INTO analytics.orders(order_id, amount) SELECT "
                          "order_id + 100, amount FROM orders WHERE order_id < 3",
                          StatementClass::kWrite, "");
  ASSERT_TRUE(copy.status.ok()) << copy.status.ToString();
  EXPECT_EQ(copy.result.changes, 2);
  auto del = lake_.RunAs(writer, "DELETE FROM orders WHERE order_id >= 99", StatementClass::kWrite);
  ASSERT_TRUE(del.status.ok()) << del.status.ToString();
  EXPECT_EQ(del.result.changes, 3);
  // Read scope still stops it; DDL stays refused.
  EXPECT_EQ(lake_.RunAs(writer, "DELETE FROM orders").status.message(),
            "statement needs the write scope; the token has only read");
  EXPECT_EQ(lake_.RunAs(writer, "DROP TABLE orders", StatementClass::kAdmin).status.code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(std::get<int64_t>(Super("SELECT count(*) FROM orders").rows[0][0]), 3);
}

TEST_F(EngineTest, FastPathWritesAndDdl) {
  auto ins =
      Super("INSERT INTO orders(order_id, member_id, amount) VALUES (10, 3, 1.5), (11, 3, 2.5)",
            StatementClass::kWrite);
  ASSERT_TRUE(ins.status.ok()) << ins.status.ToString();
  EXPECT_EQ(ins.result.statement_class, StatementClass::kWrite);
  EXPECT_EQ(ins.result.statement_type, "INSERT");
  EXPECT_EQ(ins.result.changes, 2);
  auto upd =
      Super("UPDATE orders SET amount = amount * 2 WHERE member_id = 3", StatementClass::kWrite);
  EXPECT_EQ(upd.result.statement_type, "UPDATE");
  EXPECT_EQ(upd.result.changes, 2);
  auto del = Super("DELETE FROM orders WHERE order_id = 11", StatementClass::kWrite);
  EXPECT_EQ(del.result.statement_type, "DELETE");
  EXPECT_EQ(del.result.changes, 1);
  auto ctas = Super(
      "CREATE TABLE big_spenders AS SELECT member_id FROM members WHERE "
      "lifetime_value > 4000",
      StatementClass::kWrite);
  ASSERT_TRUE(ctas.status.ok()) << ctas.status.ToString();
  EXPECT_EQ(ctas.result.statement_type, "CREATE TABLE");
  EXPECT_EQ(ctas.result.statement_class, StatementClass::kWrite);
  EXPECT_TRUE(Super("SELECT count(*) FROM analytics.big_spenders").status.ok());
  auto idx = Super("CREATE INDEX orders_member ON orders(member_id)", StatementClass::kAdmin);
  ASSERT_TRUE(idx.status.ok()) << idx.status.ToString();
  EXPECT_EQ(idx.result.statement_class, StatementClass::kAdmin);
  EXPECT_EQ(idx.result.statement_type, "CREATE INDEX");
  auto drop = Super("DROP TABLE big_spenders", StatementClass::kAdmin);
  ASSERT_TRUE(drop.status.ok()) << drop.status.ToString();
  EXPECT_EQ(drop.result.statement_type, "DROP TABLE");
  auto ret = Super("INSERT INTO orders(order_id) VALUES (20), (21) RETURNING order_id",
                   StatementClass::kWrite);
  ASSERT_TRUE(ret.status.ok()) << ret.status.ToString();
  EXPECT_EQ(ret.rows.size(), 2u);
  auto constraint = Super("INSERT INTO orders(order_id) VALUES (20)", StatementClass::kWrite);
  EXPECT_EQ(constraint.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(constraint.status.message().find("UNIQUE"), std::string::npos);
  EXPECT_TRUE(HasReason(constraint.status, EngineFailure::kInvalidQuery));
}

TEST_F(EngineTest, SameTableNameResolvesToRequestDatabase) {
  auto hr = Super("SELECT count(*) FROM members", StatementClass::kRead, "hr");
  ASSERT_TRUE(hr.status.ok()) << hr.status.ToString();
  EXPECT_EQ(std::get<int64_t>(hr.rows[0][0]), 1);
  auto an = Super("SELECT count(*) FROM members", StatementClass::kRead, "analytics");
  EXPECT_EQ(std::get<int64_t>(an.rows[0][0]), 1000);
  auto cross = Super("SELECT count(*) FROM analytics.members", StatementClass::kRead, "hr");
  EXPECT_EQ(std::get<int64_t>(cross.rows[0][0]), 1000);
  // Governed: a role that sees members in both databases.
  policy::Role both;
  both.name = "both";
  both.grants.push_back(
      policy::Grant{"*", "members", policy::Bit(policy::Permission::kSelect), {}});
  auto g_hr = lake_.RunAs(both, "SELECT count(*) FROM members", StatementClass::kRead, "hr");
  ASSERT_TRUE(g_hr.status.ok()) << g_hr.status.ToString();
  EXPECT_EQ(std::get<int64_t>(g_hr.rows[0][0]), 1);
  auto g_an = lake_.RunAs(both, "SELECT count(*) FROM members", StatementClass::kRead, "analytics");
  EXPECT_EQ(std::get<int64_t>(g_an.rows[0][0]), 1000);
  auto g_q =
      lake_.RunAs(both, "SELECT count(*) FROM hr.members", StatementClass::kRead, "analytics");
  EXPECT_EQ(std::get<int64_t>(g_q.rows[0][0]), 1);
  // No default database: the first visible one in name order.
  auto none = lake_.RunAs(both, "SELECT count(*) FROM hr.members", StatementClass::kRead, "");
  EXPECT_TRUE(none.status.ok()) << none.status.ToString();
}

TEST_F(EngineTest, UnqualifiedDdlWithoutDatabaseIsRefused) {
  auto o = Super("CREATE TABLE t(x)", StatementClass::kAdmin, "");
  EXPECT_EQ(o.status.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(o.status.message().find("name the database"), std::string::npos);
  EXPECT_TRUE(HasReason(o.status, EngineFailure::kPermissionDenied));
  auto ok = Super("CREATE TABLE hr.t(x)", StatementClass::kAdmin, "");
  EXPECT_TRUE(ok.status.ok()) << ok.status.ToString();
}

TEST_F(EngineTest, PrintfBombFailsFast) {
  for (const char* sql :
       {"SELECT printf('%.*c', 2000000000, 'x')", "SELECT format('%.*c', 2000000000, 'x')",
        "SELECT printf('%.2000000000c', 'x')", "SELECT length(printf('%2000000000c', 'x'))",
        "SELECT zeroblob(2000000000)", "SELECT randomblob(2000000000)",
        "SELECT replace(hex(zeroblob(400000)), '0', '0000000000')",
        "SELECT length(printf('%.*c', 2000000000, name)) FROM members"}) {
    auto start = std::chrono::steady_clock::now();
    auto o = Dev(sql);
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(o.status.code(), StatusCode::kResourceExhausted)
        << sql << ": " << o.status.ToString();
    EXPECT_TRUE(HasReason(o.status, EngineFailure::kValueTooLarge)) << sql;
    EXPECT_LT(elapsed, std::chrono::seconds(1)) << sql;
  }
  auto normal = Dev("SELECT printf('%05d|%.2f|%s|%*d', 42, 3.14159, 'x', 4, 7)");
  ASSERT_TRUE(normal.status.ok()) << normal.status.ToString();
  EXPECT_EQ(std::get<std::string>(normal.rows[0][0]), "00042|3.14|x|   7");
  auto super = Super("SELECT printf('%.*c', 2000000000, 'x')");
  EXPECT_EQ(super.status.code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(HasReason(super.status, EngineFailure::kValueTooLarge));
}

TEST_F(EngineTest, RunawayQueryTimesOutAndEngineKeepsServing) {
  QueryLimits limits;
  limits.timeout = std::chrono::milliseconds(500);
  for (const policy::Role& role : {DevRole(), SuperRole()}) {
    auto start = std::chrono::steady_clock::now();
    auto o = lake_.RunAs(role,
                         "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                         "SELECT count(*) FROM c",
                         StatementClass::kRead, "analytics", {}, limits);
    auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(o.status.code(), StatusCode::kDeadlineExceeded) << o.status.ToString();
    EXPECT_TRUE(HasReason(o.status, EngineFailure::kTimeout)) << o.status.ToString();
    // The query API shows this message: it must name the limit and nothing else.
    EXPECT_EQ(o.status.message(), "the query ran longer than the limit of 500 ms");
    EXPECT_GE(elapsed, std::chrono::milliseconds(450));
    EXPECT_LT(elapsed, std::chrono::milliseconds(1500));
    auto again = lake_.RunAs(role, "SELECT count(*) FROM members");
    ASSERT_TRUE(again.status.ok());
    EXPECT_EQ(std::get<int64_t>(again.rows[0][0]), 1000);
  }
  // A slow governed scan (inner work) is interrupted too.
  auto start = std::chrono::steady_clock::now();
  auto join = lake_.RunAs(
      DevRole(), "SELECT count(*) FROM members a, members b, members c WHERE a.name < c.tier",
      StatementClass::kRead, "analytics", {}, limits);
  EXPECT_EQ(join.status.code(), StatusCode::kDeadlineExceeded) << join.status.ToString();
  EXPECT_TRUE(HasReason(join.status, EngineFailure::kTimeout));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
}

TEST_F(EngineTest, CancelledFlagStopsTheQuery) {
  std::atomic<bool> cancelled{true};
  auto o = lake_.RunAs(DevRole(),
                       "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
                       "SELECT count(*) FROM c",
                       StatementClass::kRead, "analytics", {}, {}, &cancelled);
  EXPECT_EQ(o.status.code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(o.status.message(), "query cancelled");
  EXPECT_TRUE(HasReason(o.status, EngineFailure::kCancelled));
}

TEST_F(EngineTest, SinkErrorStopsTheQuery) {
  class FailingSink : public ResultSink {
   public:
    Status Begin(const std::vector<ColumnInfo>&) override { return Status::Ok(); }
    Status Row(const RowView&) override {
      return ++rows_ > 2 ? ResourceExhaustedError("result too big") : Status::Ok();
    }
    int rows_ = 0;
  } sink;
  QueryRequest req;
  req.sql = "SELECT * FROM members";
  req.database = "analytics";
  auto r = lake_.engine().Execute(lake_.policy(), DevRole(), req, sink);
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status().message(), "result too big");
  EXPECT_FALSE(r.status().reason<EngineFailure>().has_value());  // the sink's own status
  EXPECT_TRUE(Dev("SELECT 1").status.ok());
}

TEST_F(EngineTest, ConcurrentRolesDoNotCrossTalk) {
  std::atomic<int> failures{0};
  std::mutex mu;
  std::string first_failure;
  auto worker = [&](bool dev) {
    for (int i = 0; i < 40; ++i) {
      auto o = dev ? lake_.RunAs(DevRole(),
                                 "SELECT * FROM members WHERE member_id = " + std::to_string(i + 1))
                   : lake_.RunAs(SuperRole(), "SELECT * FROM members WHERE member_id = " +
                                                  std::to_string(i + 1));
      bool has_email = o.dump.find("@example.com") != std::string::npos;
      if (!o.status.ok() || o.rows.size() != 1 || has_email == dev) {
        failures++;
        std::lock_guard<std::mutex> lock(mu);
        if (first_failure.empty()) {
          first_failure = (dev ? "dev: " : "super: ") + o.status.ToString() +
                          " rows=" + std::to_string(o.rows.size()) + " " + o.dump.substr(0, 200);
        }
      }
    }
  };
  std::thread a(worker, true), b(worker, false), c(worker, true), d(worker, false);
  a.join();
  b.join();
  c.join();
  d.join();
  EXPECT_EQ(failures.load(), 0) << first_failure;
}

TEST_F(EngineTest, PolicyVersionChangeTakesEffect) {
  ASSERT_TRUE(Dev("SELECT name FROM members LIMIT 1").status.ok());
  policy::Role narrower = DevRole();
  narrower.grants[0].columns = {policy::ColumnSpec::Kind::kInclude, {"member_id"}};
  lake_.policy().version = 2;
  auto o = lake_.RunAs(narrower, "SELECT name FROM members LIMIT 1");
  EXPECT_EQ(o.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(o.status.message(), "no such column: name");
  EXPECT_TRUE(HasReason(o.status, EngineFailure::kInvalidQuery));
  EXPECT_EQ(lake_.RunAs(narrower, "SELECT * FROM members LIMIT 1").columns.size(), 1u);
}

TEST_F(EngineTest, NewTablesAppearAfterDdl) {
  policy::Role all_analytics;
  all_analytics.name = "reader";
  all_analytics.grants.push_back(
      policy::Grant{"analytics", "*", policy::Bit(policy::Permission::kSelect), {}});
  EXPECT_EQ(lake_.RunAs(all_analytics, "SELECT * FROM fresh").status.message(),
            "no such table: fresh");
  ASSERT_TRUE(Super("CREATE TABLE fresh(a INTEGER)", StatementClass::kWrite).status.ok());
  ASSERT_TRUE(Super("INSERT INTO fresh VALUES (9)", StatementClass::kWrite).status.ok());
  auto o = lake_.RunAs(all_analytics, "SELECT a FROM fresh");
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(std::get<int64_t>(o.rows[0][0]), 9);
}

TEST_F(EngineTest, DescribeOnlyTableShowsColumnsButNoData) {
  policy::Role describer;
  describer.name = "describer";
  describer.grants.push_back(
      policy::Grant{"analytics", "secret_table", policy::Bit(policy::Permission::kDescribe), {}});
  auto info = lake_.RunAs(describer, "PRAGMA table_info(secret_table)");
  ASSERT_TRUE(info.status.ok()) << info.status.ToString();
  EXPECT_EQ(info.rows.size(), 1u);
  for (const char* sql : {"SELECT * FROM secret_table", "SELECT count(*) FROM secret_table",
                          "SELECT 1 FROM secret_table"}) {
    auto o = lake_.RunAs(describer, sql);
    EXPECT_EQ(o.status.code(), StatusCode::kPermissionDenied) << sql << o.status.ToString();
    ExpectNoLeak(o, sql);
  }
}

TEST_F(EngineTest, CatalogListsOnlyVisibleObjects) {
  auto dev = lake_.engine().Catalog(lake_.policy(), DevRole());
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  ASSERT_EQ(dev->size(), 1u);
  EXPECT_EQ((*dev)[0].name, "analytics");
  ASSERT_EQ((*dev)[0].tables.size(), 2u);
  EXPECT_EQ((*dev)[0].tables[0].name, "members");
  EXPECT_EQ((*dev)[0].tables[0].columns.size(), 6u);
  for (const auto& c : (*dev)[0].tables[0].columns) EXPECT_NE(c.name, "email");
  EXPECT_EQ((*dev)[0].tables[0].columns[0].type, "INTEGER");
  EXPECT_EQ((*dev)[0].tables[1].name, "orders");
  auto super = lake_.engine().Catalog(lake_.policy(), SuperRole());
  ASSERT_TRUE(super.ok());
  ASSERT_EQ(super->size(), 2u);
  EXPECT_EQ((*super)[1].name, "hr");
  EXPECT_EQ((*super)[0].tables.size(), 3u);
  EXPECT_EQ((*super)[0].tables[0].columns.size(), 7u);
}

// A role with a wildcard DESCRIBE grant: every database name is one it "may
// see", so only the lake's listing stands between a request and the file.
policy::Role WildcardDescribeRole() {
  policy::Role r;
  r.name = "lf-describe-all-role";
  r.grants.push_back(policy::Grant{"*", "*", policy::Bit(policy::Permission::kDescribe), {}});
  return r;
}

TEST_F(EngineTest, UnknownDatabaseCreatesNoFileAndIsTheSame400ForEveryRole) {
  lake_.policy().roles["lf-describe-all-role"] = WildcardDescribeRole();
  for (int i = 1; i <= 12; ++i) {
    const std::string name = "zz_" + std::to_string(i);
    for (const policy::Role& role : {WildcardDescribeRole(), DevRole(), SuperRole()}) {
      auto o = lake_.RunAs(role, "SELECT 1 AS x", StatementClass::kRead, name);
      EXPECT_EQ(o.status.code(), StatusCode::kInvalidArgument) << role.name << " " << name;
      EXPECT_TRUE(HasReason(o.status, EngineFailure::kUnknownDatabase)) << o.status.ToString();
      EXPECT_EQ(o.status.message(), "unknown database: " + name) << role.name;
    }
    EXPECT_FALSE(std::filesystem::exists(lake_.dir() + "/" + name + ".db")) << name;
  }
  // A database that exists but the role may not see reads the same.
  auto hidden = Dev("SELECT 1 AS x");
  ASSERT_TRUE(hidden.status.ok());
  auto hr = lake_.RunAs(DevRole(), "SELECT 1 AS x", StatementClass::kRead, "hr");
  EXPECT_EQ(hr.status.message(), "unknown database: hr");
  EXPECT_TRUE(HasReason(hr.status, EngineFailure::kUnknownDatabase));
  // Everything else keeps working.
  for (const policy::Role& role : {WildcardDescribeRole(), DevRole(), SuperRole()}) {
    auto o = lake_.RunAs(role, "SELECT 1 AS x");
    EXPECT_TRUE(o.status.ok()) << role.name << ": " << o.status.ToString();
    auto catalog = lake_.engine().Catalog(lake_.policy(), role);
    EXPECT_TRUE(catalog.ok()) << role.name << ": " << catalog.status().ToString();
  }
  auto count = Super("SELECT count(*) FROM members");
  ASSERT_TRUE(count.status.ok()) << count.status.ToString();
  EXPECT_EQ(std::get<int64_t>(count.rows[0][0]), 1000);
}

TEST_F(EngineTest, ALakeWithMoreDatabasesThanSqliteAttachesServesEveryOne) {
  constexpr int kExtra = 15;
  policy::Role reader;
  reader.name = "lf-many-role";
  auto db_name = [](int i) { return std::string(i < 10 ? "db_0" : "db_") + std::to_string(i); };
  for (int i = 0; i < kExtra; ++i) {
    ASSERT_TRUE(CreateDatabaseIfMissing(lake_.dir(), db_name(i)).ok());
    auto made =
        Super("CREATE TABLE t(id INTEGER, secret TEXT)", StatementClass::kAdmin, db_name(i));
    ASSERT_TRUE(made.status.ok()) << made.status.ToString();
    auto filled = Super("INSERT INTO t VALUES (" + std::to_string(i) + ", 'hidden')",
                        StatementClass::kWrite, db_name(i));
    ASSERT_TRUE(filled.status.ok()) << filled.status.ToString();
    // A governed role: every table, without the secret column.
    reader.grants.push_back(policy::Grant{
        db_name(i),
        "t",
        policy::Bit(policy::Permission::kSelect) | policy::Bit(policy::Permission::kDescribe),
        {policy::ColumnSpec::Kind::kExclude, {"secret"}}});
  }
  lake_.policy().roles[reader.name] = reader;
  for (const policy::Role& role : {reader, SuperRole()}) {
    for (int i = 0; i < kExtra; ++i) {
      auto o = lake_.RunAs(role, "SELECT id FROM t", StatementClass::kRead, db_name(i));
      ASSERT_TRUE(o.status.ok()) << role.name << " " << db_name(i) << ": " << o.status.ToString();
      ASSERT_EQ(o.rows.size(), 1u);
      EXPECT_EQ(std::get<int64_t>(o.rows[0][0]), i);
    }
    // Databases named in the statement are reachable, with or without a
    // default database.
    for (const std::string& database : {std::string("db_03"), std::string("")}) {
      auto join = lake_.RunAs(role,
                              "SELECT a.id + b.id + c.id FROM db_03.t AS a, \"db_14\".t AS b, "
                              "[db_07].t AS c",
                              StatementClass::kRead, database);
      ASSERT_TRUE(join.status.ok()) << role.name << ": " << join.status.ToString();
      EXPECT_EQ(std::get<int64_t>(join.rows[0][0]), 3 + 14 + 7);
    }
    auto info = lake_.RunAs(role, "SELECT count(*) FROM pragma_table_info('t', 'db_11')",
                            StatementClass::kRead, "db_02");
    ASSERT_TRUE(info.status.ok()) << info.status.ToString();
    EXPECT_EQ(std::get<int64_t>(info.rows[0][0]), role.name == reader.name ? 1 : 2);
    // A statement that names more databases than one connection attaches.
    std::string sql = "SELECT 1";
    for (int i = 0; i < 11; ++i) sql += " + (SELECT id FROM " + db_name(i) + ".t)";
    auto wide = lake_.RunAs(role, sql, StatementClass::kRead, "");
    EXPECT_EQ(wide.status.code(), StatusCode::kInvalidArgument) << wide.status.ToString();
    EXPECT_TRUE(HasReason(wide.status, EngineFailure::kInvalidQuery));
    EXPECT_NE(wide.status.message().find("attaches at most 10"), std::string::npos)
        << wide.status.message();
    auto catalog = lake_.engine().Catalog(lake_.policy(), role);
    ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
    EXPECT_EQ(catalog->size(), role.name == reader.name ? size_t{kExtra} : size_t{kExtra + 2});
  }
  // The secret column stays hidden on the narrower sessions too.
  auto denied = lake_.RunAs(reader, "SELECT secret FROM db_12.t", StatementClass::kRead, "");
  EXPECT_EQ(denied.status.code(), StatusCode::kInvalidArgument) << denied.status.ToString();
  EXPECT_EQ(denied.dump.find("hidden"), std::string::npos);
}

}  // namespace
}  // namespace lakegate::engine
