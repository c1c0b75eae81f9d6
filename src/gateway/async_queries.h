// AsyncQueries: the node's asynchronous query executions (POST /v1/queries
// and the Athena protocol's StartQueryExecution both start one).
//
// An execution runs one statement through the same engine call as /v1/query,
// for the role and policy snapshot its request was admitted with, under the
// same per-client concurrency and queue rules (ClientSlots): QUEUED while it
// waits for one of its client's slots, RUNNING on a worker, then SUCCEEDED,
// FAILED (with the public error code and message) or CANCELLED. Its own,
// longer timeout applies (AsyncOptions::timeout).
//
// Results are spooled to disk as they come, one file per execution in
// AsyncOptions::spool_dir (mode 0600), next to a small metadata file that is
// rewritten at every state change. A result larger than max_result_bytes
// fails the execution (result_too_large). A finished execution is kept for
// `retention`, then its files are deleted. On start the directory is read
// again: finished executions stay readable, ones that were QUEUED or RUNNING
// when the process stopped become FAILED ("the server stopped ...").
// Executions live on the node that ran them (their results are that node's
// files); docs/athena.md says what that means behind a load balancer.
//
// Ids are random UUIDs (122 random bits). Only the owning client (issuer and
// client id) or a caller with the admin scope sees an execution; anybody else
// is told it does not exist (NotFound), so ids do not leak. Result pages are
// addressed by an opaque token that binds the execution, the position and the
// client under an HMAC key kept in the spool directory, so it can be neither
// forged nor used by another client.
//
// Thread-safe. Blocking file work: call on a worker thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/secret_string.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "common/thread_pool.h"
#include "engine/engine.h"
#include "gateway/query_service.h"
#include "policy/policy.h"

namespace lakegate::gateway {

enum class ExecutionState { kQueued, kRunning, kSucceeded, kFailed, kCancelled };
// "QUEUED" | "RUNNING" | "SUCCEEDED" | "FAILED" | "CANCELLED"
std::string_view ExecutionStateName(ExecutionState state);
inline bool IsFinished(ExecutionState s) {
  return s != ExecutionState::kQueued && s != ExecutionState::kRunning;
}

// Why an asynchronous-query call failed.
enum class AsyncFailure {
  kNotFound,      // 404 not_found: no such execution, or not the caller's
  kNotFinished,   // 409 query_not_finished: results of a QUEUED or RUNNING execution
  kNoResults,     // 409 query_failed: results of a FAILED or CANCELLED execution
  kInvalidToken,  // 400 invalid_request: a page token that is not ours, or another client's
  kStorage,       // 500 internal_error: the spool directory failed
};
const ReasonDomain& ReasonDomainOf(AsyncFailure);
Status AsyncError(AsyncFailure reason, std::string message);

struct AsyncOptions {
  std::string spool_dir;                           // created 0700 if missing
  std::chrono::milliseconds timeout{30 * 60'000};  // per execution
  int64_t max_rows = 10'000'000;                   // rows beyond it: truncated
  int64_t max_result_bytes = int64_t{1} << 30;     // the spool file of one execution
  int64_t max_memory_bytes = int64_t{256} << 20;   // engine memory of one execution
  std::chrono::seconds retention{24 * 3600};       // after it finished
  size_t max_page_rows = 1000;                     // rows of one results page
};

// A result column: its name, the declared type the engine reported ("" for an
// expression) and the type of its first non-NULL value.
struct SpooledColumn {
  std::string name;
  std::string declared_type;
  engine::ValueType value_type = engine::ValueType::kNull;
};

// A copy of what an execution is and did.
struct ExecutionInfo {
  std::string id;
  std::string owner;  // SlotKey of the client that started it
  std::string client_id;
  std::string role;
  std::string database;
  std::string sql;
  std::string request_token;  // the client's idempotency token ("" when none)
  ExecutionState state = ExecutionState::kQueued;
  std::string error_code;    // FAILED / CANCELLED: the public error code
  std::string state_reason;  // FAILED / CANCELLED: the public message
  int64_t submitted_ms = 0;
  int64_t started_ms = 0;    // 0 until RUNNING
  int64_t completed_ms = 0;  // 0 until finished
  int64_t rows = 0;
  int64_t bytes = 0;  // spooled result bytes
  bool truncated = false;
  int64_t changes = 0;          // rows a write changed
  std::string statement_type;   // "SELECT", "INSERT", ... once known
  std::string statement_class;  // "read" | "write" | "admin" once known
  std::vector<SpooledColumn> columns;
};

// Who asks: the client (SlotKey) and whether it has the admin scope.
struct Requester {
  std::string owner;
  bool admin = false;
};
Requester RequesterOf(const Call& call);

// What to run, with what the request was admitted with.
struct AsyncSubmission {
  std::string sql;
  std::string database;
  std::vector<engine::Param> params;
  int64_t max_rows = 0;  // 0 = AsyncOptions::max_rows
  engine::StatementClass max_class = engine::StatementClass::kRead;
  std::shared_ptr<const policy::PolicySnapshot> policy;
  const policy::Role* role = nullptr;  // inside `policy`
  std::string role_name;
  std::string client_id;
  std::string owner;
  std::string request_token;  // idempotency: the same owner and token give the same execution
};
// The submission of an admitted kQuery call with `body` (the caller's role,
// policy and scope).
AsyncSubmission SubmissionOf(const Call& call, QueryBody body);

// One page of typed rows.
struct ResultPage {
  std::vector<std::vector<engine::Param>> rows;
  std::string next_token;  // "" on the last page
};

class AsyncQueries {
 public:
  // Reads `options.spool_dir` (creating it), marks executions that were
  // running FAILED and deletes expired ones; starts the expiry thread.
  // Every reference must outlive the object.
  static Result<std::unique_ptr<AsyncQueries>> Open(AsyncOptions options, engine::Engine& engine,
                                                    ClientSlots& slots, ThreadPool& pool,
                                                    const Clock& clock);
  ~AsyncQueries();
  AsyncQueries(const AsyncQueries&) = delete;
  AsyncQueries& operator=(const AsyncQueries&) = delete;

  // Starts an execution (QUEUED, or RUNNING at once when a slot is free).
  // An earlier execution of the same owner with the same non-empty request
  // token is returned instead of a new one. GatewayFailure::kTooManyQueries
  // when the client's queue is full, kBusy when the pool's is.
  Result<ExecutionInfo> Start(AsyncSubmission submission) EXCLUDES(mutex_);
  // The execution `id` as `who` may see it (AsyncFailure::kNotFound otherwise).
  Result<ExecutionInfo> Get(const Requester& who, std::string_view id) const EXCLUDES(mutex_);
  // Cancels a QUEUED or RUNNING execution (a finished one stays as it is) and
  // returns it as it is now; a running query stops at its next check.
  Result<ExecutionInfo> Cancel(const Requester& who, std::string_view id) EXCLUDES(mutex_);
  // The owner's executions (every one for an admin), newest first.
  std::vector<ExecutionInfo> List(const Requester& who) const EXCLUDES(mutex_);
  // Up to `max_rows` (capped at max_page_rows) rows of a SUCCEEDED execution,
  // from the start or from where `token` (a previous page's next_token, of
  // the same execution and client) points. With max_rows 0 the page is empty
  // and its next_token points where it started. kNotFinished / kNoResults
  // for an execution without results, kInvalidToken for a token that is not
  // this execution's and this owner's.
  Result<ResultPage> Results(const Requester& who, std::string_view id, size_t max_rows,
                             std::string_view token) const EXCLUDES(mutex_);

  // Cancels what runs and stops the expiry thread: call before draining the
  // worker pool (a running query would otherwise hold the drain for up to
  // its timeout). Executions still queued or running end FAILED.
  void Stop() EXCLUDES(mutex_);

  // Deletes executions finished longer than the retention ago (the expiry
  // thread calls it every second; tests may call it).
  void Expire() EXCLUDES(mutex_);

  const AsyncOptions& options() const { return options_; }

 private:
  struct Execution;
  AsyncQueries(AsyncOptions options, engine::Engine& engine, ClientSlots& slots, ThreadPool& pool,
               const Clock& clock, SecretString token_key);
  Status Load() EXCLUDES(mutex_);
  void Run(const std::shared_ptr<Execution>& e) EXCLUDES(mutex_);
  // Writes the metadata of `info` (`durable`: synced to disk).
  Status WriteMeta(const ExecutionInfo& info, bool durable) const;
  // Writes the current metadata of `e`.
  Status Persist(Execution& e, bool durable) const EXCLUDES(mutex_);
  const Execution* Find(const Requester& who, std::string_view id) const REQUIRES(mutex_);
  std::string MetaPath(std::string_view id) const;
  std::string RowsPath(std::string_view id) const;
  std::string PageToken(const std::string& owner, const std::string& id, int64_t row,
                        int64_t offset) const;
  void ExpiryLoop() EXCLUDES(mutex_);

  const AsyncOptions options_;
  engine::Engine& engine_;
  ClientSlots& slots_;
  ThreadPool& pool_;
  const Clock& clock_;
  const SecretString token_key_;

  mutable Mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<Execution>> executions_ GUARDED_BY(mutex_);
  bool stopping_ GUARDED_BY(mutex_) = false;
  CondVar stop_cv_;
  std::thread expiry_;
};

}  // namespace lakegate::gateway
