// QueryService tests: the handler driven with a FakeExchange and a FakeEngine
// (every status and error code, streaming, limits), plus one round trip over a
// real http::Server.
#include "gateway/query_service.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "audit/metrics.h"
#include "common/strings.h"
#include "common/thread_pool.h"
#include "crypto/hash.h"
#include "fakes.h"
#include "http/client.h"
#include "http/server.h"

namespace lakegate::gateway {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using nlohmann::ordered_json;
using testing::Claims;
using testing::FakeEngine;
using testing::FakeExchange;
using testing::MakeAuthenticator;
using testing::OwnState;
using testing::TestIssuerKey;
using testing::Value;

constexpr char kIssuer[] = "https://lakegate.test";
const std::string kRead = "athena-api/query.read";
const std::string kWrite = "athena-api/query.write";
const std::string kAdmin = "athena-api/query.admin";

class QueryServiceTest : public ::testing::Test {
 protected:
  QueryServiceTest() : key_(TestIssuerKey::Make("own")) {
    options_.client_rules = {{"", "etl-service", "lf-super-user-role", ""},
                             {"", "reporting-service", "lf-dev-role", ""},
                             {"", "ghost-service", "role-not-in-policy", ""}};
    options_.scope_rules = {
        {kAdmin, "lf-super-user-role"}, {kWrite, "lf-super-user-role"}, {kRead, "lf-dev-role"}};
    auto snapshot = std::make_shared<policy::PolicySnapshot>();
    snapshot->version = 7;
    snapshot->roles["lf-super-user-role"] = policy::Role{"lf-super-user-role", "", {}};
    snapshot->roles["lf-dev-role"] = policy::Role{"lf-dev-role", "", {}};
    policy_ = snapshot;
    engine_.rows = {{int64_t{1}, std::string("Ann")}, {int64_t{2}, std::string("Bob")}};
  }
  ~QueryServiceTest() override {
    engine_.Release();
    pool_.reset();  // drain tasks before the service goes away
  }

  QueryService& Service() {
    if (!service_) {
      own_.AddKey(key_);
      own_.AddClient("cid-etl", "etl-service");
      own_.AddClient("cid-rep", "reporting-service");
      own_.AddClient("cid-ghost", "ghost-service");
      own_.AddClient("cid-new", "new-service");
      own_.Refresh();
      authenticator_ = MakeAuthenticator(options_, kIssuer, &own_, *fetcher_, clock_);
      pool_ = std::make_unique<ThreadPool>(pool_threads_, pool_queue_);
      pipeline_ = std::make_unique<Pipeline>(
          options_, *authenticator_, [this] { return policy_; }, *pool_, clock_,
          [this](std::string_view line) {
            std::lock_guard<std::mutex> lock(audit_mu_);
            audit_.emplace_back(line);
            audit_cv_.notify_all();
          },
          &metrics_);
      service_ = std::make_unique<QueryService>(*pipeline_, engine_);
      query_route_ = pipeline_->Route(
          {.json_body = true}, [this](const std::shared_ptr<Call>& c) { service_->Query(c); });
      catalog_route_ =
          pipeline_->Route({.access = Access::kQuery, .audit = AuditKind::kCatalog},
                           [this](const std::shared_ptr<Call>& c) { service_->Catalog(c); });
    }
    return *service_;
  }
  // What the server does with a query request (the route's handler).
  void Handle(std::shared_ptr<FakeExchange> ex) {
    Service();
    query_route_(std::move(ex));
  }

  std::string Bearer(const std::string& client_id, const std::string& scope,
                     int64_t lifetime = 3600) {
    return "Bearer " + key_.Sign(Claims(kIssuer, client_id, scope, clock_.NowSeconds(), lifetime));
  }
  std::string EtlToken() { return Bearer("cid-etl", kRead + " " + kWrite); }
  std::string ReportingToken() { return Bearer("cid-rep", kRead); }

  static http::Request Post(std::string body, std::string authorization,
                            std::string content_type = "application/json") {
    http::Request r;
    r.method = http::Method::kPost;
    r.method_text = "POST";
    r.path = r.target = "/v1/query";
    if (!authorization.empty()) r.headers.push_back({"Authorization", std::move(authorization)});
    if (!content_type.empty()) r.headers.push_back({"Content-Type", std::move(content_type)});
    r.body = std::move(body);
    r.remote_address = "192.0.2.7";
    return r;
  }

  size_t AuditCount() {
    std::lock_guard<std::mutex> lock(audit_mu_);
    return audit_.size();
  }
  json LastAudit() {
    std::lock_guard<std::mutex> lock(audit_mu_);
    return audit_.empty() ? json() : json::parse(audit_.back());
  }

  // Hands the exchange to the handler and waits until the request is finished
  // (its audit line is the last thing the service does).
  std::shared_ptr<FakeExchange> Run(http::Request request,
                                    std::function<void(FakeExchange&)> setup = nullptr) {
    Service();
    auto ex = std::make_shared<FakeExchange>(std::move(request));
    if (setup) setup(*ex);
    size_t before = AuditCount();
    Handle(ex);
    std::unique_lock<std::mutex> lock(audit_mu_);
    EXPECT_TRUE(audit_cv_.wait_for(lock, 20s, [&] { return audit_.size() > before; }))
        << "the request never finished";
    return ex;
  }
  std::shared_ptr<FakeExchange> Query(const std::string& body, const std::string& token) {
    return Run(Post(body, token));
  }

  static void ExpectError(const FakeExchange& ex, int status, const std::string& code,
                          const std::string& message = "") {
    EXPECT_EQ(ex.status(), status) << ex.body();
    json body = json::parse(ex.body(), nullptr, false);
    ASSERT_TRUE(body.is_object()) << ex.body();
    EXPECT_EQ(body["success"], false);
    EXPECT_EQ(body["error"]["code"], code) << ex.body();
    if (!message.empty()) {
      EXPECT_EQ(body["error"]["message"], message);
    }
    EXPECT_EQ(body["queryId"], ex.header("X-Query-Id"));
    EXPECT_EQ(body.size(), 3u) << ex.body();
  }

  FakeClock clock_;
  GatewayOptions options_;
  TestIssuerKey key_;
  OwnState own_;
  FakeEngine engine_;
  std::shared_ptr<const policy::PolicySnapshot> policy_;
  audit::Metrics metrics_;
  std::unique_ptr<JwksFetcher> fetcher_ = MakeCurlJwksFetcher({});
  std::unique_ptr<BearerAuthenticator> authenticator_;
  size_t pool_threads_ = 4;
  size_t pool_queue_ = 16;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<Pipeline> pipeline_;
  std::unique_ptr<QueryService> service_;
  http::Handler query_route_;
  http::Handler catalog_route_;
  std::mutex audit_mu_;
  std::condition_variable audit_cv_;
  std::vector<std::string> audit_;
};

// ---------------------------------------------------------------------------
// Success.

TEST_F(QueryServiceTest, ValidQueryReturnsTheSeedShape) {
  auto ex = Query(R"({"query":"SELECT id, name FROM members","database":"analytics"})", EtlToken());
  ASSERT_EQ(ex->status(), 200) << ex->body();
  EXPECT_EQ(ex->content_type(), "application/json");
  EXPECT_FALSE(ex->streamed());  // small: one complete response
  ordered_json body = ordered_json::parse(ex->body());
  std::vector<std::string> keys;
  for (auto it = body.begin(); it != body.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"success", "authMethod", "clientId", "scopes", "lfRole",
                                            "database", "queryId", "columns", "data", "rowCount",
                                            "truncated"}));
  EXPECT_EQ(body["success"], true);
  EXPECT_EQ(body["authMethod"], "CLIENT_CREDENTIALS");
  EXPECT_EQ(body["clientId"], "cid-etl");
  EXPECT_EQ(body["scopes"],
            ordered_json::parse(R"(["athena-api/query.read","athena-api/query.write"])"));
  EXPECT_EQ(body["lfRole"], "lf-super-user-role");
  EXPECT_EQ(body["database"], "analytics");
  EXPECT_EQ(body["queryId"], ex->header("X-Query-Id"));
  EXPECT_EQ(
      body["columns"],
      ordered_json::parse(R"([{"name":"id","type":"INTEGER"},{"name":"name","type":"TEXT"}])"));
  EXPECT_EQ(body["data"], ordered_json::parse(R"([{"id":1,"name":"Ann"},{"id":2,"name":"Bob"}])"));
  EXPECT_EQ(body["rowCount"], 2);
  EXPECT_EQ(body["truncated"], false);
  EXPECT_EQ(ex->header("Cache-Control"), "no-store");

  // What the engine was asked.
  EXPECT_EQ(engine_.last_request.sql, "SELECT id, name FROM members");
  EXPECT_EQ(engine_.last_request.database, "analytics");
  EXPECT_EQ(engine_.last_request.max_class, engine::StatementClass::kWrite);
  EXPECT_EQ(engine_.last_request.limits.max_rows, 10000);
  EXPECT_EQ(engine_.last_request.limits.timeout, options_.query_timeout);
  EXPECT_EQ(engine_.last_role, "lf-super-user-role");

  json audit = LastAudit();
  EXPECT_EQ(audit["event"], "query");
  EXPECT_EQ(audit["query_id"], body["queryId"]);
  EXPECT_EQ(audit["client_id"], "cid-etl");
  EXPECT_EQ(audit["client_name"], "etl-service");
  EXPECT_EQ(audit["role"], "lf-super-user-role");
  EXPECT_EQ(audit["database"], "analytics");
  EXPECT_EQ(audit["statement_class"], "read");
  EXPECT_EQ(audit["statement_type"], "SELECT");
  EXPECT_EQ(audit["sql"], "SELECT id, name FROM members");
  EXPECT_EQ(audit["sql_sha256"], HexEncode(crypto::Sha256("SELECT id, name FROM members")));
  EXPECT_EQ(audit["rows"], 2);
  EXPECT_EQ(audit["bytes"], ex->body().size());
  EXPECT_EQ(audit["outcome"], "ok");
  EXPECT_EQ(audit["remote"], "192.0.2.7");
  EXPECT_TRUE(audit["time"].is_string());
  EXPECT_TRUE(audit["duration_ms"].is_number_integer());
  EXPECT_EQ(metrics_.AddCounter("lakegate_queries_total", "", {"role", "outcome"})
                .Value({"lf-super-user-role", "ok"}),
            1);
}

TEST_F(QueryServiceTest, AuditCanLeaveTheSqlOut) {
  options_.audit_sql = false;
  auto ex = Query(R"({"query":"SELECT 1"})", EtlToken());
  ASSERT_EQ(ex->status(), 200);
  json audit = LastAudit();
  EXPECT_FALSE(audit.contains("sql"));
  EXPECT_EQ(audit["sql_sha256"], HexEncode(crypto::Sha256("SELECT 1")));
}

TEST_F(QueryServiceTest, ScopeRuleAppliesToClientsWithoutAClientRule) {
  auto ex = Query(R"({"query":"SELECT 1"})", Bearer("cid-new", kRead));
  ASSERT_EQ(ex->status(), 200) << ex->body();
  EXPECT_EQ(json::parse(ex->body())["lfRole"], "lf-dev-role");
  EXPECT_EQ(engine_.last_request.max_class, engine::StatementClass::kRead);
}

TEST_F(QueryServiceTest, MaxRowsIsCappedAndTruncationReported) {
  options_.max_rows = 3;
  engine_.generator = [](int64_t i) { return std::vector<Value>{i, std::string("r")}; };
  engine_.generated_rows = 10;
  auto ex = Query(R"({"query":"SELECT 1","maxRows":500})", EtlToken());
  ASSERT_EQ(ex->status(), 200);
  EXPECT_EQ(engine_.last_request.limits.max_rows, 3);
  json body = json::parse(ex->body());
  EXPECT_EQ(body["rowCount"], 3);
  EXPECT_EQ(body["truncated"], true);
  EXPECT_FALSE(body.contains("warning"));
}

TEST_F(QueryServiceTest, CsvFormat) {
  auto ex = Query(R"({"query":"SELECT 1","format":"csv"})", EtlToken());
  ASSERT_EQ(ex->status(), 200);
  EXPECT_EQ(ex->content_type(), "text/csv; charset=utf-8; header=present");
  EXPECT_EQ(ex->body(), "id,name\r\n1,Ann\r\n2,Bob\r\n");
  EXPECT_EQ(ex->header("X-Result-Truncated"), "false");
  EXPECT_FALSE(ex->header("X-Query-Id").empty());
}

TEST_F(QueryServiceTest, NdjsonFormat) {
  auto ex = Query(R"({"query":"SELECT 1","format":"ndjson"})", EtlToken());
  ASSERT_EQ(ex->status(), 200);
  EXPECT_EQ(ex->content_type(), "application/x-ndjson");
  EXPECT_EQ(ex->body(), "{\"id\":1,\"name\":\"Ann\"}\n{\"id\":2,\"name\":\"Bob\"}\n");
}

TEST_F(QueryServiceTest, WriteStatementWithoutRowsStillHasTheShape) {
  engine_.columns.clear();
  engine_.rows.clear();
  engine_.statement_class = engine::StatementClass::kWrite;
  engine_.statement_type = "INSERT";
  auto ex = Query(R"j({"query":"INSERT INTO t VALUES (1)"})j", EtlToken());
  ASSERT_EQ(ex->status(), 200) << ex->body();
  json body = json::parse(ex->body());
  EXPECT_EQ(body["columns"], json::array());
  EXPECT_EQ(body["data"], json::array());
  EXPECT_EQ(LastAudit()["statement_class"], "write");
  EXPECT_EQ(LastAudit()["statement_type"], "INSERT");
}

// ---------------------------------------------------------------------------
// 401.

TEST_F(QueryServiceTest, MissingBearerIs401WithRealmOnlyChallenge) {
  auto ex = Run(Post(R"({"query":"SELECT 1"})", ""));
  ExpectError(*ex, 401, "unauthorized", "a Bearer access token is required");
  EXPECT_EQ(ex->header("WWW-Authenticate"), "Bearer realm=\"lakegate\"");
  EXPECT_EQ(engine_.calls, 0);
  EXPECT_EQ(LastAudit()["outcome"], "unauthorized");
}

TEST_F(QueryServiceTest, OtherSchemeIs401WithRealmOnlyChallenge) {
  auto ex = Run(Post(R"({"query":"SELECT 1"})", "Basic dXNlcjpwYXNz"));
  ExpectError(*ex, 401, "unauthorized");
  EXPECT_EQ(ex->header("WWW-Authenticate"), "Bearer realm=\"lakegate\"");
}

TEST_F(QueryServiceTest, MalformedBearerIs401InvalidToken) {
  auto ex = Run(Post(R"({"query":"SELECT 1"})", "Bearer not a token"));
  ExpectError(*ex, 401, "invalid_token", "the access token is invalid");
  EXPECT_EQ(ex->header("WWW-Authenticate"),
            "Bearer realm=\"lakegate\", error=\"invalid_token\", "
            "error_description=\"The access token is invalid\"");
}

TEST_F(QueryServiceTest, ExpiredBearerIs401Expired) {
  std::string token = Bearer("cid-etl", kRead, /*lifetime=*/10);
  clock_.Advance(3600s);
  auto ex = Run(Post(R"({"query":"SELECT 1"})", token));
  ExpectError(*ex, 401, "invalid_token", "the access token expired");
  // The client learns "expired"; the audit line keeps the precise reason.
  EXPECT_EQ(LastAudit()["outcome"], "invalid_token");
  EXPECT_EQ(LastAudit()["reason"], "token.expired");
  EXPECT_EQ(ex->header("WWW-Authenticate"),
            "Bearer realm=\"lakegate\", error=\"invalid_token\", "
            "error_description=\"The access token expired\"");
}

TEST_F(QueryServiceTest, ForgedBearerIs401) {
  TestIssuerKey forger = TestIssuerKey::Make("own");
  auto ex =
      Run(Post(R"({"query":"SELECT 1"})",
               "Bearer " + forger.Sign(Claims(kIssuer, "cid-etl", kAdmin, clock_.NowSeconds()))));
  ExpectError(*ex, 401, "invalid_token", "the access token is invalid");
  EXPECT_EQ(engine_.calls, 0);
}

TEST_F(QueryServiceTest, TwoAuthorizationHeadersAre401) {
  http::Request r = Post(R"({"query":"SELECT 1"})", EtlToken());
  r.headers.push_back({"authorization", ReportingToken()});
  auto ex = Run(std::move(r));
  ExpectError(*ex, 401, "invalid_token");
}

// ---------------------------------------------------------------------------
// 400 / 413 / 415.

TEST_F(QueryServiceTest, NonJsonContentTypeIs415) {
  auto ex = Run(Post(R"({"query":"SELECT 1"})", EtlToken(), "text/plain"));
  ExpectError(*ex, 415, "unsupported_media_type", "Content-Type must be application/json");
  auto ok = Run(Post(R"({"query":"SELECT 1"})", EtlToken(), "Application/JSON; charset=utf-8"));
  EXPECT_EQ(ok->status(), 200);
}

TEST_F(QueryServiceTest, UnknownFieldIs400NamingIt) {
  auto ex = Query(R"({"query":"SELECT 1","limit":5})", EtlToken());
  ExpectError(*ex, 400, "invalid_request",
              "unknown field \"limit\" (expected query, database, parameters, maxRows, format)");
  EXPECT_EQ(engine_.calls, 0);
}

TEST_F(QueryServiceTest, BadJsonIs400) {
  ExpectError(*Query("{", EtlToken()), 400, "invalid_request",
              "the request body is not valid JSON");
}

TEST_F(QueryServiceTest, QueryTooLongIs413) {
  options_.max_query_bytes = 100;
  auto ex = Query("{\"query\":\"SELECT '" + std::string(200, 'x') + "'\"}", EtlToken());
  ExpectError(*ex, 413, "query_too_large", "the query is longer than the limit of 100 bytes");
}

TEST_F(QueryServiceTest, BadSqlIs400WithTheEnginesMessage) {
  engine_.error_before = Status(StatusCode::kInvalidArgument, engine::EngineFailure::kInvalidQuery,
                                "near \"SELEC\": syntax error");
  ExpectError(*Query(R"({"query":"SELEC 1"})", EtlToken()), 400, "invalid_query",
              "near \"SELEC\": syntax error");
  EXPECT_EQ(LastAudit()["outcome"], "invalid_query");
}

// ---------------------------------------------------------------------------
// 403.

TEST_F(QueryServiceTest, ReadScopeWithWriteStatementIs403) {
  engine_.statement_class = engine::StatementClass::kWrite;
  auto ex = Query(R"({"query":"DELETE FROM members"})", ReportingToken());
  ExpectError(*ex, 403, "access_denied",
              "statement class write is not allowed by the token's scopes (role lf-dev-role)");
  EXPECT_EQ(engine_.last_request.max_class, engine::StatementClass::kRead);
}

TEST_F(QueryServiceTest, EnginePermissionDeniedIs403WithItsMessage) {
  engine_.error_before =
      Status(StatusCode::kPermissionDenied, engine::EngineFailure::kPermissionDenied,
             "role 'lf-dev-role' lacks SELECT on column analytics.members.email");
  ExpectError(*Query(R"({"query":"SELECT email FROM members"})", ReportingToken()), 403,
              "access_denied", "role 'lf-dev-role' lacks SELECT on column analytics.members.email");
}

TEST_F(QueryServiceTest, NoRoleMappedIs403) {
  options_.scope_rules.clear();
  auto ex = Query(R"({"query":"SELECT 1"})", Bearer("cid-new", kRead));
  ExpectError(
      *ex, 403, "access_denied",
      "no role is mapped to client 'new-service' (scopes: athena-api/query.read); add a role rule");
  EXPECT_EQ(engine_.calls, 0);
}

TEST_F(QueryServiceTest, NoQueryScopeIs403) {
  auto ex = Query(R"({"query":"SELECT 1"})", Bearer("cid-etl", "openid profile"));
  ExpectError(*ex, 403, "access_denied",
              "the token has none of the query scopes (athena-api/query.read, "
              "athena-api/query.write, athena-api/query.admin)");
  EXPECT_EQ(ex->header("WWW-Authenticate"),
            "Bearer realm=\"lakegate\", error=\"insufficient_scope\", "
            "scope=\"athena-api/query.read\"");
}

// ---------------------------------------------------------------------------
// 408 / 500 / 503.

TEST_F(QueryServiceTest, TimeoutIs408) {
  engine_.error_before = Status(StatusCode::kDeadlineExceeded, engine::EngineFailure::kTimeout,
                                "the query ran longer than the limit of 1500 ms");
  options_.query_timeout = 1500ms;
  ExpectError(*Query(R"({"query":"SELECT 1"})", EtlToken()), 408, "query_timeout",
              "the query ran longer than the limit of 1500 ms");
}

TEST_F(QueryServiceTest, InternalErrorsAreNotShown) {
  engine_.error_before = Status(StatusCode::kInternal, engine::EngineFailure::kInternal,
                                "sqlite3_prepare_v2: /var/lib/lakegate/lake/raw.db locked");
  auto ex = Query(R"({"query":"SELECT 1"})", EtlToken());
  ExpectError(*ex, 500, "internal_error");
  EXPECT_EQ(ex->body().find("raw.db"), std::string::npos);
  EXPECT_NE(ex->body().find(ex->header("X-Query-Id")), std::string::npos);
}

TEST_F(QueryServiceTest, RoleMissingFromPolicyIs500ConfigurationError) {
  auto ex = Query(R"({"query":"SELECT 1"})", Bearer("cid-ghost", kRead));
  ExpectError(*ex, 500, "configuration_error",
              "the role mapped to this client is not configured on the server");
  EXPECT_EQ(engine_.calls, 0);
}

TEST_F(QueryServiceTest, NoPolicyLoadedIs500) {
  policy_ = nullptr;
  ExpectError(*Query(R"({"query":"SELECT 1"})", EtlToken()), 500, "configuration_error");
}

TEST_F(QueryServiceTest, EngineUnavailableIs503) {
  engine_.error_before =
      Status(StatusCode::kUnavailable, engine::EngineFailure::kUnavailable, "pool closed");
  ExpectError(*Query(R"({"query":"SELECT 1"})", EtlToken()), 503, "unavailable",
              "the query engine is unavailable; retry later");
}

TEST_F(QueryServiceTest, FullWorkerQueueIs503) {
  pool_threads_ = 1;
  pool_queue_ = 1;
  engine_.hold = true;
  Service();
  auto first = std::make_shared<FakeExchange>(Post(R"({"query":"SELECT 1"})", EtlToken()));
  Handle(first);
  ASSERT_EQ(engine_.WaitForRunning(1), 1);  // the only worker is busy
  auto second = std::make_shared<FakeExchange>(Post(R"({"query":"SELECT 1"})", EtlToken()));
  Handle(second);  // queued
  auto third = std::make_shared<FakeExchange>(Post(R"({"query":"SELECT 1"})", EtlToken()));
  Handle(third);  // refused on the calling (network) thread
  ExpectError(*third, 503, "unavailable", "the server is busy; retry later");
  EXPECT_EQ(third->header("Retry-After"), "1");
  engine_.Release();
  pool_.reset();
  EXPECT_EQ(first->status(), 200);
  EXPECT_EQ(second->status(), 200);
}

TEST_F(QueryServiceTest, BacklogBeyondTheAdmissionLimitIs503AtOnce) {
  // Slow queries of several clients occupy both workers; two more requests
  // may wait for a worker, the next ones are told to come back.
  pool_threads_ = 2;
  pool_queue_ = 100;
  options_.max_pool_backlog = 2;
  engine_.hold = true;
  Service();
  std::vector<std::shared_ptr<FakeExchange>> accepted;
  for (const std::string& token : {EtlToken(), ReportingToken()}) {
    accepted.push_back(std::make_shared<FakeExchange>(Post(R"({"query":"SELECT 1"})", token)));
    Handle(accepted.back());
  }
  ASSERT_EQ(engine_.WaitForRunning(2), 2);  // every worker is busy
  for (int i = 0; i < 2; ++i) {
    accepted.push_back(std::make_shared<FakeExchange>(Post(R"({"query":"SELECT 1"})", EtlToken())));
    Handle(accepted.back());  // waits for a worker
  }
  for (int i = 0; i < 5; ++i) {
    auto refused = std::make_shared<FakeExchange>(Post(R"({"query":"SELECT 1"})", EtlToken()));
    Handle(refused);  // answered on the calling (network) thread, without a worker
    ExpectError(*refused, 503, "unavailable", "the server is busy; retry later");
    EXPECT_EQ(refused->header("Retry-After"), "1");
  }
  EXPECT_EQ(pool_->queued(), 2u);
  engine_.Release();
  pool_.reset();
  for (const auto& ex : accepted) EXPECT_EQ(ex->status(), 200) << ex->body();
}

// ---------------------------------------------------------------------------
// 429.

TEST_F(QueryServiceTest, PerClientConcurrencyLimitIs429) {
  options_.max_concurrent_per_client = 2;
  options_.max_queued_per_client = 0;
  engine_.hold = true;
  QueryService& service = Service();
  std::vector<std::shared_ptr<FakeExchange>> running;
  for (int i = 0; i < 2; ++i) {
    running.push_back(std::make_shared<FakeExchange>(Post(R"({"query":"SELECT 1"})", EtlToken())));
    Handle(running.back());
  }
  ASSERT_EQ(engine_.WaitForRunning(2), 2);
  EXPECT_EQ(service.ActiveQueries("cid-etl"), 2);

  auto refused = Query(R"({"query":"SELECT 1"})", EtlToken());
  ExpectError(*refused, 429, "too_many_queries",
              "client 'cid-etl' already runs 2 queries and has 0 waiting; retry later");
  EXPECT_EQ(refused->header("Retry-After"), "1");

  // Another client is not affected.
  auto other = std::make_shared<FakeExchange>(Post(R"({"query":"SELECT 1"})", ReportingToken()));
  Handle(other);
  ASSERT_EQ(engine_.WaitForRunning(3), 3);

  engine_.Release();
  pool_.reset();
  for (auto& ex : running) EXPECT_EQ(ex->status(), 200);
  EXPECT_EQ(other->status(), 200);
  EXPECT_EQ(service.ActiveQueries("cid-etl"), 0);
}

TEST_F(QueryServiceTest, QueriesBeyondTheRunningLimitWaitWithoutHoldingWorkers) {
  options_.max_concurrent_per_client = 1;
  options_.max_queued_per_client = 2;
  engine_.hold = true;
  QueryService& service = Service();
  std::vector<std::shared_ptr<FakeExchange>> calls;
  for (int i = 0; i < 3; ++i) {
    calls.push_back(std::make_shared<FakeExchange>(Post(R"({"query":"SELECT 1"})", EtlToken())));
    Handle(calls.back());
  }
  ASSERT_EQ(engine_.WaitForRunning(1), 1);
  EXPECT_EQ(service.ActiveQueries("cid-etl"), 1);
  for (int i = 0; i < 1000 && service.WaitingQueries("cid-etl") < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(service.WaitingQueries("cid-etl"), 2);
  // The queue (2) is full now: the fourth is refused.
  auto refused = Query(R"({"query":"SELECT 1"})", EtlToken());
  ExpectError(*refused, 429, "too_many_queries",
              "client 'cid-etl' already runs 1 queries and has 2 waiting; retry later");
  // Parked calls hold no worker: another client still runs at once.
  auto other = std::make_shared<FakeExchange>(Post(R"({"query":"SELECT 1"})", ReportingToken()));
  Handle(other);
  ASSERT_EQ(engine_.WaitForRunning(2), 2);
  engine_.Release();
  // Each finished query hands its slot to the next waiting one.
  for (int i = 0; i < 1000 && calls.back()->status() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pool_.reset();
  for (auto& ex : calls) EXPECT_EQ(ex->status(), 200);
  EXPECT_EQ(other->status(), 200);
  EXPECT_EQ(service.ActiveQueries("cid-etl"), 0);
  EXPECT_EQ(service.WaitingQueries("cid-etl"), 0);
}

// ---------------------------------------------------------------------------
// Result size and streaming.

TEST_F(QueryServiceTest, ResultTooLargeBeforeStreamingIs413) {
  options_.max_result_bytes = 1000;
  engine_.generator = [](int64_t i) { return std::vector<Value>{i, std::string(50, 'x')}; };
  engine_.generated_rows = 100;
  auto ex = Query(R"({"query":"SELECT 1"})", EtlToken());
  ExpectError(*ex, 413, "result_too_large", "the result is larger than the limit of 1000 bytes");
  EXPECT_EQ(engine_.last_sink_status.code(), StatusCode::kResourceExhausted);
}

TEST_F(QueryServiceTest, ResultTooLargeAfterStreamingEndsTheJsonValidly) {
  options_.stream_chunk_bytes = 1024;
  options_.max_result_bytes = 10 * 1024;
  engine_.generator = [](int64_t i) { return std::vector<Value>{i, std::string(50, 'x')}; };
  engine_.generated_rows = 1000;
  auto ex = Query(R"({"query":"SELECT 1"})", EtlToken());
  ASSERT_EQ(ex->status(), 200);
  EXPECT_TRUE(ex->streamed());
  EXPECT_TRUE(ex->ended());
  json body = json::parse(ex->body());
  EXPECT_EQ(body["truncated"], true);
  EXPECT_EQ(body["warning"], "the result is larger than the limit of 10240 bytes");
  EXPECT_EQ(body["rowCount"], body["data"].size());
  EXPECT_GT(body["rowCount"].get<int>(), 50);
  EXPECT_LE(ex->body().size(), 10u * 1024 + 200);
  EXPECT_EQ(LastAudit()["outcome"], "result_too_large");
}

TEST_F(QueryServiceTest, ErrorAfterStreamingEndsTheJsonWithAWarning) {
  options_.stream_chunk_bytes = 1024;
  engine_.generator = [](int64_t i) { return std::vector<Value>{i, std::string("row")}; };
  engine_.generated_rows = 1000;
  engine_.error_after = Status(StatusCode::kDeadlineExceeded, engine::EngineFailure::kTimeout,
                               "the query ran longer than the limit of 30000 ms");
  engine_.error_after_rows = 500;
  auto ex = Query(R"({"query":"SELECT 1"})", EtlToken());
  ASSERT_EQ(ex->status(), 200);
  json body = json::parse(ex->body());
  EXPECT_EQ(body["rowCount"], 500);
  EXPECT_EQ(body["data"].size(), 500u);
  EXPECT_EQ(body["truncated"], true);
  EXPECT_EQ(body["warning"], "the query ran longer than the limit of 30000 ms");
  EXPECT_EQ(LastAudit()["outcome"], "query_timeout");
}

TEST_F(QueryServiceTest, CsvErrorAfterStreamingLeavesTheStreamUnfinished) {
  options_.stream_chunk_bytes = 1024;
  engine_.generator = [](int64_t i) { return std::vector<Value>{i, std::string("row")}; };
  engine_.generated_rows = 1000;
  engine_.error_after =
      Status(StatusCode::kInternal, engine::EngineFailure::kInternal, "disk I/O error");
  engine_.error_after_rows = 500;
  auto ex = Query(R"({"query":"SELECT 1","format":"csv"})", EtlToken());
  ASSERT_EQ(ex->status(), 200);
  EXPECT_TRUE(ex->streamed());
  EXPECT_FALSE(ex->ended());  // the client sees a cut-off body
  EXPECT_EQ(ex->body().find("disk"), std::string::npos);
  EXPECT_EQ(LastAudit()["outcome"], "internal_error");
}

TEST_F(QueryServiceTest, LargeResultIsStreamedInBoundedChunks) {
  options_.max_rows = 1'000'000;
  engine_.columns = {{"id", "INTEGER"}, {"name", "TEXT"}, {"value", "REAL"}};
  engine_.generator = [](int64_t i) {
    return std::vector<Value>{i, "member-" + std::to_string(i), static_cast<double>(i) / 4};
  };
  engine_.generated_rows = 200'000;
  auto ex = Query(R"({"query":"SELECT * FROM big","maxRows":1000000})", EtlToken());
  ASSERT_EQ(ex->status(), 200);
  EXPECT_TRUE(ex->streamed());
  EXPECT_TRUE(ex->ended());
  std::vector<size_t> chunks = ex->chunk_sizes();
  ASSERT_GT(chunks.size(), 50u);
  // Each chunk is at most the chunk size plus one row: memory does not grow
  // with the result.
  for (size_t size : chunks) EXPECT_LE(size, 64u * 1024 + 256);
  json body = json::parse(ex->body());
  EXPECT_EQ(body["rowCount"], 200000);
  EXPECT_EQ(body["data"].size(), 200000u);
  EXPECT_EQ(body["data"][199999]["name"], "member-199999");
  EXPECT_EQ(body["truncated"], false);
  EXPECT_EQ(LastAudit()["rows"], 200000);
  EXPECT_EQ(LastAudit()["bytes"], ex->body().size());
}

TEST_F(QueryServiceTest, DisconnectedClientStopsTheQuery) {
  options_.stream_chunk_bytes = 1024;
  engine_.generator = [](int64_t i) { return std::vector<Value>{i, std::string(40, 'y')}; };
  engine_.generated_rows = 100'000;
  auto ex = Run(Post(R"({"query":"SELECT 1"})", EtlToken()),
                [](FakeExchange& e) { e.gone_after_writes = 3; });
  EXPECT_TRUE(ex->streamed());
  EXPECT_FALSE(ex->ended());
  EXPECT_EQ(engine_.last_sink_status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(engine_.last_sink_status.message(), "the client disconnected");
  json audit = LastAudit();
  EXPECT_EQ(audit["outcome"], "client_gone");
  EXPECT_LT(audit["rows"].get<int64_t>(), 1000);  // stopped early, not after 100,000 rows
}

// ---------------------------------------------------------------------------
// Catalog.

TEST_F(QueryServiceTest, CatalogListsWhatTheRoleMaySee) {
  engine_.catalog = {{"analytics", {{"members", {{"member_id", "INTEGER"}, {"name", "TEXT"}}}}}};
  Service();
  http::Request r;
  r.method = http::Method::kGet;
  r.path = "/v1/catalog";
  r.headers.push_back({"Authorization", ReportingToken()});
  auto ex = std::make_shared<FakeExchange>(r);
  size_t before = AuditCount();
  catalog_route_(ex);
  {
    std::unique_lock<std::mutex> lock(audit_mu_);
    ASSERT_TRUE(audit_cv_.wait_for(lock, 10s, [&] { return audit_.size() > before; }));
  }
  ASSERT_EQ(ex->status(), 200) << ex->body();
  json body = json::parse(ex->body());
  EXPECT_EQ(body["lfRole"], "lf-dev-role");
  EXPECT_EQ(body["clientId"], "cid-rep");
  EXPECT_EQ(body["databases"], json::parse(R"([{"name":"analytics","tables":[{"name":"members",
      "columns":[{"name":"member_id","type":"INTEGER"},{"name":"name","type":"TEXT"}]}]}])"));
  EXPECT_EQ(engine_.last_role, "lf-dev-role");
  EXPECT_EQ(LastAudit()["event"], "catalog");
}

// ---------------------------------------------------------------------------
// Over a real server.

TEST_F(QueryServiceTest, RoundTripOverHttp) {
  engine_.generator = [](int64_t i) { return std::vector<Value>{i, std::string(100, 'z')}; };
  engine_.generated_rows = 5000;  // ~600 KB: streamed in chunks
  http::Router router;
  Service();
  router.Add(http::Method::kPost, "/query-client-creds", query_route_, {1 << 20});
  http::Server server(http::ServerOptions{}, std::move(router), nullptr);
  ASSERT_TRUE(server.Start().ok());
  std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/query-client-creds";

  http::ClientRequest request;
  request.method = http::Method::kPost;
  request.url = url;
  request.headers = {{"Content-Type", "application/json"}, {"Authorization", EtlToken()}};
  request.body = R"({"query":"SELECT * FROM members"})";
  request.timeout = 20s;
  request.max_response_bytes = 16 << 20;
  Result<http::ClientResponse> answer = http::Client().Send(std::move(request));
  server.Stop(1000ms);

  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(answer->status, 200);
  const std::string& response = answer->body;
  json doc = json::parse(response, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << response.substr(0, 200);
  EXPECT_EQ(doc["rowCount"], 5000);
  EXPECT_EQ(doc["lfRole"], "lf-super-user-role");
}

// A handler that throws is a bug: it costs its own request (500, audited),
// never the worker or the process.
TEST_F(QueryServiceTest, AHandlerThatThrowsCostsOnlyItsRequest) {
  Service();
  http::Handler route = pipeline_->Route(
      {.json_body = true}, [](const std::shared_ptr<Call>&) { throw std::runtime_error("a bug"); });
  auto ex = std::make_shared<FakeExchange>(Post(R"({"query":"SELECT 1"})", EtlToken()));
  const size_t before = AuditCount();
  route(ex);
  {
    std::unique_lock<std::mutex> lock(audit_mu_);
    ASSERT_TRUE(audit_cv_.wait_for(lock, 20s, [&] { return audit_.size() > before; }));
  }
  EXPECT_EQ(ex->status(), 500) << ex->body();
  EXPECT_EQ(ex->body().find("a bug"), std::string::npos) << "internal detail shown: " << ex->body();
  auto ok = Query(R"({"query":"SELECT id FROM members","database":"analytics"})", EtlToken());
  EXPECT_EQ(ok->status(), 200) << ok->body();
}

}  // namespace
}  // namespace lakegate::gateway
