#include "audit/events.h"

#include <cstdio>
#include <ctime>

#include "common/strings.h"

namespace lakegate::audit {
namespace {

constexpr size_t kMaxUntrustedBytes = 128;
constexpr size_t kMaxScopeBytes = 1024;

// Builds one JSON object member by member.
class Line {
 public:
  Line(std::string_view event, int64_t time_ms, size_t reserve = 320) {
    out_.reserve(reserve);
    out_ += "{\"time\":\"";
    out_ += FormatTimestamp(time_ms);
    out_ += "\",\"event\":";
    out_ += JsonQuote(event);
  }
  Line& Add(std::string_view key, std::string_view value) {
    Key(key);
    out_ += JsonQuote(value);
    return *this;
  }
  Line& Add(std::string_view key, int64_t value) {
    Key(key);
    out_ += std::to_string(value);
    return *this;
  }
  Line& AddBool(std::string_view key, bool value) {
    Key(key);
    out_ += value ? "true" : "false";
    return *this;
  }
  Line& Add(std::string_view key, const std::vector<std::string>* values) {
    Key(key);
    out_ += '[';
    if (values) {
      for (size_t i = 0; i < values->size(); ++i) {
        if (i > 0) out_ += ',';
        out_ += JsonQuote((*values)[i]);
      }
    }
    out_ += ']';
    return *this;
  }
  Line& AddCaller(const Caller& caller) {
    return Add("client_id", caller.client_id)
        .Add("client_name", caller.client_name)
        .Add("issuer", caller.issuer)
        .Add("scopes", caller.scopes);
  }
  std::string Finish() {
    out_ += '}';
    return std::move(out_);
  }

 private:
  void Key(std::string_view key) {
    out_ += ',';
    out_ += JsonQuote(key);
    out_ += ':';
  }
  std::string out_;
};

}  // namespace

std::string EncodeEvent(const TokenEvent& e, int64_t time_ms) {
  Line line("token", time_ms);
  line.Add("client_id", e.client_id.substr(0, kMaxUntrustedBytes))
      .Add("client_name", e.client_name)
      .Add("requested_scope", e.requested_scope.substr(0, kMaxScopeBytes))
      .Add("granted_scope", e.granted_scope)
      .Add("outcome", e.outcome)
      .Add("reason", e.reason)
      .Add("remote", e.remote);
  if (!e.jti.empty()) line.Add("jti", e.jti);
  return line.Finish();
}

std::string EncodeEvent(const RevocationEvent& e, int64_t time_ms) {
  return Line("revoke", time_ms)
      .Add("client_id", e.client_id)
      .Add("jti", e.jti)
      .Add("remote", e.remote)
      .Finish();
}

std::string EncodeEvent(const QueryEvent& e, int64_t time_ms) {
  Line line(e.catalog ? "catalog" : "query", time_ms, 512 + e.sql.size());
  line.Add("query_id", e.query_id)
      .AddCaller(e.caller)
      .Add("role", e.role)
      .Add("database", e.database)
      .Add("statement_class", e.statement_class)
      .Add("statement_type", e.statement_type);
  if (!e.sql_sha256.empty()) {
    line.Add("sql_sha256", e.sql_sha256);
    if (!e.sql.empty()) line.Add("sql", e.sql);
  }
  line.Add("rows", e.rows)
      .Add("bytes", e.bytes)
      .Add("duration_ms", e.duration_ms)
      .Add("outcome", e.outcome);
  if (!e.reason.empty()) line.Add("reason", e.reason);
  return line.Add("remote", e.remote).Finish();
}

std::string EncodeEvent(const PolicyReadEvent& e, int64_t time_ms) {
  return Line("policy_read", time_ms)
      .Add("request_id", e.request_id)
      .AddCaller(e.caller)
      .Add("resource", e.resource)
      .Add("outcome", e.outcome)
      .Add("remote", e.remote)
      .Finish();
}

std::string EncodeEvent(const PolicyChangeEvent& e, int64_t time_ms) {
  Line line("policy_change", time_ms);
  line.Add("request_id", e.request_id)
      .Add("action", e.action)
      .AddCaller(e.caller)
      .Add("caller_role", e.caller_role)
      .Add("authority", e.authority);
  if (e.has_request) {
    line.Add("role", e.role).Add("resource", e.resource).Add("permissions", e.permissions);
    if (!e.grant_option.empty()) line.Add("grant_option", e.grant_option);
    if (e.grant_option_only) line.AddBool("grant_option_only", true);
  }
  if (e.ok) {
    line.Add("outcome", "ok").Add("version", static_cast<int64_t>(e.version));
  } else {
    line.Add("outcome", "denied").Add("reason", e.reason);
  }
  return line.Add("remote", e.remote).Finish();
}

std::string FormatTimestamp(int64_t unix_millis) {
  std::time_t t = static_cast<std::time_t>(unix_millis / 1000);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_millis % 1000));
  return buf;
}

}  // namespace lakegate::audit
