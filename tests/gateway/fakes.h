// Test doubles for the gateway tests: a scriptable Engine, an Exchange that
// records what the handler sends, and token helpers.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/base64url.h"
#include "common/status.h"
#include "crypto/keys.h"
#include "engine/engine.h"
#include "gateway/bearer_authenticator.h"
#include "gateway/own_issuer.h"
#include "gateway/token_issuer.h"
#include "http/exchange.h"
#include "jose/claims.h"
#include "jose/jws.h"
#include "policy/policy.h"
#include "store/sqlite/sqlite_store.h"
#include "store/state_cache.h"

namespace lakegate::gateway::testing {

using Value = std::variant<std::monostate, int64_t, double, std::string, engine::Blob>;

class VectorRow final : public engine::RowView {
 public:
  explicit VectorRow(const std::vector<Value>* values) : values_(values) {}
  size_t size() const override { return values_->size(); }
  engine::ValueType type(size_t i) const override {
    switch ((*values_)[i].index()) {
      case 0:
        return engine::ValueType::kNull;
      case 1:
        return engine::ValueType::kInteger;
      case 2:
        return engine::ValueType::kReal;
      case 3:
        return engine::ValueType::kText;
      default:
        return engine::ValueType::kBlob;
    }
  }
  int64_t integer(size_t i) const override { return std::get<int64_t>((*values_)[i]); }
  double real(size_t i) const override { return std::get<double>((*values_)[i]); }
  std::string_view text(size_t i) const override { return std::get<std::string>((*values_)[i]); }
  std::string_view blob(size_t i) const override {
    return std::get<engine::Blob>((*values_)[i]).bytes;
  }

 private:
  const std::vector<Value>* values_;
};

// An engine that answers from a script: fixed columns and rows (or a row
// generator for large results), an error before or after some rows, a
// statement class that is checked against request.max_class like the real
// engines do, and an optional gate that holds Execute() until released.
class FakeEngine final : public engine::Engine {
 public:
  std::vector<engine::ColumnInfo> columns = {{"id", "INTEGER"}, {"name", "TEXT"}};
  std::vector<std::vector<Value>> rows;
  // When set, produces row i (0-based) of `generated_rows` rows.
  std::function<std::vector<Value>(int64_t)> generator;
  int64_t generated_rows = 0;
  Status error_before;  // returned before Begin() when not OK
  Status error_after;   // returned after `error_after_rows` rows when not OK
  int64_t error_after_rows = 0;
  engine::StatementClass statement_class = engine::StatementClass::kRead;
  std::string statement_type = "SELECT";
  std::vector<engine::DatabaseInfo> catalog;

  // Gate: Execute() blocks until Release() when `hold` is true.
  bool hold = false;
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  int WaitForRunning(int n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return running_ >= n; });
    return running_;
  }

  // What the last call saw.
  std::mutex mu_;
  engine::QueryRequest last_request;
  std::string last_role;
  int calls = 0;
  Status last_sink_status;

  Result<engine::QueryResult> Execute(const policy::PolicySnapshot&, const policy::Role& role,
                                      const engine::QueryRequest& request,
                                      engine::ResultSink& sink) override {
    {
      std::unique_lock<std::mutex> lock(mu_);
      ++calls;
      ++running_;
      last_request = request;
      last_role = role.name;
      cv_.notify_all();
      if (hold) cv_.wait(lock, [&] { return released_; });
    }
    struct Done {
      FakeEngine* e;
      ~Done() {
        std::lock_guard<std::mutex> lock(e->mu_);
        --e->running_;
      }
    } done{this};
    if (!error_before.ok()) return error_before;
    if (statement_class > request.max_class) {
      return Status(
          StatusCode::kPermissionDenied, engine::EngineFailure::kStatementNotAllowed,
          "statement class " +
              std::string(statement_class == engine::StatementClass::kWrite ? "write" : "admin") +
              " is not allowed by the token's scopes (role " + role.name + ")");
    }
    Status s = sink.Begin(columns);
    if (!s.ok()) return Stop(s);
    const int64_t total = generator ? generated_rows : static_cast<int64_t>(rows.size());
    engine::QueryResult result;
    result.statement_class = statement_class;
    result.statement_type = statement_type;
    for (int64_t i = 0; i < total; ++i) {
      if (!error_after.ok() && i == error_after_rows) return error_after;
      if (i >= request.limits.max_rows) {
        result.truncated = true;
        break;
      }
      std::vector<Value> values = generator ? generator(i) : rows[static_cast<size_t>(i)];
      VectorRow row(&values);
      s = sink.Row(row);
      if (!s.ok()) return Stop(s);
      ++result.rows;
    }
    if (!error_after.ok() && total == error_after_rows) return error_after;
    return result;
  }

  Result<std::vector<engine::DatabaseInfo>> Catalog(const policy::PolicySnapshot&,
                                                    const policy::Role& role) override {
    std::lock_guard<std::mutex> lock(mu_);
    last_role = role.name;
    if (!error_before.ok()) return error_before;
    return catalog;
  }

  // Appends every record of `source` to `rows` as text (empty fields NULL).
  Result<engine::LoadSummary> Load(const engine::LoadRequest&, engine::RowSource& source,
                                   const engine::LoadProgressFn&) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_before.ok()) return error_before;
    engine::LoadSummary summary;
    std::vector<engine::LoadField> record;
    for (;;) {
      LG_ASSIGN_OR_RETURN(bool more, source.Next(record));
      if (!more) break;
      std::vector<Value> row;
      for (const engine::LoadField& field : record) {
        if (field.kind == engine::LoadField::Kind::kNull) {
          row.emplace_back(std::monostate{});
        } else {
          row.emplace_back(field.text);
        }
      }
      rows.push_back(std::move(row));
      ++summary.rows;
    }
    return summary;
  }

 private:
  Status Stop(const Status& s) {
    std::lock_guard<std::mutex> lock(mu_);
    last_sink_status = s;
    return s;
  }
  std::condition_variable cv_;
  int running_ = 0;
  bool released_ = false;
};

// Records the answer. `gone_after_writes` >= 0 makes Write() fail (client
// gone) after that many successful writes.
class FakeExchange final : public http::Exchange {
 public:
  explicit FakeExchange(http::Request request) : request_(std::move(request)) {}

  const http::Request& request() const override { return request_; }
  void Respond(http::Response response) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (answered_) return;
    answered_ = true;
    response_ = std::move(response);
  }
  bool BeginStream(int status, std::string content_type,
                   std::vector<http::Header> headers) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (answered_ || gone_) return false;
    answered_ = true;
    streamed_ = true;
    http::Response r;
    r.status = status;
    r.content_type = std::move(content_type);
    r.headers = std::move(headers);
    response_ = std::move(r);
    return true;
  }
  bool Write(std::string chunk) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (gone_) return false;
    if (gone_after_writes >= 0 && static_cast<int64_t>(chunks_.size()) >= gone_after_writes) {
      gone_ = true;
      return false;
    }
    max_chunk_ = std::max(max_chunk_, chunk.size());
    chunk_sizes_.push_back(chunk.size());
    total_ += chunk.size();
    if (keep_body) response_->body += chunk;
    chunks_.push_back(chunk.size());
    return true;
  }
  void End() override {
    std::lock_guard<std::mutex> lock(mu_);
    ended_ = true;
  }
  bool ClientGone() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return gone_;
  }

  int64_t gone_after_writes = -1;
  bool keep_body = true;

  bool answered() const {
    std::lock_guard<std::mutex> l(mu_);
    return answered_;
  }
  bool streamed() const {
    std::lock_guard<std::mutex> l(mu_);
    return streamed_;
  }
  bool ended() const {
    std::lock_guard<std::mutex> l(mu_);
    return ended_;
  }
  int status() const {
    std::lock_guard<std::mutex> l(mu_);
    return response_ ? response_->status : 0;
  }
  std::string body() const {
    std::lock_guard<std::mutex> l(mu_);
    return response_ ? response_->body : "";
  }
  std::string content_type() const {
    std::lock_guard<std::mutex> l(mu_);
    return response_ ? response_->content_type : "";
  }
  std::string header(std::string_view name) const {
    std::lock_guard<std::mutex> l(mu_);
    if (!response_) return "";
    for (const auto& h : response_->headers) {
      if (h.name == name) return h.value;
    }
    return "";
  }
  size_t max_chunk() const {
    std::lock_guard<std::mutex> l(mu_);
    return max_chunk_;
  }
  std::vector<size_t> chunk_sizes() const {
    std::lock_guard<std::mutex> l(mu_);
    return chunk_sizes_;
  }
  size_t total_written() const {
    std::lock_guard<std::mutex> l(mu_);
    return total_;
  }

 private:
  http::Request request_;
  mutable std::mutex mu_;
  bool answered_ = false, streamed_ = false, ended_ = false, gone_ = false;
  std::optional<http::Response> response_;
  std::vector<size_t> chunks_;
  std::vector<size_t> chunk_sizes_;
  size_t max_chunk_ = 0;
  size_t total_ = 0;
};

// A signing key with its kid, making access tokens for one issuer.
struct TestIssuerKey {
  std::string kid;
  crypto::PrivateKey key;

  static TestIssuerKey Make(std::string kid) {
    return TestIssuerKey{std::move(kid), *crypto::PrivateKey::Generate(crypto::Algorithm::kES256)};
  }
  std::string Sign(const jose::AccessTokenClaims& claims, std::string typ = "at+jwt") const {
    jose::Signer signer(kid, key, std::move(typ));
    return *signer.SignCompact(jose::EncodeAccessTokenClaims(claims));
  }
  jose::Jwk Jwk() const { return jose::Jwk{kid, key.Public(), "sig"}; }
};

// This deployment's own state as the gateway reads it: an in-memory store
// with signing keys and clients, and the state cache over it.
struct OwnState {
  std::unique_ptr<store::Store> store = store::NewInMemoryStore();
  store::StateCache cache{*store};

  // Publishes `key` as a signing key (current unless `retired`).
  void AddKey(const TestIssuerKey& key, int64_t created_at = 1) {
    store::SigningKeyRecord record;
    record.kid = key.kid;
    record.algorithm = "ES256";
    record.private_pem = key.key.ToPem();
    record.created_at = created_at;
    EXPECT_TRUE(store->InsertSigningKey(record).ok());
  }
  void AddClient(const std::string& id, const std::string& name, bool enabled = true) {
    store::ClientRecord client;
    client.client_id = id;
    client.name = name;
    client.enabled = enabled;
    client.secret_hash = "unused";
    EXPECT_TRUE(store->InsertClient(client).ok());
  }
  // Applies `change` to a stored client.
  void UpdateClient(const std::string& id,
                    const std::function<void(store::ClientRecord&)>& change) {
    store::ClientRecord client = **store->FindClient(id);
    change(client);
    EXPECT_TRUE(store->UpdateClient(client).ok());
  }
  void Refresh() { EXPECT_TRUE(cache.Refresh().ok()); }
};

// An authenticator for `own_issuer` (tokens checked against `state`) and the
// trusted issuers of `options` (keys through `fetcher`).
inline std::unique_ptr<BearerAuthenticator> MakeAuthenticator(
    const GatewayOptions& options, const std::string& own_issuer, OwnState* state,
    JwksFetcher& fetcher, const Clock& clock, const oauth::DpopVerifier* dpop = nullptr) {
  std::vector<std::unique_ptr<TokenIssuer>> issuers;
  if (state != nullptr) {
    issuers.push_back(std::make_unique<OwnIssuer>(own_issuer, options, state->cache, clock));
  }
  for (const TrustedIssuer& trusted : options.trusted_issuers) {
    issuers.push_back(std::make_unique<RemoteIssuer>(trusted, options, fetcher, clock));
  }
  return std::make_unique<BearerAuthenticator>(options, std::move(issuers), clock, dpop);
}

inline jose::AccessTokenClaims Claims(std::string iss, std::string client_id, std::string scope,
                                      int64_t now, int64_t lifetime = 3600) {
  jose::AccessTokenClaims c;
  c.iss = std::move(iss);
  c.sub = client_id;
  c.client_id = std::move(client_id);
  c.scope = std::move(scope);
  c.token_use = "access";
  c.iat = now;
  c.exp = now + lifetime;
  c.jti = "jti-" + c.client_id + "-" + std::to_string(now);
  c.version = 2;
  return c;
}

}  // namespace lakegate::gateway::testing
