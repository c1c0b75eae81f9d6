// The policy rules (policy/validate.h): every rule gives its own reason and
// the path of the object that broke it, so that readers can point at it.
#include "policy/validate.h"

#include <gtest/gtest.h>

#include <string>

#include "testing/status_matchers.h"

namespace lakegate::policy {
namespace {

using ::lakegate::testing::HasReason;
using Object = PolicyPath::Object;
using Part = PolicyPath::Part;

constexpr PermissionSet kSelect = Bit(Permission::kSelect);

PolicySnapshot Valid() {
  PolicySnapshot p;
  p.tag_keys = {{"domain", {"sales", "hr"}}, {"level", {"public", "pii"}}};
  p.tag_assignments = {{"analytics", "", "", "domain", "sales"},
                       {"analytics", "members", "email", "level", "pii"}};
  DataCellFilter eu;
  eu.name = "eu";
  eu.database = "analytics";
  eu.table = "members";
  p.filters.emplace(eu.name, eu);
  Role r;
  r.name = "analyst";
  r.grants.push_back({"analytics", "members", kSelect, {}});
  r.filters = {"eu"};
  r.masks = {{"analytics", "members", "name", MaskKind::kShowLastN, 3, ""}};
  r.tag_grants.push_back({{{{"domain", {"sales"}}}}, kSelect});
  p.roles.emplace(r.name, r);
  return p;
}

PolicyViolation ViolationOf(const PolicySnapshot& p) {
  std::optional<PolicyViolation> v = FindPolicyViolation(p);
  EXPECT_TRUE(v.has_value()) << "no violation";
  return v.value_or(PolicyViolation{});
}

Role& Analyst(PolicySnapshot& p) { return p.roles.at("analyst"); }

TEST(ValidatePolicyTest, ValidPolicyHasNoViolation) {
  EXPECT_EQ(FindPolicyViolation(Valid()), std::nullopt);
  EXPECT_TRUE(ValidatePolicy(Valid()).ok());
  EXPECT_TRUE(ValidatePolicy(PolicySnapshot{}).ok());
}

TEST(ValidatePolicyTest, GrantRulesNameTheRoleAndTheGrant) {
  PolicySnapshot p = Valid();
  Grant columns{"analytics", "*", kSelect, {ColumnSpec::Kind::kInclude, {"id"}}};
  Analyst(p).grants.push_back(columns);
  PolicyViolation v = ViolationOf(p);
  EXPECT_TRUE(HasReason(v.status, PolicyFailure::kColumnsNeedOneTable));
  EXPECT_EQ(v.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(v.status.message(),
            "role \"analyst\": grant on analytics.*: columns need a single table");
  EXPECT_EQ(v.path.object, Object::kRole);
  EXPECT_EQ(v.path.name, "analyst");
  EXPECT_EQ(v.path.part, Part::kGrant);
  EXPECT_EQ(v.path.item, 1u);
  // The same status as ValidateGrant() on the grant alone, with the role.
  EXPECT_TRUE(HasReason(ValidateGrant(columns), PolicyFailure::kColumnsNeedOneTable));
  Analyst(p).grants.back() = {"analytics", "", 0, {}};
  EXPECT_TRUE(HasReason(ViolationOf(p).status, PolicyFailure::kNoPermission));
  Analyst(p).grants.back() = {"", "t", kSelect, {}};
  EXPECT_TRUE(HasReason(ViolationOf(p).status, PolicyFailure::kMissingResource));
}

TEST(ValidateGrantTest, EachRuleHasItsReason) {
  Grant g{"a", "t", kSelect, {}};
  g.grant_option = Bit(Permission::kInsert);
  EXPECT_TRUE(HasReason(ValidateGrant(g), PolicyFailure::kGrantOptionWithoutPermission));
  g.grant_option = kSelect;
  g.columns = {ColumnSpec::Kind::kExclude, {"x"}};
  EXPECT_TRUE(HasReason(ValidateGrant(g), PolicyFailure::kGrantOptionOnExcludedColumns));
  g.columns = {ColumnSpec::Kind::kInclude, {"x"}};
  EXPECT_TRUE(ValidateGrant(g).ok());
  g.table = "";
  EXPECT_TRUE(HasReason(ValidateGrant(g), PolicyFailure::kColumnsNeedOneTable));
  EXPECT_EQ(ValidateGrant(g).message(), "grant on database a: columns need a single table");
}

TEST(ValidatePolicyTest, UnknownFilterNamesItsPlaceInTheRole) {
  PolicySnapshot p = Valid();
  Analyst(p).filters.push_back("us");
  PolicyViolation v = ViolationOf(p);
  EXPECT_TRUE(HasReason(v.status, PolicyFailure::kUnknownFilter));
  EXPECT_EQ(v.status.message(), "role \"analyst\": filter \"us\" does not exist");
  EXPECT_EQ(v.path.part, Part::kFilter);
  EXPECT_EQ(v.path.item, 1u);
}

TEST(ValidatePolicyTest, MaskRules) {
  PolicySnapshot p = Valid();
  Analyst(p).masks[0].n = 1001;
  PolicyViolation v = ViolationOf(p);
  EXPECT_TRUE(HasReason(v.status, PolicyFailure::kMaskLengthOutOfRange));
  EXPECT_EQ(v.path.part, Part::kMask);
  EXPECT_EQ(v.path.item, 0u);
  Analyst(p).masks[0] = {"analytics", "members", "name", MaskKind::kExpression, 4, "hex(name)"};
  EXPECT_TRUE(HasReason(ViolationOf(p).status, PolicyFailure::kInvalidMaskExpression));
  Analyst(p).masks[0].expression = " ";
  EXPECT_EQ(ViolationOf(p).status.message(),
            "role \"analyst\": mask on analytics.members.name has no expression");
  Analyst(p).masks[0] = {"analytics", "members", "name", MaskKind::kNull, 4, ""};
  Analyst(p).masks.push_back({"Analytics", "MEMBERS", "Name", MaskKind::kHash, 4, ""});
  v = ViolationOf(p);
  EXPECT_TRUE(HasReason(v.status, PolicyFailure::kMaskedTwice));
  EXPECT_EQ(v.path.item, 1u);
  EXPECT_EQ(v.path.first, 0u);
  Analyst(p).masks.back().column = "";
  EXPECT_TRUE(HasReason(ViolationOf(p).status, PolicyFailure::kMissingResource));
}

TEST(ValidatePolicyTest, TagGrantRulesNameTheKeyAndValue) {
  PolicySnapshot p = Valid();
  Analyst(p).tag_grants.push_back({{{{"domain", {"sales", "ops"}}}}, kSelect});
  PolicyViolation v = ViolationOf(p);
  EXPECT_TRUE(HasReason(v.status, PolicyFailure::kUndeclaredTagValue));
  EXPECT_EQ(v.status.message(),
            "role \"analyst\": tag grant: \"ops\" is not a value of tag key \"domain\"; allowed: "
            "sales, hr");
  EXPECT_EQ(v.path.part, Part::kTagGrant);
  EXPECT_EQ(v.path.item, 1u);
  EXPECT_EQ(v.path.tag_key, "domain");
  EXPECT_EQ(v.path.tag_value, 1u);
  Analyst(p).tag_grants.back().expression.clauses = {{"owner", {"x"}}};
  EXPECT_TRUE(HasReason(ViolationOf(p).status, PolicyFailure::kUndeclaredTagKey));
  Analyst(p).tag_grants.back().expression.clauses = {{"domain", {}}};
  v = ViolationOf(p);
  EXPECT_TRUE(HasReason(v.status, PolicyFailure::kNoTagValue));
  EXPECT_EQ(v.path.tag_key, "domain");
  Analyst(p).tag_grants.back().expression.clauses.clear();
  v = ViolationOf(p);
  EXPECT_TRUE(HasReason(v.status, PolicyFailure::kEmptyTagExpression));
  EXPECT_EQ(v.path.tag_key, "");
  Analyst(p).tag_grants.back() = {{{{"domain", {"hr"}}}}, 0};
  EXPECT_TRUE(HasReason(ViolationOf(p).status, PolicyFailure::kNoPermission));
}

TEST(ValidatePolicyTest, TagKeyRulesNameTheKeyAndValue) {
  PolicySnapshot p = Valid();
  p.tag_keys.push_back({"domain", {"x"}});
  PolicyViolation v = ViolationOf(p);
  EXPECT_TRUE(HasReason(v.status, PolicyFailure::kTagKeyDeclaredTwice));
  EXPECT_EQ(v.path.object, Object::kTagKey);
  EXPECT_EQ(v.path.index, 2u);
  EXPECT_EQ(v.path.first, 0u);
  p.tag_keys.back() = {"owner", {"a", "b", "a"}};
  v = ViolationOf(p);
  EXPECT_TRUE(HasReason(v.status, PolicyFailure::kTagValueListedTwice));
  EXPECT_EQ(v.path.part, Part::kValue);
  EXPECT_EQ(v.path.item, 2u);
  EXPECT_EQ(v.path.first, 0u);
  p.tag_keys.back() = {"owner", {"a", ""}};
  EXPECT_TRUE(HasReason(ViolationOf(p).status, PolicyFailure::kEmptyTagValue));
  p.tag_keys.back() = {"owner", {}};
  EXPECT_TRUE(HasReason(ViolationOf(p).status, PolicyFailure::kNoTagValue));
  p.tag_keys.back() = {"", {"a"}};
  EXPECT_TRUE(HasReason(ViolationOf(p).status, PolicyFailure::kEmptyName));
}

TEST(ValidatePolicyTest, TagAssignmentRules) {
  PolicySnapshot p = Valid();
  p.tag_assignments.push_back({"ANALYTICS", "", "", "domain", "hr"});
  PolicyViolation v = ViolationOf(p);
  EXPECT_TRUE(HasReason(v.status, PolicyFailure::kTagAssignedTwice));
  EXPECT_EQ(v.path.object, Object::kTagAssignment);
  EXPECT_EQ(v.path.index, 2u);
  EXPECT_EQ(v.path.first, 0u);
  p.tag_assignments.back() = {"analytics", "", "email", "level", "pii"};
  EXPECT_TRUE(HasReason(ViolationOf(p).status, PolicyFailure::kColumnWithoutTable));
  p.tag_assignments.back() = {"analytics", "orders", "", "level", "secret"};
  EXPECT_TRUE(HasReason(ViolationOf(p).status, PolicyFailure::kUndeclaredTagValue));
  p.tag_assignments.back() = {"analytics", "orders", "", "team", "a"};
  EXPECT_TRUE(HasReason(ViolationOf(p).status, PolicyFailure::kUndeclaredTagKey));
  p.tag_assignments.back() = {"", "orders", "", "level", "pii"};
  EXPECT_TRUE(HasReason(ViolationOf(p).status, PolicyFailure::kMissingResource));
}

TEST(ValidatePolicyTest, FilterRules) {
  PolicySnapshot p = Valid();
  p.filters.at("eu").table = "";
  PolicyViolation v = ViolationOf(p);
  EXPECT_TRUE(HasReason(v.status, PolicyFailure::kMissingResource));
  EXPECT_EQ(v.path.object, Object::kFilter);
  EXPECT_EQ(v.path.name, "eu");
  p = Valid();
  p.filters.at("eu").name = "other";
  v = ViolationOf(p);
  EXPECT_TRUE(HasReason(v.status, PolicyFailure::kInconsistentSnapshot));
  EXPECT_EQ(v.status.code(), StatusCode::kInternal);
}

TEST(ValidatePolicyTest, RulesAreCheckedInAFixedOrder) {
  // Tag keys before tag assignments before filters before roles.
  PolicySnapshot p = Valid();
  Analyst(p).filters.push_back("missing");
  p.filters.at("eu").database = "";
  EXPECT_TRUE(HasReason(ViolationOf(p).status, PolicyFailure::kMissingResource));
  p.tag_assignments.push_back({"a", "", "c", "domain", "sales"});
  EXPECT_TRUE(HasReason(ViolationOf(p).status, PolicyFailure::kColumnWithoutTable));
  p.tag_keys.push_back({"domain", {"x"}});
  EXPECT_TRUE(HasReason(ViolationOf(p).status, PolicyFailure::kTagKeyDeclaredTwice));
}

}  // namespace
}  // namespace lakegate::policy
