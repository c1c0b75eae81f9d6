#include "gateway/query_service.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "common/log.h"
#include "common/strings.h"
#include "gateway/gateway_failure.h"
#include "http/error_response.h"
#include "http/message.h"

namespace lakegate::gateway {
namespace {

using nlohmann::json;

constexpr size_t kMaxDatabaseNameBytes = 128;
constexpr size_t kInitialBufferBytes = 4096;

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
      return GatewayError(
          GatewayFailure::kResultTooLarge,
          "the result is larger than the limit of " + std::to_string(max_bytes_) + " bytes");
    }
    if (started_ && exchange_.ClientGone()) {
      Gone();
      return GatewayError(GatewayFailure::kClientGone, "the client disconnected");
    }
    if (buffer_.size() >= chunk_bytes_ && !Flush()) {
      return GatewayError(GatewayFailure::kClientGone, "the client disconnected");
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
    return GatewayError(GatewayFailure::kQueryTooLarge,
                        "the query is longer than the limit of " +
                            std::to_string(options.max_query_bytes) + " bytes");
  }
  if (TrimWhitespace(body.sql).empty()) return InvalidArgumentError("\"query\" is empty");
  return body;
}

QueryService::QueryService(Pipeline& pipeline, engine::Engine& engine)
    : pipeline_(pipeline),
      options_(pipeline.options()),
      engine_(engine),
      slots_(pipeline.pool(), options_.max_concurrent_per_client, options_.max_queued_per_client) {}

// Per query request: the parsed body and the client's slot key travel with
// the call while it may wait for a slot.
struct QueryService::Pending {
  std::shared_ptr<Call> call;
  QueryBody body;
  std::string slot;
};

void QueryService::Query(const std::shared_ptr<Call>& call) {
  Result<QueryBody> parsed = ParseQueryBody(call->request().body, options_);
  if (!parsed.ok()) return call->Fail(parsed.status());
  auto pending = std::make_shared<Pending>();
  pending->call = call;
  pending->body = std::move(*parsed);
  const Identity& who = call->identity();
  pending->slot = SlotKey(who);
  CallRecord& record = call->record();
  record.sql = pending->body.sql;
  record.database = pending->body.database;

  ClientSlots::Job job{
      .run = [this, pending] { Execute(*pending); },
      .busy =
          [pending] {
            pending->call->Fail(
                GatewayError(GatewayFailure::kBusy, "the worker pool's queue is full"));
          },
  };
  switch (slots_.AcquireOrPark(pending->slot, std::move(job))) {
    case ClientSlots::Outcome::kRefused:
      return call->Fail(GatewayError(
          GatewayFailure::kTooManyQueries,
          "client '" + who.client_id + "' already runs " +
              std::to_string(options_.max_concurrent_per_client) + " queries and has " +
              std::to_string(options_.max_queued_per_client) + " waiting; retry later"));
    case ClientSlots::Outcome::kParked:
      return;  // run later by the query that passes it a slot
    case ClientSlots::Outcome::kAcquired:
      break;
  }
  Execute(*pending);
  slots_.Release(pending->slot);
}

void QueryService::Execute(Pending& pending) {
  Call& call = *pending.call;
  QueryBody& body = pending.body;
  CallRecord& record = call.record();

  std::atomic<bool> cancelled{false};
  engine::QueryRequest query;
  query.sql = std::move(body.sql);
  query.database = body.database;
  query.params = std::move(body.params);
  query.max_class = call.max_class();
  query.limits.timeout = options_.query_timeout;
  query.limits.max_rows = body.max_rows;
  query.limits.max_memory_bytes = options_.max_query_memory_bytes;
  query.cancelled = &cancelled;

  const Identity& who = call.identity();
  ResultEncoder encoder(body.format, ResultMeta{who.client_id, who.scopes, call.role_name(),
                                                body.database, call.id()});
  StreamingSink sink(call.exchange(), encoder, options_.stream_chunk_bytes,
                     options_.max_result_bytes, cancelled, call.BaseHeaders());
  Result<engine::QueryResult> result = engine_.Execute(*call.policy(), call.role(), query, sink);

  if (result.ok()) {
    record.statement_class = std::string(engine::StatementClassName(result->statement_class));
    record.statement_type = result->statement_type;
  }
  record.rows = sink.rows();
  if (sink.client_gone()) {
    record.outcome = "client_gone";
    record.bytes = sink.bytes();
    return call.Finished();
  }
  if (result.ok()) {
    if (!sink.begun()) sink.Begin({}).IgnoreError();
    encoder.End(sink.rows(), result->truncated, "", sink.buffer());
    if (sink.started()) {
      if (sink.Flush()) call.exchange().End();
      if (sink.client_gone()) record.outcome = "client_gone";
      record.bytes = sink.bytes();
      return call.Finished();
    }
    http::Response response;
    response.content_type = std::string(encoder.content_type());
    if (body.format != ResultFormat::kJson) {
      // csv/ndjson have no place for it in the body; a streamed result
      // cannot get it at all (the headers are gone by then).
      response.headers.push_back({"X-Result-Truncated", result->truncated ? "true" : "false"});
    }
    response.body = std::move(sink.buffer());
    return call.Respond(std::move(response));
  }
  const Status& failure = result.status();
  if (!sink.started()) return call.Fail(failure);
  // The 200 status line and the first rows are already on the wire, so the
  // status can no longer say what happened.
  record.outcome = std::string(http::PublicErrorCode(failure, http::ErrorFamily::kApi));
  if (failure.code() == StatusCode::kInternal) {
    log::Error("query " + call.id() + " failed while streaming: " + failure.ToString());
  }
  if (body.format == ResultFormat::kJson) {
    // End the document validly (clients that parse it still get well-formed
    // JSON) and say in it that the rows are cut off and why.
    encoder.End(sink.rows(), /*truncated=*/true, http::PublicErrorMessage(failure, call.id()),
                sink.buffer());
    if (sink.Flush()) call.exchange().End();
  }
  // csv and ndjson have no room for a warning: the stream ends without its
  // final chunk, so the client sees an incomplete body.
  record.bytes = sink.bytes();
  call.Finished();
}

void QueryService::Catalog(const std::shared_ptr<Call>& call) {
  Result<std::vector<engine::DatabaseInfo>> catalog =
      engine_.Catalog(*call->policy(), call->role());
  if (!catalog.ok()) return call->Fail(catalog.status());
  const Identity& who = call->identity();
  std::string out = "{\"success\":true,\"clientId\":" + JsonQuote(who.client_id) +
                    ",\"lfRole\":" + JsonQuote(call->role_name()) +
                    ",\"queryId\":" + JsonQuote(call->id()) + ",\"databases\":[";
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
  response.body = std::move(out);
  call->Respond(std::move(response));
}

std::string SlotKey(const Identity& who) { return who.issuer + "\n" + who.client_id; }

ClientSlots::ClientSlots(ThreadPool& pool, int max_concurrent, int max_queued)
    : pool_(pool), max_concurrent_(max_concurrent), max_queued_(max_queued) {}

// A client's slow queries cannot take every worker; further calls wait in
// its own queue without holding a worker (like Athena's QUEUED state), and
// only a full queue refuses.
ClientSlots::Outcome ClientSlots::AcquireOrPark(const std::string& key, Job job) {
  MutexLock lock(mutex_);
  int& active = active_[key];
  if (active < max_concurrent_) {
    ++active;
    return Outcome::kAcquired;
  }
  auto& queue = waiting_[key];
  if (queue.size() >= static_cast<size_t>(max_queued_)) {
    if (queue.empty()) waiting_.erase(key);
    return Outcome::kRefused;
  }
  queue.push_back(std::move(job));
  return Outcome::kParked;
}

void ClientSlots::Release(const std::string& key) {
  while (true) {
    Job next;
    {
      MutexLock lock(mutex_);
      auto it = waiting_.find(key);
      if (it == waiting_.end() || it->second.empty()) {
        if (it != waiting_.end()) waiting_.erase(it);
        auto active = active_.find(key);
        if (active != active_.end() && --active->second <= 0) active_.erase(active);
        return;
      }
      next = std::move(it->second.front());  // the slot passes to it
      it->second.pop_front();
    }
    auto run = std::make_shared<std::function<void()>>(std::move(next.run));
    bool queued = pool_.Submit([this, run, key] {
      (*run)();
      Release(key);
    });
    if (queued) return;
    if (next.busy) next.busy();
    // Its slot goes to the one after it, or is freed.
  }
}

int ClientSlots::Active(std::string_view client_id) const {
  MutexLock lock(mutex_);
  int total = 0;
  for (const auto& [key, count] : active_) {
    size_t nl = key.find('\n');
    if (nl != std::string::npos && std::string_view(key).substr(nl + 1) == client_id)
      total += count;
  }
  return total;
}

int ClientSlots::Waiting(std::string_view client_id) const {
  MutexLock lock(mutex_);
  int total = 0;
  for (const auto& [key, queue] : waiting_) {
    size_t nl = key.find('\n');
    if (nl != std::string::npos && std::string_view(key).substr(nl + 1) == client_id) {
      total += static_cast<int>(queue.size());
    }
  }
  return total;
}

}  // namespace lakegate::gateway
