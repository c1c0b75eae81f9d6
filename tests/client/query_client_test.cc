// QueryClient against a fake lakegate on loopback (the request body, the
// retry on 401, the error messages) and ParseResultSet on its own.
#include "client/query_client.h"

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "client/api_failure.h"
#include "fake_lakegate.h"
#include "testing/status_matchers.h"

namespace lakegate::client {
namespace {

using ::lakegate::testing::HasReason;
using ::lakegate::testing::HasStatus;
using nlohmann::json;
using testing::FakeLakegate;
using testing::TempDir;

constexpr char kResult[] =
    R"({"success":true,"queryId":"q-1","columns":[{"name":"id","type":"INTEGER"},)"
    R"({"name":"name","type":"TEXT"}],"data":[{"id":1,"name":"Ada"},{"id":2,"name":null}],)"
    R"("rowCount":2,"truncated":false})";

class QueryClientTest : public ::testing::Test {
 protected:
  QueryClientTest()
      : tokens_(Options(), http_, std::make_unique<ClientSecretBasic>(SecretString("s")),
                TokenCache(dir_.path(), clock_), clock_),
        queries_(http_, tokens_) {}

  TokenClientOptions Options() const {
    TokenClientOptions options;
    options.endpoint = api_.endpoint();
    options.client_id = "c1";
    return options;
  }

  std::vector<testing::RecordedRequest> Queries() const { return api_.Requests("/v1/query"); }

  FakeLakegate api_;
  TempDir dir_;
  FakeClock clock_{1'800'000'000};
  const http::Client http_;
  const TokenClient tokens_;
  const QueryClient queries_;
};

TEST_F(QueryClientTest, PostsTheStatementWithABearerToken) {
  api_.QueueQueryResponse(FakeLakegate::Json(200, kResult));
  QueryRequest request;
  request.sql = "SELECT * FROM members WHERE tier = ?1";
  request.database = "analytics";
  request.parameters = {
      std::string("gold"), int64_t{42}, nullptr, true, 1.5, uint64_t{18446744073709551615u}};
  request.max_rows = 10;
  Result<QueryResponse> response = queries_.Run(request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, kResult);
  EXPECT_TRUE(response->IsJson());
  EXPECT_FALSE(response->truncated);

  std::vector<testing::RecordedRequest> sent = Queries();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].Header("content-type"), "application/json");
  EXPECT_EQ(sent[0].Header("accept"), "application/json");
  Result<AccessToken> token = tokens_.Get();
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(sent[0].Header("authorization"), "Bearer " + std::string(token->value.Reveal()));
  EXPECT_EQ(sent[0].body, R"({"database":"analytics","format":"json","maxRows":10,)"
                          R"("parameters":["gold",42,null,true,1.5,18446744073709551615],)"
                          R"("query":"SELECT * FROM members WHERE tier = ?1"})");
}

TEST_F(QueryClientTest, CsvAsksForCsvAndReportsTheTruncatedHeader) {
  http::Response csv;
  csv.content_type = "text/csv; charset=utf-8";
  csv.body = "id\r\n1\r\n";
  csv.headers.push_back({"X-Result-Truncated", "true"});
  api_.QueueQueryResponse(csv);
  QueryRequest request;
  request.sql = "SELECT id FROM members";
  request.format = ResultFormat::kCsv;
  Result<QueryResponse> response = queries_.Run(request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_FALSE(response->IsJson());
  EXPECT_TRUE(response->truncated);
  EXPECT_EQ(response->body, "id\r\n1\r\n");
  const testing::RecordedRequest sent = Queries()[0];
  EXPECT_EQ(sent.Header("accept"), "text/csv, application/json");
  EXPECT_EQ(json::parse(sent.body)["format"], "csv");
  EXPECT_FALSE(json::parse(sent.body).contains("database"));
  EXPECT_FALSE(json::parse(sent.body).contains("maxRows"));
  EXPECT_FALSE(json::parse(sent.body).contains("parameters"));
}

TEST_F(QueryClientTest, ARejectedCachedTokenIsReplacedOnce) {
  Result<AccessToken> cached = tokens_.Get();  // now in the cache
  ASSERT_TRUE(cached.ok());
  api_.Reject(std::string(cached->value.Reveal()));
  api_.QueueQueryResponse(FakeLakegate::Json(200, kResult));
  QueryRequest request;
  request.sql = "SELECT 1";
  Result<QueryResponse> response = queries_.Run(request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(api_.TokensIssued(), 2u);
  std::vector<testing::RecordedRequest> sent = Queries();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].Header("authorization"), "Bearer " + std::string(cached->value.Reveal()));
  EXPECT_NE(sent[1].Header("authorization"), sent[0].Header("authorization"));
  // The new token replaced the rejected one in the cache.
  Result<AccessToken> now = tokens_.Get();
  ASSERT_TRUE(now.ok());
  EXPECT_TRUE(now->from_cache);
  EXPECT_EQ("Bearer " + std::string(now->value.Reveal()), sent[1].Header("authorization"));
}

TEST_F(QueryClientTest, A401ToAFreshTokenIsNotRetried) {
  api_.QueueQueryResponse(FakeLakegate::Json(
      401, R"({"success":false,"error":{"code":"UNAUTHENTICATED","message":"token expired"}})"));
  QueryRequest request;
  request.sql = "SELECT 1";
  Result<QueryResponse> response = queries_.Run(request);
  EXPECT_TRUE(HasReason(response.status(), ApiFailure::kQueryFailed));
  EXPECT_TRUE(HasStatus(response.status(), StatusCode::kFailedPrecondition,
                        "query failed (401 UNAUTHENTICATED): token expired"));
  EXPECT_EQ(Queries().size(), 1u);
  EXPECT_EQ(api_.TokensIssued(), 1u);
}

TEST_F(QueryClientTest, A401ToTheReplacementTooIsAnError) {
  Result<AccessToken> cached = tokens_.Get();
  ASSERT_TRUE(cached.ok());
  api_.Reject(std::string(cached->value.Reveal()));
  api_.QueueQueryResponse(FakeLakegate::Json(401, R"({"error":"invalid_token"})"));
  QueryRequest request;
  request.sql = "SELECT 1";
  Result<QueryResponse> response = queries_.Run(request);
  EXPECT_TRUE(HasReason(response.status(), ApiFailure::kQueryFailed));
  EXPECT_EQ(response.status().message(),
            "query failed (401 invalid_token): {\"error\":\"invalid_token\"}");
  EXPECT_EQ(Queries().size(), 2u);
}

TEST_F(QueryClientTest, ErrorMessagesNameStatusCodeAndQueryId) {
  api_.QueueQueryResponse(FakeLakegate::Json(
      403, R"({"success":false,"queryId":"q-9","error":{"code":"PERMISSION_DENIED",)"
           R"("message":"column email is not granted"}})"));
  QueryRequest request;
  request.sql = "SELECT email FROM members";
  EXPECT_EQ(queries_.Run(request).status().message(),
            "query failed (403 PERMISSION_DENIED): column email is not granted [queryId q-9]");

  http::Response page =
      FakeLakegate::Json(502, "<html>\nbad gateway, and a long explanation after it</html>");
  page.content_type = "text/html";
  api_.QueueQueryResponse(page);
  EXPECT_EQ(queries_.Run(request).status().message(),
            "query failed (502 HTTP_502): <html>\\nbad gateway, and a long explan...");

  api_.QueueQueryResponse(FakeLakegate::Json(500, ""));
  EXPECT_EQ(queries_.Run(request).status().message(),
            "query failed (500 HTTP_500): (empty response)");
}

TEST_F(QueryClientTest, TokenAndTransferFailuresKeepTheirReasons) {
  api_.QueueTokenResponse(FakeLakegate::Json(401, R"({"error":"invalid_client"})"));
  QueryRequest request;
  request.sql = "SELECT 1";
  EXPECT_TRUE(HasReason(queries_.Run(request).status(), ApiFailure::kTokenRefused));
  EXPECT_TRUE(Queries().empty());

  TokenClientOptions options = Options();
  options.endpoint = "http://127.0.0.1:1";
  const TokenClient offline(options, http_, nullptr, TokenCache(dir_.path(), clock_), clock_);
  TokenCache(dir_.path(), clock_)
      .Store({options.endpoint, "c1", ""}, "tok", clock_.NowSeconds() + 3600);
  Result<QueryResponse> response = QueryClient(http_, offline).Run(request);
  EXPECT_TRUE(HasReason(response.status(), http::ClientFailure::kConnect));
  EXPECT_EQ(response.status().message().rfind("cannot reach http://127.0.0.1:1/v1/query: ", 0), 0u)
      << response.status().message();
}

// ---------------------------------------------------------------------------
// ParseResultSet

QueryResponse JsonResponse(std::string body) {
  QueryResponse r;
  r.status = 200;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

TEST(ParseResultSetTest, ColumnsRowsAndCellKinds) {
  Result<ResultSet> result = ParseResultSet(JsonResponse(
      R"({"success":true,"queryId":"q-1","columns":[{"name":"a"},"b",{"name":"c"},{"name":"d"}],)"
      R"("data":[{"a":1.5,"b":"x","c":null,"d":true},[2,"y",[1,2],{"k":1}]],"rowCount":7,)"
      R"("truncated":true,"warning":"query timed out"})"));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->columns, (std::vector<std::string>{"a", "b", "c", "d"}));
  ASSERT_EQ(result->rows.size(), 2u);
  EXPECT_EQ(result->rows[0][0].kind, Cell::Kind::kNumber);
  EXPECT_EQ(result->rows[0][0].text, "1.5");
  EXPECT_EQ(result->rows[0][1].kind, Cell::Kind::kString);
  EXPECT_EQ(result->rows[0][1].text, "x");
  EXPECT_EQ(result->rows[0][2].kind, Cell::Kind::kNull);
  EXPECT_EQ(result->rows[0][3].kind, Cell::Kind::kOther);
  EXPECT_EQ(result->rows[0][3].text, "true");
  EXPECT_EQ(result->rows[1][0].text, "2");  // an array row, by position
  EXPECT_EQ(result->rows[1][2].text, "[1,2]");
  EXPECT_EQ(result->rows[1][3].text, "{\"k\":1}");
  EXPECT_EQ(result->row_count, 7);
  EXPECT_TRUE(result->truncated);
  EXPECT_EQ(result->warning, "query timed out");
  EXPECT_EQ(result->query_id, "q-1");
}

TEST(ParseResultSetTest, WithoutColumnsTheFirstRowNamesThemAndRowCountDefaults) {
  Result<ResultSet> result = ParseResultSet(JsonResponse(R"({"data":[{"b":1,"a":2},{"a":3}]})"));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(result->rows[1][1].kind, Cell::Kind::kNull);  // missing key
  EXPECT_EQ(result->row_count, 2);
  EXPECT_FALSE(result->truncated);
}

TEST(ParseResultSetTest, FailureBodyAndNonJsonAreErrors) {
  Result<ResultSet> failed = ParseResultSet(JsonResponse(
      R"({"success":false,"error":{"code":"QUERY_TIMEOUT","message":"too slow"},"queryId":"q"})"));
  EXPECT_TRUE(HasReason(failed.status(), ApiFailure::kQueryFailed));
  EXPECT_EQ(failed.status().message(), "query failed (200 QUERY_TIMEOUT): too slow [queryId q]");
  Result<ResultSet> garbage = ParseResultSet(JsonResponse("<html>"));
  EXPECT_TRUE(HasReason(garbage.status(), ApiFailure::kMalformedResponse));
  EXPECT_EQ(garbage.status().message(), "query failed: the server's response is not JSON");
}

}  // namespace
}  // namespace lakegate::client
