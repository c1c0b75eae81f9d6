// OpaDecider without Trino: the plugin's JSON in, the decision out, for every
// operation the plugin asks about, with the demo's roles.
#include "trino/opa_decider.h"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>

#include "policy/policy_json.h"

namespace lakegate::trino {
namespace {

using Json = nlohmann::json;
using engine::StatementClass;

constexpr const char* kPolicy = R"json({
  "format": 1,
  "roles": [
    {"name": "super", "grants": [{"database": "*", "table": "*", "permissions": ["ALL"]}]},
    {"name": "dev", "grants": [
      {"database": "analytics", "permissions": ["DESCRIBE"]},
      {"database": "analytics", "table": "members", "permissions": ["SELECT", "DESCRIBE"],
       "columns": {"exclude": ["email"]}}]},
    {"name": "writer", "grants": [
      {"database": "analytics", "permissions": ["CREATE_TABLE", "DESCRIBE"]},
      {"database": "analytics", "table": "members",
       "permissions": ["SELECT", "INSERT", "DELETE", "UPDATE", "DROP", "ALTER"]}]},
    {"name": "analyst", "filters": ["eu-members"],
     "masks": [{"database": "analytics", "table": "members", "column": "name",
                "mask": "show_last_n", "n": 3}],
     "tag_grants": [{"expression": {"domain": ["sales"], "sensitivity": ["public"]},
                     "permissions": ["SELECT", "DESCRIBE"]}]}
  ],
  "filters": [{"name": "eu-members", "database": "analytics", "table": "members",
               "rows": "region IN ('eu-west', 'eu-central')", "columns": {"exclude": ["email"]}}],
  "tag_keys": [{"key": "domain", "values": ["sales", "hr"]},
               {"key": "sensitivity", "values": ["public", "internal", "pii"]}],
  "tag_assignments": [
    {"database": "analytics", "key": "domain", "value": "sales"},
    {"database": "analytics", "table": "members", "key": "sensitivity", "value": "public"},
    {"database": "analytics", "table": "members", "column": "name", "key": "sensitivity", "value": "internal"},
    {"database": "analytics", "table": "members", "column": "lifetime_value", "key": "sensitivity", "value": "internal"},
    {"database": "analytics", "table": "members", "column": "email", "key": "sensitivity", "value": "pii"}]
})json";

const std::vector<std::string> kColumns = {"member_id", "name",      "email",         "region",
                                           "tier",      "joined_on", "lifetime_value"};
const std::vector<std::string> kTypes = {"bigint",  "varchar", "varchar", "varchar",
                                         "varchar", "varchar", "double"};

class OpaDeciderTest : public ::testing::Test {
 protected:
  OpaDeciderTest() {
    Result<policy::PolicySnapshot> parsed = policy::PolicyFromJson(kPolicy);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    auto snapshot = std::make_shared<policy::PolicySnapshot>(std::move(parsed).value());
    snapshot->version = 7;
    policy_ = snapshot;
    OpaDecider::Options options;
    options.mask_hash_key = SecretString("k");
    options.answers = answers_;
    decider_ = std::make_unique<OpaDecider>(
        options, [this] { return policy_; },
        [](std::string_view user) -> Result<TrinoPrincipal> {
          // Client ids of the test: "<role>-client" with the read scope,
          // "etl" with admin, "writer-client" with write.
          if (user == "etl") return TrinoPrincipal{"super", StatementClass::kAdmin};
          if (user == "writer-client") return TrinoPrincipal{"writer", StatementClass::kWrite};
          if (user == "writer-read") return TrinoPrincipal{"writer", StatementClass::kRead};
          if (user == "dev-client") return TrinoPrincipal{"dev", StatementClass::kRead};
          if (user == "analyst-client") return TrinoPrincipal{"analyst", StatementClass::kRead};
          return Status(StatusCode::kPermissionDenied, "no role");
        },
        [this] { return generation_.load(); },
        [](std::string_view schema, std::string_view table) {
          return schema == "analytics" && table == "members" ? kColumns
                                                             : std::vector<std::string>{};
        });
  }

  static Json Input(const std::string& user, const std::string& operation, Json resource) {
    Json action = {{"operation", operation}};
    if (!resource.is_null()) action["resource"] = std::move(resource);
    return {{"input",
             {{"context",
               {{"identity", {{"user", user}, {"groups", Json::array()}}},
                {"softwareStack", {{"trinoVersion", "476"}}}}},
              {"action", action}}}};
  }
  static Json Table(const std::string& schema, const std::string& table,
                    std::vector<std::string> columns = {}, const std::string& catalog = "lake") {
    Json t = {{"catalogName", catalog}, {"schemaName", schema}, {"tableName", table}};
    if (!columns.empty()) t["columns"] = columns;
    return {{"table", t}};
  }

  bool Allow(const std::string& user, const std::string& operation, Json resource = nullptr) {
    Result<std::string> r = decider_->Allow(Input(user, operation, std::move(resource)).dump());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return Json::parse(r.value()).at("result").get<bool>();
  }

  Json Batch(const std::string& user, const std::string& operation, Json resources) {
    Json in = Input(user, operation, nullptr);
    in["input"]["action"]["filterResources"] = std::move(resources);
    Result<std::string> r = decider_->Batch(in.dump());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return Json::parse(r.value()).at("result");
  }

  Json ColumnMasks(const std::string& user) {
    Json in = Input(user, "GetColumnMask", nullptr);
    Json resources = Json::array();
    for (size_t i = 0; i < kColumns.size(); ++i) {
      resources.push_back({{"column",
                            {{"catalogName", "lake"},
                             {"schemaName", "analytics"},
                             {"tableName", "members"},
                             {"columnName", kColumns[i]},
                             {"columnType", kTypes[i]}}}});
    }
    in["input"]["action"]["filterResources"] = resources;
    Result<std::string> r = decider_->ColumnMasks(in.dump());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return Json::parse(r.value()).at("result");
  }

  Json RowFilters(const std::string& user) {
    Result<std::string> r =
        decider_->RowFilters(Input(user, "GetRowFilters", Table("analytics", "members")).dump());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return Json::parse(r.value()).at("result");
  }

  audit::Metrics metrics_;
  audit::Counter* answers_ = &metrics_.AddCounter("answers", "", {"answer"});
  std::shared_ptr<const policy::PolicySnapshot> policy_;
  std::atomic<uint64_t> generation_{1};
  std::unique_ptr<OpaDecider> decider_;
};

TEST_F(OpaDeciderTest, EnginePrincipalRoundTrips) {
  EXPECT_EQ(EnginePrincipal("lf-dev-role", StatementClass::kRead), "lakegate:read:lf-dev-role");
  TrinoPrincipal p;
  ASSERT_TRUE(ParseEnginePrincipal("lakegate:write:a:b", &p));
  EXPECT_EQ(p.role, "a:b");
  EXPECT_EQ(p.max_class, StatementClass::kWrite);
  EXPECT_FALSE(ParseEnginePrincipal("lakegate:root:x", &p));
  EXPECT_FALSE(ParseEnginePrincipal("lakegate:read:", &p));
  EXPECT_FALSE(ParseEnginePrincipal("dev-client", &p));
}

TEST_F(OpaDeciderTest, MalformedRequestsAreErrors) {
  for (const char* body : {"", "[]", "{}", R"({"input":{}})",
                           R"({"input":{"context":{},"action":{"operation":"ExecuteQuery"}}})",
                           R"({"input":{"context":{"identity":{}},"action":{}}})"}) {
    Result<std::string> r = decider_->Allow(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_TRUE(r.status().Is(OpaFailure::kMalformed)) << body;
  }
}

TEST_F(OpaDeciderTest, QueriesNeedAKnownPrincipal) {
  EXPECT_TRUE(Allow("dev-client", "ExecuteQuery"));
  EXPECT_TRUE(Allow("lakegate:read:lf-dev-role", "ExecuteQuery") == false)
      << "an engine principal naming a role the policy lacks";
  EXPECT_TRUE(Allow("lakegate:read:dev", "ExecuteQuery"));
  EXPECT_FALSE(Allow("stranger", "ExecuteQuery"));
  EXPECT_FALSE(Allow("", "ExecuteQuery"));
}

TEST_F(OpaDeciderTest, ImpersonationAndSessionPropertiesAreDenied) {
  EXPECT_FALSE(Allow("etl", "ImpersonateUser", {{"user", {{"user", "dev-client"}}}}));
  EXPECT_FALSE(Allow("dev-client", "ImpersonateUser", {{"user", {{"user", "etl"}}}}));
  EXPECT_FALSE(Allow("dev-client", "SetSystemSessionProperty",
                     {{"systemSessionProperty", {{"name", "query_max_run_time"}}}}));
  EXPECT_FALSE(Allow("dev-client", "SomeFutureOperation", Table("analytics", "members")));
}

TEST_F(OpaDeciderTest, OwnQueriesOnly) {
  EXPECT_TRUE(Allow("dev-client", "ViewQueryOwnedBy", {{"user", {{"user", "dev-client"}}}}));
  EXPECT_FALSE(Allow("dev-client", "ViewQueryOwnedBy", {{"user", {{"user", "etl"}}}}));
  EXPECT_FALSE(Allow("dev-client", "KillQueryOwnedBy", {{"user", {{"user", "etl"}}}}));
}

TEST_F(OpaDeciderTest, Catalogs) {
  EXPECT_TRUE(Allow("dev-client", "AccessCatalog", {{"catalog", {{"name", "lake"}}}}));
  EXPECT_TRUE(Allow("dev-client", "AccessCatalog", {{"catalog", {{"name", "system"}}}}));
  EXPECT_FALSE(Allow("dev-client", "AccessCatalog", {{"catalog", {{"name", "tpch"}}}}));
  EXPECT_TRUE(Allow("etl", "AccessCatalog", {{"catalog", {{"name", "tpch"}}}}));
  Json catalogs =
      Json::array({Json{{"catalog", {{"name", "lake"}}}}, Json{{"catalog", {{"name", "tpch"}}}},
                   Json{{"catalog", {{"name", "system"}}}}});
  EXPECT_EQ(Batch("dev-client", "FilterCatalogs", catalogs), Json::array({0, 2}));
  EXPECT_EQ(Batch("etl", "FilterCatalogs", catalogs), Json::array({0, 1, 2}));
  EXPECT_EQ(Batch("stranger", "FilterCatalogs", catalogs), Json::array());
}

TEST_F(OpaDeciderTest, SchemasAreCatalogDatabases) {
  auto schema = [](const std::string& name) {
    return Json{{"schema", {{"catalogName", "lake"}, {"schemaName", name}}}};
  };
  Json schemas = Json::array({schema("analytics"), schema("hr"), schema("information_schema")});
  EXPECT_EQ(Batch("dev-client", "FilterSchemas", schemas), Json::array({0, 2}));
  EXPECT_EQ(Batch("analyst-client", "FilterSchemas", schemas), Json::array({0, 2}));
  EXPECT_EQ(Batch("etl", "FilterSchemas", schemas), Json::array({0, 1, 2}));
  EXPECT_TRUE(Allow("dev-client", "ShowTables", schema("analytics")));
  EXPECT_FALSE(Allow("dev-client", "ShowTables", schema("hr")));
  EXPECT_FALSE(Allow("dev-client", "CreateSchema", schema("x")));
  EXPECT_FALSE(Allow("writer-client", "DropSchema", schema("analytics")));
  EXPECT_TRUE(Allow("etl", "CreateSchema", schema("x")));
}

TEST_F(OpaDeciderTest, HiddenTablesAreInvisible) {
  Json tables = Json::array({Table("analytics", "members"), Table("analytics", "salaries")});
  EXPECT_EQ(Batch("dev-client", "FilterTables", tables), Json::array({0}));
  EXPECT_EQ(Batch("analyst-client", "FilterTables", tables), Json::array({0}));
  EXPECT_EQ(Batch("etl", "FilterTables", tables), Json::array({0, 1}));
  EXPECT_FALSE(Allow("dev-client", "ShowColumns", Table("analytics", "salaries")));
  EXPECT_FALSE(Allow("dev-client", "ShowCreateTable", Table("analytics", "salaries")));
  EXPECT_FALSE(Allow("dev-client", "SelectFromColumns", Table("analytics", "salaries", {"x"})));
}

TEST_F(OpaDeciderTest, FilterColumnsHidesUngrantedColumns) {
  Json dev =
      Batch("dev-client", "FilterColumns", Json::array({Table("analytics", "members", kColumns)}));
  EXPECT_EQ(dev, Json::array({0, 1, 3, 4, 5, 6}));  // no email (2)
  // The analyst: public columns by tag, name and lifetime_value through the filter.
  Json analyst = Batch("analyst-client", "FilterColumns",
                       Json::array({Table("analytics", "members", kColumns)}));
  EXPECT_EQ(analyst, Json::array({0, 1, 3, 4, 5, 6}));
  Json etl = Batch("etl", "FilterColumns", Json::array({Table("analytics", "members", kColumns)}));
  EXPECT_EQ(etl.size(), kColumns.size());
}

TEST_F(OpaDeciderTest, SelectFromColumns) {
  EXPECT_TRUE(Allow("dev-client", "SelectFromColumns",
                    Table("analytics", "members", {"member_id", "name"})));
  EXPECT_FALSE(Allow("dev-client", "SelectFromColumns",
                     Table("analytics", "members", {"member_id", "email"})));
  EXPECT_FALSE(
      Allow("analyst-client", "SelectFromColumns", Table("analytics", "members", {"email"})));
  EXPECT_TRUE(Allow("etl", "SelectFromColumns", Table("analytics", "members", {"email"})));
  // count(*) reads no column.
  EXPECT_TRUE(Allow("dev-client", "SelectFromColumns", Table("analytics", "members")));
  EXPECT_FALSE(Allow("stranger", "SelectFromColumns", Table("analytics", "members")));
}

TEST_F(OpaDeciderTest, WritesNeedTheScopeThePermissionAndTheWholeTable) {
  EXPECT_TRUE(Allow("writer-client", "InsertIntoTable", Table("analytics", "members")));
  EXPECT_TRUE(Allow("writer-client", "DeleteFromTable", Table("analytics", "members")));
  EXPECT_TRUE(Allow("writer-client", "UpdateTableColumns", Table("analytics", "members")));
  EXPECT_TRUE(Allow("writer-client", "CreateTable", Table("analytics", "t2")));
  // A read-scope token of the same role writes nothing.
  EXPECT_FALSE(Allow("writer-read", "InsertIntoTable", Table("analytics", "members")));
  EXPECT_FALSE(Allow("writer-read", "CreateTable", Table("analytics", "t2")));
  // The dev role has no INSERT; the analyst sees part of the table only.
  EXPECT_FALSE(Allow("dev-client", "InsertIntoTable", Table("analytics", "members")));
  EXPECT_FALSE(Allow("analyst-client", "InsertIntoTable", Table("analytics", "members")));
  EXPECT_FALSE(Allow("dev-client", "CreateTable", Table("analytics", "t2")));
  // DDL on tables needs the admin scope.
  EXPECT_FALSE(Allow("writer-client", "DropTable", Table("analytics", "members")));
  EXPECT_FALSE(Allow("writer-client", "AddColumn", Table("analytics", "members")));
  EXPECT_TRUE(Allow("etl", "DropTable", Table("analytics", "members")));
  EXPECT_TRUE(Allow("etl", "InsertIntoTable", Table("analytics", "members")));
  // Views and procedures: the unrestricted role only.
  EXPECT_FALSE(Allow("writer-client", "CreateView", Table("analytics", "v")));
  EXPECT_TRUE(Allow("etl", "CreateView", Table("analytics", "v")));
}

TEST_F(OpaDeciderTest, Functions) {
  auto fn = [](const std::string& catalog, const std::string& schema) {
    return Json{
        {"function", {{"catalogName", catalog}, {"schemaName", schema}, {"functionName", "f"}}}};
  };
  EXPECT_TRUE(Allow("dev-client", "ExecuteFunction", fn("system", "builtin")));
  EXPECT_FALSE(Allow("dev-client", "ExecuteFunction", fn("lake", "analytics")));
  EXPECT_TRUE(Allow("etl", "ExecuteFunction", fn("lake", "analytics")));
}

TEST_F(OpaDeciderTest, RowFilterIsOneOrExpression) {
  EXPECT_EQ(RowFilters("etl"), Json::array());
  EXPECT_EQ(RowFilters("dev-client"), Json::array());
  // The analyst's tag grant shows every row (its public columns): no row limit.
  EXPECT_EQ(RowFilters("analyst-client"), Json::array());
  // Two filters on the table without the tag grant: one OR expression.
  auto policy = std::make_shared<policy::PolicySnapshot>(*policy_);
  policy->version = 8;
  policy::DataCellFilter gold = policy->filters.at("eu-members");
  gold.name = "gold";
  gold.rows = policy::ParseRowFilter("tier = 'gold' AND name LIKE 'a%'").value();
  policy->filters["gold"] = gold;
  policy->roles["analyst"].tag_grants.clear();
  policy->roles["analyst"].filters.push_back("gold");
  policy_ = policy;
  Json filters = RowFilters("analyst-client");
  ASSERT_EQ(filters.size(), 1u) << filters.dump();
  EXPECT_EQ(filters[0]["expression"],
            "((\"region\" IN ('eu-west', 'eu-central'))) OR (((\"tier\" = 'gold') AND "
            "(translate(\"name\", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') LIKE "
            "'a%')))");
  // Over columns the role reads: evaluated as the caller (no identity), so
  // Trino checks them with the caller's own columns, no decision pair of
  // their own; so are the masks, whose CASEs test region.
  EXPECT_FALSE(filters[0].contains("identity")) << filters.dump();
  Json masks = ColumnMasks("analyst-client");
  ASSERT_FALSE(masks.empty());
  for (const Json& m : masks) {
    EXPECT_FALSE(m["viewExpression"].contains("identity")) << m.dump();
  }
  // A filter testing a column the role may not read (email): evaluated on the
  // raw row as the expression principal, which reads every column and is
  // filtered and masked nowhere; so would be a cell filter CASE that tests it.
  policy = std::make_shared<policy::PolicySnapshot>(*policy);
  policy->version = 9;
  policy->filters["gold"].rows = policy::ParseRowFilter("email LIKE '%@example.com'").value();
  policy_ = policy;
  filters = RowFilters("analyst-client");
  ASSERT_EQ(filters.size(), 1u) << filters.dump();
  const std::string expressions(kExpressionPrincipal);
  EXPECT_EQ(filters[0]["identity"], expressions);
  // The masks (the name mask; lifetime_value needs none: every filter covers
  // it) test no such column: evaluated as the caller.
  masks = ColumnMasks("analyst-client");
  ASSERT_FALSE(masks.empty());
  for (const Json& m : masks) {
    const std::string e = m["viewExpression"]["expression"];
    EXPECT_EQ(m["viewExpression"].contains("identity"), e.find("\"email\"") != std::string::npos)
        << m.dump();
  }
  EXPECT_TRUE(Allow(expressions, "SelectFromColumns",
                    Table("analytics", "members", {"email", "tier", "name"})));
  EXPECT_FALSE(Allow(expressions, "InsertIntoTable", Table("analytics", "members")));
  EXPECT_EQ(RowFilters(expressions), Json::array());
  EXPECT_EQ(ColumnMasks(expressions), Json::array());
}

TEST_F(OpaDeciderTest, AMaskOverAnUnreadableColumnIsEvaluatedAsTheExpressionPrincipal) {
  // The demo analyst's masks test region and read name and lifetime_value,
  // all readable by the role: no identity.
  for (const Json& m : ColumnMasks("analyst-client")) {
    EXPECT_FALSE(m["viewExpression"].contains("identity")) << m.dump();
  }
  // An expression mask on name that reads email (not readable by the analyst).
  auto policy = std::make_shared<policy::PolicySnapshot>(*policy_);
  policy->version = 10;
  policy->roles["analyst"].masks[0].kind = policy::MaskKind::kExpression;
  policy->roles["analyst"].masks[0].expression = "name || email";
  policy_ = policy;
  Json masks = ColumnMasks("analyst-client");
  bool seen = false;
  for (const Json& m : masks) {
    if (m["index"] != 1) continue;
    seen = true;
    EXPECT_EQ(m["viewExpression"]["identity"], std::string(kExpressionPrincipal)) << m.dump();
  }
  EXPECT_TRUE(seen) << masks.dump();
}

TEST_F(OpaDeciderTest, WithoutTheColumnsFilteredReadsFailAndWritesAreDenied) {
  OpaDecider blind(
      {}, [this] { return policy_; },
      [](std::string_view user) -> Result<TrinoPrincipal> {
        if (user == "writer-client") {
          return TrinoPrincipal{"writer", StatementClass::kWrite};
        }
        return TrinoPrincipal{"analyst", StatementClass::kRead};
      },
      {});
  Result<std::string> r = blind.RowFilters(
      Input("analyst-client", "GetRowFilters", Table("analytics", "members")).dump());
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->find("fail('lakegate: the columns of analytics.members are not known yet"),
            std::string::npos)
      << *r;
  r = blind.Allow(Input("writer-client", "InsertIntoTable", Table("analytics", "members")).dump());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, R"({"result":false})");
  // Once Trino listed them (FilterColumns, masks), they are known.
  Json in = Input("writer-client", "FilterColumns", nullptr);
  in["input"]["action"]["filterResources"] = Json::array({Table("analytics", "members", kColumns)});
  ASSERT_TRUE(blind.Batch(in.dump()).ok());
  r = blind.Allow(Input("writer-client", "InsertIntoTable", Table("analytics", "members")).dump());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, R"({"result":true})");
}

TEST_F(OpaDeciderTest, MasksAndCellFiltersPerColumn) {
  EXPECT_EQ(ColumnMasks("etl"), Json::array());
  // dev: email is not readable: no mask (SelectFromColumns refuses it, and
  // Trino analyzes a mask only for a column the user may select).
  EXPECT_EQ(ColumnMasks("dev-client"), Json::array());
  EXPECT_FALSE(Allow("dev-client", "SelectFromColumns",
                     Table("analytics", "members", {"member_id", "email"})));
  // analyst: name masked and only in EU rows; lifetime_value only in EU rows.
  Json analyst = ColumnMasks("analyst-client");
  std::map<int, std::string> by_index;
  for (const Json& m : analyst) {
    by_index[m["index"].get<int>()] = m["viewExpression"]["expression"].get<std::string>();
  }
  ASSERT_TRUE(by_index.count(1)) << analyst.dump();
  EXPECT_EQ(by_index[1],
            "CASE WHEN ((\"region\" IN ('eu-west', 'eu-central'))) THEN "
            "lpad(substr(\"name\", greatest(length(\"name\") - 2, 1)), length(\"name\"), "
            "'x') END");
  ASSERT_TRUE(by_index.count(6));
  EXPECT_EQ(by_index[6],
            "CASE WHEN ((\"region\" IN ('eu-west', 'eu-central'))) THEN "
            "\"lifetime_value\" END");
  EXPECT_FALSE(by_index.count(2));  // email: not readable, no mask
  EXPECT_FALSE(by_index.count(0));  // member_id: public, all rows
}

TEST_F(OpaDeciderTest, AColumnCoveredByEveryRowFilterNeedsNoCase) {
  // The analyst without its tag grant: rows only through eu-members (the row
  // filter), which covers every column but email: no CASE anywhere, only the
  // name mask.
  auto policy = std::make_shared<policy::PolicySnapshot>(*policy_);
  policy->version = 8;
  policy->roles["analyst"].tag_grants.clear();
  policy_ = policy;
  ASSERT_EQ(RowFilters("analyst-client").size(), 1u);
  Json masks = ColumnMasks("analyst-client");
  ASSERT_EQ(masks.size(), 1u) << masks.dump();
  EXPECT_EQ(masks[0]["index"], 1);
  EXPECT_EQ(masks[0]["viewExpression"]["expression"],
            "lpad(substr(\"name\", greatest(length(\"name\") - 2, 1)), length(\"name\"), 'x')");
  // A second filter, on gold rows, that covers member_id and tier only: the
  // row filter admits EU or gold rows, so the columns gold does not cover
  // keep their CASE (NULL in gold rows outside the EU); member_id and tier,
  // covered by both, need none.
  policy = std::make_shared<policy::PolicySnapshot>(*policy);
  policy->version = 9;
  policy::DataCellFilter gold = policy->filters.at("eu-members");
  gold.name = "gold";
  gold.rows = policy::ParseRowFilter("tier = 'gold'").value();
  gold.columns = policy::ColumnSpec{.kind = policy::ColumnSpec::Kind::kInclude,
                                    .columns = {"member_id", "tier"}};
  policy->filters["gold"] = gold;
  policy->roles["analyst"].filters.push_back("gold");
  policy_ = policy;
  std::map<int, std::string> by_index;
  for (const Json& m : ColumnMasks("analyst-client")) {
    by_index[m["index"].get<int>()] = m["viewExpression"]["expression"].get<std::string>();
  }
  EXPECT_FALSE(by_index.count(0));  // member_id
  EXPECT_FALSE(by_index.count(4));  // tier
  ASSERT_TRUE(by_index.count(3));   // region: EU rows only
  EXPECT_EQ(by_index[3],
            "CASE WHEN ((\"region\" IN ('eu-west', 'eu-central'))) THEN \"region\" END");
  ASSERT_TRUE(by_index.count(1));
  EXPECT_TRUE(
      by_index[1].starts_with("CASE WHEN ((\"region\" IN ('eu-west', 'eu-central'))) THEN lpad("))
      << by_index[1];
}

TEST_F(OpaDeciderTest, MasksThatTrinoCannotReproduceFailTheQuery) {
  auto policy = std::make_shared<policy::PolicySnapshot>(*policy_);
  policy->version = 8;
  policy->roles["dev"].masks.push_back({.database = "analytics",
                                        .table = "members",
                                        .column = "member_id",
                                        .kind = policy::MaskKind::kShowLastN,
                                        .n = 2,
                                        .expression = ""});
  policy_ = policy;
  Json dev = ColumnMasks("dev-client");
  ASSERT_FALSE(dev.empty());
  EXPECT_EQ(dev[0]["index"], 0);
  EXPECT_NE(dev[0]["viewExpression"]["expression"].get<std::string>().find(
                "fail('lakegate: the show_last_n mask on member_id (a bigint column) is not "
                "supported on Trino')"),
            std::string::npos);
}

// An expression mask whose Trino value would differ from SQLite's (a real
// cast to bigint rounds; a negative substr length) fails the query naming
// the column and the construct; SQLite's position 0 and negative positions
// are rendered exactly.
TEST_F(OpaDeciderTest, ExpressionMasksGiveSqlitesValueOrFailTheQuery) {
  auto policy = std::make_shared<policy::PolicySnapshot>(*policy_);
  policy->version = 8;
  auto mask = [](std::string column, std::string expression) {
    return policy::ColumnMask{.database = "analytics",
                              .table = "members",
                              .column = std::move(column),
                              .kind = policy::MaskKind::kExpression,
                              .n = 0,
                              .expression = std::move(expression)};
  };
  policy->roles["dev"].masks = {mask("member_id", "member_id / 2.0"),
                                mask("name", "substr(name, 0, 2) || replace(name, '', '*')"),
                                mask("tier", "substr(tier, -2)"),
                                mask("region", "substr(region, 1, -2)")};
  policy_ = policy;
  std::map<int, std::string> by_index;
  for (const Json& m : ColumnMasks("dev-client")) {
    by_index[m["index"].get<int>()] = m["viewExpression"]["expression"].get<std::string>();
  }
  ASSERT_TRUE(by_index.count(0));
  EXPECT_EQ(by_index[0],
            "CAST(fail('lakegate: the expression mask on member_id (a bigint column) is not "
            "supported on Trino: mask expression: a real number as the value of an integer "
            "column has no exact Trino counterpart') AS bigint)");
  ASSERT_TRUE(by_index.count(1));
  EXPECT_EQ(by_index[1], "CAST((substr(\"name\", 1, 1) || \"name\") AS " + kTypes[1] + ")");
  ASSERT_TRUE(by_index.count(3));
  EXPECT_NE(by_index[3].find("fail('lakegate: the expression mask on region (a " + kTypes[3] +
                             " column) is not supported on Trino: mask expression: substr with "
                             "a computed position or a computed or negative length"),
            std::string::npos)
      << by_index[3];
  ASSERT_TRUE(by_index.count(4));
  EXPECT_EQ(by_index[4],
            "CAST(substr(\"tier\", greatest(length(\"tier\") - 2 + 1, 1)) AS " + kTypes[4] + ")");
}

TEST_F(OpaDeciderTest, AnswersAreCachedPerPolicyVersionAndGeneration) {
  EXPECT_TRUE(Allow("dev-client", "ExecuteQuery"));
  EXPECT_TRUE(Allow("dev-client", "ExecuteQuery"));
  EXPECT_EQ(decider_->cache_hits(), 1u);
  generation_ = 2;  // e.g. the client was disabled
  EXPECT_TRUE(Allow("dev-client", "ExecuteQuery"));
  EXPECT_EQ(decider_->cache_misses(), 2u);
  auto policy = std::make_shared<policy::PolicySnapshot>(*policy_);
  policy->version = 9;
  policy->roles.erase("dev");
  policy_ = policy;
  EXPECT_FALSE(Allow("dev-client", "ExecuteQuery"));
}

TEST_F(OpaDeciderTest, TheCacheHoldsAtMostMaxCachedBytes) {
  const std::string a = Input("dev-client", "ExecuteQuery", nullptr).dump();
  const std::string b = Input("analyst-client", "ExecuteQuery", nullptr).dump();
  OpaDecider::Options options;
  // Room for either question with its answer (~20 bytes), not for both.
  options.max_cached_bytes = b.size() + 40;
  OpaDecider small(
      options, [this] { return policy_; },
      [](std::string_view) -> Result<TrinoPrincipal> {
        return TrinoPrincipal{"dev", StatementClass::kRead};
      },
      {});
  ASSERT_TRUE(small.Allow(a).ok());
  ASSERT_TRUE(small.Allow(a).ok());
  EXPECT_EQ(small.cache_hits(), 1u);
  ASSERT_TRUE(small.Allow(b).ok());  // makes room: a is gone
  ASSERT_TRUE(small.Allow(b).ok());
  ASSERT_TRUE(small.Allow(a).ok());
  EXPECT_EQ(small.cache_hits(), 2u);
  EXPECT_EQ(small.cache_misses(), 3u);
  // A question larger than the whole budget is answered, never kept.
  Json big = Input("dev-client", "ExecuteQuery", nullptr);
  big["input"]["context"]["padding"] = std::string(1000, 'x');
  ASSERT_TRUE(small.Allow(big.dump()).ok());
  ASSERT_TRUE(small.Allow(big.dump()).ok());
  EXPECT_EQ(small.cache_misses(), 5u);
}

// Trino lists the hidden columns ($path, ...) in its mask requests and not in
// FilterColumns: the two listings of one table must not start the cache over
// (every query asks both).
TEST_F(OpaDeciderTest, HiddenColumnsDoNotStartTheCacheOver) {
  Json filter = Input("analyst-client", "FilterColumns", nullptr);
  filter["input"]["action"]["filterResources"] =
      Json::array({Table("analytics", "members", kColumns)});
  Json masks = Input("analyst-client", "GetColumnMask", nullptr);
  Json resources = Json::array();
  std::vector<std::pair<std::string, std::string>> listed;
  for (size_t i = 0; i < kColumns.size(); ++i) listed.emplace_back(kColumns[i], kTypes[i]);
  listed.emplace_back("$path", "varchar");
  listed.emplace_back("$file_size", "bigint");
  for (const auto& [name, type] : listed) {
    resources.push_back({{"column",
                          {{"catalogName", "lake"},
                           {"schemaName", "analytics"},
                           {"tableName", "members"},
                           {"columnName", name},
                           {"columnType", type}}}});
  }
  masks["input"]["action"]["filterResources"] = resources;
  const std::string filter_body = filter.dump();
  const std::string masks_body = masks.dump();
  // With the table's columns from the ColumnsFn (the metastore), and with
  // only those Trino listed.
  OpaDecider blind(
      {}, [this] { return policy_; },
      [](std::string_view) -> Result<TrinoPrincipal> {
        return TrinoPrincipal{"analyst", StatementClass::kRead};
      },
      {});
  for (OpaDecider* decider : {decider_.get(), &blind}) {
    for (int query = 0; query < 3; ++query) {
      ASSERT_TRUE(decider->Batch(filter_body).ok());
      ASSERT_TRUE(decider->ColumnMasks(masks_body).ok());
    }
    EXPECT_EQ(decider->cache_misses(), 2u);
    EXPECT_EQ(decider->cache_hits(), 4u);
  }
  EXPECT_EQ(answers_->Value({"computed"}), 2);
  EXPECT_EQ(answers_->Value({"cached"}), 4);
}

}  // namespace
}  // namespace lakegate::trino
