// The query engine interface: runs one SQL statement for one role, with the
// role's policy enforced inside the engine, and streams typed rows to a sink.
// Implementations: engine/sqlite (embedded default), later engine/postgres.
// Engines are thread-safe; Execute() blocks and must run on a worker thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"
#include "policy/policy.h"

namespace lakegate::engine {

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
  int64_t max_rows = 10000;                // rows beyond it are not produced: truncated = true
  int64_t max_string_bytes = 1 << 20;      // longest TEXT/BLOB a statement may build
};

struct QueryRequest {
  std::string sql;                         // exactly one statement
  std::string database;                    // the default schema for unqualified names
  std::vector<Param> params;
  StatementClass max_class = StatementClass::kRead;  // what the caller's scope allows
  QueryLimits limits;
  const std::atomic<bool>* cancelled = nullptr;      // set when the client goes away
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
  std::vector<TableInfo> tables;    // only the tables the role may see
};

class Engine {
 public:
  virtual ~Engine() = default;

  // Runs `request` as `role` (from `policy`, which the caller keeps alive for
  // the call). Errors:
  //   kInvalidArgument   bad SQL (the engine's message), more than one statement,
  //                      unknown database, bad parameter count
  //   kPermissionDenied  the statement class exceeds request.max_class, or the
  //                      role lacks a permission (message names the permission,
  //                      the object and the role, never hidden data)
  //   kNotFound          never: a table the role may not DESCRIBE reads as
  //                      "no such table" (kInvalidArgument), like a missing one
  //   kDeadlineExceeded  the timeout passed (the statement was interrupted)
  //   kResourceExhausted a string/blob over max_string_bytes, or the sink's own
  //   kInternal          anything else (message safe to log, not to show)
  virtual Result<QueryResult> Execute(const policy::PolicySnapshot& policy,
                                      const policy::Role& role, const QueryRequest& request,
                                      ResultSink& sink) = 0;

  // The databases, tables and columns `role` may see.
  virtual Result<std::vector<DatabaseInfo>> Catalog(const policy::PolicySnapshot& policy,
                                                    const policy::Role& role) = 0;
};

}  // namespace lakegate::engine
