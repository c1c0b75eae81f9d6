// Access keys: the shape of generated ids and secrets, and sealing the secret
// under a sub-key of the secret-hash key, bound to the key's id and client.
#include "oauth/access_key.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "common/random.h"
#include "testing/status_matchers.h"

namespace lakegate::oauth {
namespace {

TEST(AccessKeyTest, GeneratedIdsLookLikeAwsOnesWithOurPrefix) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string id = GenerateAccessKeyId();
    ASSERT_EQ(id.size(), kAccessKeyIdLength);
    EXPECT_EQ(id.substr(0, 4), "LGAK");
    EXPECT_EQ(id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), std::string::npos) << id;
    EXPECT_TRUE(IsValidAccessKeyId(id));
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(AccessKeyTest, GeneratedSecretsAre40UrlSafeCharacters) {
  for (int i = 0; i < 50; ++i) {
    SecretString secret = GenerateSecretAccessKey();
    ASSERT_EQ(secret.size(), kSecretAccessKeyLength);
    const std::string text(secret.Reveal());
    EXPECT_EQ(
        text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
  }
}

TEST(AccessKeyTest, IdValidation) {
  EXPECT_TRUE(IsValidAccessKeyId("AKIAIOSFODNN7EXAMPLE"));
  EXPECT_TRUE(IsValidAccessKeyId(std::string(128, 'A')));
  EXPECT_FALSE(IsValidAccessKeyId("SHORT"));
  EXPECT_FALSE(IsValidAccessKeyId(std::string(129, 'A')));
  EXPECT_FALSE(IsValidAccessKeyId("akiaiosfodnn7example"));
  EXPECT_FALSE(IsValidAccessKeyId("AKIAIOSFODNN7EXAMPL/"));
}

TEST(AccessKeySealerTest, SealsAndOpensBoundToIdAndClient) {
  const SecretString hash_key(RandomBytes(32));
  AccessKeySealer sealer(hash_key);
  const SecretString secret = GenerateSecretAccessKey();
  store::AccessKeyRecord record{
      .access_key_id = "LGAKAAAAAAAAAAAAAAAA",
      .client_id = "client-1",
      .secret_ciphertext = sealer.Seal("LGAKAAAAAAAAAAAAAAAA", "client-1", secret)};
  EXPECT_EQ(record.secret_ciphertext.substr(0, 8), "a256gcm$");
  EXPECT_EQ(record.secret_ciphertext.find(secret.Reveal()), std::string::npos);
  auto opened = sealer.Open(record);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->Reveal(), secret.Reveal());
  // Another node with the same hash key opens it too.
  EXPECT_TRUE(AccessKeySealer(hash_key).Open(record).ok());

  // Moved to another key's row or client: refused.
  store::AccessKeyRecord moved = record;
  moved.client_id = "client-2";
  EXPECT_TRUE(lakegate::testing::HasStatus(sealer.Open(moved).status(),
                                           StatusCode::kFailedPrecondition, "does not decrypt"));
  moved = record;
  moved.access_key_id = "LGAKBBBBBBBBBBBBBBBB";
  EXPECT_EQ(sealer.Open(moved).status().code(), StatusCode::kFailedPrecondition);
  // Another hash key, altered or foreign text: refused.
  EXPECT_EQ(AccessKeySealer(SecretString(RandomBytes(32))).Open(record).status().code(),
            StatusCode::kFailedPrecondition);
  store::AccessKeyRecord altered = record;
  char& middle = altered.secret_ciphertext[altered.secret_ciphertext.size() / 2];
  middle = middle == 'A' ? 'B' : 'A';
  EXPECT_EQ(sealer.Open(altered).status().code(), StatusCode::kFailedPrecondition);
  altered.secret_ciphertext = "plaintext-secret";
  EXPECT_EQ(sealer.Open(altered).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace lakegate::oauth
