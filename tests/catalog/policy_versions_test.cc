// The versioned policy in a state store: the latest version reads back or
// says why not, and an update is one transaction that saves only a valid,
// changed policy.
#include "catalog/policy_versions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "catalog/test_changes.h"
#include "policy/policy_json.h"
#include "policy/validate.h"
#include "store/fault_injecting_store.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/status_matchers.h"

namespace lakegate::catalog {
namespace {

using ::lakegate::testing::HasReason;
using ::testing::ElementsAre;

class PolicyVersionsTest : public ::testing::Test {
 protected:
  std::unique_ptr<store::Store> store_ = store::NewInMemoryStore();
};

TEST_F(PolicyVersionsTest, NoStoredVersionIsTheEmptyVersionZero) {
  auto latest = LoadLatestPolicy(*store_);
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ((*latest)->version, 0u);
  EXPECT_TRUE((*latest)->roles.empty());
}

TEST_F(PolicyVersionsTest, UpdateSavesANewVersionAndReturnsIt) {
  auto first = UpdatePolicy(*store_, "test", AddRole("dev"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->old_version, 0u);
  EXPECT_EQ(first->new_version, 1u);
  EXPECT_THAT(first->changes, ElementsAre("role dev added"));
  ASSERT_NE(first->policy, nullptr);
  EXPECT_EQ(first->policy->version, 1u);
  EXPECT_EQ(first->policy->roles.count("dev"), 1u);

  auto latest = LoadLatestPolicy(*store_);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ((*latest)->version, 1u);
  EXPECT_EQ(policy::PolicyToJson(**latest), policy::PolicyToJson(*first->policy));
}

TEST_F(PolicyVersionsTest, UpdatePolicyRejectsInvalidResultAndWritesNothing) {
  ASSERT_TRUE(UpdatePolicy(*store_, "test", AddRole("lf-dev-role")).ok());
  auto update = UpdatePolicy(*store_, "test", [](policy::PolicySnapshot& p) -> Status {
    p.roles.at("lf-dev-role").filters.push_back("missing");
    return Status::Ok();
  });
  EXPECT_EQ(update.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(HasReason(update.status(), policy::PolicyFailure::kUnknownFilter));
  EXPECT_EQ(update.status().message(), "role \"lf-dev-role\": filter \"missing\" does not exist");
  auto failed = UpdatePolicy(*store_, "test", [](policy::PolicySnapshot&) -> Status {
    return NotFoundError("no such thing");
  });
  EXPECT_EQ(failed.status().code(), StatusCode::kNotFound);
  auto same = UpdatePolicy(*store_, "test", [](policy::PolicySnapshot&) { return Status::Ok(); });
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->changed());
  EXPECT_EQ(same->new_version, 1u);
  EXPECT_EQ(same->policy->version, 1u);
  EXPECT_EQ((*store_->LatestPolicy())->first, 1u);
}

TEST_F(PolicyVersionsTest, FirstUpdateSavesEvenAnEmptyPolicy) {
  auto update = UpdatePolicy(*store_, "test", [](policy::PolicySnapshot&) { return Status::Ok(); });
  ASSERT_TRUE(update.ok());
  EXPECT_TRUE(update->changed());
  EXPECT_EQ(update->new_version, 1u);
}

TEST_F(PolicyVersionsTest, UnreadableVersionHasItsReason) {
  ASSERT_TRUE(store_->SavePolicy("{not json", "test").ok());
  auto latest = LoadLatestPolicy(*store_);
  EXPECT_EQ(latest.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(HasReason(latest.status(), CatalogFailure::kUnreadableVersion));
  EXPECT_TRUE(lakegate::testing::HasStatus(latest.status(), StatusCode::kInvalidArgument,
                                           "policy version 1 in the state store is unreadable: "));
  // A document that parses but breaks a rule is unreadable too.
  auto broken = ReadStoredVersion(7, R"({"roles": [{"name": "r", "filters": ["nope"]}]})");
  EXPECT_TRUE(HasReason(broken.status(), CatalogFailure::kUnreadableVersion));
  // An update cannot start from it either.
  auto update = UpdatePolicy(*store_, "test", AddRole("dev"));
  EXPECT_TRUE(HasReason(update.status(), CatalogFailure::kUnreadableVersion));
}

TEST_F(PolicyVersionsTest, StoreFailureWritesNothing) {
  auto faulty = std::make_unique<store::FaultInjectingStore>(store::NewInMemoryStore());
  faulty->FailNextWrites(1);
  auto update = UpdatePolicy(*faulty, "test", AddRole("dev"));
  EXPECT_EQ(update.status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE((*faulty->LatestPolicy()).has_value());
}

}  // namespace
}  // namespace lakegate::catalog
