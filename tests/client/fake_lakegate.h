// Test doubles for the client library: a fake lakegate (token endpoint and
// query API) on a real http::Server bound to 127.0.0.1:0 that records every
// request and answers from a script.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "common/base64url.h"
#include "common/strings.h"
#include "common/thread_annotations.h"
#include "http/server.h"
#include "testing/temp_dir.h"

namespace lakegate::client::testing {

using ::lakegate::testing::TempDir;

// An unsigned JWT whose payload is `claims_json` (the client reads "exp"
// without verifying; the server is the one that verifies).
inline std::string FakeJwt(const std::string& claims_json) {
  return Base64UrlEncode(R"({"alg":"ES256","typ":"at+jwt"})") + "." + Base64UrlEncode(claims_json) +
         ".c2ln";
}

struct RecordedRequest {
  std::string path;
  std::vector<http::Header> headers;
  std::string body;

  std::string Header(std::string_view name) const {
    for (const http::Header& h : headers) {
      if (EqualsIgnoreCase(h.name, name)) return h.value;
    }
    return "";
  }
};

// POST /oauth2/token issues FakeJwt tokens expiring at `token_exp` (numbered
// by "jti") unless a token response is queued; POST /v1/query answers 401 to
// any token in `reject`, else the next queued query response.
class FakeLakegate {
 public:
  FakeLakegate() {
    http::Router router;
    router.Add(http::Method::kPost, "/oauth2/token", [this](std::shared_ptr<http::Exchange> ex) {
      ex->Respond(AnswerToken(Record(ex->request())));
    });
    router.Add(http::Method::kPost, "/v1/query", [this](std::shared_ptr<http::Exchange> ex) {
      ex->Respond(AnswerQuery(Record(ex->request())));
    });
    http::ServerOptions options;
    options.threads = 1;
    server_ = std::make_unique<http::Server>(options, std::move(router), nullptr);
    Status started = server_->Start();
    if (!started.ok()) std::abort();
  }
  ~FakeLakegate() { server_->Stop(std::chrono::milliseconds(0)); }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

  void SetTokenExpiry(int64_t exp) {
    MutexLock lock(mu_);
    token_exp_ = exp;
  }
  void QueueTokenResponse(http::Response r) {
    MutexLock lock(mu_);
    token_responses_.push_back(std::move(r));
  }
  void QueueQueryResponse(http::Response r) {
    MutexLock lock(mu_);
    query_responses_.push_back(std::move(r));
  }
  void Reject(const std::string& token) {
    MutexLock lock(mu_);
    rejected_.push_back(token);
  }
  std::vector<RecordedRequest> Requests(std::string_view path) const {
    MutexLock lock(mu_);
    std::vector<RecordedRequest> out;
    for (const RecordedRequest& r : requests_) {
      if (r.path == path) out.push_back(r);
    }
    return out;
  }
  size_t TokensIssued() const {
    MutexLock lock(mu_);
    return tokens_issued_;
  }

  static http::Response Json(int status, std::string body) {
    http::Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }

 private:
  RecordedRequest Record(const http::Request& request) {
    RecordedRequest r{request.path, request.headers, request.body};
    MutexLock lock(mu_);
    requests_.push_back(r);
    return r;
  }

  http::Response AnswerToken(const RecordedRequest&) {
    MutexLock lock(mu_);
    if (!token_responses_.empty()) {
      http::Response r = std::move(token_responses_.front());
      token_responses_.pop_front();
      return r;
    }
    ++tokens_issued_;
    std::string token = FakeJwt(R"({"exp":)" + std::to_string(token_exp_) + R"(,"jti":")" +
                                std::to_string(tokens_issued_) + "\"}");
    return Json(200,
                R"({"access_token":")" + token + R"(","token_type":"Bearer","expires_in":3600})");
  }

  http::Response AnswerQuery(const RecordedRequest& request) {
    MutexLock lock(mu_);
    const std::string auth = request.Header("authorization");
    for (const std::string& token : rejected_) {
      if (auth == "Bearer " + token) {
        return Json(401, R"({"success":false,"error":{"code":"UNAUTHENTICATED",)"
                         R"("message":"token revoked"}})");
      }
    }
    if (query_responses_.empty()) return Json(500, "{}");
    http::Response r = std::move(query_responses_.front());
    query_responses_.pop_front();
    return r;
  }

  std::unique_ptr<http::Server> server_;
  mutable Mutex mu_;
  int64_t token_exp_ GUARDED_BY(mu_) = 1'800'003'600;
  size_t tokens_issued_ GUARDED_BY(mu_) = 0;
  std::deque<http::Response> token_responses_ GUARDED_BY(mu_);
  std::deque<http::Response> query_responses_ GUARDED_BY(mu_);
  std::vector<std::string> rejected_ GUARDED_BY(mu_);
  std::vector<RecordedRequest> requests_ GUARDED_BY(mu_);
};

}  // namespace lakegate::client::testing
