// The keys that stay outside the state store: every node sharing a store must
// bring the same ones, and a node with another key (or none) refuses to start
// with a clear error instead of failing every login.
#include "app/state_keys.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "app/stores.h"
#include "common/base64url.h"
#include "common/files.h"
#include "common/random.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace lakegate::app {
namespace {

using ::lakegate::testing::HasStatus;
using ::lakegate::testing::TempDir;

// A node's stack: its own state_dir (key files), the shared store.
config::StackConfig NodeStack(const TempDir& dir, const std::string& node) {
  config::StackConfig stack;
  stack.state_dir = dir.File(node);
  std::filesystem::create_directories(stack.state_dir);
  return stack;
}

class StateKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::unsetenv("LAKEGATE_HASH_KEY");
    ::unsetenv("LAKEGATE_MASK_KEY");
    auto opened = OpenStore("sqlite:" + dir_.File("shared.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(*opened);
  }
  void TearDown() override {
    ::unsetenv("LAKEGATE_HASH_KEY");
    ::unsetenv("LAKEGATE_MASK_KEY");
  }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(StateKeysTest, FirstNodeCreatesTheKeyFileAndTheStoreKeepsOnlyACheckValue) {
  config::StackConfig a = NodeStack(dir_, "a");
  auto key = LoadStateKey(StateKey::kSecretHash, a, *store_);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  struct stat st {};
  ASSERT_EQ(::stat((a.state_dir + "/hash.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto check = store_->GetSetting("hash_key_check");
  ASSERT_TRUE(check.ok() && check->has_value());
  EXPECT_EQ((*check)->find(Base64UrlEncode(key->Reveal())), std::string::npos);
  // Loading again gives the same key.
  auto again = LoadStateKey(StateKey::kSecretHash, a, *store_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->Reveal(), key->Reveal());
}

TEST_F(StateKeysTest, ANodeWithoutTheKeyFileRefusesToStart) {
  ASSERT_TRUE(LoadStateKey(StateKey::kSecretHash, NodeStack(dir_, "a"), *store_).ok());
  config::StackConfig b = NodeStack(dir_, "b");
  auto key = LoadStateKey(StateKey::kSecretHash, b, *store_);
  EXPECT_TRUE(HasStatus(key.status(), StatusCode::kFailedPrecondition,
                        "already has a secret-hash key, but " + b.state_dir +
                            "/hash.key does not exist: copy that file"));
  EXPECT_FALSE(std::filesystem::exists(b.state_dir + "/hash.key")) << "made a key of its own";
}

TEST_F(StateKeysTest, ANodeWithAnotherKeyRefusesToStart) {
  ASSERT_TRUE(LoadStateKey(StateKey::kSecretHash, NodeStack(dir_, "a"), *store_).ok());
  config::StackConfig b = NodeStack(dir_, "b");
  ASSERT_TRUE(
      WriteFileAtomic(b.state_dir + "/hash.key", Base64UrlEncode(RandomBytes(32)) + "\n").ok());
  auto key = LoadStateKey(StateKey::kSecretHash, b, *store_);
  EXPECT_TRUE(HasStatus(key.status(), StatusCode::kFailedPrecondition,
                        "is not the one this state store was set up with, so no stored client "
                        "secret would verify"));
}

TEST_F(StateKeysTest, ACopiedKeyFileOrTheEnvironmentVariableIsAccepted) {
  config::StackConfig a = NodeStack(dir_, "a");
  auto key = LoadStateKey(StateKey::kSecretHash, a, *store_);
  ASSERT_TRUE(key.ok());
  // A configured path (state.hash_key_file) holding a copy.
  config::StackConfig b = NodeStack(dir_, "b");
  b.state.hash_key_file = dir_.File("b-hash.key");
  std::filesystem::copy_file(a.state_dir + "/hash.key", b.state.hash_key_file);
  auto copied = LoadStateKey(StateKey::kSecretHash, b, *store_);
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_EQ(copied->Reveal(), key->Reveal());
  // $LAKEGATE_HASH_KEY wins over any file.
  config::StackConfig c = NodeStack(dir_, "c");
  ::setenv("LAKEGATE_HASH_KEY", Base64UrlEncode(key->Reveal()).c_str(), 1);
  auto from_env = LoadStateKey(StateKey::kSecretHash, c, *store_);
  ASSERT_TRUE(from_env.ok()) << from_env.status().ToString();
  EXPECT_EQ(from_env->Reveal(), key->Reveal());
  ::setenv("LAKEGATE_HASH_KEY", Base64UrlEncode(RandomBytes(32)).c_str(), 1);
  EXPECT_TRUE(HasStatus(LoadStateKey(StateKey::kSecretHash, c, *store_).status(),
                        StatusCode::kFailedPrecondition, "from $LAKEGATE_HASH_KEY is not the one"));
  ::setenv("LAKEGATE_HASH_KEY", "too-short", 1);
  EXPECT_TRUE(HasStatus(LoadStateKey(StateKey::kSecretHash, c, *store_).status(),
                        StatusCode::kInvalidArgument,
                        "$LAKEGATE_HASH_KEY is not a secret-hash key"));
}

TEST_F(StateKeysTest, TheMaskKeyIsCheckedOnItsOwn) {
  config::StackConfig a = NodeStack(dir_, "a");
  ASSERT_TRUE(LoadStateKey(StateKey::kSecretHash, a, *store_).ok());
  ASSERT_TRUE(LoadStateKey(StateKey::kMask, a, *store_).ok());
  config::StackConfig b = NodeStack(dir_, "b");
  std::filesystem::copy_file(a.state_dir + "/hash.key", b.state_dir + "/hash.key");
  EXPECT_TRUE(LoadStateKey(StateKey::kSecretHash, b, *store_).ok());
  EXPECT_TRUE(HasStatus(LoadStateKey(StateKey::kMask, b, *store_).status(),
                        StatusCode::kFailedPrecondition, "column-mask key"));
}

}  // namespace
}  // namespace lakegate::app
