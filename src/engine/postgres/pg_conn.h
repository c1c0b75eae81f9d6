// Internal to engine/postgres: one libpq connection of the PostgreSQL engine
// (the engine's administrative connection, or a pooled connection of one
// request role), and the mapping of PostgreSQL's failures to EngineFailure.
// Thread-compatible: one thread uses a connection at a time.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lakegate::engine::postgres_internal {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// Where and as whom a connection is opened.
struct ConnectTarget {
  std::string url;       // the engine URL (a libpq URI or key/value string)
  std::string display;   // the URL with its password redacted, for messages
  std::string user;      // "" = the URL's user
  std::string password;  // with `user`
};

class Conn {
 public:
  // Connects (at most a few seconds). kUnavailable when the server does not
  // answer, kMisconfigured when it refuses us; messages name target.display,
  // never a password. Sessions use UTF-8, ISO dates, UTC and standard strings.
  static Result<std::unique_ptr<Conn>> Open(const ConnectTarget& target);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  PGconn* raw() const { return conn_; }
  bool Healthy() const { return PQstatus(conn_) == CONNECTION_OK; }
  // The server process id of this connection.
  int backend_pid() const { return PQbackendPID(conn_); }

  // Runs our own SQL text (may be several statements, no parameters).
  // Errors as ErrorFrom() with kInternal for statement failures.
  Status Run(std::string_view doing, const std::string& sql);
  // Runs one statement of ours with text parameters ($1..) and returns its rows.
  Result<ResultPtr> Query(std::string_view doing, const std::string& sql,
                          const std::vector<std::string>& params = {});

 private:
  explicit Conn(PGconn* conn) : conn_(conn) {}
  PGconn* conn_;
};

// The SQLSTATE of a failed result ("" when none).
std::string SqlState(const PGresult* result);
// The primary message of a failed result (or the connection's), one line.
std::string PrimaryMessage(const PGresult* result, PGconn* conn);
// True when the connection itself failed (the statement never completed).
bool IsConnectionLoss(const PGresult* result, PGconn* conn);

// The failure of an engine-internal statement: kUnavailable for a lost
// connection or a busy server, else kInternal ("<doing>: <message>").
Status InternalFailure(const PGresult* result, PGconn* conn, std::string_view doing);

// `s` as a double-quoted SQL identifier.
std::string QuoteIdent(std::string_view s);
// `s` as a single-quoted SQL string literal (standard_conforming_strings).
std::string QuoteLiteral(std::string_view s);

}  // namespace lakegate::engine::postgres_internal
