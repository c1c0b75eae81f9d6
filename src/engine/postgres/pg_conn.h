// Internal to engine/postgres: one libpq connection of the PostgreSQL engine
// (the engine's administrative connection, or a pooled connection of one
// request role), and the mapping of PostgreSQL's failures to EngineFailure.
// Thread-compatible: one thread uses a connection at a time.
#pragma once

#include <libpq-fe.h>

#include <bitset>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/sql_quote.h"
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

// lakegate's own fixed statements of a request, prepared once per session
// under lg_* names (the user's statement is always the unnamed one, never
// kept). DISCARD ALL drops them; the next request prepares them again.
enum class OwnStatement : int {
  kSettings,        // SET search_path, statement_timeout, work_mem ($1..$3) for the session
  kBeginReadOnly,   // BEGIN READ ONLY
  kBeginReadWrite,  // BEGIN READ WRITE
  kRollback,        // ROLLBACK
  kUnlockAll,       // SELECT pg_advisory_unlock_all()
  kCount
};
// How a pipeline step's result reads: kSettings and kUnlockAll return a row.
inline bool ReturnsRows(OwnStatement s) {
  return s == OwnStatement::kSettings || s == OwnStatement::kUnlockAll;
}

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

  // In pipeline mode: queues `which` with text `params`, preceded by its
  // prepare when this session does not hold it yet (`prepare_sent` is then
  // true, and the prepare's result comes first; MarkPrepared() once it
  // succeeded). Without `keep` (a session that ends with DISCARD ALL) it is
  // sent unnamed, never prepared. False when libpq cannot queue (the
  // connection is lost).
  bool SendOwn(OwnStatement which, const std::vector<std::string>& params, bool keep,
               bool& prepare_sent);
  void MarkPrepared(OwnStatement which) { prepared_.set(static_cast<size_t>(which)); }
  // The kSettings parameters the session holds ("" = the defaults). A read
  // request's ROLLBACK undoes whatever its statement set, so they hold until
  // the next DISCARD ALL.
  const std::string& settings() const { return settings_; }
  void set_settings(std::string settings) { settings_ = std::move(settings); }
  // After DISCARD ALL: no prepared statements, the default settings.
  void Discarded() {
    prepared_.reset();
    settings_.clear();
  }

 private:
  explicit Conn(PGconn* conn) : conn_(conn) {}
  PGconn* conn_;
  std::bitset<static_cast<size_t>(OwnStatement::kCount)> prepared_;
  std::string settings_;
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

}  // namespace lakegate::engine::postgres_internal
