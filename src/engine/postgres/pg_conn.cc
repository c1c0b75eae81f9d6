#include "engine/postgres/pg_conn.h"

#include <iterator>

#include "engine/engine.h"
#include "store/postgres/libpq_text.h"

namespace lakegate::engine::postgres_internal {
namespace {

using store::OneLine;

bool Contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

}  // namespace

std::string SqlState(const PGresult* result) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  return state != nullptr ? state : "";
}

std::string PrimaryMessage(const PGresult* result, PGconn* conn) {
  std::string message =
      result != nullptr ? OneLine(PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY)) : "";
  if (message.empty()) message = OneLine(PQerrorMessage(conn));
  return message;
}

bool IsConnectionLoss(const PGresult* result, PGconn* conn) {
  std::string state = SqlState(result);
  return PQstatus(conn) != CONNECTION_OK || state.starts_with("08") || state == "57P01" ||
         state == "57P02" || state == "57P03" || (result == nullptr && state.empty());
}

Status InternalFailure(const PGresult* result, PGconn* conn, std::string_view doing) {
  std::string text = std::string(doing) + ": " + PrimaryMessage(result, conn);
  std::string state = SqlState(result);
  if (IsConnectionLoss(result, conn) || state.starts_with("40") || state.starts_with("53") ||
      state == "55P03") {
    return Status(StatusCode::kUnavailable, EngineFailure::kUnavailable, text);
  }
  return Status(StatusCode::kInternal, EngineFailure::kInternal,
                text + (state.empty() ? "" : " (SQLSTATE " + state + ")"));
}

Result<std::unique_ptr<Conn>> Conn::Open(const ConnectTarget& target) {
  // Earlier keywords are defaults that the URL (expanded from "dbname")
  // overrides; user and password come after it, so a request role's
  // credentials replace the URL's. The session settings make values cross
  // the same way whatever the server's defaults (RESET ALL and DISCARD ALL
  // return to them).
  std::vector<const char*> keywords = {
      "connect_timeout",  "application_name", "keepalives", "keepalives_idle",
      "tcp_user_timeout", "client_encoding",  "options",    "dbname"};
  std::vector<const char*> values = {
      "5",
      "lakegate-engine",
      "1",
      "5",
      "10000",
      "UTF8",
      "-c DateStyle=ISO,YMD -c IntervalStyle=iso_8601 -c TimeZone=UTC "
      "-c standard_conforming_strings=on -c extra_float_digits=1",
      target.url.c_str()};
  if (!target.user.empty()) {
    keywords.push_back("user");
    values.push_back(target.user.c_str());
    keywords.push_back("password");
    values.push_back(target.password.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1);
  if (conn == nullptr) {
    return Status(StatusCode::kResourceExhausted, EngineFailure::kOutOfMemory,
                  "cannot connect to the PostgreSQL engine: out of memory");
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = OneLine(PQerrorMessage(conn));
    PQfinish(conn);
    std::string who = target.user.empty() ? "" : " as " + target.user;
    bool busy = Contains(message, "starting up") || Contains(message, "shutting down") ||
                Contains(message, "too many") || Contains(message, "Connection refused") ||
                Contains(message, "timeout");
    if (busy) {
      return Status(
          StatusCode::kUnavailable, EngineFailure::kUnavailable,
          "the PostgreSQL engine " + target.display + " is unreachable" + who + ": " + message);
    }
    return Status(StatusCode::kFailedPrecondition, EngineFailure::kMisconfigured,
                  "cannot connect to the PostgreSQL engine " + target.display + who + ": " +
                      message +
                      "; check the user, password, database and sslmode in the engine URL");
  }
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<Conn>(new Conn(conn));
}

Conn::~Conn() { PQfinish(conn_); }

Status Conn::Run(std::string_view doing, const std::string& sql) {
  ResultPtr result(PQexec(conn_, sql.c_str()));
  ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Status::Ok();
  return InternalFailure(result.get(), conn_, doing);
}

Result<ResultPtr> Conn::Query(std::string_view doing, const std::string& sql,
                              const std::vector<std::string>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& p : params) values.push_back(p.c_str());
  ResultPtr result(PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr,
                                values.data(), nullptr, nullptr, 0));
  ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  return InternalFailure(result.get(), conn_, doing);
}

bool Conn::SendOwn(OwnStatement which, const std::vector<std::string>& params, bool keep,
                   bool& prepare_sent) {
  struct Own {
    const char* name;
    const char* sql;
  };
  // (work_mem "" = the server's or role's own: its reset value.)
  static constexpr Own kOwn[] = {
      {"lg_settings",
       "SELECT set_config('search_path', $1, false), set_config('statement_timeout', $2, false), "
       "set_config('work_mem', coalesce(nullif($3, ''), (SELECT reset_val FROM "
       "pg_catalog.pg_settings WHERE name = 'work_mem')), false)"},
      {"lg_begin_ro", "BEGIN READ ONLY"},
      {"lg_begin_rw", "BEGIN READ WRITE"},
      {"lg_rollback", "ROLLBACK"},
      {"lg_unlock_all", "SELECT pg_advisory_unlock_all()"},
  };
  static_assert(std::size(kOwn) == static_cast<size_t>(OwnStatement::kCount));
  const Own& own = kOwn[static_cast<size_t>(which)];
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& p : params) values.push_back(p.c_str());
  prepare_sent = false;
  if (!keep && !prepared_.test(static_cast<size_t>(which))) {
    return PQsendQueryParams(conn_, own.sql, static_cast<int>(values.size()), nullptr,
                             values.data(), nullptr, nullptr, 0) != 0;
  }
  prepare_sent = !prepared_.test(static_cast<size_t>(which));
  if (prepare_sent && PQsendPrepare(conn_, own.name, own.sql, 0, nullptr) == 0) return false;
  return PQsendQueryPrepared(conn_, own.name, static_cast<int>(values.size()), values.data(),
                             nullptr, nullptr, 0) != 0;
}

}  // namespace lakegate::engine::postgres_internal
