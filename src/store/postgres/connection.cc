#include "store/postgres/connection.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#include "store/postgres/libpq_text.h"
#include "store/store_failure.h"

namespace lakegate::store::postgres {
namespace {

bool Contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// A failure to connect that retrying will not fix: the server answered and
// refused us (libpq gives no SQLSTATE for connection failures, so its
// message is all there is), or the URL or TLS set-up is wrong on our side.
bool IsRefusal(const std::string& message) {
  const bool server_busy = Contains(message, "starting up") || Contains(message, "shutting down") ||
                           Contains(message, "in recovery") || Contains(message, "too many");
  if (server_busy) return false;
  return Contains(message, "FATAL") || Contains(message, "authentication failed") ||
         Contains(message, "pg_hba.conf") || Contains(message, "password") ||
         Contains(message, "SSL") || Contains(message, "certificate") ||
         Contains(message, "invalid") || Contains(message, "permission denied");
}

}  // namespace

Status UnreachableError(std::string_view display_name, std::string_view detail) {
  return Status(StatusCode::kUnavailable, StoreFailure::kUnreachable,
                "the state store " + std::string(display_name) + " is unreachable (" +
                    std::string(detail) + "); retry when the database is back");
}

bool IsConnectionLoss(const Status& status) { return status.Is(StoreFailure::kUnreachable); }

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

int64_t PgResult::Int(int row, int column) const {
  return std::strtoll(PQgetvalue(result_.get(), row, column), nullptr, 10);
}

int64_t PgResult::Affected() const {
  const char* tuples = PQcmdTuples(result_.get());
  return tuples != nullptr && *tuples != '\0' ? std::strtoll(tuples, nullptr, 10) : 0;
}

Result<std::unique_ptr<Connection>> Connection::Open(const ConnectOptions& options) {
  const std::string timeout = std::to_string(options.connect_timeout_seconds);
  // Earlier keywords are defaults; the URL (expanded from "dbname") overrides
  // them. Keepalives and the TCP user timeout notice a vanished server within
  // seconds instead of the kernel's minutes, so no thread blocks long.
  const char* keywords[] = {"connect_timeout",
                            "application_name",
                            "keepalives",
                            "keepalives_idle",
                            "keepalives_interval",
                            "keepalives_count",
                            "tcp_user_timeout",
                            "dbname",
                            nullptr};
  const char* values[] = {timeout.c_str(), "lakegate",          "1",    "5", "2", "2",
                          "5000",          options.url.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) {
    return ResourceExhaustedError("cannot connect to the state store " + options.display_name +
                                  ": out of memory");
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = OneLine(PQerrorMessage(conn));
    PQfinish(conn);
    if (IsRefusal(message)) {
      return FailedPreconditionError("cannot connect to the state store " + options.display_name +
                                     ": " + message +
                                     "; check the user, password, database and sslmode in the "
                                     "state URL (--state, LAKEGATE_STATE_URL or state.url)");
    }
    return UnreachableError(options.display_name, message);
  }
  // Text crosses as UTF-8 whatever the server's default; failures are told
  // apart by SQLSTATE, never by (localised) message text.
  PQsetClientEncoding(conn, "UTF8");
  // Server notices ("relation already exists, skipping") are not for the user.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  auto connection = std::unique_ptr<Connection>(new Connection(conn, options.display_name));
  // A process that dies or hangs inside a transaction must not hold the
  // cluster-wide write lock for long: the server ends such a session.
  LG_RETURN_IF_ERROR(connection->Run("cannot configure the connection",
                                     "SET idle_in_transaction_session_timeout = '60s'"));
  return connection;
}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::InTransaction() const {
  PGTransactionStatusType status = PQtransactionStatus(conn_);
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
}

Result<PgResult> Connection::Exec(std::string_view doing, const char* sql,
                                  std::initializer_list<Arg> args) {
  std::vector<const char*> values;
  std::vector<int> lengths;
  values.reserve(args.size());
  lengths.reserve(args.size());
  for (const Arg& arg : args) {
    values.push_back(arg.value().c_str());
    lengths.push_back(static_cast<int>(arg.value().size()));
  }
  PGresult* result = PQexecParams(conn_, sql, static_cast<int>(values.size()), nullptr,
                                  values.data(), lengths.data(), nullptr, /*resultFormat=*/0);
  ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    Status error = Error(result, doing);
    PQclear(result);
    return error;
  }
  PgResult out(result);
  // INSERT/UPDATE/DELETE report their rows here; a SELECT's row count is no change.
  if (status == PGRES_COMMAND_OK) changes_ += out.Affected();
  return out;
}

Status Connection::Run(std::string_view doing, const char* sql) {
  PGresult* result = PQexec(conn_, sql);
  ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
    PQclear(result);
    return Status::Ok();
  }
  Status error = Error(result, doing);
  PQclear(result);
  return error;
}

Status Connection::Error(const PGresult* result, std::string_view doing) const {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string sqlstate = state != nullptr ? state : "";
  std::string message =
      result != nullptr ? OneLine(PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY)) : "";
  if (message.empty()) message = OneLine(PQerrorMessage(conn_));
  if (PQstatus(conn_) != CONNECTION_OK || sqlstate.starts_with("08") || sqlstate == "57P01" ||
      sqlstate == "57P02" || sqlstate == "57P03" || (result == nullptr && sqlstate.empty())) {
    return UnreachableError(display_name_, message);
  }
  std::string text = "state store " + display_name_ + ": " + std::string(doing) + ": " + message;
  if (sqlstate == "23505") return AlreadyExistsError(text);
  if (sqlstate == "53100")
    return ResourceExhaustedError(text + "; free disk space on the database");
  if (sqlstate.starts_with("40") || sqlstate.starts_with("53") || sqlstate == "55P03" ||
      sqlstate == "57014") {
    return UnavailableError(text + "; retry");
  }
  if (sqlstate.starts_with("28") || sqlstate == "3D000" || sqlstate == "42501" ||
      sqlstate == "25006" || sqlstate.starts_with("42")) {
    return FailedPreconditionError(text);
  }
  return InternalError(text + " (SQLSTATE " + sqlstate + ")");
}

}  // namespace lakegate::store::postgres
