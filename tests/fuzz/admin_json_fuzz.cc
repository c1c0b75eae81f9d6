// Fuzzes the JSON documents of the admin API and the policy store: a grant or
// revoke request (policy::GrantRequestFromJson, POST /v1/admin/grants and
// /revokes) and a whole policy document (policy::PolicyFromJson: what the
// store reads back). A document that parses must validate as a stored version
// and survive a round trip through PolicyToJson unchanged.
//
// Input: a selector byte (grant, revoke, policy document), then the JSON.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_target.h"
#include "policy/policy.h"
#include "policy/policy_json.h"
#include "policy/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lakegate::fuzz::Input input(data, size);
  const uint8_t selector = input.TakeByte() % 3;
  const std::string_view json = input.rest();
  if (selector < 2) {
    auto request = lakegate::policy::GrantRequestFromJson(json, /*revoke=*/selector == 1);
    if (request.ok()) {
      FUZZ_CHECK(!request->role.empty());
      FUZZ_CHECK(lakegate::policy::ValidateGrant(request->grant).ok());
    }
    return 0;
  }
  auto policy = lakegate::policy::PolicyFromJson(json);
  if (!policy.ok()) return 0;
  FUZZ_CHECK(!lakegate::policy::FindPolicyViolation(*policy, /*stored=*/true));
  const std::string canonical = lakegate::policy::PolicyToJson(*policy);
  auto again = lakegate::policy::PolicyFromJson(canonical);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(lakegate::policy::PolicyToJson(*again) == canonical);
  return 0;
}
