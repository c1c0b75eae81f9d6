#include "gateway/query_service.h"

#include <algorithm>
#include <limits>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "audit/audit_log.h"
#include "common/log.h"
#include "common/random.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "http/message.h"

namespace lakegate::gateway {
namespace {

using nlohmann::json;

constexpr size_t kMaxDatabaseNameBytes = 128;
constexpr size_t kInitialBufferBytes = 4096;

std::string_view ClassName(engine::StatementClass c) {
  switch (c) {
    case engine::StatementClass::kRead:
      return "read";
    case engine::StatementClass::kWrite:
      return "write";
    case engine::StatementClass::kAdmin:
      return "admin";
  }
  return "read";
}

std::string ErrorBody(std::string_view code, std::string_view message, std::string_view query_id) {
  std::string body = "{\"success\":false,\"error\":{\"code\":";
  body += JsonQuote(code);
  body += ",\"message\":";
  body += JsonQuote(message);
  body += "},\"queryId\":";
  body += JsonQuote(query_id);
  body += "}";
  return body;
}

struct PublicError {
  int status;
  std::string code;
  std::string message;
};

// What the client may learn about an engine failure (engine.h promises that
// the messages of these codes are safe to show; kInternal is not).
PublicError MapEngineError(const Status& s, const GatewayOptions& options,
                           std::string_view query_id) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      return {400, "invalid_query", s.message()};
    case StatusCode::kPermissionDenied:
      return {403, "access_denied", s.message()};
    case StatusCode::kDeadlineExceeded:
      return {408, "query_timeout",
              "the query ran longer than the limit of " +
                  std::to_string(options.query_timeout.count()) + " ms"};
    case StatusCode::kResourceExhausted:
      return {413, "result_too_large", s.message()};
    case StatusCode::kUnavailable:
      return {503, "unavailable", "the query engine is unavailable; retry later"};
    default:
      return {500, "internal_error",
              "internal error; the server log has the details for query " + std::string(query_id)};
  }
}

// Rows are delivered only during Execute(); the sink encodes each into a
// buffer and writes the buffer whenever it reaches the chunk size. The first
// chunk is held back until it is full so that a small result (or an early
// error) can still be answered with a complete response and the right status.
class StreamingSink final : public engine::ResultSink {
 public:
  StreamingSink(http::Exchange& exchange, ResultEncoder& encoder, size_t chunk_bytes,
                int64_t max_bytes, std::atomic<bool>& cancelled, std::vector<http::Header> headers)
      : exchange_(exchange),
        encoder_(encoder),
        chunk_bytes_(std::max<size_t>(1, chunk_bytes)),
        max_bytes_(max_bytes),
        cancelled_(cancelled),
        headers_(std::move(headers)) {
    // Small at first: most results are small, and reserving a whole chunk
    // per request churns the allocator (a 68 KiB block per request is
    // returned to the kernel and faulted back in). It grows as rows come;
    // once streaming, Flush() hands it a full-size buffer.
    buffer_.reserve(std::min<size_t>(chunk_bytes_ + 4096, kInitialBufferBytes));
  }

  Status Begin(const std::vector<engine::ColumnInfo>& columns) override {
    if (begun_) return Status::Ok();
    begun_ = true;
    encoder_.Begin(columns, buffer_);
    return AfterAppend(buffer_.size());
  }

  Status Row(const engine::RowView& row) override {
    if (!begun_) LG_RETURN_IF_ERROR(Begin({}));
    const size_t before = buffer_.size();
    encoder_.Row(row, buffer_);
    LG_RETURN_IF_ERROR(AfterAppend(before));
    ++rows_;
    return Status::Ok();
  }

  bool begun() const { return begun_; }
  bool started() const { return started_; }
  bool client_gone() const { return client_gone_; }
  bool limit_hit() const { return limit_hit_; }
  int64_t rows() const { return rows_; }
  int64_t bytes() const { return sent_ + static_cast<int64_t>(buffer_.size()); }
  std::string& buffer() { return buffer_; }

  // Writes the buffer (starting the stream if needed). False when the client
  // is gone.
  bool Flush() {
    if (!started_) {
      if (!exchange_.BeginStream(200, std::string(encoder_.content_type()), headers_)) {
        return Gone();
      }
      started_ = true;
    }
    if (buffer_.empty()) return true;
    sent_ += static_cast<int64_t>(buffer_.size());
    std::string chunk;
    chunk.reserve(chunk_bytes_ + 4096);
    chunk.swap(buffer_);
    if (!exchange_.Write(std::move(chunk))) return Gone();
    return true;
  }

 private:
  Status AfterAppend(size_t before) {
    if (sent_ + static_cast<int64_t>(buffer_.size()) > max_bytes_) {
      // Drop the piece that crossed the limit, so what was encoded so far
      // still ends on a row boundary.
      buffer_.resize(before);
      limit_hit_ = true;
      return ResourceExhaustedError("the result is larger than the limit of " +
                                    std::to_string(max_bytes_) + " bytes");
    }
    if (started_ && exchange_.ClientGone()) {
      Gone();
      return UnavailableError("the client disconnected");
    }
    if (buffer_.size() >= chunk_bytes_ && !Flush()) {
      return UnavailableError("the client disconnected");
    }
    return Status::Ok();
  }

  bool Gone() {
    client_gone_ = true;
    cancelled_.store(true);
    return false;
  }

  http::Exchange& exchange_;
  ResultEncoder& encoder_;
  const size_t chunk_bytes_;
  const int64_t max_bytes_;
  std::atomic<bool>& cancelled_;
  const std::vector<http::Header> headers_;
  std::string buffer_;
  int64_t sent_ = 0;
  int64_t rows_ = 0;
  bool begun_ = false;
  bool started_ = false;
  bool client_gone_ = false;
  bool limit_hit_ = false;
};

Result<engine::Param> ParseParam(const json& value, size_t index) {
  switch (value.type()) {
    case json::value_t::null:
      return engine::Param{std::monostate{}};
    case json::value_t::boolean:
      return engine::Param{static_cast<int64_t>(value.get<bool>() ? 1 : 0)};
    case json::value_t::number_integer:
      return engine::Param{value.get<int64_t>()};
    case json::value_t::number_unsigned: {
      uint64_t u = value.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return InvalidArgumentError("\"parameters\"[" + std::to_string(index) +
                                    "] is out of the 64-bit integer range");
      }
      return engine::Param{static_cast<int64_t>(u)};
    }
    case json::value_t::number_float:
      return engine::Param{value.get<double>()};
    case json::value_t::string:
      return engine::Param{value.get<std::string>()};
    default:
      return InvalidArgumentError("\"parameters\"[" + std::to_string(index) +
                                  "] must be a string, number, boolean or null");
  }
}

}  // namespace

std::string NewQueryId() {
  std::string b = RandomBytes(16);
  b[6] = static_cast<char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  std::string hex = HexEncode(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

Result<QueryBody> ParseQueryBody(std::string_view text, const GatewayOptions& options) {
  // nlohmann keeps the last of repeated members; a repeated "query" could
  // make a logging proxy and us disagree on the statement, so repeats fail.
  std::set<std::string, std::less<>> seen;
  std::string repeated;
  auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key && depth == 1 && parsed.is_string()) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!seen.insert(key).second && repeated.empty()) repeated = key;
    }
    return true;
  };
  json doc = json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgumentError("the request body is not valid JSON");
  if (!doc.is_object()) return InvalidArgumentError("the request body must be a JSON object");
  if (!repeated.empty()) return InvalidArgumentError("member \"" + repeated + "\" appears twice");

  QueryBody body;
  body.database = options.default_database;
  body.max_rows = options.max_rows;
  bool have_query = false;
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& key = it.key();
    const json& value = it.value();
    if (key == "query") {
      if (!value.is_string()) return InvalidArgumentError("\"query\" must be a string");
      body.sql = value.get<std::string>();
      have_query = true;
    } else if (key == "database") {
      if (!value.is_string()) return InvalidArgumentError("\"database\" must be a string");
      body.database = value.get<std::string>();
      if (body.database.empty() || body.database.size() > kMaxDatabaseNameBytes) {
        return InvalidArgumentError("\"database\" must be 1 to 128 bytes long");
      }
    } else if (key == "parameters") {
      if (!value.is_array()) return InvalidArgumentError("\"parameters\" must be an array");
      if (value.size() > options.max_parameters) {
        return InvalidArgumentError("\"parameters\" has more than " +
                                    std::to_string(options.max_parameters) + " elements");
      }
      for (size_t i = 0; i < value.size(); ++i) {
        LG_ASSIGN_OR_RETURN(engine::Param p, ParseParam(value[i], i));
        body.params.push_back(std::move(p));
      }
    } else if (key == "maxRows") {
      if (value.is_number_unsigned()) {
        uint64_t n = value.get<uint64_t>();
        if (n == 0) return InvalidArgumentError("\"maxRows\" must be a positive integer");
        body.max_rows = n > static_cast<uint64_t>(options.max_rows) ? options.max_rows
                                                                    : static_cast<int64_t>(n);
      } else {
        // Negative integers, floats, strings, ...
        return InvalidArgumentError("\"maxRows\" must be a positive integer");
      }
    } else if (key == "format") {
      if (!value.is_string()) return InvalidArgumentError("\"format\" must be a string");
      LG_ASSIGN_OR_RETURN(body.format, ParseResultFormat(value.get<std::string>()));
    } else {
      std::string shown = key.substr(0, 64);
      return InvalidArgumentError("unknown field \"" + shown +
                                  "\" (expected query, database, parameters, maxRows, format)");
    }
  }
  if (!have_query) return InvalidArgumentError("missing field \"query\"");
  if (body.sql.size() > options.max_query_bytes) {
    return ResourceExhaustedError("the query is longer than the limit of " +
                                  std::to_string(options.max_query_bytes) + " bytes");
  }
  if (TrimWhitespace(body.sql).empty()) return InvalidArgumentError("\"query\" is empty");
  return body;
}

// ---------------------------------------------------------------------------

struct QueryService::Call {
  std::shared_ptr<http::Exchange> exchange;
  std::string query_id;
  int64_t start_ms = 0;
  bool catalog = false;

  std::shared_ptr<const Identity> identity;
  std::string role;
  engine::StatementClass max_class = engine::StatementClass::kRead;
  std::string database;
  std::string sql;
  std::string statement_class;
  std::string statement_type;
  int64_t rows = 0;
  int64_t bytes = 0;
  std::string outcome = "ok";
  QueryBody body;     // parsed request (queries only)
  std::string slot;   // the per-client concurrency key

  std::vector<http::Header> BaseHeaders() const {
    return {{"X-Query-Id", query_id}, {"Cache-Control", "no-store"}};
  }

  void SendError(int status, std::string_view code, std::string_view message,
                 std::vector<http::Header> extra = {}) {
    outcome = std::string(code);
    http::Response response;
    response.status = status;
    response.content_type = "application/json";
    response.headers = BaseHeaders();
    for (auto& h : extra) response.headers.push_back(std::move(h));
    response.body = ErrorBody(code, message, query_id);
    bytes = static_cast<int64_t>(response.body.size());
    exchange->Respond(std::move(response));
  }
};

QueryService::QueryService(GatewayOptions options, BearerAuthenticator& authenticator,
                           engine::Engine& engine, PolicyProvider policy, ThreadPool& pool,
                           const Clock& clock, AuditSink audit, audit::Metrics* metrics)
    : options_(std::move(options)),
      authenticator_(authenticator),
      engine_(engine),
      policy_(std::move(policy)),
      pool_(pool),
      clock_(clock),
      audit_(std::move(audit)),
      resolver_(options_.client_rules, options_.scope_rules, options_.scopes) {
  if (metrics != nullptr) {
    queries_total_ = &metrics->AddCounter("lakegate_queries_total",
                                          "Query API requests by role and outcome",
                                          {"role", "outcome"});
    query_seconds_ = &metrics->AddHistogram("lakegate_query_duration_seconds",
                                            "Query API request latency by role", {"role"},
                                            audit::Histogram::LatencyBuckets());
  }
}

void QueryService::RegisterRoutes(http::Router& router) {
  http::RouteOptions route;
  // The SQL text may be max_query_bytes long and is JSON-escaped in the body;
  // leave room for escapes and the other members.
  route.max_body_bytes = options_.max_query_bytes * 2 + 64 * 1024;
  auto handler = [this](std::shared_ptr<http::Exchange> ex) { Handle(std::move(ex)); };
  router.Add(http::Method::kPost, "/query-client-creds", handler, route);
  router.Add(http::Method::kPost, "/v1/query", handler, route);
  router.Add(http::Method::kGet, "/v1/catalog",
             [this](std::shared_ptr<http::Exchange> ex) { HandleCatalog(std::move(ex)); });
}

void QueryService::Handle(std::shared_ptr<http::Exchange> exchange) {
  HandleOnNetworkThread(std::move(exchange), /*catalog=*/false);
}

void QueryService::HandleCatalog(std::shared_ptr<http::Exchange> exchange) {
  HandleOnNetworkThread(std::move(exchange), /*catalog=*/true);
}

void QueryService::HandleOnNetworkThread(std::shared_ptr<http::Exchange> exchange, bool catalog) {
  auto call = std::make_shared<Call>();
  call->exchange = std::move(exchange);
  call->query_id = NewQueryId();
  call->start_ms = clock_.NowMillis();
  call->catalog = catalog;
  const http::Request& request = call->exchange->request();

  // Cheap rejections stay on the network thread.
  if (request.CountHeader("authorization") == 0) {
    Status missing = UnauthenticatedError(std::string(kNoBearerCredentials));
    call->SendError(401, "unauthorized", "a Bearer access token is required",
                    {{"WWW-Authenticate", BearerChallenge(missing)}});
    Finish(*call);
    return;
  }
  if (!catalog && !http::IsJsonContentType(request.GetHeader("content-type"))) {
    call->SendError(415, "unsupported_media_type", "Content-Type must be application/json");
    Finish(*call);
    return;
  }
  bool queued = pool_.Submit([this, call] {
    if (call->catalog) {
      RunCatalog(*call);
    } else if (!RunQuery(call)) {
      return;  // parked: finished by the query that passes it a slot
    }
    Finish(*call);
    call->exchange.reset();  // an abandoned stream is cut off now, not later
  });
  if (!queued) {
    call->SendError(503, "unavailable", "the server is busy; retry later",
                    {{"Retry-After", "1"}});
    Finish(*call);
  }
}

bool QueryService::Admit(Call& call) {
  const http::Request& request = call.exchange->request();
  Result<std::shared_ptr<const Identity>> identity = authenticator_.Authenticate(request);
  if (!identity.ok()) {
    const Status& s = identity.status();
    log::Info("query " + call.query_id + " from " + request.remote_address +
              ": bearer token rejected: " + s.message());
    bool missing = s.message() == kNoBearerCredentials;
    call.SendError(401, missing ? "unauthorized" : "invalid_token",
                   missing ? "a Bearer access token is required"
                           : (s.message() == "token expired" ? "the access token expired"
                                                             : "the access token is invalid"),
                   {{"WWW-Authenticate", BearerChallenge(s)}});
    return false;
  }
  call.identity = *identity;
  Result<RoleDecision> role = resolver_.Resolve(**identity);
  if (!role.ok()) {
    call.SendError(403, "access_denied", role.status().message());
    return false;
  }
  call.role = role->role;
  Result<engine::StatementClass> max_class = resolver_.MaxClass(**identity);
  if (!max_class.ok()) {
    // RFC 6750 §3.1: the token lacks the scope; name the least one that helps.
    call.SendError(403, "access_denied", max_class.status().message(),
                   {{"WWW-Authenticate", "Bearer realm=\"lakegate\", error=\"insufficient_scope\", "
                                         "scope=\"" + options_.scopes.read + "\""}});
    return false;
  }
  call.max_class = *max_class;
  return true;
}

bool QueryService::RunQuery(const std::shared_ptr<Call>& call_ptr) {
  Call& call = *call_ptr;
  if (!Admit(call)) return true;
  const http::Request& request = call.exchange->request();
  Result<QueryBody> parsed = ParseQueryBody(request.body, options_);
  if (!parsed.ok()) {
    bool too_large = parsed.status().code() == StatusCode::kResourceExhausted;
    call.SendError(too_large ? 413 : 400, too_large ? "query_too_large" : "invalid_request",
                   parsed.status().message());
    return true;
  }
  call.body = std::move(*parsed);
  call.sql = call.body.sql;
  call.database = call.body.database;
  call.slot = call.identity->issuer + "\n" + call.identity->client_id;

  switch (AcquireOrPark(call_ptr)) {
    case SlotOutcome::kRefused:
      call.SendError(429, "too_many_queries",
                     "client '" + call.identity->client_id + "' already runs " +
                         std::to_string(options_.max_concurrent_per_client) + " queries and has " +
                         std::to_string(options_.max_queued_per_client) +
                         " waiting; retry later",
                     {{"Retry-After", "1"}});
      return true;
    case SlotOutcome::kParked:
      return false;
    case SlotOutcome::kAcquired:
      break;
  }
  ExecuteQuery(call);
  PassOnSlot(call.slot);
  return true;
}

void QueryService::ExecuteQuery(Call& call) {
  QueryBody& body = call.body;

  std::shared_ptr<const policy::PolicySnapshot> snapshot = policy_ ? policy_() : nullptr;
  const policy::Role* role = nullptr;
  if (snapshot) {
    auto it = snapshot->roles.find(call.role);
    if (it != snapshot->roles.end()) role = &it->second;
  }
  if (role == nullptr) {
    log::Error("query " + call.query_id + ": role '" + call.role + "' (mapped to client '" +
               call.identity->client_id + "') is not defined in the policy" +
               (snapshot ? "" : " (no policy loaded)"));
    call.SendError(500, "configuration_error",
                   "the role mapped to this client is not configured on the server");
    return;
  }

  std::atomic<bool> cancelled{false};
  engine::QueryRequest query;
  query.sql = std::move(body.sql);
  query.database = body.database;
  query.params = std::move(body.params);
  query.max_class = call.max_class;
  query.limits.timeout = options_.query_timeout;
  query.limits.max_rows = body.max_rows;
  query.cancelled = &cancelled;

  ResultEncoder encoder(body.format, ResultMeta{call.identity->client_id, call.identity->scopes,
                                                call.role, body.database, call.query_id});
  StreamingSink sink(*call.exchange, encoder, options_.stream_chunk_bytes,
                     options_.max_result_bytes, cancelled, call.BaseHeaders());
  Result<engine::QueryResult> result = engine_.Execute(*snapshot, *role, query, sink);

  if (result.ok()) {
    call.statement_class = std::string(ClassName(result->statement_class));
    call.statement_type = result->statement_type;
  }
  if (sink.client_gone()) {
    call.outcome = "client_gone";
  } else if (result.ok()) {
    if (!sink.begun()) sink.Begin({}).IgnoreError();
    encoder.End(sink.rows(), result->truncated, "", sink.buffer());
    if (sink.started()) {
      if (sink.Flush()) call.exchange->End();
      if (sink.client_gone()) call.outcome = "client_gone";
    } else {
      http::Response response;
      response.status = 200;
      response.content_type = std::string(encoder.content_type());
      response.headers = call.BaseHeaders();
      if (body.format != ResultFormat::kJson) {
        // csv/ndjson have no place for it in the body; a streamed result
        // cannot get it at all (the headers are gone by then).
        response.headers.push_back({"X-Result-Truncated", result->truncated ? "true" : "false"});
      }
      response.body = std::move(sink.buffer());
      call.bytes = static_cast<int64_t>(response.body.size());
      call.exchange->Respond(std::move(response));
    }
  } else {
    const Status& s = result.status();
    PublicError error = MapEngineError(s, options_, call.query_id);
    if (error.status == 500) {
      log::Error("query " + call.query_id + " failed: " + s.ToString());
    }
    if (!sink.started()) {
      call.SendError(error.status, error.code, error.message);
    } else if (body.format == ResultFormat::kJson) {
      // The 200 status line and the first rows are already on the wire, so
      // the status can no longer say what happened. End the document validly
      // (clients that parse it still get well-formed JSON) and say in it that
      // the rows are cut off and why.
      call.outcome = error.code;
      encoder.End(sink.rows(), /*truncated=*/true, error.message, sink.buffer());
      if (sink.Flush()) call.exchange->End();
    } else {
      // csv and ndjson have no room for a warning: leave the stream without
      // its final chunk, so the client sees an incomplete body.
      call.outcome = error.code;
    }
  }
  call.rows = sink.rows();
  if (sink.started()) call.bytes = sink.bytes();  // else set with the complete response
}

void QueryService::RunCatalog(Call& call) {
  if (!Admit(call)) return;
  std::shared_ptr<const policy::PolicySnapshot> snapshot = policy_ ? policy_() : nullptr;
  const policy::Role* role = nullptr;
  if (snapshot) {
    auto it = snapshot->roles.find(call.role);
    if (it != snapshot->roles.end()) role = &it->second;
  }
  if (role == nullptr) {
    log::Error("catalog " + call.query_id + ": role '" + call.role +
               "' is not defined in the policy");
    call.SendError(500, "configuration_error",
                   "the role mapped to this client is not configured on the server");
    return;
  }
  Result<std::vector<engine::DatabaseInfo>> catalog = engine_.Catalog(*snapshot, *role);
  if (!catalog.ok()) {
    PublicError error = MapEngineError(catalog.status(), options_, call.query_id);
    if (error.status == 500) {
      log::Error("catalog " + call.query_id + " failed: " + catalog.status().ToString());
    }
    call.SendError(error.status, error.code, error.message);
    return;
  }
  std::string out = "{\"success\":true,\"clientId\":" + JsonQuote(call.identity->client_id) +
                    ",\"lfRole\":" + JsonQuote(call.role) +
                    ",\"queryId\":" + JsonQuote(call.query_id) + ",\"databases\":[";
  for (size_t d = 0; d < catalog->size(); ++d) {
    const engine::DatabaseInfo& db = (*catalog)[d];
    if (d > 0) out.push_back(',');
    out += "{\"name\":" + JsonQuote(db.name) + ",\"tables\":[";
    for (size_t t = 0; t < db.tables.size(); ++t) {
      if (t > 0) out.push_back(',');
      out += "{\"name\":" + JsonQuote(db.tables[t].name) + ",\"columns\":[";
      for (size_t c = 0; c < db.tables[t].columns.size(); ++c) {
        if (c > 0) out.push_back(',');
        out += "{\"name\":" + JsonQuote(db.tables[t].columns[c].name) +
               ",\"type\":" + JsonQuote(db.tables[t].columns[c].type) + "}";
      }
      out += "]}";
    }
    out += "]}";
  }
  out += "]}";
  http::Response response;
  response.headers = call.BaseHeaders();
  response.body = std::move(out);
  call.bytes = static_cast<int64_t>(response.body.size());
  call.exchange->Respond(std::move(response));
}

// A client runs at most max_concurrent_per_client queries at once, so its slow
// queries cannot take every worker; further calls wait in its own queue
// without holding a worker (like Athena's queued state), and only a full
// queue is 429.
QueryService::SlotOutcome QueryService::AcquireOrPark(const std::shared_ptr<Call>& call) {
  std::lock_guard<std::mutex> lock(slots_mutex_);
  int& active = active_by_client_[call->slot];
  if (active < options_.max_concurrent_per_client) {
    ++active;
    return SlotOutcome::kAcquired;
  }
  auto& queue = waiting_[call->slot];
  if (queue.size() >= static_cast<size_t>(options_.max_queued_per_client)) {
    if (queue.empty()) waiting_.erase(call->slot);
    return SlotOutcome::kRefused;
  }
  queue.push_back(call);
  return SlotOutcome::kParked;
}

void QueryService::PassOnSlot(const std::string& key) {
  while (true) {
    std::shared_ptr<Call> next;
    {
      std::lock_guard<std::mutex> lock(slots_mutex_);
      auto it = waiting_.find(key);
      if (it == waiting_.end() || it->second.empty()) {
        if (it != waiting_.end()) waiting_.erase(it);
        auto active = active_by_client_.find(key);
        if (active != active_by_client_.end() && --active->second <= 0) {
          active_by_client_.erase(active);
        }
        return;
      }
      next = std::move(it->second.front());  // the slot passes to it
      it->second.pop_front();
    }
    bool queued = pool_.Submit([this, next] {
      ExecuteQuery(*next);
      PassOnSlot(next->slot);
      Finish(*next);
      next->exchange.reset();
    });
    if (queued) return;
    next->SendError(503, "unavailable", "the server is busy; retry later", {{"Retry-After", "1"}});
    Finish(*next);
    // Its slot goes to the one after it, or is freed.
  }
}

int QueryService::ActiveQueries(std::string_view client_id) const {
  std::lock_guard<std::mutex> lock(slots_mutex_);
  int total = 0;
  for (const auto& [key, count] : active_by_client_) {
    size_t nl = key.find('\n');
    if (nl != std::string::npos && std::string_view(key).substr(nl + 1) == client_id) total += count;
  }
  return total;
}

int QueryService::WaitingQueries(std::string_view client_id) const {
  std::lock_guard<std::mutex> lock(slots_mutex_);
  int total = 0;
  for (const auto& [key, queue] : waiting_) {
    size_t nl = key.find('\n');
    if (nl != std::string::npos && std::string_view(key).substr(nl + 1) == client_id) {
      total += static_cast<int>(queue.size());
    }
  }
  return total;
}

void QueryService::Finish(Call& call) {
  const int64_t duration_ms = clock_.NowMillis() - call.start_ms;
  const std::string_view role_label = call.role.empty() ? std::string_view("none") : call.role;
  if (queries_total_) queries_total_->Inc({role_label, call.outcome});
  if (query_seconds_) query_seconds_->Observe({role_label}, static_cast<double>(duration_ms) / 1000.0);
  if (!audit_) return;

  const Identity* id = call.identity.get();
  std::string line;
  line.reserve(512 + (options_.audit_sql ? call.sql.size() : 0));
  line += "{\"time\":\"" + audit::FormatTimestamp(clock_.NowMillis()) + "\"";
  line += call.catalog ? ",\"event\":\"catalog\"" : ",\"event\":\"query\"";
  line += ",\"query_id\":" + JsonQuote(call.query_id);
  line += ",\"client_id\":" + JsonQuote(id ? id->client_id : "");
  line += ",\"client_name\":" + JsonQuote(id ? id->client_name : "");
  line += ",\"issuer\":" + JsonQuote(id ? id->issuer : "");
  line += ",\"scopes\":[";
  if (id) {
    for (size_t i = 0; i < id->scopes.size(); ++i) {
      if (i > 0) line.push_back(',');
      line += JsonQuote(id->scopes[i]);
    }
  }
  line += "],\"role\":" + JsonQuote(call.role);
  line += ",\"database\":" + JsonQuote(call.database);
  line += ",\"statement_class\":" + JsonQuote(call.statement_class);
  line += ",\"statement_type\":" + JsonQuote(call.statement_type);
  if (!call.sql.empty()) {
    line += ",\"sql_sha256\":\"" + HexEncode(crypto::Sha256(call.sql)) + "\"";
    if (options_.audit_sql) line += ",\"sql\":" + JsonQuote(call.sql);
  }
  line += ",\"rows\":" + std::to_string(call.rows);
  line += ",\"bytes\":" + std::to_string(call.bytes);
  line += ",\"duration_ms\":" + std::to_string(duration_ms);
  line += ",\"outcome\":" + JsonQuote(call.outcome);
  line += ",\"remote\":" + JsonQuote(call.exchange ? call.exchange->request().remote_address : "");
  line += "}";
  audit_(line);
}

}  // namespace lakegate::gateway
