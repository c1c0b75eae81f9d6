// The governance a stack file declares, merged into the catalog: the file's
// objects replace their namesakes, objects made otherwise stay, objects the
// file stopped declaring go, and the managed names follow the file.
#include "catalog/declared_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "catalog/policy_versions.h"
#include "policy/validate.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/status_matchers.h"

namespace lakegate::catalog {
namespace {

using ::lakegate::testing::HasReason;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr policy::PermissionSet kSelect = policy::Bit(policy::Permission::kSelect);
constexpr policy::PermissionSet kDescribe = policy::Bit(policy::Permission::kDescribe);

policy::Role RoleWith(std::string name, policy::PermissionSet permissions) {
  policy::Role role;
  role.name = std::move(name);
  role.grants.push_back({"analytics", "members", permissions, {}});
  return role;
}

// What a stack file declares: a role, a filter, a tag key and an assignment.
policy::PolicySnapshot Declared() {
  policy::PolicySnapshot p;
  p.roles.emplace("dev", RoleWith("dev", kSelect));
  policy::DataCellFilter eu;
  eu.name = "eu";
  eu.database = "analytics";
  eu.table = "members";
  p.filters.emplace(eu.name, eu);
  p.tag_keys = {{"domain", {"sales", "hr"}}};
  p.tag_assignments = {{"Analytics", "Members", "", "domain", "sales"}};
  return p;
}

TEST(ManagedPolicyNamesTest, NamesEveryDeclaredObjectSorted) {
  EXPECT_THAT(
      ManagedPolicyNames(Declared()),
      ElementsAre("filter\teu", "role\tdev", "tag\tanalytics.members\tdomain", "tagkey\tdomain"));
}

TEST(MergeDeclaredPolicyTest, FileObjectsReplaceOthersStayRemovedOnesGo) {
  policy::PolicySnapshot current = Declared();
  current.roles.at("dev") = RoleWith("dev", kDescribe);    // changed with the CLI
  current.roles.emplace("cli", RoleWith("cli", kSelect));  // made with the CLI
  current.roles.emplace("old", RoleWith("old", kSelect));  // the last apply declared it
  current.tag_assignments[0].value = "hr";                 // changed with the CLI
  std::vector<std::string> previously = ManagedPolicyNames(Declared());
  previously.push_back("role\told");

  policy::PolicySnapshot next = MergeDeclaredPolicy(current, previously, Declared());
  EXPECT_EQ(next.roles.at("dev").grants[0].permissions, kSelect);
  EXPECT_EQ(next.roles.count("cli"), 1u);
  EXPECT_EQ(next.roles.count("old"), 0u);
  ASSERT_EQ(next.tag_assignments.size(), 1u);
  EXPECT_EQ(next.tag_assignments[0].value, "sales");
  EXPECT_EQ(next.filters.count("eu"), 1u);
}

TEST(MergeDeclaredPolicyTest, TagAssignmentsMatchByResourceCaseInsensitively) {
  policy::PolicySnapshot current;
  current.tag_keys = {{"domain", {"sales", "hr"}}};
  current.tag_assignments = {{"analytics", "members", "", "domain", "hr"}};
  policy::PolicySnapshot next = MergeDeclaredPolicy(current, {}, Declared());
  ASSERT_EQ(next.tag_assignments.size(), 1u);
  EXPECT_EQ(next.tag_assignments[0].value, "sales");
  ASSERT_EQ(next.tag_keys.size(), 1u);
}

class ApplyDeclaredPolicyTest : public ::testing::Test {
 protected:
  std::unique_ptr<store::Store> store_ = store::NewInMemoryStore();
};

TEST_F(ApplyDeclaredPolicyTest, SavesOnceAndRecordsTheManagedNames) {
  auto first = ApplyDeclaredPolicy(*store_, Declared(), "apply stack.yaml", /*dry_run=*/false);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->old_version, 0u);
  EXPECT_EQ(first->new_version, 1u);
  EXPECT_EQ(first->policy->version, 1u);
  auto names = LoadManagedPolicyNames(*store_);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, ManagedPolicyNames(Declared()));

  auto second = ApplyDeclaredPolicy(*store_, Declared(), "apply stack.yaml", false);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->changed());
  EXPECT_EQ((*store_->LatestPolicy())->first, 1u);
}

TEST_F(ApplyDeclaredPolicyTest, DryRunPredictsTheVersionAndWritesNothing) {
  ASSERT_TRUE(ApplyDeclaredPolicy(*store_, Declared(), "apply", false).ok());
  policy::PolicySnapshot changed = Declared();
  changed.roles.at("dev") = RoleWith("dev", kSelect | kDescribe);
  auto dry = ApplyDeclaredPolicy(*store_, changed, "apply", /*dry_run=*/true);
  ASSERT_TRUE(dry.ok());
  EXPECT_EQ(dry->old_version, 1u);
  EXPECT_EQ(dry->new_version, 2u);
  EXPECT_THAT(dry->changes, ElementsAre("role dev grants"));
  EXPECT_EQ((*store_->LatestPolicy())->first, 1u);
}

TEST_F(ApplyDeclaredPolicyTest, ReplacesAnUnreadableVersion) {
  ASSERT_TRUE(store_->SavePolicy("{not json", "test").ok());
  auto update = ApplyDeclaredPolicy(*store_, Declared(), "apply", false);
  ASSERT_TRUE(update.ok()) << update.status().ToString();
  EXPECT_EQ(update->old_version, 1u);
  EXPECT_EQ(update->new_version, 2u);
  ASSERT_FALSE(update->changes.empty());
  EXPECT_EQ(update->changes[0], "replaces an unreadable version");
  EXPECT_TRUE(LoadLatestPolicy(*store_).ok());
}

TEST_F(ApplyDeclaredPolicyTest, ABrokenRuleWritesNothing) {
  ASSERT_TRUE(ApplyDeclaredPolicy(*store_, Declared(), "apply", false).ok());
  ASSERT_TRUE(UpdatePolicy(*store_, "cli", [](policy::PolicySnapshot& p) -> Status {
                p.roles.emplace("cli", RoleWith("cli", kSelect));
                p.roles.at("cli").filters = {"eu"};
                return Status::Ok();
              }).ok());
  policy::PolicySnapshot without_filter = Declared();
  without_filter.filters.clear();
  without_filter.roles.at("dev").filters.clear();
  auto update = ApplyDeclaredPolicy(*store_, without_filter, "apply", false);
  EXPECT_TRUE(HasReason(update.status(), policy::PolicyFailure::kUnknownFilter));
  EXPECT_EQ((*store_->LatestPolicy())->first, 2u);
  EXPECT_EQ(*LoadManagedPolicyNames(*store_), ManagedPolicyNames(Declared()));
}

TEST(ManagedNoteTest, OnlyForFileObjects) {
  std::vector<std::string> managed = {"role\tlf-dev-role", "filter\teu"};
  EXPECT_THAT(ManagedNote(managed, "role", "lf-dev-role"),
              HasSubstr("note: role lf-dev-role is declared in the stack file; the next "
                        "`lakegate apply` puts it back"));
  EXPECT_EQ(ManagedNote(managed, "role", "other"), "");
  EXPECT_EQ(ManagedNote(managed, "filter", "lf-dev-role"), "");
}

}  // namespace
}  // namespace lakegate::catalog
