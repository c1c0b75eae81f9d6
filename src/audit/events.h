// The audit events: one typed struct per kind of line the audit log holds, and
// their JSON encoding (one object per line, "time" and "event" first, then the
// fields in the order declared here). Builders take only fields that are safe
// to keep: never a secret or a token. Attacker-chosen text (an unknown client
// id, a requested scope) is length-capped. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lakegate::audit {

// A token request at /oauth2/token: "issued" or the error (oauth reason name).
struct TokenEvent {
  std::string_view client_id = {};    // as presented, even when unknown
  std::string_view client_name = {};  // "" when not authenticated
  std::string_view requested_scope = {};
  std::string_view granted_scope = {};
  std::string_view outcome = {};
  std::string_view reason = {};
  std::string_view remote = {};
  std::string_view jti = {};  // issued tokens only
};

// A token revoked at /oauth2/revoke.
struct RevocationEvent {
  std::string_view client_id = {};
  std::string_view jti = {};
  std::string_view remote = {};
};

// Who called the gateway, once authenticated (all empty before).
struct Caller {
  std::string_view client_id = {};
  std::string_view client_name = {};
  std::string_view issuer = {};
  const std::vector<std::string>* scopes = nullptr;
};

// A query (event "query") or a catalog read (event "catalog").
struct QueryEvent {
  bool catalog = false;
  std::string_view query_id = {};
  Caller caller;
  std::string_view role = {};
  std::string_view database = {};
  std::string_view statement_class = {};
  std::string_view statement_type = {};
  std::string_view sql_sha256 = {};  // hex; "" when there is no statement
  std::string_view sql = {};         // the text itself when configured, else ""
  int64_t rows = 0;
  int64_t bytes = 0;
  int64_t duration_ms = 0;
  std::string_view outcome = {};
  std::string_view reason = {};  // "<domain>.<name>" of a failure ("token.expired"), "" if none
  std::string_view remote = {};
};

// A read of the policy catalog through the admin API.
struct PolicyReadEvent {
  std::string_view request_id = {};
  Caller caller;
  std::string_view resource = {};  // "policy", "roles", "filters", "tags"
  std::string_view outcome = {};
  std::string_view remote = {};
};

// A grant or revoke through the admin API, allowed or not.
struct PolicyChangeEvent {
  std::string_view request_id = {};
  std::string_view action = {};  // "grant" | "revoke"
  Caller caller;
  std::string_view caller_role = {};
  std::string_view authority = {};  // "admin scope" | "grant option"
  bool has_request = false;         // the fields below are set
  std::string_view role = {};
  std::string_view resource = {};
  std::string permissions = {};
  std::string grant_option = {};  // "" = none
  bool grant_option_only = false;
  bool ok = false;
  uint64_t version = 0;          // when ok
  std::string_view reason = {};  // when not ok
  std::string_view remote = {};
};

std::string EncodeEvent(const TokenEvent& event, int64_t time_ms);
std::string EncodeEvent(const RevocationEvent& event, int64_t time_ms);
std::string EncodeEvent(const QueryEvent& event, int64_t time_ms);
std::string EncodeEvent(const PolicyReadEvent& event, int64_t time_ms);
std::string EncodeEvent(const PolicyChangeEvent& event, int64_t time_ms);

// "2026-11-27T14:00:00.123Z" for a Unix time in milliseconds.
std::string FormatTimestamp(int64_t unix_millis);

}  // namespace lakegate::audit
