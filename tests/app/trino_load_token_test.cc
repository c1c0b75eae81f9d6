// The token source of `lakegate load` into Trino (app/trino_link.h): tokens
// for the load principal only, signed by the state store's current key, so
// that Trino (which trusts the keys lakegate publishes) runs the load.
#include <gtest/gtest.h>

#include <string>

#include "app/stores.h"
#include "app/trino_link.h"
#include "common/clock.h"
#include "crypto/keys.h"
#include "engine/trino/trino_engine.h"
#include "jose/jwk.h"
#include "jose/jws.h"
#include "testing/temp_dir.h"

namespace lakegate::app {
namespace {

using ::lakegate::testing::TempDir;

class TrinoLoadTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = OpenStore("sqlite:" + dir_.File("state.db"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(*opened);
  }

  // Adds a key; `retired` keys no longer sign.
  crypto::PublicKey AddKey(const std::string& kid, int64_t created_at, bool retired) {
    auto key = crypto::PrivateKey::Generate(crypto::Algorithm::kES256);
    EXPECT_TRUE(key.ok());
    store::SigningKeyRecord record;
    record.kid = kid;
    record.algorithm = "ES256";
    record.private_pem = key->ToPem();
    record.created_at = created_at;
    record.retired_at = retired ? created_at + 1 : 0;
    record.publish_until = retired ? SystemClock::Get().NowSeconds() + 3600 : 0;
    EXPECT_TRUE(store_->InsertSigningKey(record).ok());
    return key->Public();
  }

  TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(TrinoLoadTokenTest, AStoreWithoutASigningKeySaysToStartLakegateFirst) {
  auto source = TrinoLoadTokenSource(*store_, "http://127.0.0.1:8080");
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(source.status().message().find("start lakegate"), std::string::npos);
}

TEST_F(TrinoLoadTokenTest, SignsLoadTokensWithTheCurrentKeyOnly) {
  AddKey("old", 100, /*retired=*/true);
  crypto::PublicKey current = AddKey("current", 200, /*retired=*/false);
  auto source = TrinoLoadTokenSource(*store_, "http://127.0.0.1:8080");
  ASSERT_TRUE(source.ok()) << source.status().ToString();

  auto token = (*source)(engine::kTrinoLoadPrincipal);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  jose::KeySet keys({jose::Jwk{.kid = "current", .key = current}});
  jose::VerifyOptions options;
  options.issuer = "http://127.0.0.1:8080";
  options.token_use = "access";
  const int64_t now = SystemClock::Get().NowSeconds();
  auto verified = jose::Verify(token->Reveal(), keys, options, now);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->kid, "current");
  EXPECT_EQ(verified->claims.sub, engine::kTrinoLoadPrincipal);
  EXPECT_EQ(verified->claims.client_id, engine::kTrinoLoadPrincipal);
  EXPECT_LE(verified->claims.exp, now + 300);  // short-lived

  // Only the load principal: never a role's engine principal or a client.
  for (std::string_view other : {"lakegate:admin:lf-super-user-role", "some-client-id", ""}) {
    auto refused = (*source)(other);
    ASSERT_FALSE(refused.ok()) << other;
    EXPECT_EQ(refused.status().code(), StatusCode::kPermissionDenied);
  }
}

}  // namespace
}  // namespace lakegate::app
