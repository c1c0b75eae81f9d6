// TrinoLink (app/trino_link.h): the decision point's view of the clients
// follows the state snapshots, and its answers are kept while only tokens,
// revocations or keys change.
#include "app/trino_link.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "audit/metrics.h"
#include "policy/policy_json.h"
#include "testing/temp_dir.h"

namespace lakegate::app {
namespace {

using ::lakegate::testing::TempDir;

constexpr const char* kPolicy = R"json({
  "format": 1,
  "roles": [{"name": "reader", "grants": [
    {"database": "analytics", "table": "members", "permissions": ["SELECT", "DESCRIBE"]}]}]
})json";

class TrinoLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.File("opa-secret")) << "0123456789abcdef0123\n";
    auto parsed = policy::PolicyFromJson(kPolicy);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    policy_ = std::make_shared<policy::PolicySnapshot>(std::move(parsed).value());
    gateway::GatewayOptions options;
    options.scope_rules = {{.scope = "athena-api/query.read", .role = "reader"}};
    auto link = TrinoLink::Open(
        "trino://127.0.0.1:1?dir=" + dir_.path(), "http://127.0.0.1:8080", options,
        [this] { return policy_; }, SecretString("mask-key"), &metrics_);
    ASSERT_TRUE(link.ok()) << link.status().ToString();
    link_ = std::move(link).value();
  }

  // A snapshot with one client, enabled or not, and `revoked` token ids.
  static std::shared_ptr<store::StateSnapshot> Snapshot(bool enabled,
                                                        std::vector<std::string> revoked = {}) {
    auto state = std::make_shared<store::StateSnapshot>();
    store::ClientRecord client;
    client.client_id = "reader-client";
    client.name = "reporting";
    client.scopes = {"athena-api/query.read"};
    client.enabled = enabled;
    state->clients.emplace(client.client_id, client);
    for (const std::string& jti : revoked) state->revocations.emplace(jti, 4102444800);
    return state;
  }

  bool MaySelect() {
    const std::string body = R"({"input": {"context": {"identity": {"user": "reader-client"}},
      "action": {"operation": "SelectFromColumns", "resource": {"table": {"catalogName": "lake",
      "schemaName": "analytics", "tableName": "members", "columns": ["member_id"]}}}}})";
    Result<std::string> answer = link_->decider().Allow(body);
    EXPECT_TRUE(answer.ok()) << answer.status().ToString();
    return answer.ok() && *answer == R"({"result":true})";
  }

  double Computed() {
    return metrics_.AddCounter("lakegate_trino_decisions_total", "", {"answer"})
        .Value({"computed"});
  }

  TempDir dir_;
  audit::Metrics metrics_;
  std::shared_ptr<const policy::PolicySnapshot> policy_;
  std::unique_ptr<TrinoLink> link_;
};

TEST_F(TrinoLinkTest, AnswersOutliveTokenChangesButNotClientChanges) {
  link_->OnState(Snapshot(/*enabled=*/true));
  EXPECT_TRUE(MaySelect());
  EXPECT_EQ(Computed(), 1);
  // Revocations (and tokens, keys) do not change who a client is.
  link_->OnState(Snapshot(/*enabled=*/true, {"jti-1", "jti-2"}));
  EXPECT_TRUE(MaySelect());
  EXPECT_EQ(Computed(), 1);
  // A disabled client is refused at once.
  link_->OnState(Snapshot(/*enabled=*/false));
  EXPECT_FALSE(MaySelect());
  EXPECT_EQ(Computed(), 2);
  link_->OnState(Snapshot(/*enabled=*/true));
  EXPECT_TRUE(MaySelect());
}

}  // namespace
}  // namespace lakegate::app
