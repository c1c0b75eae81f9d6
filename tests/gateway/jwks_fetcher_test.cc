// The JWKS fetcher over http::Client: what it adds (URL policy, Cache-Control)
// and how transfer failures reach the bearer authenticator (Unavailable, with
// the http::ClientFailure reason kept).
#include "gateway/jwks_fetcher.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "http/client.h"
#include "http/server.h"
#include "testing/status_matchers.h"

namespace lakegate::gateway {
namespace {

using namespace std::chrono_literals;
using ::lakegate::testing::HasReason;

class JwksFetcherTest : public ::testing::Test {
 protected:
  JwksFetcherTest() {
    http::Router router;
    router.Add(http::Method::kGet, "/jwks.json", [](std::shared_ptr<http::Exchange> ex) {
      http::Response r;
      r.body = "{\"keys\":[]}";
      r.headers = {{"Cache-Control", "public"}, {"Cache-Control", "max-age=120"}};
      ex->Respond(std::move(r));
    });
    router.Add(http::Method::kGet, "/no-store", [](std::shared_ptr<http::Exchange> ex) {
      http::Response r;
      r.body = "{\"keys\":[]}";
      r.headers = {{"Cache-Control", "max-age=120"}, {"Cache-Control", "no-store"}};
      ex->Respond(std::move(r));
    });
    router.Add(http::Method::kGet, "/plain", [](std::shared_ptr<http::Exchange> ex) {
      http::Response r;
      r.body = "{\"keys\":[]}";
      ex->Respond(std::move(r));
    });
    router.Add(http::Method::kGet, "/big", [](std::shared_ptr<http::Exchange> ex) {
      http::Response r;
      r.body = std::string(5000, 'x');
      ex->Respond(std::move(r));
    });
    router.Add(http::Method::kGet, "/down", [](std::shared_ptr<http::Exchange> ex) {
      http::Response r;
      r.status = 503;
      ex->Respond(std::move(r));
    });
    server_ = std::make_unique<http::Server>(http::ServerOptions{}, std::move(router), nullptr);
    Status started = server_->Start();
    EXPECT_TRUE(started.ok()) << started.ToString();
  }
  ~JwksFetcherTest() override { server_->Stop(0ms); }

  std::string Url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
  }

  std::unique_ptr<http::Server> server_;
  std::unique_ptr<JwksFetcher> fetcher_ = MakeCurlJwksFetcher({});
};

TEST_F(JwksFetcherTest, BodyAndMaxAgeOfEveryCacheControlField) {
  Result<FetchedDocument> doc = fetcher_->Fetch(Url("/jwks.json"), 4096);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->body, "{\"keys\":[]}");
  EXPECT_EQ(doc->max_age_seconds, 120);
  // no-store in a later field wins over an earlier max-age.
  doc = fetcher_->Fetch(Url("/no-store"), 4096);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->max_age_seconds, 0);
  doc = fetcher_->Fetch(Url("/plain"), 4096);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->max_age_seconds, std::nullopt);
}

TEST_F(JwksFetcherTest, OversizedDocumentIsUnavailableAndTooLarge) {
  Result<FetchedDocument> doc = fetcher_->Fetch(Url("/big"), 4096);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(HasReason(doc.status(), http::ClientFailure::kTooLarge));
}

TEST_F(JwksFetcherTest, ErrorStatusIsUnavailable) {
  Result<FetchedDocument> doc = fetcher_->Fetch(Url("/down"), 4096);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kUnavailable);
}

TEST_F(JwksFetcherTest, UnreachableServerIsUnavailableWithTheTransferReason) {
  const std::string url = Url("/jwks.json");
  server_->Stop(0ms);
  Result<FetchedDocument> doc = fetcher_->Fetch(url, 4096);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(HasReason(doc.status(), http::ClientFailure::kConnect));
}

TEST_F(JwksFetcherTest, UrlsOutsideThePolicyAreNeverFetched) {
  Result<FetchedDocument> doc = fetcher_->Fetch("http://issuer.invalid/jwks.json", 4096);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace lakegate::gateway
