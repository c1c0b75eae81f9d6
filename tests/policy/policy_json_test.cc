// policy_json: the policy catalog as JSON (round trip, strictness, validation,
// change descriptions).
#include "policy/policy_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "policy/validate.h"
#include "testing/status_matchers.h"

namespace lakegate::policy {
namespace {

using ::lakegate::testing::HasReason;
using ::testing::HasSubstr;

PolicySnapshot Sample() {
  PolicySnapshot p;
  Role dev;
  dev.name = "lf-dev-role";
  dev.description = "read-only";
  dev.grants.push_back({"analytics", "", Bit(Permission::kDescribe), {}});
  Grant members{"analytics", "members", Bit(Permission::kSelect) | Bit(Permission::kDescribe), {}};
  members.columns.kind = ColumnSpec::Kind::kExclude;
  members.columns.columns = {"email"};
  dev.grants.push_back(members);
  Grant ids{"analytics", "orders", Bit(Permission::kSelect), {}};
  ids.columns.kind = ColumnSpec::Kind::kInclude;
  ids.columns.columns = {"id", "total"};
  ids.grant_option = Bit(Permission::kSelect);
  dev.grants.push_back(ids);
  dev.filters = {"eu-members"};
  ColumnMask name{"analytics", "members", "name", MaskKind::kShowLastN, 3, ""};
  ColumnMask joined{"analytics", "members", "joined_on", MaskKind::kYearOnly, 4, ""};
  ColumnMask email{"analytics", "members",
                   "email",     MaskKind::kExpression,
                   4,           "'***@' || substr(email, instr(email, '@') + 1)"};
  dev.masks = {name, joined, email};
  TagGrant tg;
  tg.expression.clauses["domain"] = {"sales"};
  tg.expression.clauses["sensitivity"] = {"public", "internal"};
  tg.permissions = Bit(Permission::kSelect) | Bit(Permission::kDescribe);
  dev.tag_grants.push_back(tg);
  p.roles.emplace(dev.name, dev);
  Role super;
  super.name = "lf-super-user-role";
  super.grants.push_back({"*", "*", kAllPermissions, {}});
  p.roles.emplace(super.name, super);

  DataCellFilter eu;
  eu.name = "eu-members";
  eu.database = "analytics";
  eu.table = "members";
  auto rows = ParseRowFilter("region IN ('eu-west', 'eu-central') AND NOT tier = 'x''y'");
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  if (rows.ok()) eu.rows = *rows;
  eu.columns.kind = ColumnSpec::Kind::kExclude;
  eu.columns.columns = {"email"};
  p.filters.emplace(eu.name, eu);
  DataCellFilter all;
  all.name = "all";
  all.database = "analytics";
  all.table = "orders";
  p.filters.emplace(all.name, all);

  p.tag_keys = {{"domain", {"sales", "hr"}}, {"sensitivity", {"public", "internal", "pii"}}};
  p.tag_assignments = {{"analytics", "", "", "domain", "sales"},
                       {"analytics", "members", "email", "sensitivity", "pii"}};
  return p;
}

std::string ErrorOf(std::string_view json) {
  auto parsed = PolicyFromJson(json);
  EXPECT_FALSE(parsed.ok()) << "parsed: " << json;
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  return parsed.status().message();
}

TEST(PolicyJsonTest, RoundTripIsExact) {
  PolicySnapshot p = Sample();
  std::string json = PolicyToJson(p);
  auto parsed = PolicyFromJson(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << "\n" << json;
  EXPECT_EQ(PolicyToJson(*parsed), json);
  EXPECT_EQ(parsed->version, 0u);
  const Role& dev = parsed->roles.at("lf-dev-role");
  EXPECT_EQ(dev.description, "read-only");
  ASSERT_EQ(dev.grants.size(), 3u);
  EXPECT_EQ(dev.grants[0].table, "");
  EXPECT_EQ(dev.grants[0].permissions, Bit(Permission::kDescribe));
  EXPECT_EQ(dev.grants[1].columns.kind, ColumnSpec::Kind::kExclude);
  EXPECT_EQ(dev.grants[2].columns.kind, ColumnSpec::Kind::kInclude);
  EXPECT_EQ(dev.grants[2].columns.columns, (std::vector<std::string>{"id", "total"}));
  EXPECT_EQ(dev.grants[1].grant_option, 0u);
  EXPECT_EQ(dev.grants[2].grant_option, Bit(Permission::kSelect));
  EXPECT_EQ(dev.filters, std::vector<std::string>{"eu-members"});
  ASSERT_EQ(dev.masks.size(), 3u);
  EXPECT_EQ(dev.masks[0].kind, MaskKind::kShowLastN);
  EXPECT_EQ(dev.masks[0].n, 3);
  EXPECT_EQ(dev.masks[1].kind, MaskKind::kYearOnly);
  EXPECT_EQ(dev.masks[2].kind, MaskKind::kExpression);
  EXPECT_EQ(dev.masks[2].expression, "'***@' || substr(email, instr(email, '@') + 1)");
  ASSERT_EQ(dev.tag_grants.size(), 1u);
  EXPECT_EQ(dev.tag_grants[0].expression.clauses.at("sensitivity"),
            (std::vector<std::string>{"public", "internal"}));
  EXPECT_TRUE(IsUnrestricted(parsed->roles.at("lf-super-user-role")));
  const DataCellFilter& eu = parsed->filters.at("eu-members");
  EXPECT_FALSE(eu.rows.all_rows());
  EXPECT_EQ(eu.rows.text, "region IN ('eu-west', 'eu-central') AND NOT tier = 'x''y'");
  // The row filter was parsed again, not just copied: it evaluates.
  auto value = [](std::string_view column) {
    RowFilter::Value v;
    v.type = RowFilter::Value::Type::kText;
    v.t = column == "region" ? "eu-west" : "gold";
    return v;
  };
  EXPECT_TRUE(eu.rows.Matches(value));
  EXPECT_TRUE(parsed->filters.at("all").rows.all_rows());
  EXPECT_EQ(parsed->tag_assignments.size(), 2u);
}

TEST(PolicyJsonTest, CanonicalWhateverTheBuildOrder) {
  PolicySnapshot a = Sample();
  PolicySnapshot b = Sample();
  std::reverse(b.tag_keys.begin(), b.tag_keys.end());
  std::reverse(b.tag_assignments.begin(), b.tag_assignments.end());
  EXPECT_EQ(PolicyToJson(a), PolicyToJson(b));
  EXPECT_TRUE(DescribePolicyChanges(a, b).empty());
}

TEST(PolicyJsonTest, EmptyPolicy) {
  auto parsed = PolicyFromJson("{}");
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->roles.empty());
  EXPECT_EQ(PolicyToJson(*parsed),
            "{\n  \"filters\": [],\n  \"format\": 1,\n  \"roles\": [],\n  \"tag_assignments\": "
            "[],\n  \"tag_keys\": []\n}\n");
}

TEST(PolicyJsonTest, PermissionListAndMaskNames) {
  EXPECT_EQ(PermissionList(kAllPermissions), std::vector<std::string>{"ALL"});
  EXPECT_EQ(PermissionList(Bit(Permission::kSelect) | Bit(Permission::kCreateTable)),
            (std::vector<std::string>{"SELECT", "CREATE_TABLE"}));
  for (MaskKind k : {MaskKind::kNull, MaskKind::kRedact, MaskKind::kHash, MaskKind::kShowLastN,
                     MaskKind::kYearOnly, MaskKind::kExpression}) {
    EXPECT_EQ(ParseMaskKind(MaskKindName(k)), k);
  }
  EXPECT_EQ(ParseMaskKind("scramble"), std::nullopt);
}

TEST(PolicyJsonErrorTest, NotJsonOrWrongShape) {
  EXPECT_THAT(ErrorOf("{"), HasSubstr("the policy is not valid JSON"));
  EXPECT_EQ(ErrorOf("[]"), "expected an object");
  EXPECT_EQ(ErrorOf("{\"format\": 2}"),
            "format: unsupported policy format 2; this lakegate reads format 1 (upgrade lakegate)");
  EXPECT_EQ(ErrorOf("{\"roles\": {}}"), "roles: expected an array");
  EXPECT_EQ(ErrorOf("{\"rolez\": []}"),
            "unknown member \"rolez\"; expected format, roles, filters, tag_keys, tag_assignments");
}

TEST(PolicyJsonErrorTest, UnknownMembersAnywhere) {
  EXPECT_EQ(ErrorOf(R"j({"roles": [{"name": "r", "grants": [{"database": "a", "tabel": "t",
                       "permissions": ["SELECT"]}]}]})j"),
            "roles[0].grants[0]: unknown member \"tabel\"; expected database, table, permissions, "
            "columns, grant_option");
  EXPECT_EQ(ErrorOf(R"j({"filters": [{"name": "f", "database": "a", "table": "t", "row": "x"}]})j"),
            "filters[0]: unknown member \"row\"; expected name, database, table, rows, columns");
  EXPECT_EQ(ErrorOf(R"j({"tag_keys": [{"key": "k", "values": ["v"], "x": 1}]})j"),
            "tag_keys[0]: unknown member \"x\"; expected key, values");
}

TEST(PolicyJsonErrorTest, GrantOptionAndExpressionMasks) {
  EXPECT_EQ(ErrorOf(R"j({"roles": [{"name": "r", "grants": [{"database": "a", "table": "t",
                       "permissions": ["SELECT"], "grant_option": ["INSERT"]}]}]})j"),
            "role \"r\": grant on a.t: the grant option of INSERT needs the permission itself; "
            "grant it too");
  EXPECT_EQ(ErrorOf(R"j({"roles": [{"name": "r", "grants": [{"database": "a", "table": "t",
                       "permissions": ["SELECT"], "grant_option": ["SELECT"],
                       "columns": {"exclude": ["x"]}}]}]})j"),
            "role \"r\": grant on a.t: the grant option on a column-limited grant needs an "
            "include list (name the columns), not an exclude list");
  EXPECT_EQ(ErrorOf(R"j({"roles": [{"name": "r", "grants": [{"database": "a", "table": "t",
                       "permissions": ["SELECT"], "grant_option": "SELECT"}]}]})j"),
            "roles[0].grants[0].grant_option: expected an array of strings");
  EXPECT_THAT(ErrorOf(R"j({"roles": [{"name": "r", "masks": [{"database": "a", "table": "t",
                         "column": "c", "mask": "expression", "expression": "hex(c)"}]}]})j"),
              HasSubstr("mask on a.t.c: mask expression: unknown function 'hex'"));
}

// Versions written when filters and masks could nest 64 levels stay
// readable; new ones are held to what every engine parses (20 and 12).
TEST(PolicyJsonTest, StoredVersionsMayNestDeeperThanNewPolicies) {
  const std::string rows = std::string(30, '(') + "a = 1" + std::string(30, ')');
  std::string expression = "c";
  for (int i = 0; i < 30; ++i) expression = "lower(" + expression + ")";
  const std::string json =
      R"j({"filters": [{"name": "f", "database": "a", "table": "t", "rows": ")j" + rows +
      R"j("}], "roles": [{"name": "r", "filters": ["f"],
                           "masks": [{"database": "a", "table": "t", "column": "c",
                           "mask": "expression", "expression": ")j" +
      expression + R"j("}]}]})j";
  Result<PolicySnapshot> stored = PolicyFromJson(json);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->filters.at("f").rows.text, rows);
  EXPECT_FALSE(ParseRowFilter(rows).ok());
  // A change to such a version is refused until the mask is fixed.
  EXPECT_THAT(ValidatePolicy(*stored).message(),
              HasSubstr("mask expression: nested more than 12 levels"));
}

TEST(GrantRequestTest, ReadsGrantsAndRevokes) {
  auto g = GrantRequestFromJson(R"j({"role": "dev", "database": "analytics", "table": "members",
      "permissions": ["SELECT", "DESCRIBE"], "grant_option": ["SELECT"],
      "columns": {"include": ["id", "name"]}})j",
                                /*revoke=*/false);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->role, "dev");
  EXPECT_EQ(g->grant.database, "analytics");
  EXPECT_EQ(g->grant.table, "members");
  EXPECT_EQ(g->grant.permissions, Bit(Permission::kSelect) | Bit(Permission::kDescribe));
  EXPECT_EQ(g->grant.grant_option, Bit(Permission::kSelect));
  EXPECT_EQ(g->grant.columns.columns, (std::vector<std::string>{"id", "name"}));
  EXPECT_FALSE(g->grant_option_only);
  auto r = GrantRequestFromJson(R"j({"role": "dev", "database": "analytics", "table": "*",
      "permissions": ["SELECT"], "grant_option_only": true})j",
                                /*revoke=*/true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->grant_option_only);
  EXPECT_EQ(r->grant.table, "*");
}

TEST(GrantRequestTest, Errors) {
  auto error = [](std::string_view json, bool revoke) {
    auto r = GrantRequestFromJson(json, revoke);
    EXPECT_FALSE(r.ok()) << json;
    if (r.ok()) return std::string();
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    return r.status().message();
  };
  EXPECT_THAT(error("not json", false), HasSubstr("the request is not valid JSON"));
  EXPECT_EQ(error(R"({"database": "a", "permissions": ["SELECT"]})", false),
            "missing member \"role\"");
  EXPECT_EQ(error(R"({"role": "", "database": "a", "permissions": ["SELECT"]})", false),
            "role: must not be empty");
  EXPECT_EQ(error(R"({"role": "r", "permissions": ["SELECT"]})", false),
            "missing member \"database\"");
  EXPECT_EQ(error(R"({"role": "r", "database": "a"})", false), "missing member \"permissions\"");
  EXPECT_THAT(error(R"({"role": "r", "database": "a", "permissions": ["SELECT"],
                        "grant_option_only": true})",
                    false),
              HasSubstr("unknown member \"grant_option_only\""));
  EXPECT_THAT(error(R"({"role": "r", "database": "a", "permissions": ["SELECT"],
                        "grant_option": ["SELECT"]})",
                    true),
              HasSubstr("unknown member \"grant_option\""));
  EXPECT_EQ(error(R"({"role": "r", "database": "a", "permissions": ["SELECT"],
                      "grant_option_only": "yes"})",
                  true),
            "grant_option_only: expected true or false");
  EXPECT_EQ(error(R"({"role": "r", "database": "a", "table": "t", "permissions": ["SELECT"],
                      "grant_option": ["DROP"]})",
                  false),
            "grant on a.t: the grant option of DROP needs the permission itself; grant it too");
  EXPECT_EQ(error(R"(["role"])", false), "expected an object");
}

TEST(PolicyJsonErrorTest, Values) {
  EXPECT_EQ(ErrorOf(R"j({"roles": [{"grants": []}]})j"), "roles[0]: missing member \"name\"");
  EXPECT_EQ(ErrorOf(R"j({"roles": [{"name": ""}]})j"), "roles[0].name: must not be empty");
  EXPECT_EQ(ErrorOf(R"j({"roles": [{"name": "r"}, {"name": "r"}]})j"),
            "roles[1]: duplicate role \"r\"");
  EXPECT_EQ(ErrorOf(R"j({"roles": [{"name": "r", "grants": [{"database": "a",
                       "permissions": ["READ"]}]}]})j"),
            "roles[0].grants[0].permissions: unknown permission \"READ\"; use DESCRIBE, SELECT, "
            "INSERT, UPDATE, DELETE, ALTER, DROP, CREATE_TABLE or ALL");
  EXPECT_EQ(ErrorOf(R"j({"roles": [{"name": "r", "grants": [{"database": "a",
                       "permissions": []}]}]})j"),
            "roles[0].grants[0].permissions: lists no permission");
  EXPECT_EQ(ErrorOf(R"j({"roles": [{"name": "r", "grants": [{"database": "a", "table": "*",
                       "permissions": ["SELECT"], "columns": {"include": ["x"]}}]}]})j"),
            "roles[0].grants[0]: columns need a single table");
  EXPECT_EQ(ErrorOf(R"j({"roles": [{"name": "r", "grants": [{"database": "a", "table": "t",
                       "permissions": ["SELECT"], "columns": {}}]}]})j"),
            "roles[0].grants[0].columns: give exactly one of include or exclude");
  EXPECT_EQ(ErrorOf(R"j({"roles": [{"name": "r", "masks": [{"database": "a", "table": "t",
                       "column": "c", "mask": "scramble"}]}]})j"),
            "roles[0].masks[0].mask: unknown mask \"scramble\"; use null, redact, hash, "
            "show_last_n, year_only or expression");
  EXPECT_EQ(ErrorOf(R"j({"roles": [{"name": "r", "masks": [{"database": "a", "table": "t",
                       "column": "c", "mask": "redact", "n": 2}]}]})j"),
            "roles[0].masks[0]: \"n\" applies to show_last_n only");
  EXPECT_EQ(ErrorOf(R"j({"roles": [{"name": "r", "masks": [{"database": "a", "table": "t",
                       "column": "c", "mask": "show_last_n", "n": -1}]}]})j"),
            "roles[0].masks[0].n: expected an integer 0..1000");
  EXPECT_EQ(ErrorOf(R"j({"roles": [{"name": "r", "tag_grants": [{"expression": {},
                       "permissions": ["SELECT"]}]}]})j"),
            "roles[0].tag_grants[0].expression: expected an object of key: [values], e.g. "
            "{\"domain\": [\"sales\"]}");
  EXPECT_THAT(ErrorOf(R"j({"filters": [{"name": "f", "database": "a", "table": "t",
                         "rows": "region IN ("}]})j"),
              HasSubstr("filters[0].rows: "));
  EXPECT_EQ(ErrorOf(R"j({"tag_assignments": [{"database": "a", "column": "c", "key": "k",
                       "value": "v"}]})j"),
            "tag_assignments[0]: a column needs its table");
}

TEST(PolicyJsonErrorTest, References) {
  EXPECT_EQ(ErrorOf(R"j({"roles": [{"name": "r", "filters": ["nope"]}]})j"),
            "role \"r\": filter \"nope\" does not exist");
  EXPECT_EQ(ErrorOf(R"j({"tag_assignments": [{"database": "a", "key": "k", "value": "v"}]})j"),
            "tag assignment on a: tag key \"k\" is not declared; create it first (tag key create)");
  EXPECT_EQ(ErrorOf(R"j({"tag_keys": [{"key": "k", "values": ["v"]}],
                       "tag_assignments": [{"database": "a", "key": "k", "value": "w"}]})j"),
            "tag assignment on a: \"w\" is not a value of tag key \"k\"; allowed: v");
  EXPECT_EQ(
      ErrorOf(R"j({"tag_keys": [{"key": "k", "values": ["v"]}, {"key": "k", "values": ["w"]}]})j"),
      "tag key \"k\" is declared twice");
  EXPECT_EQ(ErrorOf(R"j({"tag_keys": [{"key": "k", "values": ["v", "v"]}]})j"),
            "tag key \"k\" lists value \"v\" twice");
  EXPECT_EQ(ErrorOf(R"j({"tag_keys": [{"key": "k", "values": ["v", "w"]}], "tag_assignments": [
                       {"database": "a", "table": "t", "key": "k", "value": "v"},
                       {"database": "A", "table": "T", "key": "k", "value": "w"}]})j"),
            "A.T carries tag key \"k\" twice; a resource has at most one value per key");
  EXPECT_EQ(ErrorOf(R"j({"tag_keys": [{"key": "k", "values": ["v"]}], "roles": [{"name": "r",
                       "tag_grants": [{"expression": {"k": ["x"]}, "permissions": ["SELECT"]}]}]})j"),
            "role \"r\": tag grant: \"x\" is not a value of tag key \"k\"; allowed: v");
  EXPECT_EQ(ErrorOf(R"j({"roles": [{"name": "r", "masks": [
                       {"database": "a", "table": "t", "column": "c", "mask": "null"},
                       {"database": "a", "table": "t", "column": "C", "mask": "hash"}]}]})j"),
            "role \"r\": a.t.C is masked twice");
  EXPECT_THAT(ErrorOf(R"j({"roles": [{"name": "r", "masks": [{"database": "a", "table": "t",
                         "column": "c", "mask": "expression", "expression": "upper(c"}]}]})j"),
              HasSubstr("role \"r\": mask on a.t.c: mask expression: "));
}

// The policy rules are checked once, in validate.cc; the document names the
// member that breaks one where it has one, and keeps the rule's reason.
TEST(PolicyJsonErrorTest, PolicyRulesAtTheirJsonPath) {
  auto reason_of = [](std::string_view json) {
    auto parsed = PolicyFromJson(json);
    EXPECT_FALSE(parsed.ok()) << json;
    return parsed.status();
  };
  const char* columns = R"j({"roles": [{"name": "a"}, {"name": "b", "grants": [{"database": "d",
      "permissions": ["SELECT"], "columns": {"include": ["x"]}}]}]})j";
  EXPECT_EQ(ErrorOf(columns), "roles[1].grants[0]: columns need a single table");
  EXPECT_TRUE(HasReason(reason_of(columns), PolicyFailure::kColumnsNeedOneTable));
  const char* no_value = R"j({"tag_keys": [{"key": "k", "values": ["v"]}], "roles": [{"name": "r",
      "tag_grants": [{"expression": {"k": []}, "permissions": ["SELECT"]}]}]})j";
  EXPECT_EQ(ErrorOf(no_value), "roles[0].tag_grants[0].expression.k: lists no value");
  EXPECT_TRUE(HasReason(reason_of(no_value), PolicyFailure::kNoTagValue));
  EXPECT_EQ(ErrorOf(R"j({"tag_keys": [{"key": "k", "values": ["v"]}], "roles": [{"name": "r",
                       "tag_grants": [{"expression": {"k": ["v"]}, "permissions": []}]}]})j"),
            "roles[0].tag_grants[0].permissions: lists no permission");
  const char* mask = R"j({"roles": [{"name": "r", "masks": [{"database": "a", "table": "t",
      "column": "c", "mask": "show_last_n", "n": 1001}]}]})j";
  EXPECT_EQ(ErrorOf(mask), "roles[0].masks[0].n: expected an integer 0..1000");
  EXPECT_TRUE(HasReason(reason_of(mask), PolicyFailure::kMaskLengthOutOfRange));
  EXPECT_TRUE(HasReason(reason_of(R"j({"roles": [{"name": "r", "filters": ["nope"]}]})j"),
                        PolicyFailure::kUnknownFilter));
  // An empty grant_option list means nothing in the model: the document may
  // not write one.
  EXPECT_EQ(ErrorOf(R"j({"roles": [{"name": "r", "grants": [{"database": "a", "table": "t",
                       "permissions": ["SELECT"], "grant_option": []}]}]})j"),
            "roles[0].grants[0].grant_option: lists no permission");
}

TEST(GrantRequestTest, PolicyRulesAtTheirMember) {
  auto r = GrantRequestFromJson(R"({"role": "r", "database": "a", "table": "*",
      "permissions": ["SELECT"], "columns": {"exclude": ["x"]}})",
                                /*revoke=*/false);
  EXPECT_TRUE(HasReason(r.status(), PolicyFailure::kColumnsNeedOneTable));
  EXPECT_EQ(r.status().message(), "columns need a single table");
  r = GrantRequestFromJson(R"({"role": "r", "database": "a", "permissions": []})", false);
  EXPECT_TRUE(HasReason(r.status(), PolicyFailure::kNoPermission));
  EXPECT_EQ(r.status().message(), "permissions: lists no permission");
}

TEST(PolicyJsonTest, DescribesChanges) {
  PolicySnapshot before = Sample();
  PolicySnapshot after = before;
  EXPECT_TRUE(DescribePolicyChanges(before, after).empty());
  after.roles.at("lf-dev-role").grants.pop_back();
  after.roles.at("lf-dev-role").masks.clear();
  after.roles.erase("lf-super-user-role");
  Role r;
  r.name = "new-role";
  after.roles.emplace(r.name, r);
  after.filters.erase("all");
  after.filters.at("eu-members").table = "orders";
  DataCellFilter f;
  f.name = "g";
  f.database = "d";
  f.table = "t";
  after.filters.emplace(f.name, f);
  after.tag_keys[0].values.push_back("ops");
  after.tag_keys.push_back({"owner", {"a"}});
  after.tag_assignments.pop_back();
  EXPECT_EQ(
      DescribePolicyChanges(before, after),
      (std::vector<std::string>{"role lf-dev-role grants, masks", "role new-role added",
                                "role lf-super-user-role removed", "filter eu-members changed",
                                "filter g added", "filter all removed", "tag key domain values",
                                "tag key owner added", "tag assignments"}));
}

}  // namespace
}  // namespace lakegate::policy
