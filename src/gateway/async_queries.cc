#include "gateway/async_queries.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "common/base64url.h"
#include "common/files.h"
#include "common/log.h"
#include "common/random.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "gateway/gateway_failure.h"
#include "http/error_response.h"

namespace lakegate::gateway {
namespace {

using nlohmann::json;

constexpr ReasonInfo kInfos[] = {
    {.name = "not_found", .public_code = "not_found", .http_status = 404},
    {.name = "not_finished", .public_code = "query_not_finished", .http_status = 409},
    {.name = "no_results", .public_code = "query_failed", .http_status = 409},
    {.name = "invalid_token", .public_code = "invalid_request"},
    {.name = "storage", .public_code = "internal_error"},
};
static_assert(std::size(kInfos) == static_cast<size_t>(AsyncFailure::kStorage) + 1,
              "one ReasonInfo per AsyncFailure");
constexpr ReasonDomain kDomain("async", kInfos, static_cast<int>(std::size(kInfos)));

StatusCode CodeOf(AsyncFailure reason) {
  switch (reason) {
    case AsyncFailure::kNotFound:
      return StatusCode::kNotFound;
    case AsyncFailure::kNotFinished:
    case AsyncFailure::kNoResults:
      return StatusCode::kFailedPrecondition;
    case AsyncFailure::kInvalidToken:
      return StatusCode::kInvalidArgument;
    case AsyncFailure::kStorage:
      return StatusCode::kInternal;
  }
  return StatusCode::kInternal;
}

constexpr std::string_view kMetaSuffix = ".json";
constexpr std::string_view kRowsSuffix = ".rows";
constexpr std::string_view kTokenKeyFile = "page-token.key";
constexpr size_t kWriteBufferBytes = 256 * 1024;
constexpr const char* kStoppedReason =
    "the server stopped while the query was queued or running; run it again";

// An execution id is a UUID: hex digits and dashes, so it is safe in a path.
bool IsExecutionId(std::string_view id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<ExecutionState> ParseState(std::string_view name) {
  for (ExecutionState s :
       {ExecutionState::kQueued, ExecutionState::kRunning, ExecutionState::kSucceeded,
        ExecutionState::kFailed, ExecutionState::kCancelled}) {
    if (ExecutionStateName(s) == name) return s;
  }
  return InvalidArgumentError("unknown state " + std::string(name));
}

json ToJson(const ExecutionInfo& info) {
  json columns = json::array();
  for (const SpooledColumn& c : info.columns) {
    columns.push_back({{"name", c.name},
                       {"declared_type", c.declared_type},
                       {"value_type", static_cast<int>(c.value_type)}});
  }
  return {{"id", info.id},
          {"owner", info.owner},
          {"client_id", info.client_id},
          {"role", info.role},
          {"database", info.database},
          {"sql", info.sql},
          {"request_token", info.request_token},
          {"state", ExecutionStateName(info.state)},
          {"error_code", info.error_code},
          {"state_reason", info.state_reason},
          {"submitted_ms", info.submitted_ms},
          {"started_ms", info.started_ms},
          {"completed_ms", info.completed_ms},
          {"rows", info.rows},
          {"bytes", info.bytes},
          {"truncated", info.truncated},
          {"changes", info.changes},
          {"statement_type", info.statement_type},
          {"statement_class", info.statement_class},
          {"columns", std::move(columns)}};
}

Result<ExecutionInfo> FromJson(std::string_view text) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return InvalidArgumentError("not a JSON object");
  ExecutionInfo info;
  try {
    info.id = doc.at("id").get<std::string>();
    info.owner = doc.at("owner").get<std::string>();
    info.client_id = doc.at("client_id").get<std::string>();
    info.role = doc.at("role").get<std::string>();
    info.database = doc.at("database").get<std::string>();
    info.sql = doc.at("sql").get<std::string>();
    info.request_token = doc.at("request_token").get<std::string>();
    LG_ASSIGN_OR_RETURN(info.state, ParseState(doc.at("state").get<std::string>()));
    info.error_code = doc.at("error_code").get<std::string>();
    info.state_reason = doc.at("state_reason").get<std::string>();
    info.submitted_ms = doc.at("submitted_ms").get<int64_t>();
    info.started_ms = doc.at("started_ms").get<int64_t>();
    info.completed_ms = doc.at("completed_ms").get<int64_t>();
    info.rows = doc.at("rows").get<int64_t>();
    info.bytes = doc.at("bytes").get<int64_t>();
    info.truncated = doc.at("truncated").get<bool>();
    info.changes = doc.value("changes", int64_t{0});
    info.statement_type = doc.at("statement_type").get<std::string>();
    info.statement_class = doc.at("statement_class").get<std::string>();
    for (const json& c : doc.at("columns")) {
      const int type = c.at("value_type").get<int>();
      if (type < 0 || type > static_cast<int>(engine::ValueType::kBlob)) {
        return InvalidArgumentError("bad column value type");
      }
      info.columns.push_back({c.at("name").get<std::string>(),
                              c.at("declared_type").get<std::string>(),
                              static_cast<engine::ValueType>(type)});
    }
  } catch (const json::exception& e) {
    return InvalidArgumentError(std::string("missing or mistyped member: ") + e.what());
  }
  if (!IsExecutionId(info.id)) return InvalidArgumentError("bad execution id");
  return info;
}

// Writes rows to the spool file as they come, one JSON array per line
// (integers and reals as numbers, text as strings, NULL as null, a blob as
// {"b64": "..."}), through a buffer; fails the query once the file would
// pass its limit.
class SpoolSink final : public engine::ResultSink {
 public:
  SpoolSink(int fd, int64_t max_bytes) : fd_(fd), max_bytes_(max_bytes) {
    buffer_.reserve(kWriteBufferBytes + 4096);
  }

  Status Begin(const std::vector<engine::ColumnInfo>& columns) override {
    columns_.clear();
    for (const engine::ColumnInfo& c : columns) columns_.push_back({c.name, c.type, {}});
    return Status::Ok();
  }

  Status Row(const engine::RowView& row) override {
    const size_t before = buffer_.size();
    buffer_.push_back('[');
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) buffer_.push_back(',');
      const engine::ValueType type = row.type(i);
      if (i < columns_.size() && columns_[i].value_type == engine::ValueType::kNull) {
        columns_[i].value_type = type;
      }
      switch (type) {
        case engine::ValueType::kNull:
          buffer_ += "null";
          break;
        case engine::ValueType::kInteger:
          buffer_ += std::to_string(row.integer(i));
          break;
        case engine::ValueType::kReal: {
          const double d = row.real(i);
          buffer_ += std::isfinite(d) ? json(d).dump() : "null";
          break;
        }
        case engine::ValueType::kText:
          buffer_.push_back('"');
          {
            std::string clean;
            AppendUtf8Sanitized(clean, row.text(i));
            AppendJsonEscaped(buffer_, clean);
          }
          buffer_.push_back('"');
          break;
        case engine::ValueType::kBlob:
          buffer_ += "{\"b64\":\"" + Base64Encode(row.blob(i)) + "\"}";
          break;
      }
    }
    buffer_ += "]\n";
    if (written_ + static_cast<int64_t>(buffer_.size()) > max_bytes_) {
      buffer_.resize(before);
      return GatewayError(GatewayFailure::kResultTooLarge,
                          "the result is larger than the asynchronous limit of " +
                              std::to_string(max_bytes_) + " bytes");
    }
    ++rows_;
    if (buffer_.size() >= kWriteBufferBytes) LG_RETURN_IF_ERROR(Flush());
    return Status::Ok();
  }

  Status Flush() {
    size_t done = 0;
    while (done < buffer_.size()) {
      ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return AsyncError(AsyncFailure::kStorage,
                          std::string("writing the result spool: ") + std::strerror(errno));
      }
      done += static_cast<size_t>(n);
    }
    written_ += static_cast<int64_t>(buffer_.size());
    buffer_.clear();
    return Status::Ok();
  }

  int64_t rows() const { return rows_; }
  int64_t bytes() const { return written_ + static_cast<int64_t>(buffer_.size()); }
  std::vector<SpooledColumn>& columns() { return columns_; }

 private:
  const int fd_;
  const int64_t max_bytes_;
  std::string buffer_;
  int64_t written_ = 0;
  int64_t rows_ = 0;
  std::vector<SpooledColumn> columns_;
};

Result<std::vector<engine::Param>> ParseSpoolLine(std::string_view line) {
  json doc = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_array()) return AsyncError(AsyncFailure::kStorage, "a spooled row is damaged");
  std::vector<engine::Param> row;
  row.reserve(doc.size());
  for (json& v : doc) {
    switch (v.type()) {
      case json::value_t::null:
        row.emplace_back(std::monostate{});
        break;
      case json::value_t::number_integer:
      case json::value_t::number_unsigned:
        row.emplace_back(v.get<int64_t>());
        break;
      case json::value_t::number_float:
        row.emplace_back(v.get<double>());
        break;
      case json::value_t::string:
        row.emplace_back(std::move(v.get_ref<std::string&>()));
        break;
      case json::value_t::object: {
        auto it = v.find("b64");
        std::optional<std::string> bytes;
        if (it != v.end() && it->is_string()) bytes = Base64Decode(it->get<std::string>());
        if (!bytes) return AsyncError(AsyncFailure::kStorage, "a spooled blob is damaged");
        row.emplace_back(engine::Blob{std::move(*bytes)});
        break;
      }
      default:
        return AsyncError(AsyncFailure::kStorage, "a spooled value is damaged");
    }
  }
  return row;
}

// Replaces `path` with `content` (mode 0600) by a rename, so a reader sees
// the old or the new file. `durable` syncs the file and the directory, so a
// power loss keeps it too; without it a process crash still does.
Status WriteMetaFile(const std::string& path, std::string_view content, bool durable) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return AsyncError(AsyncFailure::kStorage, "cannot create " + tmp + ": " + std::strerror(errno));
  }
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  const bool ok = done == content.size() && (!durable || ::fsync(fd) == 0);
  const int saved = errno;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(ok ? errno : saved);
    ::unlink(tmp.c_str());
    return AsyncError(AsyncFailure::kStorage, "cannot write " + path + ": " + why);
  }
  if (durable) {
    const std::string dir = std::filesystem::path(path).parent_path().string();
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }
  return Status::Ok();
}

void RemoveQuietly(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
}

}  // namespace

const ReasonDomain& ReasonDomainOf(AsyncFailure) { return kDomain; }

Status AsyncError(AsyncFailure reason, std::string message) {
  return Status(CodeOf(reason), reason, std::move(message));
}

std::string_view ExecutionStateName(ExecutionState state) {
  switch (state) {
    case ExecutionState::kQueued:
      return "QUEUED";
    case ExecutionState::kRunning:
      return "RUNNING";
    case ExecutionState::kSucceeded:
      return "SUCCEEDED";
    case ExecutionState::kFailed:
      return "FAILED";
    case ExecutionState::kCancelled:
      return "CANCELLED";
  }
  return "FAILED";
}

Requester RequesterOf(const Call& call) {
  return {SlotKey(call.identity()),
          call.has_class() && call.max_class() == engine::StatementClass::kAdmin};
}

AsyncSubmission SubmissionOf(const Call& call, QueryBody body) {
  AsyncSubmission s;
  s.sql = std::move(body.sql);
  s.database = std::move(body.database);
  s.params = std::move(body.params);
  s.max_rows = body.max_rows;
  s.max_class = call.max_class();
  s.policy = call.policy();
  s.role = &call.role();
  s.role_name = call.role_name();
  s.client_id = call.identity().client_id;
  s.owner = SlotKey(call.identity());
  return s;
}

// One execution. `info` is guarded by the owner's mutex; the rest is set
// before the execution is shared and read-only after, except `cancelled`.
struct AsyncQueries::Execution {
  ExecutionInfo info;
  std::vector<engine::Param> params;
  int64_t max_rows = 0;
  engine::StatementClass max_class = engine::StatementClass::kRead;
  std::shared_ptr<const policy::PolicySnapshot> policy;  // dropped when finished
  const policy::Role* role = nullptr;
  std::atomic<bool> cancelled{false};
  Mutex write_mutex;  // one metadata write at a time (AsyncQueries::Persist)
};

Result<std::unique_ptr<AsyncQueries>> AsyncQueries::Open(AsyncOptions options,
                                                         engine::Engine& engine, ClientSlots& slots,
                                                         ThreadPool& pool, const Clock& clock) {
  LG_RETURN_IF_ERROR(MakeDirectories(options.spool_dir, 0700));
  // The page-token key: made once, kept beside the results it protects, so
  // a token stays usable across a restart as long as its results do.
  const std::string key_path = options.spool_dir + "/" + std::string(kTokenKeyFile);
  if (!FileExists(key_path)) {
    Status written = WriteFileExclusive(key_path, RandomBytes(32), 0600);
    if (!written.ok() && !FileExists(key_path)) return written;
  }
  LG_ASSIGN_OR_RETURN(std::string key, ReadFile(key_path));
  if (key.size() < 32) {
    return FailedPreconditionError(key_path +
                                   " is damaged (shorter than 32 bytes); delete it and restart "
                                   "(page tokens handed out so far stop working)");
  }
  auto queries = std::unique_ptr<AsyncQueries>(
      new AsyncQueries(std::move(options), engine, slots, pool, clock, SecretString(key)));
  LG_RETURN_IF_ERROR(queries->Load());
  queries->expiry_ = std::thread([q = queries.get()] { q->ExpiryLoop(); });
  return queries;
}

AsyncQueries::AsyncQueries(AsyncOptions options, engine::Engine& engine, ClientSlots& slots,
                           ThreadPool& pool, const Clock& clock, SecretString token_key)
    : options_(std::move(options)),
      engine_(engine),
      slots_(slots),
      pool_(pool),
      clock_(clock),
      token_key_(std::move(token_key)) {}

AsyncQueries::~AsyncQueries() { Stop(); }

void AsyncQueries::Stop() {
  {
    MutexLock lock(mutex_);
    stopping_ = true;
    // Running queries stop at their next check; queued ones fail when their
    // turn comes (the pool's drain).
    for (auto& [id, e] : executions_) e->cancelled.store(true);
  }
  stop_cv_.NotifyAll();
  if (expiry_.joinable()) expiry_.join();
}

std::string AsyncQueries::MetaPath(std::string_view id) const {
  return options_.spool_dir + "/" + std::string(id) + std::string(kMetaSuffix);
}
std::string AsyncQueries::RowsPath(std::string_view id) const {
  return options_.spool_dir + "/" + std::string(id) + std::string(kRowsSuffix);
}

Status AsyncQueries::WriteMeta(const ExecutionInfo& info, bool durable) const {
  // An engine's error text may be cut inside a UTF-8 sequence: replaced, so
  // that the record is always written.
  return WriteMetaFile(MetaPath(info.id),
                       ToJson(info).dump(-1, ' ', false, json::error_handler_t::replace), durable);
}

Status AsyncQueries::Persist(Execution& e, bool durable) const {
  // Writers take turns per execution and copy the state inside their turn,
  // so the file always ends with the latest state; readers are not held up
  // by the disk.
  MutexLock turn(e.write_mutex);
  ExecutionInfo copy;
  {
    MutexLock lock(mutex_);
    copy = e.info;
  }
  return WriteMeta(copy, durable);
}

Status AsyncQueries::Load() {
  std::error_code ec;
  std::vector<std::string> ids;
  for (const auto& entry : std::filesystem::directory_iterator(options_.spool_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() == 36 + kMetaSuffix.size() && name.ends_with(kMetaSuffix)) {
      ids.push_back(name.substr(0, 36));
    } else if (name.ends_with(".tmp")) {
      RemoveQuietly(entry.path().string());  // a write a crash interrupted
    } else if (name.ends_with(kRowsSuffix) && name.size() == 36 + kRowsSuffix.size()) {
      if (!FileExists(MetaPath(name.substr(0, 36)))) RemoveQuietly(entry.path().string());
    }
  }
  if (ec) {
    return AsyncError(AsyncFailure::kStorage,
                      "cannot read " + options_.spool_dir + ": " + ec.message());
  }
  const int64_t now = clock_.NowMillis();
  const int64_t retention_ms = options_.retention.count() * 1000;
  size_t failed = 0;
  MutexLock lock(mutex_);
  for (const std::string& id : ids) {
    Result<std::string> text = ReadFile(MetaPath(id));
    Result<ExecutionInfo> info = text.ok() ? FromJson(*text) : Result<ExecutionInfo>(text.status());
    if (!info.ok() || info->id != id) {
      log::Warn("asynchronous query " + id + ": unreadable metadata (" +
                (info.ok() ? std::string("id mismatch") : info.status().message()) +
                "); its files are deleted");
      RemoveQuietly(MetaPath(id));
      RemoveQuietly(RowsPath(id));
      continue;
    }
    if (!IsFinished(info->state)) {
      info->state = ExecutionState::kFailed;
      info->error_code = "server_stopped";
      info->state_reason = kStoppedReason;
      info->completed_ms = now;
      ++failed;
      if (Status s = WriteMeta(*info, /*durable=*/true); !s.ok()) log::Warn(s.ToString());
    }
    if (info->completed_ms + retention_ms <= now) {
      RemoveQuietly(MetaPath(id));
      RemoveQuietly(RowsPath(id));
      continue;
    }
    auto e = std::make_shared<Execution>();
    e->info = std::move(*info);
    executions_.emplace(id, std::move(e));
  }
  if (!executions_.empty()) {
    log::Info("asynchronous queries: " + std::to_string(executions_.size()) +
              " kept from before the restart (" + std::to_string(failed) +
              " interrupted, now FAILED)");
  }
  return Status::Ok();
}

Result<ExecutionInfo> AsyncQueries::Start(AsyncSubmission submission) {
  if (submission.policy == nullptr || submission.role == nullptr) {
    return InternalError("an asynchronous query needs the caller's policy and role");
  }
  auto e = std::make_shared<Execution>();
  ExecutionInfo& info = e->info;
  info.owner = submission.owner;
  info.client_id = submission.client_id;
  info.role = submission.role_name;
  info.database = std::move(submission.database);
  info.sql = std::move(submission.sql);
  info.request_token = std::move(submission.request_token);
  info.submitted_ms = clock_.NowMillis();
  e->params = std::move(submission.params);
  e->max_rows = submission.max_rows > 0 ? std::min(submission.max_rows, options_.max_rows)
                                        : options_.max_rows;
  e->max_class = submission.max_class;
  e->policy = std::move(submission.policy);
  e->role = submission.role;
  {
    MutexLock lock(mutex_);
    if (!info.request_token.empty()) {
      // Idempotency (Athena's ClientRequestToken): a retried start returns
      // the execution the first one made.
      for (const auto& [id, other] : executions_) {
        if (other->info.owner == info.owner && other->info.request_token == info.request_token) {
          return other->info;
        }
      }
    }
    do {
      info.id = NewQueryId();
    } while (executions_.count(info.id) != 0);
    executions_.emplace(info.id, e);
  }
  auto forget = [this, id = info.id] {
    {
      MutexLock lock(mutex_);
      executions_.erase(id);
    }
    RemoveQuietly(MetaPath(id));
  };
  // On disk before it can run: a restart then finds it and reports it FAILED.
  if (Status written = Persist(*e, /*durable=*/false); !written.ok()) {
    forget();
    return written;
  }
  const std::string key = info.owner;
  ClientSlots::Job job{
      .run = [this, e] { Run(e); },
      .busy =
          [this, e] {
            {
              MutexLock lock(mutex_);
              e->info.state = ExecutionState::kFailed;
              e->info.error_code = "unavailable";
              e->info.state_reason = "the server was too busy to run the query; run it again";
              e->info.completed_ms = clock_.NowMillis();
              e->policy.reset();
            }
            Persist(*e, /*durable=*/true).IgnoreError();
          },
  };
  switch (slots_.AcquireOrPark(key, std::move(job))) {
    case ClientSlots::Outcome::kRefused:
      forget();
      return GatewayError(GatewayFailure::kTooManyQueries,
                          "client '" + info.client_id + "' already runs " +
                              std::to_string(slots_.max_concurrent()) + " queries and has " +
                              std::to_string(slots_.max_queued()) + " waiting; retry later");
    case ClientSlots::Outcome::kParked:
      break;
    case ClientSlots::Outcome::kAcquired:
      if (!pool_.Submit([this, e, key] {
            Run(e);
            slots_.Release(key);
          })) {
        slots_.Release(key);
        forget();
        return GatewayError(GatewayFailure::kBusy, "the worker pool's queue is full")
            .WithRetryAfter(1);
      }
      break;
  }
  MutexLock lock(mutex_);
  return e->info;
}

void AsyncQueries::Run(const std::shared_ptr<Execution>& e) {
  engine::QueryRequest query;
  std::string rows_path;
  {
    MutexLock lock(mutex_);
    if (e->info.state != ExecutionState::kQueued) return;  // cancelled while queued
    if (stopping_ || e->cancelled.load()) {
      e->info.state = stopping_ ? ExecutionState::kFailed : ExecutionState::kCancelled;
      e->info.error_code = stopping_ ? "server_stopped" : "cancelled";
      e->info.state_reason = stopping_ ? kStoppedReason : "cancelled while queued";
      e->info.completed_ms = clock_.NowMillis();
      e->policy.reset();
      lock.Unlock();
      Persist(*e, /*durable=*/true).IgnoreError();
      return;
    }
    // RUNNING is not written: on disk it is still QUEUED, which a restart
    // treats the same way.
    e->info.state = ExecutionState::kRunning;
    e->info.started_ms = clock_.NowMillis();
    query.sql = e->info.sql;
    query.database = e->info.database;
    rows_path = RowsPath(e->info.id);
  }
  query.params = e->params;
  query.max_class = e->max_class;
  query.limits.timeout = options_.timeout;
  query.limits.max_rows = e->max_rows;
  query.limits.max_memory_bytes = options_.max_memory_bytes;
  query.cancelled = &e->cancelled;

  Result<engine::QueryResult> result = InternalError("not run");
  std::vector<SpooledColumn> columns;
  int64_t rows = 0;
  int64_t bytes = 0;
  int fd = ::open(rows_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    result = AsyncError(AsyncFailure::kStorage,
                        "cannot create " + rows_path + ": " + std::strerror(errno));
  } else {
    SpoolSink sink(fd, options_.max_result_bytes);
    result = engine_.Execute(*e->policy, *e->role, query, sink);
    Status flushed = sink.Flush();
    if (result.ok() && !flushed.ok()) result = flushed;
    if (result.ok() && ::fsync(fd) != 0) {
      result = AsyncError(AsyncFailure::kStorage,
                          std::string("syncing the result spool: ") + std::strerror(errno));
    }
    ::close(fd);
    columns = std::move(sink.columns());
    rows = sink.rows();
    bytes = sink.bytes();
  }

  MutexLock lock(mutex_);
  ExecutionInfo& info = e->info;
  info.completed_ms = clock_.NowMillis();
  info.rows = rows;
  info.bytes = bytes;
  info.columns = std::move(columns);
  if (result.ok()) {
    info.state = ExecutionState::kSucceeded;
    info.truncated = result->truncated;
    info.changes = result->changes;
    info.statement_type = result->statement_type;
    info.statement_class = std::string(engine::StatementClassName(result->statement_class));
  } else if (stopping_) {
    info.state = ExecutionState::kFailed;
    info.error_code = "server_stopped";
    info.state_reason = kStoppedReason;
  } else if (e->cancelled.load() && result.status().code() == StatusCode::kDeadlineExceeded) {
    info.state = ExecutionState::kCancelled;
    info.error_code = "cancelled";
    info.state_reason = "cancelled while running";
  } else {
    const Status& failure = result.status();
    info.state = ExecutionState::kFailed;
    info.error_code = std::string(http::PublicErrorCode(failure, http::ErrorFamily::kApi));
    info.state_reason = http::PublicErrorMessage(failure, info.id);
    if (failure.code() == StatusCode::kInternal) {
      log::Error("asynchronous query " + info.id + " failed: " + failure.ToString());
    }
  }
  if (info.state != ExecutionState::kSucceeded) {
    // A failed or cancelled execution has no results to read.
    RemoveQuietly(rows_path);
    info.bytes = 0;
  }
  e->policy.reset();
  lock.Unlock();
  if (Status s = Persist(*e, /*durable=*/true); !s.ok()) log::Error(s.ToString());
}

const AsyncQueries::Execution* AsyncQueries::Find(const Requester& who, std::string_view id) const {
  auto it = executions_.find(std::string(id));
  if (it == executions_.end()) return nullptr;
  // Another client's execution reads as a missing one: ids do not leak.
  if (!who.admin && it->second->info.owner != who.owner) return nullptr;
  return it->second.get();
}

Result<ExecutionInfo> AsyncQueries::Get(const Requester& who, std::string_view id) const {
  MutexLock lock(mutex_);
  const Execution* e = Find(who, id);
  if (e == nullptr) {
    return AsyncError(AsyncFailure::kNotFound, "no query execution " + std::string(id));
  }
  return e->info;
}

Result<ExecutionInfo> AsyncQueries::Cancel(const Requester& who, std::string_view id) {
  std::shared_ptr<Execution> e;
  ExecutionInfo info;
  bool changed = false;
  {
    MutexLock lock(mutex_);
    if (Find(who, id) == nullptr) {
      return AsyncError(AsyncFailure::kNotFound, "no query execution " + std::string(id));
    }
    e = executions_.at(std::string(id));
    e->cancelled.store(true);
    if (e->info.state == ExecutionState::kQueued) {
      // Its slot job still comes and finds it finished.
      e->info.state = ExecutionState::kCancelled;
      e->info.error_code = "cancelled";
      e->info.state_reason = "cancelled while queued";
      e->info.completed_ms = clock_.NowMillis();
      e->policy.reset();
      changed = true;
    }
    info = e->info;
  }
  if (changed) Persist(*e, /*durable=*/true).IgnoreError();
  return info;
}

std::vector<ExecutionInfo> AsyncQueries::List(const Requester& who) const {
  std::vector<ExecutionInfo> out;
  {
    MutexLock lock(mutex_);
    for (const auto& [id, e] : executions_) {
      if (who.admin || e->info.owner == who.owner) out.push_back(e->info);
    }
  }
  std::sort(out.begin(), out.end(), [](const ExecutionInfo& a, const ExecutionInfo& b) {
    return a.submitted_ms != b.submitted_ms ? a.submitted_ms > b.submitted_ms : a.id < b.id;
  });
  return out;
}

// A page token: base64url("<id>.<row>.<offset>") "." base64url(HMAC(key,
// owner "\n" payload)). The offset lets a page start without reading the
// rows before it; the HMAC makes it trustworthy, and binding the owner makes
// it useless to another client.
std::string AsyncQueries::PageToken(const std::string& owner, const std::string& id, int64_t row,
                                    int64_t offset) const {
  const std::string payload = id + "." + std::to_string(row) + "." + std::to_string(offset);
  return Base64UrlEncode(payload) + "." +
         Base64UrlEncode(crypto::HmacSha256(token_key_.Reveal(), owner + "\n" + payload));
}

Result<ResultPage> AsyncQueries::Results(const Requester& who, std::string_view id, size_t max_rows,
                                         std::string_view token) const {
  ExecutionInfo info;
  {
    MutexLock lock(mutex_);
    const Execution* e = Find(who, id);
    if (e == nullptr) {
      return AsyncError(AsyncFailure::kNotFound, "no query execution " + std::string(id));
    }
    info = e->info;
  }
  if (!IsFinished(info.state)) {
    return AsyncError(AsyncFailure::kNotFinished, "the query has not finished yet; state " +
                                                      std::string(ExecutionStateName(info.state)));
  }
  if (info.state != ExecutionState::kSucceeded) {
    return AsyncError(AsyncFailure::kNoResults,
                      "the query " + std::string(ExecutionStateName(info.state)) +
                          (info.state_reason.empty() ? "" : ": " + info.state_reason));
  }
  int64_t row = 0;
  int64_t offset = 0;
  if (!token.empty()) {
    const auto invalid = [] {
      return AsyncError(AsyncFailure::kInvalidToken,
                        "the page token is not valid for this query and client");
    };
    const size_t dot = token.find('.');
    if (dot == std::string_view::npos || token.size() > 512) return invalid();
    std::optional<std::string> payload = Base64UrlDecode(token.substr(0, dot));
    std::optional<std::string> mac = Base64UrlDecode(token.substr(dot + 1));
    if (!payload || !mac) return invalid();
    // The token was made for the execution's owner: an admin reading another
    // client's results presents that owner's tokens.
    const std::string expected =
        crypto::HmacSha256(token_key_.Reveal(), info.owner + "\n" + *payload);
    if (!crypto::ConstantTimeEquals(*mac, expected)) return invalid();
    std::vector<std::string_view> parts = SplitNonEmpty(*payload, '.');
    if (parts.size() != 3 || parts[0] != info.id) return invalid();
    try {
      row = std::stoll(std::string(parts[1]));
      offset = std::stoll(std::string(parts[2]));
    } catch (const std::exception&) {
      return invalid();
    }
    if (row < 0 || offset < 0 || row > info.rows || offset > info.bytes) return invalid();
  }
  max_rows = std::min(max_rows, options_.max_page_rows);
  ResultPage page;
  if (row >= info.rows) return page;
  std::ifstream in(RowsPath(info.id), std::ios::binary);
  if (!in) return AsyncError(AsyncFailure::kStorage, "the results of " + info.id + " are gone");
  in.seekg(offset);
  std::string line;
  while (page.rows.size() < max_rows && row < info.rows && std::getline(in, line)) {
    LG_ASSIGN_OR_RETURN(std::vector<engine::Param> values, ParseSpoolLine(line));
    page.rows.push_back(std::move(values));
    offset += static_cast<int64_t>(line.size()) + 1;
    ++row;
  }
  if (page.rows.size() < max_rows && row < info.rows) {
    return AsyncError(AsyncFailure::kStorage, "the results of " + info.id + " are cut short");
  }
  if (row < info.rows) page.next_token = PageToken(info.owner, info.id, row, offset);
  return page;
}

void AsyncQueries::Expire() {
  const int64_t now = clock_.NowMillis();
  const int64_t retention_ms = options_.retention.count() * 1000;
  std::vector<std::string> expired;
  {
    MutexLock lock(mutex_);
    for (auto it = executions_.begin(); it != executions_.end();) {
      const ExecutionInfo& info = it->second->info;
      if (IsFinished(info.state) && info.completed_ms + retention_ms <= now) {
        expired.push_back(it->first);
        it = executions_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const std::string& id : expired) {
    RemoveQuietly(RowsPath(id));
    RemoveQuietly(MetaPath(id));
  }
}

void AsyncQueries::ExpiryLoop() {
  MutexLock lock(mutex_);
  while (!stopping_) {
    stop_cv_.WaitFor(mutex_, std::chrono::seconds(1),
                     [this]() REQUIRES(mutex_) { return stopping_; });
    if (stopping_) break;
    lock.Unlock();
    Expire();
    lock.Lock();
  }
}

}  // namespace lakegate::gateway
