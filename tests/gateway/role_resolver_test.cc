#include "gateway/role_resolver.h"

#include <gtest/gtest.h>

#include <functional>

namespace lakegate::gateway {
namespace {

const std::string kOwnIssuer = "https://lakegate.test";
const std::string kCognito = "https://cognito.test/pool";

Identity Caller(std::string client_id, std::string name, std::vector<std::string> scopes,
                bool own = true) {
  Identity id;
  id.issuer = own ? kOwnIssuer : kCognito;
  id.client_id = std::move(client_id);
  id.client_name = std::move(name);
  id.scopes = std::move(scopes);
  id.own = own;
  return id;
}

const std::string kRead = "athena-api/query.read";
const std::string kWrite = "athena-api/query.write";
const std::string kAdmin = "athena-api/query.admin";

RoleResolver SeedResolver() {
  return RoleResolver(
      {{"", "etl-service", "lf-super-user-role", ""},
       {"", "reporting-service", "lf-dev-role", ""},
       {"5abc123def456", "", "cognito-role", kCognito},
       {"own-id-1", "", "lf-super-user-role", ""}},
      {{kAdmin, "lf-super-user-role"}, {kWrite, "lf-super-user-role"}, {kRead, "lf-dev-role"}},
      ScopeNames{});
}

TEST(RoleResolverTest, ClientRuleBeatsScopeRule) {
  // reporting-service holds the admin scope here, but its client rule wins.
  auto d = SeedResolver().Resolve(Caller("cid-r", "reporting-service", {kAdmin}));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->role, "lf-dev-role");
  EXPECT_EQ(d->matched_by, "client name rule");
}

TEST(RoleResolverTest, ClientIdRuleMatchesExternalClients) {
  auto d = SeedResolver().Resolve(Caller("5abc123def456", "", {kRead}, /*own=*/false));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->role, "cognito-role");
  EXPECT_EQ(d->matched_by, "client_id rule");
}

TEST(RoleResolverTest, ClientIdRuleMatchesOnlyItsIssuer) {
  // The same client_id from lakegate's own issuer is another client.
  auto own = SeedResolver().Resolve(Caller("5abc123def456", "", {kRead}, /*own=*/true));
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->role, "lf-dev-role");
  EXPECT_EQ(own->matched_by, "scope rule " + kRead);
  // So is the same client_id from a third trusted issuer.
  Identity other = Caller("5abc123def456", "", {kRead}, /*own=*/false);
  other.issuer = "https://keycloak.test/realms/x";
  auto third = SeedResolver().Resolve(other);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->role, "lf-dev-role");
}

TEST(RoleResolverTest, ClientIdRuleWithoutIssuerMatchesOwnTokensOnly) {
  auto own = SeedResolver().Resolve(Caller("own-id-1", "", {kRead}, /*own=*/true));
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->role, "lf-super-user-role");
  EXPECT_EQ(own->matched_by, "client_id rule");
  // A trusted external issuer's token carrying our client's id does not get
  // the rule's role.
  auto external = SeedResolver().Resolve(Caller("own-id-1", "", {kRead}, /*own=*/false));
  ASSERT_TRUE(external.ok());
  EXPECT_EQ(external->role, "lf-dev-role");
  EXPECT_EQ(external->matched_by, "scope rule " + kRead);
}

TEST(RoleResolverTest, NameRulesNeverMatchExternalTokens) {
  // An external identity cannot carry a client name; even if one were set,
  // name rules apply to our own clients only.
  auto d = SeedResolver().Resolve(Caller("x", "etl-service", {kRead}, /*own=*/false));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->role, "lf-dev-role");
  EXPECT_EQ(d->matched_by, "scope rule " + kRead);
}

TEST(RoleResolverTest, FirstScopeRuleWins) {
  // The token lists read first, but the admin rule comes first in the rules.
  auto d = SeedResolver().Resolve(Caller("cid-new", "new-service", {kRead, kAdmin}));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->role, "lf-super-user-role");
  EXPECT_EQ(d->matched_by, "scope rule " + kAdmin);
}

TEST(RoleResolverTest, NoMatchIsDeniedNamingTheClient) {
  auto d = SeedResolver().Resolve(Caller("cid-x", "mystery", {"other/scope", "x"}));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(d.status().message(),
            "no role is mapped to client 'mystery' (scopes: other/scope x); add a role rule");
  auto e = SeedResolver().Resolve(Caller("cid-y", "", {}, false));
  EXPECT_EQ(e.status().message(),
            "no role is mapped to client 'cid-y' (scopes: ); add a role rule");
}

TEST(RoleResolverTest, MaxClassFollowsTheStrongestScope) {
  RoleResolver r = SeedResolver();
  EXPECT_EQ(*r.MaxClass(Caller("c", "", {kRead})), engine::StatementClass::kRead);
  EXPECT_EQ(*r.MaxClass(Caller("c", "", {kRead, kWrite})), engine::StatementClass::kWrite);
  EXPECT_EQ(*r.MaxClass(Caller("c", "", {kAdmin, kRead})), engine::StatementClass::kAdmin);
  auto none = r.MaxClass(Caller("c", "", {"other"}));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(none.status().message(),
            "the token has none of the query scopes (athena-api/query.read, "
            "athena-api/query.write, athena-api/query.admin)");
}

TEST(RoleResolverTest, ScopeNamesAreConfigurable) {
  RoleResolver r({}, {{"sql:read", "reader"}}, ScopeNames{"sql:read", "sql:write", "sql:admin"});
  EXPECT_EQ(*r.MaxClass(Caller("c", "", {"sql:read"})), engine::StatementClass::kRead);
  EXPECT_FALSE(r.MaxClass(Caller("c", "", {kRead})).ok());
  EXPECT_EQ(r.Resolve(Caller("c", "", {"sql:read"}))->role, "reader");
}

}  // namespace
}  // namespace lakegate::gateway

// ValidateGatewayOptions lives with the rules it mostly checks.
namespace lakegate::gateway {
namespace {

TEST(ValidateGatewayOptionsTest, DefaultsAreValid) { EXPECT_TRUE(ValidateGatewayOptions({}).ok()); }

TEST(ValidateGatewayOptionsTest, Rejections) {
  struct Case {
    std::function<void(GatewayOptions&)> mutate;
    std::string message;
  };
  TrustedIssuer good{"https://issuer.test", "https://issuer.test/jwks", {}, {}, false, true, {}};
  std::vector<Case> cases = {
      {[&](GatewayOptions& o) {
         o.trusted_issuers = {good, good};
       },
       "trusted issuer #2: issuer 'https://issuer.test' is listed twice"},
      {[&](GatewayOptions& o) {
         o.trusted_issuers = {good};
         o.trusted_issuers[0].issuer.clear();
       },
       "trusted issuer #1: issuer is empty"},
      {[&](GatewayOptions& o) {
         o.trusted_issuers = {good};
         o.trusted_issuers[0].jwks_uri = "http://issuer.test/jwks";
       },
       "trusted issuer #1 (https://issuer.test): JWKS URI must use https (http only to a loopback "
       "address)"},
      {[](GatewayOptions& o) {
         o.client_rules = {{"id", "name", "r", ""}};
       },
       "client rule #1: set exactly one of client_id and client_name"},
      {[](GatewayOptions& o) {
         o.client_rules = {{"", "", "r", ""}};
       },
       "client rule #1: set exactly one of client_id and client_name"},
      {[](GatewayOptions& o) {
         o.client_rules = {{"id", "", "", ""}};
       },
       "client rule #1: role is empty"},
      {[](GatewayOptions& o) {
         o.client_rules = {{"", "name", "r", "https://issuer.test"}};
       },
       "client rule #1: a client name rule matches lakegate's own clients only; drop its issuer"},
      {[](GatewayOptions& o) {
         o.scope_rules = {{"", "r"}};
       },
       "scope rule #1: scope is empty"},
      {[](GatewayOptions& o) {
         o.scope_rules = {{"s", ""}};
       },
       "scope rule #1: role is empty"},
      {[](GatewayOptions& o) { o.max_rows = 0; }, "max_rows must be positive"},
      {[](GatewayOptions& o) { o.max_result_bytes = -1; }, "max_result_bytes must be positive"},
      {[](GatewayOptions& o) { o.max_query_memory_bytes = 0; },
       "max_query_memory_bytes must be positive"},
      {[](GatewayOptions& o) { o.max_concurrent_per_client = 0; },
       "max_concurrent_per_client must be positive"},
      {[](GatewayOptions& o) { o.max_query_bytes = 0; }, "max_query_bytes must be positive"},
      {[](GatewayOptions& o) { o.query_timeout = std::chrono::milliseconds(0); },
       "query_timeout must be positive"},
      {[](GatewayOptions& o) { o.default_database.clear(); }, "default_database is empty"},
  };
  for (const Case& c : cases) {
    GatewayOptions o;
    c.mutate(o);
    Status s = ValidateGatewayOptions(o);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(s.message(), c.message);
  }
}

}  // namespace
}  // namespace lakegate::gateway
