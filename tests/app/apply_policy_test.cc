// apply and the policy catalog: versions are saved only on change, the file's
// objects replace their namesakes while CLI-made ones stay, dry runs write
// nothing, and a store failure leaves no partial policy. (The catalog's own
// operations are tested in tests/catalog.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "app/apply.h"
#include "catalog/declared_policy.h"
#include "catalog/policy_versions.h"
#include "common/clock.h"
#include "config/stack_config.h"
#include "policy/policy_json.h"
#include "policy/validate.h"
#include "store/fault_injecting_store.h"
#include "store/sqlite/sqlite_store.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace lakegate::app {
namespace {

using catalog::kManagedPolicySetting;
using catalog::LoadLatestPolicy;
using catalog::UpdatePolicy;
using ::lakegate::testing::HasReason;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr std::string_view kStack = R"yaml(resource_servers:
  - identifier: athena-api
    scopes: [query.read]
tags:
  keys: [{key: domain, values: [sales, hr]}]
  assign: [{database: analytics, key: domain, value: sales}]
filters:
  - {name: eu-members, database: analytics, table: members, rows: "region = 'eu'"}
roles:
  - name: lf-dev-role
    grants: [{database: analytics, table: members, permissions: [SELECT]}]
    filters: [eu-members]
    tag_grants: [{expression: {domain: [sales]}, permissions: [DESCRIBE]}]
)yaml";

config::StackConfig Stack(std::string_view yaml) {
  auto stack = config::ParseStack(yaml, "/srv/stack.yaml", "/srv");
  EXPECT_TRUE(stack.ok()) << stack.status().ToString();
  return stack.ok() ? *stack : config::StackConfig{};
}

class ApplyPolicyTest : public ::testing::Test {
 protected:
  Result<ApplyResult> Apply(const config::StackConfig& stack, bool dry_run = false) {
    return ApplyStack(stack, *store_, hasher_, clock_, "/nonexistent-secrets", dry_run);
  }
  std::shared_ptr<const policy::PolicySnapshot> Latest() {
    auto p = LoadLatestPolicy(*store_);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : nullptr;
  }
  const Change* PolicyChange(const ApplyResult& r) {
    for (const Change& c : r.changes) {
      if (c.object == "policy") return &c;
    }
    return nullptr;
  }

  std::unique_ptr<store::Store> store_ = store::NewInMemoryStore();
  oauth::SecretHasher hasher_{SecretString(std::string(32, 'k'))};
  FakeClock clock_;
};

TEST_F(ApplyPolicyTest, FirstApplyCreatesVersionOneThenNothingChanges) {
  config::StackConfig stack = Stack(kStack);
  auto first = Apply(stack);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const Change* c = PolicyChange(*first);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, Change::Kind::kCreate);
  EXPECT_EQ(c->name, "version 1");
  EXPECT_EQ(c->detail,
            "role lf-dev-role added, filter eu-members added, tag key domain added, "
            "tag assignments");
  EXPECT_THAT(FormatChanges(*first, false),
              HasSubstr("+ create  policy          version 1  (role lf-dev-role added"));
  auto policy = Latest();
  ASSERT_NE(policy, nullptr);
  EXPECT_EQ(policy->version, 1u);
  EXPECT_EQ(policy->roles.at("lf-dev-role").filters, std::vector<std::string>{"eu-members"});

  auto second = Apply(stack);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(PolicyChange(*second), nullptr);
  EXPECT_EQ((*store_->LatestPolicy())->first, 1u);
}

TEST_F(ApplyPolicyTest, ChangedFileMakesANewVersionWithAChangeSet) {
  ASSERT_TRUE(Apply(Stack(kStack)).ok());
  std::string changed(kStack);
  changed.replace(changed.find("permissions: [SELECT]"), 21, "permissions: [SELECT, DESCRIBE]");
  changed.replace(changed.find("region = 'eu'"), 13, "region = 'us'");
  auto result = Apply(Stack(changed));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const Change* c = PolicyChange(*result);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, Change::Kind::kUpdate);
  EXPECT_EQ(c->name, "version 1 -> 2");
  EXPECT_EQ(c->detail, "role lf-dev-role grants, filter eu-members changed");
  EXPECT_EQ(Latest()->filters.at("eu-members").rows.text, "region = 'us'");
}

TEST_F(ApplyPolicyTest, DryRunWritesNothing) {
  auto result = Apply(Stack(kStack), /*dry_run=*/true);
  ASSERT_TRUE(result.ok());
  ASSERT_NE(PolicyChange(*result), nullptr);
  EXPECT_EQ(PolicyChange(*result)->name, "version 1");
  EXPECT_FALSE((*store_->LatestPolicy()).has_value());
  EXPECT_FALSE((*store_->GetSetting(kManagedPolicySetting)).has_value());
}

TEST_F(ApplyPolicyTest, CliObjectsSurviveApplyAndFileObjectsAreRestored) {
  ASSERT_TRUE(Apply(Stack(kStack)).ok());
  // With the CLI: a new role, a new filter, and a change to a file-owned role.
  auto update = UpdatePolicy(*store_, "test", [](policy::PolicySnapshot& p) -> Status {
    policy::Role analyst;
    analyst.name = "cli-role";
    analyst.grants.push_back({"analytics", "", policy::Bit(policy::Permission::kDescribe), {}});
    p.roles.emplace(analyst.name, analyst);
    policy::DataCellFilter f;
    f.name = "cli-filter";
    f.database = "analytics";
    f.table = "members";
    p.filters.emplace(f.name, f);
    p.roles.at("lf-dev-role").grants.clear();
    return Status::Ok();
  });
  ASSERT_TRUE(update.ok()) << update.status().ToString();
  EXPECT_EQ(update->old_version, 1u);
  EXPECT_EQ(update->new_version, 2u);
  EXPECT_THAT(update->changes, ElementsAre("role cli-role added", "role lf-dev-role grants",
                                           "filter cli-filter added"));

  auto result = Apply(Stack(kStack));
  ASSERT_TRUE(result.ok());
  ASSERT_NE(PolicyChange(*result), nullptr);
  EXPECT_EQ(PolicyChange(*result)->detail, "role lf-dev-role grants");
  auto policy = Latest();
  EXPECT_EQ(policy->version, 3u);
  EXPECT_EQ(policy->roles.at("lf-dev-role").grants.size(), 1u);
  EXPECT_EQ(policy->roles.count("cli-role"), 1u);
  EXPECT_EQ(policy->filters.count("cli-filter"), 1u);
}

TEST_F(ApplyPolicyTest, ObjectsRemovedFromTheFileAreRemoved) {
  ASSERT_TRUE(Apply(Stack(kStack)).ok());
  auto result =
      Apply(Stack("resource_servers:\n  - identifier: athena-api\n    scopes: [query.read]\n"));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_NE(PolicyChange(*result), nullptr);
  EXPECT_EQ(PolicyChange(*result)->detail,
            "role lf-dev-role removed, filter eu-members removed, tag key domain removed, "
            "tag assignments");
  auto policy = Latest();
  EXPECT_TRUE(policy->roles.empty());
  EXPECT_TRUE(policy->filters.empty());
  EXPECT_TRUE(policy->tag_keys.empty());
  EXPECT_TRUE(policy->tag_assignments.empty());
}

TEST_F(ApplyPolicyTest, ConflictWithACliObjectIsReported) {
  ASSERT_TRUE(Apply(Stack(kStack)).ok());
  // A CLI-made role uses the file's filter; then the file drops the filter.
  ASSERT_TRUE(UpdatePolicy(*store_, "test", [](policy::PolicySnapshot& p) -> Status {
                policy::Role r;
                r.name = "cli-role";
                r.filters = {"eu-members"};
                p.roles.emplace(r.name, r);
                return Status::Ok();
              }).ok());
  auto result =
      Apply(Stack("resource_servers:\n  - identifier: athena-api\n    scopes: [query.read]\n"));
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(HasReason(result.status(), policy::PolicyFailure::kUnknownFilter));
  EXPECT_THAT(result.status().message(),
              HasSubstr("role \"cli-role\": filter \"eu-members\" does not exist (after merging "
                        "/srv/stack.yaml with the policy changes made with the CLI"));
  EXPECT_EQ(Latest()->version, 2u);  // nothing written
}

TEST_F(ApplyPolicyTest, UnreadableStoredPolicyIsReplacedByApply) {
  ASSERT_TRUE(store_->SavePolicy("{not json", "test").ok());
  EXPECT_EQ(LoadLatestPolicy(*store_).status().code(), StatusCode::kInvalidArgument);
  auto result = Apply(Stack(kStack));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_NE(PolicyChange(*result), nullptr);
  EXPECT_EQ(PolicyChange(*result)->name, "version 1 -> 2");
  EXPECT_THAT(PolicyChange(*result)->detail, HasSubstr("replaces an unreadable version"));
  EXPECT_EQ(Latest()->version, 2u);
}

TEST_F(ApplyPolicyTest, StoreFailureDuringApplyLeavesNoPartialPolicy) {
  auto faulty = std::make_unique<store::FaultInjectingStore>(store::NewInMemoryStore());
  store::FaultInjectingStore* f = faulty.get();
  store_ = std::move(faulty);
  // Resource server and setting writes pass; the policy save fails.
  f->FailWrites(1, /*after=*/1);
  auto result = Apply(Stack(kStack));
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  f->FailWrites(0);
  EXPECT_FALSE((*store_->LatestPolicy()).has_value());
  EXPECT_TRUE((*store_->ListResourceServers()).empty());
}

}  // namespace
}  // namespace lakegate::app

namespace lakegate::app {
namespace {

constexpr std::string_view kKeyJwks = R"({"keys":[{"kty":"EC","crv":"P-256","kid":"k1",)"
                                      R"("x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
                                      R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]})";

std::string ClientStack(std::string_view client) {
  return "resource_servers:\n  - identifier: athena-api\n    scopes: [query.read]\nclients:\n" +
         std::string(client);
}

// A client moves between a secret and keys: keys only means no secret opens
// the door any more; back to a secret issues a new one. Bad keys are refused
// before anything is written.
TEST(ApplyClientAuthTest, SwitchingMethodsReplacesTheCredentials) {
  ::lakegate::testing::TempDir dir("lg-apply-auth");
  std::unique_ptr<store::Store> store = store::NewInMemoryStore();
  oauth::SecretHasher hasher{SecretString(std::string(32, 'k'))};
  FakeClock clock;
  auto apply = [&](std::string_view client) {
    return ApplyStack(Stack(ClientStack(client)), *store, hasher, clock, dir.path(), false);
  };
  auto find = [&] { return **store->FindClientByName("svc"); };

  ASSERT_TRUE(apply("  - name: svc\n    scopes: [athena-api/query.read]\n").ok());
  EXPECT_FALSE(find().secret_hash.empty());
  EXPECT_EQ(find().auth_method, "client_secret_basic");

  auto to_keys = apply(
      "  - name: svc\n    scopes: [athena-api/query.read]\n    auth: "
      "private_key_jwt\n    jwks: '" +
      std::string(kKeyJwks) + "'\n");
  ASSERT_TRUE(to_keys.ok()) << to_keys.status().ToString();
  EXPECT_THAT(FormatChanges(*to_keys, false),
              HasSubstr("auth: client_secret_basic -> private_key_jwt"));
  store::ClientRecord keyed = find();
  EXPECT_EQ(keyed.auth_method, "private_key_jwt");
  EXPECT_EQ(keyed.jwks, kKeyJwks);
  EXPECT_TRUE(keyed.secret_hash.empty());
  EXPECT_TRUE(keyed.previous_secret_hash.empty());

  auto back = apply("  - name: svc\n    scopes: [athena-api/query.read]\n");
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(find().secret_hash.empty());
  EXPECT_TRUE(find().jwks.empty());
  EXPECT_EQ(back->secret_files.size(), 1u);

  auto unusable = apply(
      "  - name: svc\n    scopes: [athena-api/query.read]\n    auth: "
      "private_key_jwt\n    jwks: '{\"keys\":[]}'\n");
  EXPECT_EQ(unusable.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(unusable.status().message(), HasSubstr("client 'svc': jwks holds no usable"));
  auto insecure = apply(
      "  - name: svc\n    scopes: [athena-api/query.read]\n    auth: "
      "private_key_jwt\n    jwks_uri: http://keys.example/jwks.json\n");
  EXPECT_EQ(insecure.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(find().auth_method, "client_secret_basic");  // nothing written
}

// Mutual-TLS clients (RFC 8705): the certificate field, its value and the
// bound-tokens flag reach the store, no secret is made, and a malformed
// registration is refused before anything is written.
TEST(ApplyClientAuthTest, MutualTlsClients) {
  ::lakegate::testing::TempDir dir("lg-apply-mtls");
  std::unique_ptr<store::Store> store = store::NewInMemoryStore();
  oauth::SecretHasher hasher{SecretString(std::string(32, 'k'))};
  FakeClock clock;
  auto apply = [&](std::string_view client) {
    return ApplyStack(Stack(ClientStack(client)), *store, hasher, clock, dir.path(), false);
  };
  auto find = [&] { return **store->FindClientByName("svc"); };

  auto created = apply(
      "  - name: svc\n    scopes: [athena-api/query.read]\n    auth: tls_client_auth\n"
      "    tls_client_auth_subject_dn: \"CN=svc,O=Example\"\n"
      "    tls_client_certificate_bound_access_tokens: true\n");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_THAT(FormatChanges(*created, false), HasSubstr("auth: tls_client_auth"));
  EXPECT_TRUE(created->secret_files.empty());
  store::ClientRecord c = find();
  EXPECT_EQ(c.auth_method, "tls_client_auth");
  EXPECT_EQ(c.tls_client_auth_field, "tls_client_auth_subject_dn");
  EXPECT_EQ(c.tls_client_auth_value, "CN=svc,O=Example");
  EXPECT_TRUE(c.tls_client_certificate_bound_access_tokens);
  EXPECT_TRUE(c.secret_hash.empty());

  auto renamed = apply(
      "  - name: svc\n    scopes: [athena-api/query.read]\n    auth: tls_client_auth\n"
      "    tls_client_auth_san_dns: svc.example.com\n");
  ASSERT_TRUE(renamed.ok()) << renamed.status().ToString();
  EXPECT_THAT(FormatChanges(*renamed, false),
              HasSubstr("tls_client_auth certificate name changed"));
  EXPECT_EQ(find().tls_client_auth_field, "tls_client_auth_san_dns");
  EXPECT_FALSE(find().tls_client_certificate_bound_access_tokens);

  auto bad_dn = apply(
      "  - name: svc\n    scopes: [athena-api/query.read]\n    auth: tls_client_auth\n"
      "    tls_client_auth_subject_dn: not a dn\n");
  EXPECT_EQ(bad_dn.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_dn.status().message(),
              HasSubstr("client 'svc': tls_client_auth_subject_dn \"not a dn\" is not an RFC "
                        "4514 distinguished name"));
  auto no_x5c = apply(
      "  - name: svc\n    scopes: [athena-api/query.read]\n    auth: "
      "self_signed_tls_client_auth\n    jwks: '{\"keys\":[{\"kty\":\"EC\"}]}'\n");
  EXPECT_EQ(no_x5c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(no_x5c.status().message(), HasSubstr("jwks has no key with x5c"));
  EXPECT_EQ(find().tls_client_auth_field, "tls_client_auth_san_dns");  // nothing written
}

}  // namespace
}  // namespace lakegate::app
