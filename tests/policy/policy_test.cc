#include "policy/policy.h"

#include <gtest/gtest.h>

namespace lakegate::policy {
namespace {

constexpr PermissionSet kSelectDescribe = Bit(Permission::kSelect) | Bit(Permission::kDescribe);

TEST(PermissionTest, ParseAndNames) {
  EXPECT_EQ(ParsePermission("SELECT"), Bit(Permission::kSelect));
  EXPECT_EQ(ParsePermission(" select "), Bit(Permission::kSelect));
  EXPECT_EQ(ParsePermission("ALL"), kAllPermissions);
  EXPECT_EQ(ParsePermission("super"), kAllPermissions);
  EXPECT_EQ(ParsePermission("CREATE_TABLE"), Bit(Permission::kCreateTable));
  EXPECT_EQ(ParsePermission("create table"), Bit(Permission::kCreateTable));
  EXPECT_EQ(ParsePermission("GRANT"), std::nullopt);
  EXPECT_EQ(ParsePermission(""), std::nullopt);
  EXPECT_EQ(PermissionNames(Bit(Permission::kInsert) | Bit(Permission::kSelect)), "SELECT, INSERT");
  EXPECT_EQ(PermissionNames(0), "");
  EXPECT_EQ(PermissionNames(kAllPermissions),
            "SELECT, INSERT, UPDATE, DELETE, DESCRIBE, ALTER, DROP, CREATE_TABLE");
}

TEST(DecideTableTest, NoGrantIsInvisible) {
  Role r{"r", "", {}};
  TableAccess a = DecideTable(r, "analytics", "members");
  EXPECT_FALSE(a.visible());
  EXPECT_TRUE(SelectableColumns(a, {"a", "b"}).empty());
}

TEST(DecideTableTest, ExactWildcardAndCaseInsensitive) {
  Role r{"r", "", {{"Analytics", "Members", Bit(Permission::kSelect), {}}}};
  EXPECT_TRUE(DecideTable(r, "analytics", "MEMBERS").visible());
  EXPECT_FALSE(DecideTable(r, "analytics", "orders").visible());
  EXPECT_FALSE(DecideTable(r, "hr", "members").visible());
  // Any permission implies DESCRIBE.
  EXPECT_TRUE(Has(DecideTable(r, "analytics", "members").permissions, Permission::kDescribe));
  Role w{"w", "", {{"*", "*", Bit(Permission::kInsert), {}}}};
  TableAccess a = DecideTable(w, "hr", "salaries");
  EXPECT_TRUE(Has(a.permissions, Permission::kInsert));
  EXPECT_FALSE(Has(a.permissions, Permission::kSelect));
  EXPECT_TRUE(SelectableColumns(a, {"x"}).empty());  // no SELECT, no columns
}

TEST(DecideTableTest, DatabaseGrantDoesNotOpenTables) {
  Role r{"r", "", {{"analytics", "", kAllPermissions, {}}}};
  EXPECT_FALSE(DecideTable(r, "analytics", "members").visible());
  EXPECT_TRUE(Has(DecideDatabase(r, "analytics"), Permission::kCreateTable));
  EXPECT_EQ(DecideDatabase(r, "hr"), 0u);
}

TEST(DecideTableTest, ColumnSpecs) {
  const std::vector<std::string> cols = {"id", "name", "email", "ssn"};
  Role excl{"r", "", {{"a", "t", kSelectDescribe, {ColumnSpec::Kind::kExclude, {"EMAIL"}}}}};
  EXPECT_EQ(SelectableColumns(DecideTable(excl, "a", "t"), cols),
            (std::vector<std::string>{"id", "name", "ssn"}));
  Role incl{"r", "", {{"a", "t", kSelectDescribe, {ColumnSpec::Kind::kInclude, {"id", "Name"}}}}};
  EXPECT_EQ(SelectableColumns(DecideTable(incl, "a", "t"), cols),
            (std::vector<std::string>{"id", "name"}));
}

TEST(DecideTableTest, UnionOfColumnSpecs) {
  const std::vector<std::string> cols = {"id", "name", "email", "ssn"};
  // include ∪ include
  Role ii{"r",
          "",
          {{"a", "t", kSelectDescribe, {ColumnSpec::Kind::kInclude, {"id"}}},
           {"a", "t", kSelectDescribe, {ColumnSpec::Kind::kInclude, {"ssn"}}}}};
  EXPECT_EQ(SelectableColumns(DecideTable(ii, "a", "t"), cols),
            (std::vector<std::string>{"id", "ssn"}));
  // exclude ∪ exclude = exclude of the intersection
  Role ee{"r",
          "",
          {{"a", "t", kSelectDescribe, {ColumnSpec::Kind::kExclude, {"email", "ssn"}}},
           {"a", "*", kSelectDescribe, {ColumnSpec::Kind::kExclude, {"ssn"}}}}};
  EXPECT_EQ(SelectableColumns(DecideTable(ee, "a", "t"), cols),
            (std::vector<std::string>{"id", "name", "email"}));
  // include ∪ exclude
  Role ie{"r",
          "",
          {{"a", "t", kSelectDescribe, {ColumnSpec::Kind::kInclude, {"email"}}},
           {"a", "t", kSelectDescribe, {ColumnSpec::Kind::kExclude, {"email", "ssn"}}}}};
  EXPECT_EQ(SelectableColumns(DecideTable(ie, "a", "t"), cols),
            (std::vector<std::string>{"id", "name", "email"}));
  // all ∪ anything = all
  Role ae{"r",
          "",
          {{"a", "t", kSelectDescribe, {}},
           {"a", "t", kSelectDescribe, {ColumnSpec::Kind::kExclude, {"email"}}}}};
  EXPECT_EQ(SelectableColumns(DecideTable(ae, "a", "t"), cols).size(), 4u);
  // A column spec on a grant without SELECT opens nothing.
  Role d{"r",
         "",
         {{"a", "t", Bit(Permission::kDescribe), {}},
          {"a", "t", kSelectDescribe, {ColumnSpec::Kind::kInclude, {"id"}}}}};
  EXPECT_EQ(SelectableColumns(DecideTable(d, "a", "t"), cols), (std::vector<std::string>{"id"}));
}

TEST(DecideDatabaseTest, Levels) {
  Role r{"r", "", {{"analytics", "members", kSelectDescribe, {}}}};
  EXPECT_EQ(DecideDatabase(r, "analytics"), Bit(Permission::kDescribe));
  EXPECT_EQ(DecideDatabase(r, "hr"), 0u);
  Role super{"s", "", {{"*", "*", kAllPermissions, {}}}};
  EXPECT_TRUE(Has(DecideDatabase(super, "anything"), Permission::kCreateTable));
  Role creator{"c", "", {{"analytics", "", Bit(Permission::kCreateTable), {}}}};
  EXPECT_EQ(DecideDatabase(creator, "analytics"),
            Bit(Permission::kCreateTable) | Bit(Permission::kDescribe));
}

TEST(IsUnrestrictedTest, OnlyAllOnEverythingWithoutColumnLimits) {
  EXPECT_TRUE(IsUnrestricted(Role{"s", "", {{"*", "*", kAllPermissions, {}}}}));
  EXPECT_FALSE(IsUnrestricted(Role{"s", "", {{"analytics", "*", kAllPermissions, {}}}}));
  EXPECT_FALSE(IsUnrestricted(Role{"s", "", {{"*", "*", kSelectDescribe, {}}}}));
  EXPECT_FALSE(IsUnrestricted(
      Role{"s", "", {{"*", "*", kAllPermissions, {ColumnSpec::Kind::kExclude, {"email"}}}}}));
  EXPECT_FALSE(IsUnrestricted(Role{"s", "", {}}));
}

TEST(PolicySnapshotTest, FindRole) {
  PolicySnapshot p;
  p.roles["lf-dev-role"] = Role{"lf-dev-role", "", {}};
  EXPECT_NE(p.FindRole("lf-dev-role"), nullptr);
  EXPECT_NE(p.FindRole("LF-DEV-ROLE"), nullptr);
  EXPECT_EQ(p.FindRole("other"), nullptr);
}

}  // namespace
}  // namespace lakegate::policy
