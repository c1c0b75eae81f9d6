// The query engine interface: runs one SQL statement for one role, with the
// role's policy enforced inside the engine, streams typed rows to a sink, and
// bulk-loads rows into a table. Each implementation is one folder under
// engine/ (engine/sqlite is the embedded default) and is chosen by URL scheme
// from the registry in app/engines.h. Engines are thread-safe; every call
// blocks and must run on a worker thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/secret_string.h"
#include "common/status.h"
#include "engine/load.h"
#include "policy/policy.h"

namespace lakegate::engine {

// Why an engine call failed. Every error an engine returns carries one of
// these (the one exception: a non-OK status from the caller's ResultSink is
// returned unchanged). Its ReasonInfo gives the query API's public error code,
// HTTP status and, where the status message is not safe to show, the public
// message, so the HTTP layer renders an engine error without knowing the
// engine. Which call returns which reason:
//
//   Execute()
//     kInvalidQuery        InvalidArgument    400 invalid_query: the SQL does not compile
//                          (syntax, no such table or column -- also one the role may not
//                          see), a constraint failed, more than one statement, an empty
//                          statement, the wrong number of parameters
//     kUnknownDatabase     InvalidArgument    400 invalid_query: request.database names no
//                          database the role may see
//     kStatementNotAllowed PermissionDenied   403 access_denied: the statement's class
//                          exceeds request.max_class (the token's scope)
//     kPermissionDenied    PermissionDenied   403 access_denied: the role lacks a permission
//                          (the message names it, the object and the role, never hidden
//                          data), or the engine never allows the operation (ATTACH, PRAGMA
//                          writes, extensions, ...)
//     kTimeout             DeadlineExceeded   408 query_timeout: the message says the limit,
//                          "the query ran longer than the limit of 30000 ms"
//     kCancelled           DeadlineExceeded   408 query_timeout: request.cancelled was set
//     kValueTooLarge       ResourceExhausted  413 result_too_large: a TEXT/BLOB over
//                          limits.max_string_bytes
//     kOutOfMemory         ResourceExhausted  413 result_too_large
//     kMemoryLimitExceeded ResourceExhausted  413 memory_limit_exceeded: the statement
//                          needed more memory than limits.max_memory_bytes; the message
//                          says the limit
//     kUnavailable         Unavailable        503 unavailable: the data is locked or the
//                          backend is away; retrying may succeed
//   Load()
//     kInvalidName         InvalidArgument    the database or table name is not allowed
//     kNotFound            NotFound           the database or table does not exist and
//                          LoadRequest::create is false
//     kInvalidData         InvalidArgument    a record or value does not fit the table
//                          ("<file>:<line>: ..."), or the source's columns do not match it
//     kSourceUnreadable    NotFound / FailedPrecondition: the source cannot be read
//     kConflict            FailedPrecondition the table appeared while a load created it
//     kUnavailable         Unavailable        the database stayed locked
//   any call, and opening an engine
//     kMisconfigured       InvalidArgument / FailedPrecondition  500 internal_error: the
//                          engine's URL or settings are unusable, or the lake exceeds what
//                          the engine supports
//     kInternal            Internal           500 internal_error: anything else
// The message of a 500 reason is for the server log, never for the client.
enum class EngineFailure {
  kInvalidQuery,
  kUnknownDatabase,
  kStatementNotAllowed,
  kPermissionDenied,
  kTimeout,
  kCancelled,
  kValueTooLarge,
  kOutOfMemory,
  kMemoryLimitExceeded,
  kUnavailable,
  kInvalidName,
  kNotFound,
  kInvalidData,
  kSourceUnreadable,
  kConflict,
  kMisconfigured,
  kInternal,
};
const ReasonDomain& ReasonDomainOf(EngineFailure);

// Settings every engine takes, whatever its kind; the registry in app/ hands
// them to the engine a URL names.
struct EngineSettings {
  // The key of hash masks (MaskKind::kHash: hex HMAC-SHA256 of the value).
  // Empty = random bytes per engine, so hashes are stable for the life of the
  // process only; set it to keep them stable across restarts.
  SecretString mask_hash_key;
  // Idle sessions (connections) kept per role, policy version and database.
  size_t max_idle_sessions_per_role = 4;
  // Open even when the engine's location does not exist yet (the SQLite lake
  // directory): a Load() with create makes it (mode 0700), and every other
  // call fails until then. Without it, opening a missing location fails.
  bool create_if_missing = false;
  // For an engine that authenticates to a remote server with lakegate's own
  // access tokens (Trino): a fresh token whose subject is `principal`, minted
  // by the composition root. Empty when no engine needs it.
  std::function<Result<SecretString>(std::string_view principal)> bearer_token = {};
};

// True when `name` is a valid catalog database name (and the rule for table
// and column names a load creates): [A-Za-z_][A-Za-z0-9_]{0,63}.
bool IsValidDatabaseName(std::string_view name);

// What a statement does, ordered: a scope that allows kWrite also allows kRead.
enum class StatementClass { kRead = 0, kWrite = 1, kAdmin = 2 };
std::string_view StatementClassName(StatementClass c);  // "read" | "write" | "admin"

enum class ValueType { kNull, kInteger, kReal, kText, kBlob };

struct Blob {
  std::string bytes;
};
// A bound parameter ("parameters" in the request, positional ?1..?N).
using Param = std::variant<std::monostate, int64_t, double, std::string, Blob>;

struct ColumnInfo {
  std::string name;
  std::string type;  // declared type when known ("INTEGER", "TEXT", ...), else ""
};

// One result row, valid only during ResultSink::Row().
class RowView {
 public:
  virtual ~RowView() = default;
  virtual size_t size() const = 0;
  virtual ValueType type(size_t i) const = 0;
  virtual int64_t integer(size_t i) const = 0;
  virtual double real(size_t i) const = 0;
  virtual std::string_view text(size_t i) const = 0;  // UTF-8
  virtual std::string_view blob(size_t i) const = 0;
};

// Receives the result on the worker thread that runs the query. A non-OK
// status from the sink stops the query and is returned by Execute() (e.g. the
// client went away, or the encoder hit the result-size limit).
class ResultSink {
 public:
  virtual ~ResultSink() = default;
  virtual Status Begin(const std::vector<ColumnInfo>& columns) = 0;
  virtual Status Row(const RowView& row) = 0;
};

struct QueryLimits {
  std::chrono::milliseconds timeout{30000};
  int64_t max_rows = 10000;            // rows beyond it are not produced: truncated = true
  int64_t max_string_bytes = 1 << 20;  // longest TEXT/BLOB a statement may build
  // The most memory the statement may hold at any moment (the engine's own
  // allocations for it: values, sorters, hash tables, caches it grows);
  // 0 = no limit.
  int64_t max_memory_bytes = int64_t{256} << 20;
};

struct QueryRequest {
  std::string sql;       // exactly one statement
  std::string database;  // the default schema for unqualified names
  std::vector<Param> params;
  StatementClass max_class = StatementClass::kRead;  // what the caller's scope allows
  QueryLimits limits;
  const std::atomic<bool>* cancelled = nullptr;  // set when the client goes away
};

struct QueryResult {
  StatementClass statement_class = StatementClass::kRead;
  std::string statement_type;  // "SELECT", "INSERT", "UPDATE", "DELETE", "CREATE TABLE", ...
  int64_t rows = 0;            // rows given to the sink
  bool truncated = false;      // max_rows cut the result
  int64_t changes = 0;         // rows changed by a write
};

struct TableInfo {
  std::string name;
  std::vector<ColumnInfo> columns;  // only the columns the role may see
};
struct DatabaseInfo {
  std::string name;
  std::vector<TableInfo> tables;  // only the tables the role may see
};

class Engine {
 public:
  virtual ~Engine() = default;

  // Runs `request` as `role` (from `policy`, which the caller keeps alive for
  // the call). Errors carry an EngineFailure (see its list); a table the role
  // may not DESCRIBE reads as "no such table" (kInvalidQuery), like a missing
  // one. A non-OK status from `sink` stops the query and is returned as is.
  virtual Result<QueryResult> Execute(const policy::PolicySnapshot& policy,
                                      const policy::Role& role, const QueryRequest& request,
                                      ResultSink& sink) = 0;

  // The databases, tables and columns `role` may see.
  virtual Result<std::vector<DatabaseInfo>> Catalog(const policy::PolicySnapshot& policy,
                                                    const policy::Role& role) = 0;

  // Loads every record of `source` into request.database.request.table in
  // one transaction: every row or, on any error, nothing (engine/load.h has
  // the type rules). An administrator's operation: no role, no policy.
  // `progress` (may be empty) is called on the calling thread. Errors carry
  // an EngineFailure (see its list).
  virtual Result<LoadSummary> Load(const LoadRequest& request, RowSource& source,
                                   const LoadProgressFn& progress) = 0;
};

}  // namespace lakegate::engine
