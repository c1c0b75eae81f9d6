// DecideView, tags, masks and the snapshot-aware DecideDatabase.
#include <gtest/gtest.h>

#include "policy/policy.h"

namespace lakegate::policy {
namespace {

constexpr PermissionSet kSelectDescribe = Bit(Permission::kSelect) | Bit(Permission::kDescribe);
const std::vector<std::string> kCols = {"id", "name", "email", "region", "salary"};

DataCellFilter Filter(std::string name, std::string rows, ColumnSpec columns) {
  DataCellFilter f;
  f.name = std::move(name);
  f.database = "db";
  f.table = "t";
  auto parsed = ParseRowFilter(rows);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  if (parsed.ok()) f.rows = *parsed;
  f.columns = std::move(columns);
  return f;
}

std::vector<std::string> Names(const TableView& v) {
  std::vector<std::string> out;
  for (const auto& c : v.columns) out.push_back(c.name);
  return out;
}

TEST(DecideViewTest, PlainGrantIsWholeTable) {
  PolicySnapshot p;
  Role r{"r", "", {{"db", "t", kAllPermissions, {}}}};
  TableView v = DecideView(p, r, "db", "t", kCols);
  EXPECT_TRUE(v.visible());
  EXPECT_TRUE(v.all_rows);
  EXPECT_TRUE(v.whole_table);
  EXPECT_EQ(Names(v), kCols);
  Role excl{"r", "", {{"db", "t", kSelectDescribe, {ColumnSpec::Kind::kExclude, {"email"}}}}};
  TableView e = DecideView(p, excl, "db", "t", kCols);
  EXPECT_FALSE(e.whole_table);
  EXPECT_EQ(Names(e), (std::vector<std::string>{"id", "name", "region", "salary"}));
  EXPECT_FALSE(DecideView(p, excl, "db", "other", kCols).visible());
}

TEST(DecideViewTest, FiltersUnionCells) {
  PolicySnapshot p;
  p.filters["eu"] =
      Filter("eu", "region = 'eu'", {ColumnSpec::Kind::kInclude, {"id", "name", "region"}});
  p.filters["big"] = Filter("big", "salary >= 300", {ColumnSpec::Kind::kInclude, {"id", "salary"}});
  p.filters["other_table"] = Filter("other_table", "", {});
  p.filters["other_table"].table = "u";
  Role r{"r", "", {}};
  r.filters = {"eu", "big", "missing"};
  TableView v = DecideView(p, r, "db", "t", kCols);
  EXPECT_TRUE(Has(v.permissions, Permission::kSelect));
  EXPECT_TRUE(Has(v.permissions, Permission::kDescribe));
  EXPECT_FALSE(Has(v.permissions, Permission::kInsert));
  EXPECT_FALSE(v.all_rows);
  EXPECT_FALSE(v.whole_table);
  ASSERT_EQ(v.row_filters.size(), 2u);
  EXPECT_EQ(Names(v), (std::vector<std::string>{"id", "name", "region", "salary"}));
  EXPECT_EQ(v.columns[0].row_filters.size(), 2u);  // id: both
  EXPECT_EQ(v.columns[1].row_filters.size(), 1u);  // name: eu only
  EXPECT_EQ(v.columns[1].row_filters[0], &p.filters["eu"].rows);
  EXPECT_EQ(v.columns[3].row_filters[0], &p.filters["big"].rows);
  // A filter on another table is not this table's.
  EXPECT_FALSE(DecideView(p, r, "db", "u", kCols).visible());
  // A plain grant adds all rows for its columns.
  r.grants.push_back({"db", "t", kSelectDescribe, {ColumnSpec::Kind::kInclude, {"name"}}});
  TableView w = DecideView(p, r, "db", "t", kCols);
  EXPECT_TRUE(w.all_rows);
  EXPECT_TRUE(w.row_filters.empty());
  EXPECT_TRUE(w.columns[1].all_rows);
  EXPECT_FALSE(w.columns[0].all_rows);
}

TEST(DecideViewTest, FilterOnUnknownColumnCoversNothing) {
  PolicySnapshot p;
  p.filters["bad"] = Filter("bad", "nosuch = 1", {});
  Role r{"r", "", {}};
  r.filters = {"bad"};
  EXPECT_FALSE(DecideView(p, r, "db", "t", kCols).visible());
  // A filter whose column spec names no existing column covers nothing either.
  p.filters["none"] = Filter("none", "", {ColumnSpec::Kind::kInclude, {"zzz"}});
  r.filters = {"none"};
  EXPECT_FALSE(DecideView(p, r, "db", "t", kCols).visible());
}

TEST(DecideViewTest, MasksMakeTheViewPartial) {
  PolicySnapshot p;
  Role r{"r", "", {{"db", "t", kAllPermissions, {}}}};
  ColumnMask m;
  m.database = "db";
  m.table = "t";
  m.column = "EMAIL";
  m.kind = MaskKind::kHash;
  r.masks.push_back(m);
  TableView v = DecideView(p, r, "DB", "T", kCols);
  EXPECT_FALSE(v.whole_table);
  ASSERT_EQ(v.columns.size(), 5u);
  EXPECT_EQ(v.columns[2].mask, &r.masks[0]);
  EXPECT_EQ(v.columns[1].mask, nullptr);
  EXPECT_FALSE(IsUnrestricted(Role{"s", "", {{"*", "*", kAllPermissions, {}}}, {}, {m}, {}}));
  EXPECT_FALSE(IsUnrestricted(Role{"s", "", {{"*", "*", kAllPermissions, {}}}, {"f"}, {}, {}}));
}

TEST(ValidateColumnMaskTest, RejectsWhatEnginesCannotApply) {
  ColumnMask m{"db", "t", "c", MaskKind::kExpression, 4, "substr(c, 1, 2)"};
  EXPECT_TRUE(ValidateColumnMask(m).ok());
  m.expression = "'***' || substr(c, -4) || CASE WHEN c IS NULL THEN 'none' ELSE '' END";
  EXPECT_TRUE(ValidateColumnMask(m).ok());
  m.expression = "substr(c, 1, 2";
  Status s = ValidateColumnMask(m);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "mask on db.t.c: mask expression: expected ',' or ')' in the arguments of substr, "
            "found the end of the expression at position 15");
  m.expression = "c; DROP TABLE t";
  s = ValidateColumnMask(m);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "mask on db.t.c: mask expression: unexpected character ';' at position 2");
  m.kind = MaskKind::kShowLastN;
  m.n = -1;
  EXPECT_EQ(ValidateColumnMask(m).message(),
            "mask on db.t.c: show_last_n needs n between 0 and 1000");
  m.n = 4;
  EXPECT_TRUE(ValidateColumnMask(m).ok());
  m.kind = MaskKind::kRedact;
  EXPECT_TRUE(ValidateColumnMask(m).ok());
}

PolicySnapshot Tagged() {
  PolicySnapshot p;
  p.tag_keys = {{"domain", {"sales", "hr"}}, {"sensitivity", {"public", "pii"}}};
  p.tag_assignments = {
      {"db", "", "", "domain", "sales"},
      {"db", "t", "", "sensitivity", "public"},
      {"db", "t", "email", "sensitivity", "pii"},
      {"db", "hr_t", "", "domain", "hr"},
  };
  return p;
}

TEST(TagsTest, NearestAssignmentWins) {
  PolicySnapshot p = Tagged();
  using Tags = std::map<std::string, std::string>;
  EXPECT_EQ(EffectiveTags(p, "db", "", ""), (Tags{{"domain", "sales"}}));
  EXPECT_EQ(EffectiveTags(p, "DB", "T", ""),
            (Tags{{"domain", "sales"}, {"sensitivity", "public"}}));
  EXPECT_EQ(EffectiveTags(p, "db", "t", "email"),
            (Tags{{"domain", "sales"}, {"sensitivity", "pii"}}));
  EXPECT_EQ(EffectiveTags(p, "db", "t", "name"),
            (Tags{{"domain", "sales"}, {"sensitivity", "public"}}));
  EXPECT_EQ(EffectiveTags(p, "db", "hr_t", ""), (Tags{{"domain", "hr"}}));
  EXPECT_EQ(EffectiveTags(p, "other", "t", ""), Tags{});
}

TEST(TagsTest, ExpressionAndAcrossKeysOrAcrossValues) {
  std::map<std::string, std::string> tags = {{"domain", "sales"}, {"sensitivity", "public"}};
  EXPECT_TRUE(TagExpressionMatches({{{"domain", {"sales"}}}}, tags));
  EXPECT_TRUE(
      TagExpressionMatches({{{"domain", {"hr", "sales"}}, {"sensitivity", {"public"}}}}, tags));
  EXPECT_FALSE(TagExpressionMatches({{{"domain", {"sales"}}, {"sensitivity", {"pii"}}}}, tags));
  EXPECT_FALSE(TagExpressionMatches({{{"owner", {"x"}}}}, tags));
  EXPECT_FALSE(TagExpressionMatches({{{"domain", {"Sales"}}}}, tags));  // case-sensitive
  EXPECT_FALSE(TagExpressionMatches({}, tags));                         // empty grants nothing
}

TEST(TagsTest, TagGrantsNarrowColumnsAndReachNewTables) {
  PolicySnapshot p = Tagged();
  Role r{"r", "", {}};
  r.tag_grants.push_back({{{{"domain", {"sales"}}, {"sensitivity", {"public"}}}}, kSelectDescribe});
  TableView v = DecideView(p, r, "db", "t", kCols);
  EXPECT_TRUE(v.visible());
  EXPECT_EQ(Names(v), (std::vector<std::string>{"id", "name", "region", "salary"}));
  EXPECT_TRUE(v.all_rows);
  // An untagged table inherits only the database's domain: no sensitivity.
  EXPECT_FALSE(DecideView(p, r, "db", "u", kCols).visible());
  EXPECT_FALSE(DecideView(p, r, "db", "hr_t", kCols).visible());
  EXPECT_EQ(DecideDatabase(r, "db"), 0u);  // plain grants only
  EXPECT_EQ(DecideDatabase(p, r, "db"), Bit(Permission::kDescribe));
  EXPECT_EQ(DecideDatabase(p, r, "other"), 0u);
  // Tagging u makes it visible without a new grant.
  p.tag_assignments.push_back({"db", "u", "", "sensitivity", "public"});
  EXPECT_TRUE(DecideView(p, r, "db", "u", kCols).visible());
  // OR across values brings the pii column in.
  Role both{"b", "", {}};
  both.tag_grants.push_back({{{{"sensitivity", {"public", "pii"}}}}, kSelectDescribe});
  EXPECT_EQ(Names(DecideView(p, both, "db", "t", kCols)), kCols);
}

TEST(DecideDatabaseTest, FiltersMakeTheDatabaseVisible) {
  PolicySnapshot p;
  p.filters["eu"] = Filter("eu", "region = 'eu'", {});
  Role r{"r", "", {}};
  EXPECT_EQ(DecideDatabase(p, r, "db"), 0u);
  r.filters = {"eu"};
  EXPECT_EQ(DecideDatabase(p, r, "db"), Bit(Permission::kDescribe));
  EXPECT_EQ(DecideDatabase(p, r, "other"), 0u);
}

}  // namespace
}  // namespace lakegate::policy
