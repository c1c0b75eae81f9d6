// The governance sections of the stack file: tags, filters, and the roles'
// filters, masks and tag grants; every error names file:line:column.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "config/stack_config.h"
#include "policy/policy_json.h"
#include "policy/validate.h"
#include "testing/status_matchers.h"

namespace lakegate::config {
namespace {

using ::lakegate::testing::HasReason;
using ::testing::HasSubstr;

Result<StackConfig> Parse(std::string_view yaml) {
  return ParseStack(yaml, "stack.yaml", "/srv/lakegate");
}

std::string ErrorOf(std::string_view yaml) {
  auto result = Parse(yaml);
  EXPECT_FALSE(result.ok()) << "parsed without error:\n" << yaml;
  if (result.ok()) return "";
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status().ToString();
  return result.status().message();
}

constexpr std::string_view kGovernance = R"yaml(tags:
  keys: [{key: sensitivity, values: [public, internal, pii]}, {key: domain, values: [sales, hr]}]
  assign:
    - {database: analytics, key: domain, value: sales}
    - {database: analytics, table: members, column: email, key: sensitivity, value: pii}
filters:
  - {name: eu-members, database: analytics, table: members, rows: "region IN ('eu-west', 'eu-central')", columns: {exclude: [email]}}
  - {name: all-members, database: analytics, table: members}
roles:
  - name: lf-analyst-role
    grants: [{database: analytics, permissions: [DESCRIBE]}]
    filters: [eu-members]
    masks: [{database: analytics, table: members, column: name, mask: show_last_n, n: 3},
            {database: analytics, table: members, column: tier, mask: redact},
            {database: analytics, table: members, column: joined_on, mask: year_only}]
    tag_grants: [{expression: {domain: [sales], sensitivity: [public, internal]}, permissions: [SELECT, DESCRIBE]}]
)yaml";

TEST(GovernanceConfigTest, ParsesEverySection) {
  auto config = Parse(kGovernance);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->tag_keys.size(), 2u);
  EXPECT_EQ(config->tag_keys[0].key, "sensitivity");
  EXPECT_EQ(config->tag_keys[0].values, (std::vector<std::string>{"public", "internal", "pii"}));
  ASSERT_EQ(config->tag_assignments.size(), 2u);
  EXPECT_EQ(config->tag_assignments[0].database, "analytics");
  EXPECT_EQ(config->tag_assignments[0].table, "");
  EXPECT_EQ(config->tag_assignments[1].column, "email");
  EXPECT_EQ(config->tag_assignments[1].value, "pii");
  ASSERT_EQ(config->filters.size(), 2u);
  const policy::DataCellFilter& eu = config->filters[0];
  EXPECT_EQ(eu.name, "eu-members");
  EXPECT_FALSE(eu.rows.all_rows());
  EXPECT_EQ(eu.rows.text, "region IN ('eu-west', 'eu-central')");
  EXPECT_EQ(eu.columns.kind, policy::ColumnSpec::Kind::kExclude);
  EXPECT_EQ(eu.columns.columns, std::vector<std::string>{"email"});
  EXPECT_TRUE(config->filters[1].rows.all_rows());
  EXPECT_EQ(config->filters[1].columns.kind, policy::ColumnSpec::Kind::kAll);

  ASSERT_EQ(config->roles.size(), 1u);
  const policy::Role& role = config->roles[0];
  EXPECT_EQ(role.filters, std::vector<std::string>{"eu-members"});
  ASSERT_EQ(role.masks.size(), 3u);
  EXPECT_EQ(role.masks[0].kind, policy::MaskKind::kShowLastN);
  EXPECT_EQ(role.masks[0].n, 3);
  EXPECT_EQ(role.masks[1].kind, policy::MaskKind::kRedact);
  EXPECT_EQ(role.masks[2].kind, policy::MaskKind::kYearOnly);
  ASSERT_EQ(role.tag_grants.size(), 1u);
  EXPECT_EQ(role.tag_grants[0].permissions,
            policy::Bit(policy::Permission::kSelect) | policy::Bit(policy::Permission::kDescribe));
  EXPECT_EQ(role.tag_grants[0].expression.clauses.at("domain"), std::vector<std::string>{"sales"});
  EXPECT_EQ(role.tag_grants[0].expression.clauses.at("sensitivity"),
            (std::vector<std::string>{"public", "internal"}));

  policy::PolicySnapshot snapshot = PolicyOf(*config);
  EXPECT_EQ(snapshot.roles.size(), 1u);
  EXPECT_EQ(snapshot.filters.count("eu-members"), 1u);
  EXPECT_TRUE(policy::ValidatePolicy(snapshot).ok());
}

TEST(GovernanceConfigTest, SectionsInAnyOrderAndScalarTagValue) {
  auto config = Parse(R"(roles:
  - name: r
    filters: [f]
    tag_grants: [{expression: {domain: sales}, permissions: [DESCRIBE]}]
filters:
  - {name: f, database: d, table: t, rows: ""}
tags:
  keys: [{key: domain, values: [sales]}]
)");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->roles[0].tag_grants[0].expression.clauses.at("domain"),
            std::vector<std::string>{"sales"});
  EXPECT_TRUE(config->filters[0].rows.all_rows());
}

TEST(GovernanceConfigErrorTest, UnknownFilterOnRole) {
  EXPECT_EQ(ErrorOf("filters:\n  - {name: eu-members, database: a, table: t}\n"
                    "roles:\n  - name: r\n    filters: [eu-member]\n"),
            "stack.yaml:5:15: roles[0].filters[0]: filter \"eu-member\" is not declared under "
            "filters; did you mean \"eu-members\"?");
  EXPECT_THAT(ErrorOf("roles:\n  - name: r\n    filters: [a, a]\n"),
              HasSubstr("stack.yaml:3:18: roles[0].filters[1]: filter \"a\" is listed twice"));
}

TEST(GovernanceConfigErrorTest, BadRowFilter) {
  std::string error =
      ErrorOf("filters:\n  - {name: f, database: a, table: t, rows: \"region IN ('eu'\"}\n");
  EXPECT_THAT(error, HasSubstr("stack.yaml:2:44: filters[0].rows: invalid row filter: "));
  error =
      ErrorOf("filters:\n  - name: f\n    database: a\n    table: t\n    rows: \"x = ; drop\"\n");
  EXPECT_THAT(error, HasSubstr("stack.yaml:5:11: filters[0].rows: invalid row filter"));
}

TEST(GovernanceConfigErrorTest, FilterShape) {
  EXPECT_EQ(ErrorOf("filters:\n  - {name: f, database: a}\n"),
            "stack.yaml:2:5: filters[0] (\"f\"): missing required key \"table\"");
  EXPECT_EQ(ErrorOf("filters:\n  - {name: f, database: a, table: t}\n  - {name: f, database: a, "
                    "table: u}\n"),
            "stack.yaml:3:12: filters[1].name: duplicate filter \"f\" (first declared at line 2)");
  EXPECT_EQ(ErrorOf("filters:\n  - {name: f, database: a, table: \"*\"}\n"),
            "stack.yaml:2:5: filters[0]: a filter applies to one table; name it without \"*\"");
  EXPECT_EQ(ErrorOf("filters:\n  - {name: f, database: a, table: t, columns: {include: [a], "
                    "exclude: [b]}}\n"),
            "stack.yaml:2:47: filters[0].columns: give exactly one of include or exclude");
  EXPECT_EQ(ErrorOf("filters:\n  - {name: f, database: a, table: t, row: x}\n"),
            "stack.yaml:2:38: filters[0] (\"f\"): unknown key \"row\"; did you mean \"rows\"?");
}

TEST(GovernanceConfigErrorTest, Masks) {
  EXPECT_EQ(ErrorOf("roles:\n  - name: r\n    masks: [{database: a, table: t, column: c, "
                    "mask: scramble}]\n"),
            "stack.yaml:3:54: roles[0].masks[0].mask: unknown mask \"scramble\"; use null, "
            "redact, hash, show_last_n, year_only or expression");
  EXPECT_EQ(ErrorOf("roles:\n  - name: r\n    masks: [{database: a, table: t, column: c, "
                    "mask: redact, n: 2}]\n"),
            "stack.yaml:3:54: roles[0].masks[0]: n applies to mask: show_last_n only; remove n");
  EXPECT_EQ(ErrorOf("roles:\n  - name: r\n    masks: [{database: a, table: t, column: c, "
                    "mask: expression}]\n"),
            "stack.yaml:3:54: roles[0].masks[0]: mask: expression needs an expression: key");
  EXPECT_EQ(ErrorOf("roles:\n  - name: r\n    masks: [{database: a, table: t, column: c, "
                    "mask: expression, expression: \"hex(c)\"}]\n"),
            "stack.yaml:3:54: roles[0].masks[0]: mask on a.t.c: mask expression: unknown function "
            "'hex' at position 1; allowed: lower, upper, length, substr, replace, trim, ltrim, "
            "rtrim, coalesce, ifnull, nullif, instr");
  auto expression = Parse(
      "roles:\n  - name: r\n    masks: [{database: a, table: t, column: c, "
      "mask: expression, expression: \"'x' || substr(c, -2)\"}]\n");
  ASSERT_TRUE(expression.ok()) << expression.status().ToString();
  EXPECT_EQ(expression->roles[0].masks[0].expression, "'x' || substr(c, -2)");
  EXPECT_EQ(ErrorOf("roles:\n  - name: r\n    masks: [{database: a, table: t, column: c, "
                    "mask: show_last_n, n: -1}]\n"),
            "stack.yaml:3:70: roles[0].masks[0].n: -1 is out of range; use 0..1000");
  EXPECT_EQ(ErrorOf("roles:\n  - name: r\n    masks: [{database: a, table: t, mask: hash}]\n"),
            "stack.yaml:3:13: roles[0].masks[0]: missing required key \"column\"");
  EXPECT_THAT(ErrorOf("roles:\n  - name: r\n    masks:\n      - {database: a, table: t, column: c, "
                      "mask: hash}\n      - {database: a, table: t, column: C, mask: redact}\n"),
              HasSubstr("stack.yaml:5:9: roles[0].masks[1]: a.t.C is masked twice"));
}

TEST(GovernanceConfigTest, GrantOption) {
  auto config = Parse(
      "roles:\n  - name: steward\n    grants:\n      - database: a\n"
      "        table: t\n        permissions: [SELECT, DESCRIBE]\n"
      "        grant_option: [SELECT]\n        columns: {include: [id, name]}\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->roles[0].grants[0].grant_option, policy::Bit(policy::Permission::kSelect));
  EXPECT_EQ(ErrorOf("roles:\n  - name: r\n    grants:\n      - {database: a, table: t, "
                    "permissions: [SELECT], grant_option: [DROP]}\n"),
            "stack.yaml:4:9: roles[0].grants[0]: grant on a.t: the grant option of DROP needs the "
            "permission itself; grant it too");
  EXPECT_EQ(ErrorOf("roles:\n  - name: r\n    grants:\n      - {database: a, table: t, "
                    "permissions: [SELECT], grant_option: [SELECT], columns: {exclude: [x]}}\n"),
            "stack.yaml:4:9: roles[0].grants[0]: grant on a.t: the grant option on a "
            "column-limited grant needs an include list (name the columns), not an exclude list");
}

TEST(GovernanceConfigErrorTest, Tags) {
  EXPECT_EQ(ErrorOf("tags:\n  keys: [{key: domain, values: [sales]}]\n  assign:\n"
                    "    - {database: a, key: domian, value: sales}\n"),
            "stack.yaml:4:41: tags.assign[0]: tag key \"domian\" is not declared under "
            "tags.keys; did you mean \"domain\"?");
  EXPECT_EQ(ErrorOf("tags:\n  keys: [{key: domain, values: [sales, hr]}]\n  assign:\n"
                    "    - {database: a, key: domain, value: finance}\n"),
            "stack.yaml:4:41: tags.assign[0]: \"finance\" is not a value of tag key \"domain\" "
            "Allowed: sales, hr");
  EXPECT_EQ(
      ErrorOf("tags:\n  keys: [{key: d, values: [x]}, {key: d, values: [y]}]\n"),
      "stack.yaml:2:39: tags.keys[1].key: duplicate tag key \"d\" (first declared at line 2)");
  EXPECT_EQ(ErrorOf("tags:\n  keys: [{key: d, values: [x, x]}]\n"),
            "stack.yaml:2:31: tags.keys[0].values[1]: value \"x\" is listed twice");
  EXPECT_EQ(ErrorOf("tags:\n  keys: [{key: d, values: []}]\n"),
            "stack.yaml:2:27: tags.keys[0].values: lists no value");
  EXPECT_EQ(ErrorOf("tags:\n  keys: [{key: d, values: [x]}]\n  assign:\n"
                    "    - {database: a, column: c, key: d, value: x}\n"),
            "stack.yaml:4:7: tags.assign[0]: a column needs its table; add table:");
  EXPECT_EQ(ErrorOf("tags:\n  keys: [{key: d, values: [x, y]}]\n  assign:\n"
                    "    - {database: a, table: t, key: d, value: x}\n"
                    "    - {database: a, table: T, key: d, value: y}\n"),
            "stack.yaml:5:7: tags.assign[1]: a.T already has a value for tag key \"d\" (line 4); "
            "a resource carries one value per key");
  EXPECT_EQ(ErrorOf("tags:\n  key: []\n"),
            "stack.yaml:2:3: tags: unknown key \"key\"; did you mean \"keys\"?");
}

TEST(GovernanceConfigErrorTest, TagGrants) {
  EXPECT_EQ(ErrorOf("tags:\n  keys: [{key: domain, values: [sales]}]\nroles:\n  - name: r\n"
                    "    tag_grants: [{expression: {domain: [sale]}, permissions: [SELECT]}]\n"),
            "stack.yaml:5:40: roles[0].tag_grants[0].expression.domain: \"sale\" is not a value "
            "of tag key \"domain\"; did you mean \"sales\"? Allowed: sales");
  EXPECT_EQ(
      ErrorOf("roles:\n  - name: r\n    tag_grants: [{expression: {}, permissions: [SELECT]}]\n"),
      "stack.yaml:3:31: roles[0].tag_grants[0].expression: expected a mapping of tag key "
      "to values, e.g. {domain: [sales]}");
  EXPECT_EQ(ErrorOf("tags:\n  keys: [{key: d, values: [x]}]\nroles:\n  - name: r\n"
                    "    tag_grants: [{expression: {d: [x]}}]\n"),
            "stack.yaml:5:18: roles[0].tag_grants[0]: missing required key \"permissions\"");
  EXPECT_EQ(ErrorOf("tags:\n  keys: [{key: d, values: [x]}]\nroles:\n  - name: r\n"
                    "    tag_grants: [{expression: {d: []}, permissions: [SELECT]}]\n"),
            "stack.yaml:5:35: roles[0].tag_grants[0].expression.d: lists no value");
  EXPECT_EQ(ErrorOf("tags:\n  keys: [{key: d, values: [x]}]\nroles:\n  - name: r\n"
                    "    tag_grants: [{expression: {d: [x]}, permissions: [READ]}]\n"),
            "stack.yaml:5:55: roles[0].tag_grants[0].permissions[0]: unknown permission "
            "\"READ\"; use DESCRIBE, SELECT, INSERT, UPDATE, DELETE, ALTER, DROP, CREATE_TABLE "
            "or ALL");
}

// The rules are policy/'s; the file reports a broken one at the position of
// the object that breaks it, with the policy's reason.
TEST(GovernanceConfigErrorTest, PolicyRulesKeepTheirReason) {
  auto reason = [](std::string_view yaml, policy::PolicyFailure expected) {
    auto result = Parse(yaml);
    EXPECT_TRUE(HasReason(result.status(), expected)) << yaml;
  };
  reason(
      "roles:\n  - name: r\n    grants: [{database: a, permissions: [SELECT], columns: "
      "{include: [x]}}]\n",
      policy::PolicyFailure::kColumnsNeedOneTable);
  reason("filters:\n  - {name: f, database: a, table: t}\nroles:\n  - name: r\n    filters: [g]\n",
         policy::PolicyFailure::kUnknownFilter);
  reason("tags:\n  keys: [{key: d, values: [x, x]}]\n",
         policy::PolicyFailure::kTagValueListedTwice);
  reason(
      "roles:\n  - name: r\n    masks: [{database: a, table: t, column: c, mask: show_last_n, "
      "n: 1001}]\n",
      policy::PolicyFailure::kMaskLengthOutOfRange);
  // Reader problems carry no policy reason.
  EXPECT_FALSE(
      Parse("roles:\n  - name: r\n  - name: r\n").status().reason<policy::PolicyFailure>());
}

TEST(GovernanceConfigErrorTest, PolicyRulesAtTheirPosition) {
  EXPECT_EQ(ErrorOf("roles:\n  - name: r\n    masks: [{database: a, table: t, column: c, "
                    "mask: show_last_n, n: 1001}]\n"),
            "stack.yaml:3:70: roles[0].masks[0].n: 1001 is out of range; use 0..1000");
  EXPECT_EQ(ErrorOf("tags:\n  keys: [{key: d, values: [x]}]\nroles:\n  - name: a\n  - name: r\n"
                    "    tag_grants: [{expression: {d: [x]}, permissions: []}]\n"),
            "stack.yaml:6:54: roles[1].tag_grants[0].permissions: lists no permission");
  EXPECT_EQ(ErrorOf("roles:\n  - name: r\n    grants:\n      - {database: a, table: t, "
                    "permissions: [SELECT], grant_option: []}\n"),
            "stack.yaml:4:70: roles[0].grants[0].grant_option: lists no permission");
  EXPECT_EQ(ErrorOf("tags:\n  keys: [{key: domain, values: [sales]}]\nroles:\n  - name: r\n"
                    "    tag_grants: [{expression: {team: x}, permissions: [SELECT]}]\n"),
            "stack.yaml:5:38: roles[0].tag_grants[0].expression.team: tag key \"team\" is not "
            "declared under tags.keys");
  // Sections in any order: the references are checked once the file is read.
  EXPECT_EQ(ErrorOf("roles:\n  - name: r\n    filters: [eu]\nfilters:\n"
                    "  - {name: us, database: a, table: t}\n"),
            "stack.yaml:3:15: roles[0].filters[0]: filter \"eu\" is not declared under filters; "
            "did you mean \"us\"?");
}

}  // namespace
}  // namespace lakegate::config
