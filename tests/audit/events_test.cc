// Audit events: one JSON object per line, the fields of each event kind, and
// caps on attacker-chosen text.
#include "audit/events.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace lakegate::audit {
namespace {

using nlohmann::json;

constexpr int64_t kTime = 1'764'000'000'123;

TEST(AuditEventsTest, TokenEventCapsUntrustedTextAndOmitsAnEmptyJti) {
  std::string long_id(1000, 'a');
  TokenEvent event;
  event.client_id = long_id;
  event.requested_scope = "a/b";
  event.outcome = "invalid_client";
  event.reason = "invalid client credentials";
  event.remote = "192.0.2.1";
  json line = json::parse(EncodeEvent(event, kTime));
  EXPECT_EQ(line["time"], "2025-11-24T16:00:00.123Z");
  EXPECT_EQ(line["event"], "token");
  EXPECT_EQ(line["client_id"].get<std::string>().size(), 128u);
  EXPECT_EQ(line["outcome"], "invalid_client");
  EXPECT_FALSE(line.contains("jti"));
}

TEST(AuditEventsTest, QueryEventCarriesTheCallerAndTheFailureReason) {
  std::vector<std::string> scopes = {"api/query.read"};
  QueryEvent event;
  event.query_id = "q-1";
  event.caller = {"cid", "svc", "https://iss", &scopes};
  event.role = "dev";
  event.sql_sha256 = "abc";
  event.sql = "SELECT 1";
  event.outcome = "invalid_token";
  event.reason = "token.expired";
  json line = json::parse(EncodeEvent(event, kTime));
  EXPECT_EQ(line["event"], "query");
  EXPECT_EQ(line["client_name"], "svc");
  EXPECT_EQ(line["scopes"], json::array({"api/query.read"}));
  EXPECT_EQ(line["sql"], "SELECT 1");
  EXPECT_EQ(line["reason"], "token.expired");
  event.catalog = true;
  event.reason = "";
  event.sql_sha256 = "";
  json catalog = json::parse(EncodeEvent(event, kTime));
  EXPECT_EQ(catalog["event"], "catalog");
  EXPECT_FALSE(catalog.contains("reason"));
  EXPECT_FALSE(catalog.contains("sql"));  // no statement, no SQL fields
  EXPECT_EQ(catalog["scopes"], json::array({"api/query.read"}));
}

TEST(AuditEventsTest, PolicyChangeSaysOkWithTheVersionOrDeniedWithTheReason) {
  PolicyChangeEvent event;
  event.action = "grant";
  event.has_request = true;
  event.role = "r";
  event.resource = "db.t";
  event.permissions = "SELECT";
  event.ok = true;
  event.version = 7;
  json ok = json::parse(EncodeEvent(event, kTime));
  EXPECT_EQ(ok["outcome"], "ok");
  EXPECT_EQ(ok["version"], 7);
  EXPECT_FALSE(ok.contains("grant_option"));
  event.ok = false;
  event.reason = "no grant option";
  event.grant_option = "SELECT";
  json denied = json::parse(EncodeEvent(event, kTime));
  EXPECT_EQ(denied["outcome"], "denied");
  EXPECT_EQ(denied["reason"], "no grant option");
  EXPECT_EQ(denied["grant_option"], "SELECT");
  EXPECT_FALSE(denied.contains("version"));
}

}  // namespace
}  // namespace lakegate::audit
