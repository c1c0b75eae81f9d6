// SigV4: the canonicalisation against the public aws-sig-v4-test-suite
// vectors (credentials AKIDEXAMPLE, 2015-08-30T12:36:00Z, us-east-1, service
// "service"), and SigV4Authenticator's acceptance and each rejection against
// a real in-memory store's access keys.
#include "gateway/sigv4.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "gateway/sigv4_authenticator.h"
#include "oauth/access_key.h"
#include "store/sqlite/sqlite_store.h"
#include "store/state_cache.h"
#include "testing/status_matchers.h"

namespace lakegate::gateway {
namespace {

using lakegate::testing::HasReason;

constexpr char kSuiteKeyId[] = "AKIDEXAMPLE";
constexpr char kSuiteSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr char kSuiteDate[] = "20150830T123600Z";
constexpr char kSuiteCredential[] = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";

http::Request SuiteRequest(std::string method, std::string target,
                           std::vector<http::Header> extra = {}, std::string body = "") {
  http::Request r;
  r.method_text = std::move(method);
  r.method = http::ParseMethod(r.method_text);
  r.target = target;
  const size_t q = target.find('?');
  r.path = target.substr(0, q);
  r.query = q == std::string::npos ? "" : target.substr(q + 1);
  r.headers.push_back({"Host", "example.amazonaws.com"});
  for (http::Header& h : extra) r.headers.push_back(std::move(h));
  r.headers.push_back({"X-Amz-Date", kSuiteDate});
  r.body = std::move(body);
  r.remote_address = "127.0.0.1";
  return r;
}

sigv4::Authorization SuiteAuth(std::string signed_headers) {
  auto parsed = sigv4::ParseAuthorization(std::string("AWS4-HMAC-SHA256 Credential=") +
                                          kSuiteCredential + ", SignedHeaders=" + signed_headers +
                                          ", Signature=" + std::string(64, '0'));
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return *parsed;
}

// The signature the suite publishes for a request, computed the way a
// verifier must.
std::string SignSuite(const http::Request& r, const std::string& signed_headers) {
  sigv4::Authorization auth = SuiteAuth(signed_headers);
  auto canonical = sigv4::CanonicalRequest(r, auth, HexEncode(crypto::Sha256(r.body)));
  EXPECT_TRUE(canonical.ok()) << canonical.status().ToString();
  return sigv4::Signature(sigv4::SigningKey(kSuiteSecret, auth.credential),
                          sigv4::StringToSign(kSuiteDate, auth.credential.Scope(), *canonical));
}

struct Vector {
  const char* name;
  const char* method;
  const char* target;
  std::vector<http::Header> headers;
  const char* body;
  const char* signed_headers;
  const char* signature;
};

TEST(SigV4SuiteTest, PublishedVectorsSignAlike) {
  const std::vector<Vector> vectors = {
      {"get-vanilla",
       "GET",
       "/",
       {},
       "",
       "host;x-amz-date",
       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"get-unreserved",
       "GET",
       "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
       {},
       "",
       "host;x-amz-date",
       "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
      {"get-slashes",
       "GET",
       "//example//",
       {},
       "",
       "host;x-amz-date",
       "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"},
      {"get-vanilla-query-order-key-case",
       "GET",
       "/?Param2=value2&Param1=value1",
       {},
       "",
       "host;x-amz-date",
       "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      {"get-vanilla-query-order-value",
       "GET",
       "/?Param1=value2&Param1=value1",
       {},
       "",
       "host;x-amz-date",
       "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"},
      {"get-vanilla-utf8-query",
       "GET",
       "/?%E1%88%B4=bar",
       {},
       "",
       "host;x-amz-date",
       "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
      {"get-header-value-order",
       "GET",
       "/",
       {{"My-Header1", "value4"},
        {"My-Header1", "value1"},
        {"My-Header1", "value3"},
        {"My-Header1", "value2"}},
       "",
       "host;my-header1;x-amz-date",
       "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
      {"get-header-key-duplicate",
       "GET",
       "/",
       {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}},
       "",
       "host;my-header1;x-amz-date",
       "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
      {"get-header-value-trim",
       "GET",
       "/",
       {{"My-Header1", " value1"}, {"My-Header2", "\"a   b   c\""}},
       "",
       "host;my-header1;my-header2;x-amz-date",
       "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
      {"post-x-www-form-urlencoded",
       "POST",
       "/",
       {{"Content-Type", "application/x-www-form-urlencoded"}},
       "Param1=value1",
       "content-type;host;x-amz-date",
       "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
  };
  for (const Vector& v : vectors) {
    http::Request r = SuiteRequest(v.method, v.target, v.headers, v.body);
    EXPECT_EQ(SignSuite(r, v.signed_headers), v.signature) << v.name;
  }
}

TEST(SigV4SuiteTest, CanonicalRequestOfPostFormHashesAsPublished) {
  http::Request r = SuiteRequest(
      "POST", "/", {{"Content-Type", "application/x-www-form-urlencoded"}}, "Param1=value1");
  auto canonical = sigv4::CanonicalRequest(r, SuiteAuth("content-type;host;x-amz-date"),
                                           HexEncode(crypto::Sha256(r.body)));
  ASSERT_TRUE(canonical.ok());
  EXPECT_EQ(*canonical,
            "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\n"
            "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "content-type;host;x-amz-date\n"
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  EXPECT_EQ(HexEncode(crypto::Sha256(*canonical)),
            "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");
}

TEST(SigV4CanonicalTest, UriIsNormalisedAndEncodedTwice) {
  EXPECT_EQ(sigv4::CanonicalUri(""), "/");
  EXPECT_EQ(sigv4::CanonicalUri("/"), "/");
  EXPECT_EQ(sigv4::CanonicalUri("//example//"), "/example/");
  EXPECT_EQ(sigv4::CanonicalUri("/a/./b/../c"), "/a/c");
  EXPECT_EQ(sigv4::CanonicalUri("/example%20space/"), "/example%2520space/");
  EXPECT_EQ(sigv4::CanonicalUri("/a%2Fb"), "/a%252Fb");
  EXPECT_EQ(sigv4::CanonicalUri("/a/..b/.c"), "/a/..b/.c");
  EXPECT_EQ(sigv4::CanonicalUri("a/b"), "/a/b");
  EXPECT_EQ(sigv4::CanonicalUri("/../.."), "/");
}

TEST(SigV4CanonicalTest, QueryIsDecodedReencodedAndSorted) {
  EXPECT_EQ(sigv4::CanonicalQuery(""), "");
  EXPECT_EQ(sigv4::CanonicalQuery("Param2=value2&Param1=value1"), "Param1=value1&Param2=value2");
  EXPECT_EQ(sigv4::CanonicalQuery("a=10&a=9"), "a=10&a=9");
  EXPECT_EQ(sigv4::CanonicalQuery("x=a.b&x=a%2Fb"), "x=a%2Fb&x=a.b");
  EXPECT_EQ(sigv4::CanonicalQuery("q=a+b"), "q=a%2Bb");
  EXPECT_EQ(sigv4::CanonicalQuery("q=a%20b"), "q=a%20b");
  EXPECT_EQ(sigv4::CanonicalQuery("b&a=1"), "a=1&b=");
  EXPECT_EQ(sigv4::CanonicalQuery("a=1=2"), "a=1%3D2");
  EXPECT_EQ(sigv4::CanonicalQuery("a=%zz"), "a=%25zz");
}

TEST(SigV4CanonicalTest, SignedHeaderMissingFromTheRequestFails) {
  http::Request r = SuiteRequest("GET", "/");
  auto headers = sigv4::CanonicalHeaders(r, {"host", "my-header1", "x-amz-date"});
  EXPECT_TRUE(lakegate::testing::HasStatus(headers.status(), StatusCode::kInvalidArgument,
                                           "\"my-header1\" is not in the request"));
}

TEST(SigV4ParseTest, AcceptsTheSuitesHeader) {
  auto auth = sigv4::ParseAuthorization(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
      "SignedHeaders=host;x-amz-date, "
      "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  ASSERT_TRUE(auth.ok()) << auth.status().ToString();
  EXPECT_EQ(auth->credential.access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(auth->credential.Scope(), "20150830/us-east-1/service/aws4_request");
  EXPECT_EQ(auth->signed_headers, (std::vector<std::string>{"host", "x-amz-date"}));
}

TEST(SigV4ParseTest, RejectsMalformedHeaders) {
  const std::string sig = ", Signature=" + std::string(64, 'a');
  const std::string cred = "Credential=AKID/20150830/us-east-1/athena/aws4_request";
  for (const std::string& bad : {
           std::string("Bearer abc"),
           "AWS4-HMAC-SHA256 SignedHeaders=host" + sig,
           "AWS4-HMAC-SHA256 " + cred + sig,
           "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host",
           "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=abc",
           "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + std::string(64, 'A'),
           "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date;host" + sig,
           "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=Host;x-amz-date" + sig,
           "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;host" + sig,
           "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;;x" + sig,
           "AWS4-HMAC-SHA256 " + cred + ", " + cred + ", SignedHeaders=host" + sig,
           "AWS4-HMAC-SHA256 Credential=AKID/2015083/us-east-1/athena/aws4_request, "
           "SignedHeaders=host" +
               sig,
           "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/athena/aws5_request, "
           "SignedHeaders=host" +
               sig,
           "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/athena, SignedHeaders=host" + sig,
           "AWS4-HMAC-SHA256 Credential=AKID//us-east-1/athena/aws4_request, SignedHeaders=host" +
               sig,
           "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Extra=1" + sig,
       }) {
    auto auth = sigv4::ParseAuthorization(bad);
    EXPECT_EQ(auth.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(SigV4DateTest, ParsesAndFormatsBasicDateTimes) {
  int64_t t = 0;
  ASSERT_TRUE(sigv4::ParseAmzDate("20150830T123600Z", t));
  EXPECT_EQ(t, 1440938160);
  EXPECT_EQ(sigv4::FormatAmzDate(t), "20150830T123600Z");
  for (const char* bad :
       {"", "20150830T123600", "2015-08-30T12:36:00Z", "20150230T123600Z", "20151330T123600Z",
        "20150830T253600Z", "20150830X123600Z", "01250830T123600Z"}) {
    EXPECT_FALSE(sigv4::ParseAmzDate(bad, t)) << bad;
  }
}

// ---------------------------------------------------------------------------
// SigV4Authenticator against an in-memory store.

class SigV4AuthenticatorTest : public ::testing::Test {
 protected:
  static constexpr int64_t kNow = 1440938160;  // 2015-08-30T12:36:00Z

  void SetUp() override {
    store::ClientRecord client;
    client.client_id = "client-etl";
    client.name = "etl-service";
    client.scopes = {"athena-api/query.read", "athena-api/query.write"};
    client.secret_hash = "h";
    ASSERT_TRUE(store_->InsertClient(client).ok());
    ASSERT_TRUE(store_
                    ->InsertAccessKey({.access_key_id = kSuiteKeyId,
                                       .client_id = "client-etl",
                                       .secret_ciphertext = sealer_.Seal(
                                           kSuiteKeyId, "client-etl", SecretString(kSuiteSecret)),
                                       .created_at = 1})
                    .ok());
    ASSERT_TRUE(cache_.Refresh().ok());
  }

  std::unique_ptr<SigV4Authenticator> Make(SigV4Options options = {}) {
    options.service = "service";
    return std::make_unique<SigV4Authenticator>(
        options, [this] { return cache_.Current(); }, sealer_, "https://lakegate.test", clock_);
  }

  // A request signed like a client would, with `secret`, at `date`.
  http::Request Signed(std::string body = "{\"QueryString\":\"SELECT 1\"}",
                       std::string secret = kSuiteSecret, std::string date = kSuiteDate,
                       std::string service = "service",
                       std::string signed_headers = "content-type;host;x-amz-date",
                       std::string key_id = kSuiteKeyId) {
    http::Request r = SuiteRequest("POST", "/", {{"Content-Type", "application/x-amz-json-1.1"}},
                                   std::move(body));
    r.headers.back().value = date;
    sigv4::Credential credential{.access_key_id = key_id,
                                 .date = date.substr(0, 8),
                                 .region = "us-east-1",
                                 .service = service};
    sigv4::Authorization auth = SuiteAuth(signed_headers);
    auth.credential = credential;
    auto canonical = sigv4::CanonicalRequest(r, auth, HexEncode(crypto::Sha256(r.body)));
    EXPECT_TRUE(canonical.ok()) << canonical.status().ToString();
    const std::string signature =
        sigv4::Signature(sigv4::SigningKey(secret, credential),
                         sigv4::StringToSign(date, credential.Scope(), *canonical));
    r.headers.push_back(
        {"Authorization", "AWS4-HMAC-SHA256 Credential=" + key_id + "/" + credential.Scope() +
                              ", SignedHeaders=" + signed_headers + ", Signature=" + signature});
    return r;
  }

  std::unique_ptr<store::Store> store_ = store::NewInMemoryStore();
  store::StateCache cache_{*store_};
  oauth::AccessKeySealer sealer_{SecretString(RandomBytes(32))};
  FakeClock clock_{kNow};
};

TEST_F(SigV4AuthenticatorTest, TheSuitesOwnAuthorizationHeaderAuthenticates) {
  http::Request r = SuiteRequest("GET", "/");
  r.headers.push_back(
      {"Authorization",
       std::string("AWS4-HMAC-SHA256 Credential=") + kSuiteCredential +
           ", SignedHeaders=host;x-amz-date, "
           "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"});
  auto identity = Make()->Authenticate(r);
  ASSERT_TRUE(identity.ok()) << identity.status().ToString();
  EXPECT_EQ((*identity)->client_id, "client-etl");
  EXPECT_EQ((*identity)->client_name, "etl-service");
  EXPECT_TRUE((*identity)->own);
  EXPECT_EQ((*identity)->issuer, "https://lakegate.test");
  EXPECT_EQ((*identity)->scopes,
            (std::vector<std::string>{"athena-api/query.read", "athena-api/query.write"}));
}

TEST_F(SigV4AuthenticatorTest, AcceptsAnySignedRequestAndCachesTheSigningKey) {
  auto auth = Make();
  ASSERT_TRUE(auth->Authenticate(Signed()).ok());
  ASSERT_TRUE(auth->Authenticate(Signed("{}")).ok());
  EXPECT_EQ(auth->cached_signing_keys(), 1u);
  // A matching X-Amz-Content-Sha256 is fine, signed or not.
  http::Request r = Signed("{}");
  r.headers.push_back({"X-Amz-Content-Sha256", HexEncode(crypto::Sha256("{}"))});
  auto identity = auth->Authenticate(r);
  EXPECT_TRUE(identity.ok()) << identity.status().ToString();
}

TEST_F(SigV4AuthenticatorTest, WrongSecretIsABadSignature) {
  auto s = Make()->Authenticate(Signed("{}", "not-the-secret")).status();
  EXPECT_TRUE(HasReason(s, SigV4Failure::kSignatureMismatch));
  EXPECT_EQ(s.reason_info().public_code, "InvalidSignatureException");
  EXPECT_EQ(s.reason_info().http_status, 403);
}

TEST_F(SigV4AuthenticatorTest, UnknownKeyIsAnUnrecognizedClient) {
  auto s = Make()
               ->Authenticate(Signed("{}", kSuiteSecret, kSuiteDate, "service",
                                     "content-type;host;x-amz-date", "LGAKUNKNOWN0000000000"))
               .status();
  EXPECT_TRUE(HasReason(s, SigV4Failure::kUnknownAccessKey));
  EXPECT_EQ(s.reason_info().public_code, "UnrecognizedClientException");
}

TEST_F(SigV4AuthenticatorTest, TamperedBodyIsABadSignature) {
  http::Request r = Signed("{\"QueryString\":\"SELECT name FROM members\"}");
  r.body = "{\"QueryString\":\"SELECT email FROM members\"}";
  EXPECT_TRUE(HasReason(Make()->Authenticate(r).status(), SigV4Failure::kSignatureMismatch));
}

TEST_F(SigV4AuthenticatorTest, TamperedSignedHeaderIsABadSignature) {
  http::Request r = Signed();
  r.headers[1].value = "application/json";  // Content-Type, signed
  EXPECT_TRUE(HasReason(Make()->Authenticate(r).status(), SigV4Failure::kSignatureMismatch));
}

TEST_F(SigV4AuthenticatorTest, OldDateHasExpired) {
  clock_.SetSeconds(kNow + 15 * 60 + 1);
  auto s = Make()->Authenticate(Signed()).status();
  EXPECT_TRUE(HasReason(s, SigV4Failure::kExpired));
  EXPECT_EQ(s.message(),
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z "
            "(20150830T125101Z - 15 min.)");
  EXPECT_EQ(s.reason_info().public_code, "InvalidSignatureException");
  // Within the skew it passes.
  clock_.SetSeconds(kNow + 15 * 60);
  EXPECT_TRUE(Make()->Authenticate(Signed()).ok());
}

TEST_F(SigV4AuthenticatorTest, FutureDateIsNotYetCurrent) {
  clock_.SetSeconds(kNow - 15 * 60 - 1);
  auto s = Make()->Authenticate(Signed()).status();
  EXPECT_TRUE(HasReason(s, SigV4Failure::kExpired));
  EXPECT_NE(s.message().find("Signature not yet current: 20150830T123600Z"), std::string::npos)
      << s.message();
}

TEST_F(SigV4AuthenticatorTest, HostAndDateMustBeSigned) {
  auto auth = Make();
  EXPECT_TRUE(HasReason(auth->Authenticate(Signed("{}", kSuiteSecret, kSuiteDate, "service",
                                                  "content-type;x-amz-date"))
                            .status(),
                        SigV4Failure::kIncompleteSignature));
  EXPECT_TRUE(HasReason(
      auth->Authenticate(Signed("{}", kSuiteSecret, kSuiteDate, "service", "content-type;host"))
          .status(),
      SigV4Failure::kIncompleteSignature));
  http::Request no_date = Signed();
  no_date.headers.erase(no_date.headers.begin() + 2);  // X-Amz-Date
  EXPECT_TRUE(HasReason(auth->Authenticate(no_date).status(), SigV4Failure::kIncompleteSignature));
}

TEST_F(SigV4AuthenticatorTest, WrongServiceOrScopeDateIsRefused) {
  auto auth = Make();
  auto s = auth->Authenticate(Signed("{}", kSuiteSecret, kSuiteDate, "s3")).status();
  EXPECT_TRUE(HasReason(s, SigV4Failure::kWrongScope));
  EXPECT_NE(s.message().find("correct service: 'service'"), std::string::npos) << s.message();
  // The credential's date must be x-amz-date's date.
  http::Request r = Signed();
  std::string& header = r.headers.back().value;
  header.replace(header.find("/20150830/"), 10, "/20150829/");
  s = auth->Authenticate(r).status();
  EXPECT_TRUE(HasReason(s, SigV4Failure::kWrongScope));
  EXPECT_NE(s.message().find("'20150829' != '20150830'"), std::string::npos) << s.message();
}

TEST_F(SigV4AuthenticatorTest, ContentSha256ThatLiesIsRefused) {
  // The signer signed the real body, the header claims another hash: the
  // header is never believed.
  http::Request r = Signed("{\"a\":1}");
  r.headers.push_back({"X-Amz-Content-Sha256", HexEncode(crypto::Sha256("{\"a\":2}"))});
  EXPECT_TRUE(HasReason(Make()->Authenticate(r).status(), SigV4Failure::kPayloadHashMismatch));
  http::Request unsigned_payload = Signed("{}");
  unsigned_payload.headers.push_back({"X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"});
  EXPECT_TRUE(HasReason(Make()->Authenticate(unsigned_payload).status(),
                        SigV4Failure::kPayloadHashMismatch));
}

TEST_F(SigV4AuthenticatorTest, DisabledOrDeletedClientKillsItsKeys) {
  auto auth = Make();
  auto client = store_->FindClient("client-etl");
  ASSERT_TRUE(client.ok() && client->has_value());
  (*client)->enabled = false;
  ASSERT_TRUE(store_->UpdateClient(**client).ok());
  ASSERT_TRUE(cache_.Refresh().ok());
  EXPECT_TRUE(HasReason(auth->Authenticate(Signed()).status(), SigV4Failure::kUnknownAccessKey));
  ASSERT_TRUE(store_->DeleteClient("client-etl").ok());
  ASSERT_TRUE(cache_.Refresh().ok());
  EXPECT_TRUE(HasReason(auth->Authenticate(Signed()).status(), SigV4Failure::kUnknownAccessKey));
}

TEST_F(SigV4AuthenticatorTest, KeySealedUnderAnotherHashKeyIsUnreadable) {
  SigV4Authenticator other(
      {.service = "service"}, [this] { return cache_.Current(); },
      oauth::AccessKeySealer(SecretString(RandomBytes(32))), "https://lakegate.test", clock_);
  auto s = other.Authenticate(Signed()).status();
  EXPECT_TRUE(HasReason(s, SigV4Failure::kKeyUnreadable));
  EXPECT_EQ(s.code(), StatusCode::kInternal);
}

TEST_F(SigV4AuthenticatorTest, FailuresCountTowardTheLimitsPerAddress) {
  SigV4Options options;
  options.failed_auth = std::make_shared<oauth::FailedAuthLimits>(
      oauth::ClientAuthLimits{.failed_per_minute_per_client = 100,
                              .failed_per_minute_per_client_address = 3,
                              .failed_per_minute_per_address = 100});
  auto auth = Make(options);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(HasReason(auth->Authenticate(Signed("{}", "guess")).status(),
                          SigV4Failure::kSignatureMismatch));
  }
  // This address is now refused for this client, even with the right secret.
  auto s = auth->Authenticate(Signed()).status();
  EXPECT_TRUE(HasReason(s, SigV4Failure::kRateLimited));
  EXPECT_GT(s.retry_after(), 0);
  EXPECT_EQ(s.reason_info().public_code, "ThrottlingException");
  // The client's own address is not locked out by another's failures.
  http::Request elsewhere = Signed();
  elsewhere.remote_address = "10.0.0.2";
  EXPECT_TRUE(auth->Authenticate(elsewhere).ok());
}

TEST_F(SigV4AuthenticatorTest, ManyFailuresForOneClientSlowGuessersButNotTheClient) {
  SigV4Options options;
  options.failed_auth = std::make_shared<oauth::FailedAuthLimits>(
      oauth::ClientAuthLimits{.failed_per_minute_per_client = 2,
                              .failed_per_minute_per_client_address = 100,
                              .failed_per_minute_per_address = 100});
  auto auth = Make(options);
  for (int i = 0; i < 2; ++i) {
    http::Request r = Signed("{}", "guess");
    r.remote_address = "10.0.0." + std::to_string(i + 10);
    EXPECT_TRUE(HasReason(auth->Authenticate(r).status(), SigV4Failure::kSignatureMismatch));
  }
  http::Request r = Signed("{}", "guess");
  r.remote_address = "10.0.0.99";
  EXPECT_TRUE(HasReason(auth->Authenticate(r).status(), SigV4Failure::kRateLimited));
  EXPECT_TRUE(auth->Authenticate(Signed()).ok()) << "the correct signature must still pass";
}

TEST_F(SigV4AuthenticatorTest, UnknownKeysFromOneAddressAreRefusedAfterTheAddressLimit) {
  SigV4Options options;
  options.failed_auth = std::make_shared<oauth::FailedAuthLimits>(
      oauth::ClientAuthLimits{.failed_per_minute_per_address = 2});
  auto auth = Make(options);
  for (int i = 0; i < 2; ++i) {
    auto s = auth->Authenticate(Signed("{}", kSuiteSecret, kSuiteDate, "service",
                                       "content-type;host;x-amz-date",
                                       "LGAKUNKNOWN00000000" + std::to_string(i)))
                 .status();
    EXPECT_TRUE(HasReason(s, SigV4Failure::kUnknownAccessKey));
  }
  EXPECT_TRUE(HasReason(auth->Authenticate(Signed()).status(), SigV4Failure::kRateLimited));
}

// The token endpoint and SigV4 charge the same buckets (the composition root
// hands both one FailedAuthLimits): failures at one door count at the other.
TEST_F(SigV4AuthenticatorTest, SharedLimitsCountFailuresFromEveryDoor) {
  auto limits = std::make_shared<oauth::FailedAuthLimits>(
      oauth::ClientAuthLimits{.failed_per_minute_per_client = 100,
                              .failed_per_minute_per_client_address = 3,
                              .failed_per_minute_per_address = 100});
  SigV4Options options;
  options.failed_auth = limits;
  auto auth = Make(options);
  const http::Request request = Signed();
  const int64_t now_ms = clock_.NowMillis();
  // Two failed client secrets at the token endpoint, one bad signature here.
  limits->RecordFailure("client-etl", request.remote_address, now_ms);
  limits->RecordFailure("client-etl", request.remote_address, now_ms);
  EXPECT_TRUE(HasReason(auth->Authenticate(Signed("{}", "guess")).status(),
                        SigV4Failure::kSignatureMismatch));
  // The address is refused for that client at both doors now.
  EXPECT_TRUE(HasReason(auth->Authenticate(request).status(), SigV4Failure::kRateLimited));
  EXPECT_GT(limits->RefusedFor("client-etl", request.remote_address, clock_.NowMillis()), 0);
}

// ---------------------------------------------------------------------------
// Micro-benchmark, DISABLED_ so that unit runs never time anything. Run with
//   gateway_test --gtest_also_run_disabled_tests --gtest_filter='*DISABLED_BenchSigV4*'

double ThreadCpuMicros() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

TEST_F(SigV4AuthenticatorTest, DISABLED_BenchSigV4Verification) {
  auto auth = Make();
  // A StartQueryExecution body as boto3 sends it.
  const http::Request r = Signed(
      "{\"QueryString\": \"SELECT region, count(*) FROM members GROUP BY region\", "
      "\"ClientRequestToken\": \"0f1d4c6e-9c1b-4f43-8d43-7a1f7e3b2a55\", "
      "\"QueryExecutionContext\": {\"Database\": \"analytics\"}}");
  ASSERT_TRUE(auth->Authenticate(r).ok());
  constexpr int kIterations = 50000;
  double start = ThreadCpuMicros();
  for (int i = 0; i < kIterations; ++i) ASSERT_TRUE(auth->Authenticate(r).ok());
  const double cached_us = (ThreadCpuMicros() - start) / kIterations;
  // The first request of a day (or of a new key): open the sealed secret and
  // derive the signing key.
  const store::AccessKeyRecord* key = cache_.Current()->FindAccessKey(kSuiteKeyId);
  ASSERT_NE(key, nullptr);
  sigv4::Credential credential{
      .access_key_id = kSuiteKeyId, .date = "20150830", .region = "us-east-1", .service = "x"};
  start = ThreadCpuMicros();
  for (int i = 0; i < kIterations; ++i) {
    auto secret = sealer_.Open(*key);
    ASSERT_TRUE(secret.ok());
    (void)sigv4::SigningKey(secret->Reveal(), credential);
  }
  const double derive_us = (ThreadCpuMicros() - start) / kIterations;
  std::printf("SigV4 verify (signing key cached) %6.2f us CPU/op (%8.0f/s/core)\n", cached_us,
              1e6 / cached_us);
  std::printf("open sealed secret + derive key   %6.2f us CPU/op\n", derive_us);
}

}  // namespace
}  // namespace lakegate::gateway
