// Grant option (Lake Formation's PermissionsWithGrantOption): validation,
// the delegation check and the grant/revoke edits shared by the CLI and the
// admin API.
#include <gtest/gtest.h>

#include "policy/policy.h"

namespace lakegate::policy {
namespace {

constexpr PermissionSet kSelect = Bit(Permission::kSelect);
constexpr PermissionSet kDescribe = Bit(Permission::kDescribe);
constexpr PermissionSet kInsert = Bit(Permission::kInsert);

Grant TableGrant(std::string db, std::string table, PermissionSet permissions,
                 PermissionSet grant_option = 0) {
  Grant g;
  g.database = std::move(db);
  g.table = std::move(table);
  g.permissions = permissions;
  g.grant_option = grant_option;
  return g;
}

ColumnSpec Include(std::vector<std::string> columns) {
  return {ColumnSpec::Kind::kInclude, std::move(columns)};
}

TEST(ValidateGrantTest, GrantOptionIsASubsetOfPermissions) {
  EXPECT_TRUE(ValidateGrant(TableGrant("a", "t", kSelect | kDescribe, kSelect)).ok());
  Status s = ValidateGrant(TableGrant("a", "t", kSelect, kSelect | kInsert));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "grant on a.t: the grant option of INSERT needs the permission itself; grant it too");
  EXPECT_EQ(ValidateGrant(TableGrant("a", "", kInsert, kInsert)).code(), StatusCode::kOk);
}

TEST(ValidateGrantTest, GrantOptionOnColumnsNeedsAnIncludeList) {
  Grant g = TableGrant("a", "t", kSelect, kSelect);
  g.columns = {ColumnSpec::Kind::kExclude, {"email"}};
  Status s = ValidateGrant(g);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "grant on a.t: the grant option on a column-limited grant needs an include list (name "
            "the columns), not an exclude list");
  g.grant_option = 0;  // without the grant option an exclude list is fine
  EXPECT_TRUE(ValidateGrant(g).ok());
  g.grant_option = kSelect;
  g.columns = Include({"id", "name"});
  EXPECT_TRUE(ValidateGrant(g).ok());
}

TEST(CheckGrantOptionTest, NeedsTheGrantOptionNotJustThePermission) {
  Role steward{"steward", "", {TableGrant("analytics", "members", kSelect | kDescribe, kSelect)}};
  EXPECT_TRUE(CheckGrantOption(steward, TableGrant("analytics", "members", kSelect)).ok());
  // Passing the grant option on needs it too (it is held for SELECT).
  EXPECT_TRUE(CheckGrantOption(steward, TableGrant("Analytics", "MEMBERS", kSelect, kSelect)).ok());
  Status s = CheckGrantOption(steward, TableGrant("analytics", "members", kSelect | kDescribe));
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "role steward holds no grant option for DESCRIBE on analytics.members");
  s = CheckGrantOption(steward, TableGrant("analytics", "members", kInsert));
  EXPECT_EQ(s.message(), "role steward holds no grant option for INSERT on analytics.members");
}

TEST(CheckGrantOptionTest, ResourceCoverage) {
  Role db_wide{"r", "", {TableGrant("analytics", "*", kSelect, kSelect)}};
  EXPECT_TRUE(CheckGrantOption(db_wide, TableGrant("analytics", "members", kSelect)).ok());
  EXPECT_TRUE(CheckGrantOption(db_wide, TableGrant("analytics", "*", kSelect)).ok());
  EXPECT_EQ(CheckGrantOption(db_wide, TableGrant("hr", "salaries", kSelect)).code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckGrantOption(db_wide, TableGrant("*", "*", kSelect)).code(),
            StatusCode::kPermissionDenied);
  // A table-level grant option does not give database-level permissions.
  EXPECT_EQ(CheckGrantOption(db_wide, TableGrant("analytics", "", kSelect)).message(),
            "role r holds no grant option for SELECT on database analytics");

  Role one_table{"r", "", {TableGrant("analytics", "members", kSelect, kSelect)}};
  EXPECT_EQ(CheckGrantOption(one_table, TableGrant("analytics", "*", kSelect)).code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckGrantOption(one_table, TableGrant("analytics", "orders", kSelect)).code(),
            StatusCode::kPermissionDenied);

  Role everything{"r", "", {TableGrant("*", "*", kAllPermissions, kAllPermissions)}};
  EXPECT_TRUE(CheckGrantOption(everything, TableGrant("hr", "salaries", kAllPermissions)).ok());
  EXPECT_TRUE(CheckGrantOption(everything, TableGrant("*", "*", kSelect)).ok());
  EXPECT_FALSE(
      CheckGrantOption(everything, TableGrant("hr", "", Bit(Permission::kCreateTable))).ok());

  Role database{
      "r",
      "",
      {TableGrant("hr", "", Bit(Permission::kCreateTable), Bit(Permission::kCreateTable))}};
  EXPECT_TRUE(CheckGrantOption(database, TableGrant("hr", "", Bit(Permission::kCreateTable))).ok());
  EXPECT_FALSE(
      CheckGrantOption(database, TableGrant("hr", "t", Bit(Permission::kCreateTable))).ok());
}

TEST(CheckGrantOptionTest, ColumnLimitedSelect) {
  Grant held = TableGrant("analytics", "members", kSelect, kSelect);
  held.columns = Include({"id", "name", "region"});
  Role r{"r", "", {held}};
  Grant wanted = TableGrant("analytics", "members", kSelect);
  wanted.columns = Include({"ID", "region"});
  EXPECT_TRUE(CheckGrantOption(r, wanted).ok());
  wanted.columns = Include({"id", "email"});
  EXPECT_EQ(CheckGrantOption(r, wanted).message(),
            "role r holds no grant option for SELECT on analytics.members (those columns)");
  wanted.columns = {ColumnSpec::Kind::kExclude, {"email"}};
  EXPECT_FALSE(CheckGrantOption(r, wanted).ok());
  wanted.columns = {};  // every column: more than the grantor may pass on
  EXPECT_EQ(CheckGrantOption(r, wanted).code(), StatusCode::kPermissionDenied);
  // A grantor with every column may pass on any column list.
  Role all{"all", "", {TableGrant("analytics", "members", kSelect, kSelect)}};
  wanted.columns = {ColumnSpec::Kind::kExclude, {"email"}};
  EXPECT_TRUE(CheckGrantOption(all, wanted).ok());
}

TEST(CheckGrantOptionTest, TwoGrantsTogetherAreNotEnoughForOnePermission) {
  // SELECT with grant option on one table and INSERT with grant option on
  // another do not combine into both on either.
  Role r{
      "r", "", {TableGrant("a", "t1", kSelect, kSelect), TableGrant("a", "t2", kInsert, kInsert)}};
  EXPECT_TRUE(CheckGrantOption(r, TableGrant("a", "t1", kSelect)).ok());
  EXPECT_FALSE(CheckGrantOption(r, TableGrant("a", "t1", kSelect | kInsert)).ok());
}

TEST(AddGrantTest, MergesIntoTheSameResourceAndColumns) {
  PolicySnapshot p;
  ASSERT_TRUE(AddGrant(p, "dev", TableGrant("analytics", "members", kSelect)).ok());
  ASSERT_TRUE(AddGrant(p, "dev", TableGrant("Analytics", "Members", kDescribe, 0)).ok());
  ASSERT_TRUE(AddGrant(p, "dev", TableGrant("analytics", "members", kSelect, kSelect)).ok());
  ASSERT_EQ(p.roles.at("dev").grants.size(), 1u);
  EXPECT_EQ(p.roles.at("dev").grants[0].permissions, kSelect | kDescribe);
  EXPECT_EQ(p.roles.at("dev").grants[0].grant_option, kSelect);
  Grant cols = TableGrant("analytics", "members", kSelect);
  cols.columns = Include({"id"});
  ASSERT_TRUE(AddGrant(p, "dev", cols).ok());
  EXPECT_EQ(p.roles.at("dev").grants.size(), 2u);
  Status bad = AddGrant(p, "dev", TableGrant("analytics", "members", kSelect, kInsert));
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
}

TEST(RevokeGrantTest, PermissionsGrantOptionOnlyAndErrors) {
  PolicySnapshot p;
  ASSERT_TRUE(
      AddGrant(p, "dev", TableGrant("analytics", "members", kSelect | kDescribe, kSelect)).ok());
  // Only the grant option.
  ASSERT_TRUE(RevokeGrant(p, "dev", TableGrant("analytics", "members", kSelect), true).ok());
  EXPECT_EQ(p.roles.at("dev").grants[0].permissions, kSelect | kDescribe);
  EXPECT_EQ(p.roles.at("dev").grants[0].grant_option, 0u);
  Status again = RevokeGrant(p, "dev", TableGrant("analytics", "members", kSelect), true);
  EXPECT_EQ(again.code(), StatusCode::kNotFound);
  EXPECT_EQ(again.message(),
            "role dev has no grant of SELECT with grant option on analytics.members");
  // The permission takes its grant option with it.
  ASSERT_TRUE(AddGrant(p, "dev", TableGrant("analytics", "members", kSelect, kSelect)).ok());
  ASSERT_TRUE(RevokeGrant(p, "dev", TableGrant("analytics", "members", kSelect), false).ok());
  EXPECT_EQ(p.roles.at("dev").grants[0].permissions, kDescribe);
  EXPECT_EQ(p.roles.at("dev").grants[0].grant_option, 0u);
  // A grant left with nothing is removed.
  ASSERT_TRUE(RevokeGrant(p, "dev", TableGrant("analytics", "members", kDescribe), false).ok());
  EXPECT_TRUE(p.roles.at("dev").grants.empty());
  EXPECT_EQ(RevokeGrant(p, "dev", TableGrant("analytics", "members", kSelect), false).message(),
            "role dev has no grant of SELECT on analytics.members");
  EXPECT_EQ(RevokeGrant(p, "nobody", TableGrant("a", "t", kSelect), false).message(),
            "no role 'nobody' in the policy; roles: dev");
}

TEST(RevokeGrantTest, ColumnSpecNarrowsTheMatch) {
  PolicySnapshot p;
  Grant cols = TableGrant("a", "t", kSelect);
  cols.columns = Include({"id"});
  ASSERT_TRUE(AddGrant(p, "dev", cols).ok());
  ASSERT_TRUE(AddGrant(p, "dev", TableGrant("a", "t", kSelect)).ok());
  Grant other = TableGrant("a", "t", kSelect);
  other.columns = Include({"name"});
  EXPECT_EQ(RevokeGrant(p, "dev", other, false).code(), StatusCode::kNotFound);
  ASSERT_TRUE(RevokeGrant(p, "dev", cols, false).ok());
  ASSERT_EQ(p.roles.at("dev").grants.size(), 1u);
  EXPECT_EQ(p.roles.at("dev").grants[0].columns.kind, ColumnSpec::Kind::kAll);
  // Without a column spec every grant on the resource is revoked.
  ASSERT_TRUE(AddGrant(p, "dev", cols).ok());
  ASSERT_TRUE(RevokeGrant(p, "dev", TableGrant("a", "t", kSelect), false).ok());
  EXPECT_TRUE(p.roles.at("dev").grants.empty());
}

}  // namespace
}  // namespace lakegate::policy
