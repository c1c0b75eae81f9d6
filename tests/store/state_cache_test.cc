// StateCache: one consistent snapshot of the store, published when the store
// changed, with listeners that derive their views once per change.
#include "store/state_cache.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "common/random.h"
#include "store/sqlite/sqlite_store.h"

namespace lakegate::store {
namespace {

ClientRecord Client(std::string id, std::string name) {
  ClientRecord c;
  c.client_id = std::move(id);
  c.name = std::move(name);
  c.secret_hash = "h";
  return c;
}

TEST(StateCacheTest, EmptyUntilTheFirstRefreshThenACopyOfTheStore) {
  auto store = NewInMemoryStore();
  ASSERT_TRUE(store->InsertClient(Client("id-1", "one")).ok());
  ASSERT_TRUE(store->AddRevocation("jti-1", 2'000'000'000).ok());
  StateCache cache(*store);
  EXPECT_EQ(cache.Current()->FindClient("id-1"), nullptr);
  ASSERT_TRUE(cache.Refresh().ok());
  auto snapshot = cache.Current();
  ASSERT_NE(snapshot->FindClient("id-1"), nullptr);
  EXPECT_EQ(snapshot->FindClient("id-1")->name, "one");
  EXPECT_EQ(snapshot->FindClient("id-2"), nullptr);
  EXPECT_TRUE(snapshot->IsRevoked("jti-1"));
  EXPECT_FALSE(snapshot->IsRevoked("jti-2"));
}

TEST(StateCacheTest, HoldsAccessKeysAndDropsThoseOfADeletedClient) {
  auto store = NewInMemoryStore();
  ASSERT_TRUE(store->InsertClient(Client("id-1", "one")).ok());
  AccessKeyRecord key{.access_key_id = "LGAKEXAMPLE",
                      .client_id = "id-1",
                      .secret_ciphertext = "sealed",
                      .created_at = 5};
  ASSERT_TRUE(store->InsertAccessKey(key).ok());
  StateCache cache(*store);
  ASSERT_TRUE(cache.Refresh().ok());
  const AccessKeyRecord* found = cache.Current()->FindAccessKey("LGAKEXAMPLE");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(*found, key);
  EXPECT_EQ(cache.Current()->FindAccessKey("LGAKOTHER"), nullptr);
  ASSERT_TRUE(store->DeleteClient("id-1").ok());
  ASSERT_TRUE(cache.Refresh().ok());
  EXPECT_EQ(cache.Current()->FindAccessKey("LGAKEXAMPLE"), nullptr);
}

TEST(StateCacheTest, PublishesOnlyWhenTheStoreChanged) {
  auto store = NewInMemoryStore();
  StateCache cache(*store);
  int published = 0;
  cache.Subscribe([&](const std::shared_ptr<const StateSnapshot>&) { ++published; });
  EXPECT_EQ(published, 1);  // once at subscription, with the current snapshot
  ASSERT_TRUE(cache.Refresh().ok());
  EXPECT_EQ(published, 2);
  auto before = cache.Current();
  ASSERT_TRUE(cache.Refresh().ok());
  EXPECT_EQ(published, 2);
  EXPECT_EQ(cache.Current(), before);  // the same snapshot: nothing changed
  ASSERT_TRUE(store->InsertClient(Client("id-1", "one")).ok());
  ASSERT_TRUE(cache.Refresh().ok());
  EXPECT_EQ(published, 3);
  EXPECT_NE(cache.Current()->FindClient("id-1"), nullptr);
  // Readers keep the snapshot they took.
  EXPECT_EQ(before->FindClient("id-1"), nullptr);
}

TEST(StateCacheTest, SeesWritesOfAnotherProcessSharingTheStore) {
  auto dir = std::filesystem::temp_directory_path() / ("lg-state-" + RandomHex(6));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "state.db").string();
  {
    auto ours = OpenSqliteStore(path);
    auto theirs = OpenSqliteStore(path);
    ASSERT_TRUE(ours.ok() && theirs.ok());
    StateCache cache(**ours);
    ASSERT_TRUE(cache.Refresh().ok());
    ASSERT_TRUE((*theirs)->InsertClient(Client("id-x", "x")).ok());
    ASSERT_TRUE(cache.Refresh().ok());
    EXPECT_NE(cache.Current()->FindClient("id-x"), nullptr);
  }
  std::filesystem::remove_all(dir);
}

TEST(StateCacheTest, KeysArePublishedUntilTheirPublicationEnds) {
  SigningKeyRecord current;
  EXPECT_TRUE(IsPublished(current, 100));
  SigningKeyRecord retired;
  retired.retired_at = 50;
  retired.publish_until = 100;
  EXPECT_TRUE(IsPublished(retired, 99));
  EXPECT_FALSE(IsPublished(retired, 100));
}

}  // namespace
}  // namespace lakegate::store
