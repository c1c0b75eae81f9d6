// Connection and PgResult: one libpq connection of the PostgreSQL state store
// and the mapping of libpq/SQLSTATE failures to Status.
//
// Private to src/store/postgres (libpq stays inside this folder). Not
// thread-safe: one thread uses a connection at a time (the pool hands it out).
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lakegate::store::postgres {

// One text parameter of a statement ($1, $2, ...).
class Arg {
 public:
  Arg(std::string_view value) : value_(value) {}         // NOLINT: implicit by design
  Arg(const std::string& value) : value_(value) {}       // NOLINT
  Arg(const char* value) : value_(value) {}              // NOLINT
  Arg(int64_t value) : value_(std::to_string(value)) {}  // NOLINT
  Arg(int value) : value_(std::to_string(value)) {}      // NOLINT
  const std::string& value() const { return value_; }

 private:
  std::string value_;
};

// The rows (or the command tag) of one successful statement.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result, &PQclear) {}

  int rows() const { return PQntuples(result_.get()); }
  std::string Text(int row, int column) const {
    return std::string(PQgetvalue(result_.get(), row, column),
                       static_cast<size_t>(PQgetlength(result_.get(), row, column)));
  }
  // The column as an integer; 0 for NULL or text that is not a number.
  int64_t Int(int row, int column) const;
  // Rows inserted, updated or deleted by the statement.
  int64_t Affected() const;

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> result_;
};

// What a connection is opened with.
struct ConnectOptions {
  std::string url;           // a libpq URI or key/value string, as the user gave it
  std::string display_name;  // the URL with its password redacted, for messages
  int connect_timeout_seconds = 2;
};

class Connection {
 public:
  // Connects (blocking, at most the connect timeout). kUnavailable with
  // StoreFailure::kUnreachable when the server does not answer, kFailedPrecondition
  // when it refuses us (authentication, a missing database, a TLS requirement
  // it cannot meet); the message names the redacted URL and says what to do.
  static Result<std::unique_ptr<Connection>> Open(const ConnectOptions& options);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs one statement with text parameters. `doing` says what for, in
  // messages ("cannot insert the client").
  Result<PgResult> Exec(std::string_view doing, const char* sql,
                        std::initializer_list<Arg> args = {});
  // Runs a statement (or several separated by ';') without parameters.
  Status Run(std::string_view doing, const char* sql);

  // False once the server closed the connection or it failed: the pool drops it.
  bool Healthy() const { return PQstatus(conn_) == CONNECTION_OK; }
  // True while a transaction is open (or failed and awaits ROLLBACK).
  bool InTransaction() const;
  PGconn* raw() { return conn_; }
  const std::string& display_name() const { return display_name_; }

  // Rows changed since ResetChanges() (the store bumps the change counter
  // when a transaction changed any).
  int64_t changes() const { return changes_; }
  void set_changes(int64_t changes) { changes_ = changes; }

  // Maps a failed statement (or `result` == null: the connection) to a Status.
  Status Error(const PGresult* result, std::string_view doing) const;

 private:
  Connection(PGconn* conn, std::string display_name)
      : conn_(conn), display_name_(std::move(display_name)) {}

  PGconn* conn_;
  std::string display_name_;
  int64_t changes_ = 0;
};

// kUnavailable [StoreFailure::kUnreachable] for the store `display_name`.
Status UnreachableError(std::string_view display_name, std::string_view detail);

// True when `status` says the connection itself failed, so the operation never
// took effect and may run again on a new connection.
bool IsConnectionLoss(const Status& status);

// `s` in double quotes, for messages.
std::string Quoted(std::string_view s);

}  // namespace lakegate::store::postgres
