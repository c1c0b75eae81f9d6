#include "jose/claims.h"

#include <gtest/gtest.h>

namespace lakegate::jose {
namespace {

TEST(EncodeAccessTokenClaimsTest, FullClaimsInFixedOrder) {
  AccessTokenClaims c;
  c.iss = "https://auth.example";
  c.sub = "etl-service";
  c.aud = {"athena-api"};
  c.client_id = "etl-service";
  c.scope = "query.read query.write";
  c.token_use = "access";
  c.auth_time = 1799999000;
  c.iat = 1800000000;
  c.nbf = 1800000000;
  c.exp = 1800003600;
  c.jti = "abc";
  c.version = 2;
  EXPECT_EQ(EncodeAccessTokenClaims(c),
            R"({"iss":"https://auth.example","sub":"etl-service","aud":"athena-api",)"
            R"("client_id":"etl-service","scope":"query.read query.write","token_use":"access",)"
            R"("auth_time":1799999000,"iat":1800000000,"nbf":1800000000,"exp":1800003600,)"
            R"("jti":"abc","version":2})");
}

TEST(EncodeAccessTokenClaimsTest, OmitsEmptyAndUnset) {
  AccessTokenClaims c;
  c.iat = 1;
  c.exp = 2;
  EXPECT_EQ(EncodeAccessTokenClaims(c), R"({"iat":1,"exp":2})");
}

TEST(EncodeAccessTokenClaimsTest, AudienceArrayWhenSeveral) {
  AccessTokenClaims c;
  c.aud = {"a", "b"};
  c.exp = 5;
  EXPECT_EQ(EncodeAccessTokenClaims(c), R"({"aud":["a","b"],"iat":0,"exp":5})");
}

TEST(EncodeAccessTokenClaimsTest, EscapesStrings) {
  AccessTokenClaims c;
  c.sub = "a\"b\\c\n\x01";
  c.scope = "bad\xff";
  c.exp = -1;
  EXPECT_EQ(EncodeAccessTokenClaims(c),
            R"({"sub":"a\"b\\c\n\u0001","scope":"bad\ufffd","iat":0,"exp":-1})");
}

}  // namespace
}  // namespace lakegate::jose
