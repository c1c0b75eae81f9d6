// The engine per catalog database (engine/routing_engine.h): which engine a
// statement goes to, over two real SQLite lakes (analytics + hr on one,
// sales on the other).
#include "engine/routing_engine.h"

#include <gtest/gtest.h>

#include <filesystem>

// engine_test_util.h builds SqliteEngineOptions without its newest field.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include "engine_test_util.h"
#pragma GCC diagnostic pop

namespace lakegate::engine {
namespace {

using testing::CollectingSink;
using testing::Outcome;

TEST(QualifierNamesTest, FindsQualifiersOutsideStringsAndComments) {
  EXPECT_EQ(QualifierNames("SELECT m.name FROM sales.orders o JOIN \"HR\".x ON 1.5 = o.id"),
            (std::vector<std::string>{"m", "sales", "hr", "o"}));
  EXPECT_EQ(QualifierNames("SELECT 'a.b', \"c.d\" FROM t -- e.f\n /* g.h */ WHERE $$i.j$$ = x"),
            (std::vector<std::string>{}));
  // catalog.schema.table: only the first part qualifies.
  EXPECT_EQ(QualifierNames("SELECT * FROM lake.sales.orders"), (std::vector<std::string>{"lake"}));
  EXPECT_EQ(QualifierNames("SELECT E'x.y', `Sales`.t FROM u"), (std::vector<std::string>{"sales"}));
}

class RoutingEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (std::string* dir : {&main_dir_, &sales_dir_}) {
      char tmpl[] = "/tmp/lakegate-routing-XXXXXX";
      *dir = ::mkdtemp(tmpl);
    }
    ASSERT_TRUE(CreateDatabaseIfMissing(main_dir_, "hr").ok());
    auto main = OpenSqliteEngine(SqliteEngineOptions{main_dir_, 2});
    ASSERT_TRUE(main.ok()) << main.status().ToString();
    ASSERT_TRUE(LoadDemoMembers(**main, 50).ok());
    ASSERT_TRUE(CreateDatabaseIfMissing(sales_dir_, "sales").ok());
    auto sales = OpenSqliteEngine(SqliteEngineOptions{sales_dir_, 2});
    ASSERT_TRUE(sales.ok()) << sales.status().ToString();
    policy_.version = 1;
    policy_.roles["lf-super-user-role"] = testing::SuperRole();
    policy_.roles["lf-dev-role"] = testing::DevRole();
    std::vector<EngineRoute> routes;
    routes.push_back({{"Sales"}, std::move(sales).value()});
    auto routed = RouteByDatabase(std::move(main).value(), std::move(routes));
    ASSERT_TRUE(routed.ok()) << routed.status().ToString();
    engine_ = std::move(routed).value();
    for (const char* sql : {"CREATE TABLE orders(id INTEGER, amount REAL)",
                            "INSERT INTO orders VALUES (1, 2.5), (2, 4.0)"}) {
      ASSERT_TRUE(Run(kSuper, sql, "sales", StatementClass::kAdmin).status.ok()) << sql;
    }
  }
  void TearDown() override {
    engine_.reset();
    std::error_code ec;
    std::filesystem::remove_all(main_dir_, ec);
    std::filesystem::remove_all(sales_dir_, ec);
  }

  Outcome Run(const std::string& role, const std::string& sql,
              const std::string& database = "analytics",
              StatementClass max_class = StatementClass::kRead) {
    QueryRequest req;
    req.sql = sql;
    req.database = database;
    req.max_class = max_class;
    CollectingSink sink;
    Outcome out;
    auto r = engine_->Execute(policy_, *policy_.FindRole(role), req, sink);
    out.status = r.status();
    if (r.ok()) out.result = *r;
    out.rows = sink.rows();
    return out;
  }
  int64_t Count(const std::string& sql, const std::string& database = "analytics") {
    Outcome o = Run(kSuper, sql, database);
    EXPECT_TRUE(o.status.ok()) << sql << ": " << o.status.ToString();
    if (!o.status.ok() || o.rows.size() != 1) return -1;
    return std::get<int64_t>(o.rows[0][0]);
  }

  static constexpr const char* kSuper = "lf-super-user-role";
  static constexpr const char* kDev = "lf-dev-role";
  std::string main_dir_, sales_dir_;
  policy::PolicySnapshot policy_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(RoutingEngineTest, EachStatementGoesToTheEngineOfTheDatabasesItNames) {
  EXPECT_EQ(Count("SELECT count(*) FROM members"), 50);
  EXPECT_EQ(Count("SELECT count(*) FROM orders", "sales"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM sales.orders"), 2);    // from analytics
  EXPECT_EQ(Count("SELECT count(*) FROM SALES.orders o"), 2);  // alias, any case
  EXPECT_EQ(Count("SELECT count(*) FROM analytics.members", "sales"), 50);
  EXPECT_EQ(Count("SELECT count(m.member_id) FROM members m"), 50);  // an alias is no database
  EXPECT_EQ(Count("SELECT count(o.id) FROM orders o", "sales"), 2);
}

TEST_F(RoutingEngineTest, NoStatementSpansTwoEngines) {
  for (const char* sql :
       {"SELECT * FROM sales.orders o JOIN analytics.members m ON o.id = m.member_id",
        "SELECT * FROM analytics.members WHERE member_id IN (SELECT id FROM sales.orders)"}) {
    SCOPED_TRACE(sql);
    Outcome o = Run(kSuper, sql);
    EXPECT_EQ(o.status.reason<EngineFailure>(), EngineFailure::kInvalidQuery);
    EXPECT_NE(o.status.message().find("different engines"), std::string::npos)
        << o.status.ToString();
  }
  // Unqualified names of the request's database do not reach another engine.
  EXPECT_FALSE(Run(kSuper, "SELECT * FROM sales.orders JOIN members ON 1 = 1").status.ok());
}

TEST_F(RoutingEngineTest, EveryEngineAppliesThePolicy) {
  EXPECT_EQ(Run(kDev, "SELECT * FROM sales.orders").status.reason<EngineFailure>(),
            EngineFailure::kInvalidQuery);
  auto super = engine_->Catalog(policy_, *policy_.FindRole(kSuper));
  ASSERT_TRUE(super.ok()) << super.status().ToString();
  std::vector<std::string> names;
  for (const DatabaseInfo& db : *super) names.push_back(db.name);
  EXPECT_EQ(names, (std::vector<std::string>{"analytics", "hr", "sales"}));
  auto dev = engine_->Catalog(policy_, *policy_.FindRole(kDev));
  ASSERT_TRUE(dev.ok());
  for (const DatabaseInfo& db : *dev) EXPECT_NE(db.name, "sales");
}

TEST(RouteByDatabaseTest, ADatabaseHasOneEngine) {
  char tmpl[] = "/tmp/lakegate-routing-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  auto a = OpenSqliteEngine(SqliteEngineOptions{dir, 1});
  auto b = OpenSqliteEngine(SqliteEngineOptions{dir, 1});
  auto c = OpenSqliteEngine(SqliteEngineOptions{dir, 1});
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  std::vector<EngineRoute> routes;
  routes.push_back({{"sales"}, std::move(b).value()});
  routes.push_back({{"SALES"}, std::move(c).value()});
  auto routed = RouteByDatabase(std::move(a).value(), std::move(routes));
  EXPECT_EQ(routed.status().reason<EngineFailure>(), EngineFailure::kMisconfigured);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace lakegate::engine
