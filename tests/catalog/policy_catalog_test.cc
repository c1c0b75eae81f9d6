// PolicyCatalog: the version in effect moves only forward, a write is in
// effect before Update() returns, and an unreadable stored version leaves
// the last good one in effect.
#include "catalog/policy_catalog.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "catalog/declared_policy.h"
#include "catalog/test_changes.h"
#include "common/thread_annotations.h"
#include "policy/policy_json.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/status_matchers.h"

namespace lakegate::catalog {
namespace {

using ::lakegate::testing::HasReason;

// Forwards to a real store, except that LatestPolicy() can be made to answer
// an older version, as a lagging replica of a shared store would.
class LaggingStore final : public store::Store {
 public:
  LaggingStore() : base_(store::NewInMemoryStore()) {}

  // LatestPolicy() answers `version` (as `json`) until Catch() is called.
  void Lag(uint64_t version, std::string json) {
    MutexLock lock(mutex_);
    lagging_ = std::make_pair(version, std::move(json));
  }
  void Catch() {
    MutexLock lock(mutex_);
    lagging_.reset();
  }

  Result<std::optional<std::pair<uint64_t, std::string>>> LatestPolicy() override {
    {
      MutexLock lock(mutex_);
      if (lagging_) return std::optional<std::pair<uint64_t, std::string>>(*lagging_);
    }
    return base_->LatestPolicy();
  }

  Result<std::vector<store::ClientRecord>> ListClients() override { return base_->ListClients(); }
  Result<std::optional<store::ClientRecord>> FindClient(std::string_view id) override {
    return base_->FindClient(id);
  }
  Result<std::optional<store::ClientRecord>> FindClientByName(std::string_view name) override {
    return base_->FindClientByName(name);
  }
  Status InsertClient(const store::ClientRecord& c) override { return base_->InsertClient(c); }
  Status UpdateClient(const store::ClientRecord& c) override { return base_->UpdateClient(c); }
  Status DeleteClient(std::string_view id) override { return base_->DeleteClient(id); }
  Result<std::vector<store::AccessKeyRecord>> ListAccessKeys() override {
    return base_->ListAccessKeys();
  }
  Status InsertAccessKey(const store::AccessKeyRecord& k) override {
    return base_->InsertAccessKey(k);
  }
  Status DeleteAccessKey(std::string_view id) override { return base_->DeleteAccessKey(id); }
  Result<std::vector<store::SigningKeyRecord>> ListSigningKeys() override {
    return base_->ListSigningKeys();
  }
  Status InsertSigningKey(const store::SigningKeyRecord& k) override {
    return base_->InsertSigningKey(k);
  }
  Status UpdateSigningKey(const store::SigningKeyRecord& k) override {
    return base_->UpdateSigningKey(k);
  }
  Status DeleteSigningKey(std::string_view kid) override { return base_->DeleteSigningKey(kid); }
  Status AddRevocation(std::string_view jti, int64_t expires_at) override {
    return base_->AddRevocation(jti, expires_at);
  }
  Result<bool> RememberOnce(std::string_view key, int64_t expires_at, int64_t now) override {
    return base_->RememberOnce(key, expires_at, now);
  }
  Result<std::vector<std::pair<std::string, int64_t>>> ListRevocations(int64_t now) override {
    return base_->ListRevocations(now);
  }
  Status PurgeExpiredRevocations(int64_t now) override {
    return base_->PurgeExpiredRevocations(now);
  }
  Result<std::vector<store::ResourceServerRecord>> ListResourceServers() override {
    return base_->ListResourceServers();
  }
  Status PutResourceServer(const store::ResourceServerRecord& s) override {
    return base_->PutResourceServer(s);
  }
  Status DeleteResourceServer(std::string_view id) override {
    return base_->DeleteResourceServer(id);
  }
  Result<std::optional<std::string>> GetSetting(std::string_view key) override {
    return base_->GetSetting(key);
  }
  Status PutSetting(std::string_view key, std::string_view value) override {
    return base_->PutSetting(key, value);
  }
  Result<uint64_t> SavePolicy(std::string_view json, std::string_view author) override {
    return base_->SavePolicy(json, author);
  }
  Result<uint64_t> ChangeCounter() override { return base_->ChangeCounter(); }
  Status RunInTransaction(const std::function<Status(Store&)>& body) override {
    return base_->RunInTransaction(body);
  }

 private:
  std::unique_ptr<store::Store> base_;
  Mutex mutex_;
  std::optional<std::pair<uint64_t, std::string>> lagging_ GUARDED_BY(mutex_);
};

// Saves a version with one role `name` directly in the store, as another
// process would.
uint64_t SaveElsewhere(store::Store& store, const std::string& name) {
  auto update = UpdatePolicy(store, "elsewhere", AddRole(name));
  EXPECT_TRUE(update.ok()) << update.status().ToString();
  return update.ok() ? update->new_version : 0;
}

TEST(PolicyCatalogTest, StartsAtTheEmptyVersionZero) {
  auto store = store::NewInMemoryStore();
  PolicyCatalog catalog(*store);
  ASSERT_NE(catalog.Current(), nullptr);
  EXPECT_EQ(catalog.Current()->version, 0u);
  EXPECT_TRUE(catalog.Refresh().ok());  // nothing stored: still version 0
  EXPECT_EQ(catalog.Current()->version, 0u);
}

TEST(PolicyCatalogTest, RefreshPicksUpVersionsSavedElsewhere) {
  auto store = store::NewInMemoryStore();
  PolicyCatalog catalog(*store);
  SaveElsewhere(*store, "a");
  EXPECT_EQ(catalog.Current()->version, 0u);  // until refreshed
  ASSERT_TRUE(catalog.Refresh().ok());
  EXPECT_EQ(catalog.Current()->version, 1u);
  EXPECT_EQ(catalog.Current()->roles.count("a"), 1u);
  auto held = catalog.Current();  // a reader keeps its snapshot
  SaveElsewhere(*store, "b");
  ASSERT_TRUE(catalog.Refresh().ok());
  EXPECT_EQ(catalog.Current()->version, 2u);
  EXPECT_EQ(held->version, 1u);
  EXPECT_EQ(held->roles.count("b"), 0u);
}

TEST(PolicyCatalogTest, UpdateIsInEffectBeforeItReturns) {
  auto store = store::NewInMemoryStore();
  PolicyCatalog catalog(*store);
  auto update = catalog.Update("test", AddRole("dev"));
  ASSERT_TRUE(update.ok()) << update.status().ToString();
  EXPECT_TRUE(update->changed());
  EXPECT_EQ(catalog.Current()->version, update->new_version);
  EXPECT_EQ(catalog.Current()->roles.count("dev"), 1u);
  // What is in effect is what the store holds for that version.
  auto stored = LoadLatestPolicy(*store);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(policy::PolicyToJson(*catalog.Current()), policy::PolicyToJson(**stored));
}

TEST(PolicyCatalogTest, FailedUpdateChangesNothing) {
  auto store = store::NewInMemoryStore();
  PolicyCatalog catalog(*store);
  ASSERT_TRUE(catalog.Update("test", AddRole("dev")).ok());
  auto failed = catalog.Update("test", [](policy::PolicySnapshot& p) -> Status {
    p.roles.at("dev").filters.push_back("missing");
    return Status::Ok();
  });
  EXPECT_EQ(failed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog.Current()->version, 1u);
  EXPECT_TRUE(catalog.Current()->roles.at("dev").filters.empty());
}

TEST(PolicyCatalogTest, UnreadableVersionKeepsTheLastGoodOne) {
  auto store = store::NewInMemoryStore();
  PolicyCatalog catalog(*store);
  ASSERT_TRUE(catalog.Update("test", AddRole("dev")).ok());
  ASSERT_TRUE(store->SavePolicy("{not json", "test").ok());
  Status refreshed = catalog.Refresh();
  EXPECT_TRUE(HasReason(refreshed, CatalogFailure::kUnreadableVersion));
  EXPECT_EQ(catalog.Current()->version, 1u);
  EXPECT_EQ(catalog.Current()->roles.count("dev"), 1u);
}

TEST(PolicyCatalogTest, AnOlderVersionNeverReplacesANewerOne) {
  LaggingStore store;
  PolicyCatalog catalog(store);
  SaveElsewhere(store, "a");
  std::string v1 = (*store.LatestPolicy())->second;
  ASSERT_TRUE(catalog.Update("test", AddRole("b")).ok());
  EXPECT_EQ(catalog.Current()->version, 2u);
  store.Lag(1, v1);
  ASSERT_TRUE(catalog.Refresh().ok());
  EXPECT_EQ(catalog.Current()->version, 2u);
  EXPECT_EQ(catalog.Current()->roles.count("b"), 1u);
  store.Catch();
  SaveElsewhere(store, "c");
  ASSERT_TRUE(catalog.Refresh().ok());
  EXPECT_EQ(catalog.Current()->version, 3u);
}

TEST(PolicyCatalogTest, ManagedNamesAreTheLastApplysNames) {
  auto store = store::NewInMemoryStore();
  PolicyCatalog catalog(*store);
  EXPECT_TRUE(catalog.ManagedNames()->empty());
  policy::PolicySnapshot declared;
  declared.roles.emplace("dev", policy::Role{"dev", "", {}});
  ASSERT_TRUE(ApplyDeclaredPolicy(*store, declared, "apply", false).ok());
  EXPECT_EQ(*catalog.ManagedNames(), std::vector<std::string>{"role\tdev"});
}

// Writers, refreshers and readers at once: readers never see the version go
// back, and in the end the catalog holds the newest stored version.
TEST(PolicyCatalogTest, ConcurrentUpdatesAndRefreshesMoveOnlyForward) {
  auto store = store::NewInMemoryStore();
  PolicyCatalog catalog(*store);
  constexpr int kWriters = 3;
  constexpr int kWritesEach = 20;
  std::atomic<bool> done{false};
  std::atomic<bool> went_back{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kWritesEach; ++i) {
        auto update =
            catalog.Update("test", AddRole("r" + std::to_string(w) + "-" + std::to_string(i)));
        EXPECT_TRUE(update.ok()) << update.status().ToString();
        // This writer's own write is in effect (or a newer one).
        if (update.ok()) {
          EXPECT_GE(catalog.Current()->version, update->new_version);
        }
      }
    });
  }
  std::thread refresher([&] {
    while (!done.load()) EXPECT_TRUE(catalog.Refresh().ok());
  });
  std::thread reader([&] {
    uint64_t last = 0;
    while (!done.load()) {
      uint64_t now = catalog.Current()->version;
      if (now < last) went_back = true;
      last = now;
    }
  });
  for (std::thread& t : threads) t.join();
  done = true;
  refresher.join();
  reader.join();
  EXPECT_FALSE(went_back.load());
  EXPECT_EQ(catalog.Current()->version, static_cast<uint64_t>(kWriters * kWritesEach));
  EXPECT_EQ(catalog.Current()->roles.size(), static_cast<size_t>(kWriters * kWritesEach));
}

}  // namespace
}  // namespace lakegate::catalog
