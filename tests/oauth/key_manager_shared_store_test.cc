// Key management on a state store many nodes share (PostgreSQL): nodes that
// start together on an empty store make one first signing key, and key
// rotations run on several nodes at once make one new key each, always
// leaving exactly one current key that every node's snapshot signs with.
// Needs the `postgres` ctest fixture (tests/store/postgres_test_server.h).
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "oauth/key_manager.h"
#include "store/postgres/postgres_store.h"
#include "store/postgres_test_server.h"
#include "store/state_cache.h"

namespace lakegate::oauth {
namespace {

using ::lakegate::testing::PostgresTestServerUrl;
using ::lakegate::testing::TestDatabase;

class KeyManagerSharedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string server = PostgresTestServerUrl();
    if (server.empty()) GTEST_SKIP() << "no PostgreSQL test server ($LAKEGATE_TEST_POSTGRES_DIR)";
    db_ = std::make_unique<TestDatabase>(server);
    for (int i = 0; i < kNodes; ++i) {
      auto store = store::OpenPostgresStore(db_->url());
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      nodes_.push_back(std::move(*store));
    }
  }

  // Runs `work(node)` on every node at once.
  template <typename Work>
  void OnEveryNodeAtOnce(Work work) {
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < kNodes; ++i) {
      threads.emplace_back([&, i] {
        while (!go.load()) std::this_thread::yield();
        work(*nodes_[static_cast<size_t>(i)]);
      });
    }
    go = true;
    for (auto& t : threads) t.join();
  }

  static constexpr int kNodes = 4;
  std::unique_ptr<TestDatabase> db_;
  std::vector<std::unique_ptr<store::Store>> nodes_;
};

int CurrentKeys(store::Store& store) {
  auto keys = store.ListSigningKeys();
  EXPECT_TRUE(keys.ok()) << keys.status().ToString();
  int current = 0;
  if (keys.ok()) {
    for (const auto& key : *keys) current += key.retired_at == 0 ? 1 : 0;
  }
  return current;
}

TEST_F(KeyManagerSharedStoreTest, NodesStartingTogetherMakeOneFirstKey) {
  OnEveryNodeAtOnce([](store::Store& node) {
    Status s = KeyManager::Maintain(node, SystemClock::Get(), crypto::Algorithm::kES256,
                                    /*enforce_algorithm=*/true);
    EXPECT_TRUE(s.ok()) << s.ToString();
  });
  auto keys = nodes_[0]->ListSigningKeys();
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 1u) << "each node made a first key of its own";
}

TEST_F(KeyManagerSharedStoreTest, ConcurrentRotationsMakeOneKeyEachAndEveryNodeSignsWithIt) {
  ASSERT_TRUE(
      KeyManager::Maintain(*nodes_[0], SystemClock::Get(), crypto::Algorithm::kES256, true).ok());
  constexpr int kRotationsPerNode = 3;
  OnEveryNodeAtOnce([](store::Store& node) {
    for (int i = 0; i < kRotationsPerNode; ++i) {
      auto kid = KeyManager::Rotate(node, SystemClock::Get(), crypto::Algorithm::kES256, 3600);
      EXPECT_TRUE(kid.ok()) << kid.status().ToString();
    }
  });
  auto keys = nodes_[0]->ListSigningKeys();
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), static_cast<size_t>(1 + kNodes * kRotationsPerNode));
  EXPECT_EQ(CurrentKeys(*nodes_[0]), 1);

  // Every node's snapshot signs with the same key and publishes the same JWKS.
  std::set<std::string> signers, jwks;
  for (auto& node : nodes_) {
    store::StateCache cache(*node);
    ASSERT_TRUE(cache.Refresh().ok());
    KeyManager manager(SystemClock::Get());
    ASSERT_TRUE(manager.Rebuild(*cache.Current()).ok());
    ASSERT_NE(manager.Current()->signer, nullptr);
    signers.insert(manager.Current()->signer->kid());
    jwks.insert(manager.Current()->jwks_json);
  }
  EXPECT_EQ(signers.size(), 1u);
  EXPECT_EQ(jwks.size(), 1u);
}

}  // namespace
}  // namespace lakegate::oauth
