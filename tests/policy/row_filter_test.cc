#include <gtest/gtest.h>

#include <map>

#include "policy/policy.h"

namespace lakegate::policy {
namespace {

using Value = RowFilter::Value;

Value Int(int64_t i) {
  Value v;
  v.type = Value::Type::kInteger;
  v.i = i;
  return v;
}
Value Real(double r) {
  Value v;
  v.type = Value::Type::kReal;
  v.r = r;
  return v;
}
Value Text(std::string t) {
  Value v;
  v.type = Value::Type::kText;
  v.t = std::move(t);
  return v;
}
Value Null() { return Value{}; }

RowFilter Parse(std::string_view text) {
  auto f = ParseRowFilter(text);
  EXPECT_TRUE(f.ok()) << text << ": " << f.status().ToString();
  return f.ok() ? *f : RowFilter{};
}

std::string Sql(std::string_view text) {
  return Parse(text).ToSql([](std::string_view c) { return "\"" + std::string(c) + "\""; });
}

bool Matches(std::string_view text, const std::map<std::string, Value>& row) {
  return Parse(text).Matches([&](std::string_view c) {
    auto it = row.find(std::string(c));
    return it == row.end() ? Null() : it->second;
  });
}

std::string Error(std::string_view text) {
  auto f = ParseRowFilter(text);
  EXPECT_FALSE(f.ok()) << text;
  if (f.ok()) return "";
  EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument) << text;
  return std::string(f.status().message());
}

TEST(RowFilterParseTest, AllRows) {
  EXPECT_TRUE(Parse("").all_rows());
  EXPECT_TRUE(Parse("   ").all_rows());
  EXPECT_TRUE(Parse("TRUE").all_rows());
  EXPECT_TRUE(Parse("(true)").all_rows());
  EXPECT_EQ(Parse("").ToSql([](std::string_view) { return std::string("x"); }), "1");
  EXPECT_FALSE(Parse("FALSE").all_rows());
  EXPECT_EQ(Sql("FALSE"), "0");
}

TEST(RowFilterParseTest, CompilesEveryForm) {
  EXPECT_EQ(Sql("region = 'eu'"), "((+\"region\" COLLATE BINARY) = 'eu')");
  EXPECT_EQ(Sql("a != 1"), "((+\"a\" COLLATE BINARY) <> 1)");
  EXPECT_EQ(Sql("a <> -2.5"), "((+\"a\" COLLATE BINARY) <> -2.5)");
  EXPECT_EQ(Sql("a >= 1e3"), "((+\"a\" COLLATE BINARY) >= 1000.0)");
  EXPECT_EQ(Sql("a IN (1, 'x', NULL, TRUE)"), "((+\"a\" COLLATE BINARY) IN (1, 'x', NULL, 1))");
  EXPECT_EQ(Sql("a not in (false)"), "((+\"a\" COLLATE BINARY) NOT IN (0))");
  EXPECT_EQ(Sql("a BETWEEN 1 AND 5"),
            "((+\"a\" COLLATE BINARY) >= 1 AND (+\"a\" COLLATE BINARY) <= 5)");
  EXPECT_EQ(Sql("a NOT BETWEEN 1 AND 5"),
            "(NOT ((+\"a\" COLLATE BINARY) >= 1 AND (+\"a\" COLLATE BINARY) <= 5))");
  EXPECT_EQ(Sql("a LIKE 'x%'"), "((+\"a\" COLLATE BINARY) LIKE 'x%')");
  EXPECT_EQ(Sql("a is not null"), "((+\"a\" COLLATE BINARY) IS NOT NULL)");
  EXPECT_EQ(Sql("NOT (a = 1 OR b = 2) AND c IS NULL"),
            "((NOT (((+\"a\" COLLATE BINARY) = 1) OR ((+\"b\" COLLATE BINARY) = 2))) AND "
            "((+\"c\" COLLATE BINARY) IS NULL))");
  // AND binds tighter than OR.
  EXPECT_EQ(Sql("a = 1 OR b = 2 AND c = 3"),
            "(((+\"a\" COLLATE BINARY) = 1) OR (((+\"b\" COLLATE BINARY) = 2) AND "
            "((+\"c\" COLLATE BINARY) = 3)))");
  EXPECT_EQ(Parse("a = 1 OR \"B\" = 2 AND A = 3").Columns(), (std::vector<std::string>{"a", "B"}));
  // A chain of one connective reads flat, however it was parenthesized (SQLite's
  // parser refuses a few dozen nested levels); NOT NOT is dropped.
  const std::string flat =
      "(((+\"a\" COLLATE BINARY) = 1) OR ((+\"b\" COLLATE BINARY) = 2) OR "
      "((+\"c\" COLLATE BINARY) = 3))";
  EXPECT_EQ(Sql("a = 1 OR b = 2 OR c = 3"), flat);
  EXPECT_EQ(Sql("a = 1 OR (b = 2 OR c = 3)"), flat);
  EXPECT_EQ(Sql("(a = 1 OR b = 2) OR NOT NOT c = 3"), flat);
  EXPECT_EQ(Sql("NOT NOT NOT a = 1"), "(NOT ((+\"a\" COLLATE BINARY) = 1))");
}

TEST(RowFilterParseTest, LiteralsAreRenderedSafely) {
  // A quote inside a string stays inside it.
  EXPECT_EQ(Sql("name = 'x'' OR 1=1 --'"), "((+\"name\" COLLATE BINARY) = 'x'' OR 1=1 --')");
  // Quoted identifiers are unescaped on parse; column_sql quotes them again.
  RowFilter f = Parse("\"we\"\"ird\" = 1");
  EXPECT_EQ(f.Columns(), (std::vector<std::string>{"we\"ird"}));
  // Numbers are re-rendered from their parsed values.
  EXPECT_EQ(Sql("a = 007"), "((+\"a\" COLLATE BINARY) = 7)");
  EXPECT_EQ(Sql("a = +5"), "((+\"a\" COLLATE BINARY) = 5)");
  EXPECT_EQ(Sql("a = .5"), "((+\"a\" COLLATE BINARY) = 0.5)");
  EXPECT_EQ(Sql("a = -9223372036854775808"), "((+\"a\" COLLATE BINARY) = -9223372036854775808)");
}

TEST(RowFilterParseTest, ErrorsNamePositionAndExpectation) {
  EXPECT_EQ(Error("region ="),
            "row filter: expected a literal (number, 'string', TRUE, FALSE or "
            "NULL), found the end of the filter at position 9");
  EXPECT_EQ(Error("region = other_column"),
            "row filter: expected a literal (number, 'string', TRUE, FALSE or NULL), found "
            "'other_column' (a filter compares a column with literals only) at position 10");
  EXPECT_EQ(Error("lower(name) = 'a'"),
            "row filter: expected a comparison operator, IN, BETWEEN, LIKE or IS after column "
            "lower, found '(' (functions are not allowed) at position 6");
  EXPECT_EQ(Error("a = 1 b = 2"),
            "row filter: expected AND, OR or the end of the filter, found 'b' at position 7");
  EXPECT_EQ(Error("a = 'open"), "row filter: unterminated string literal at position 5");
  EXPECT_EQ(Error("\"open = 1"), "row filter: unterminated quoted identifier at position 1");
  EXPECT_EQ(Error("a = 1; DROP TABLE t"), "row filter: unexpected character ';' at position 6");
  EXPECT_EQ(Error("a = (SELECT 1)"),
            "row filter: expected a literal (number, 'string', TRUE, FALSE or NULL), found '(' "
            "at position 5");
  EXPECT_EQ(Error("a IN ()"),
            "row filter: expected a literal (number, 'string', TRUE, FALSE or NULL), found ')' at "
            "position 7");
  EXPECT_EQ(Error("a IN (1 2)"),
            "row filter: expected ',' or ')' in the IN list, found '2' at position 9");
  EXPECT_EQ(Error("a BETWEEN 1 OR 2"),
            "row filter: expected AND in BETWEEN, found 'OR' at position 13");
  EXPECT_EQ(Error("a LIKE 5"),
            "row filter: expected a string pattern after LIKE, found '5' at position 8");
  EXPECT_EQ(Error("a IS 5"), "row filter: expected NULL, found '5' at position 6");
  EXPECT_EQ(Error("a NOT = 1"),
            "row filter: expected IN, BETWEEN or LIKE after NOT, found '=' at position 7");
  EXPECT_EQ(Error("(a = 1"), "row filter: expected ')', found the end of the filter at position 7");
  EXPECT_EQ(Error("AND = 1"), "row filter: expected a column name, found 'AND' at position 1");
  EXPECT_EQ(Error("a = 99999999999999999999"), "row filter: integer out of range at position 5");
  EXPECT_EQ(Error("a = 1e999"), "row filter: decimal out of range at position 5");
  EXPECT_EQ(Error("a = 1x"), "row filter: invalid number at position 5");
  EXPECT_EQ(Error("a = 1.2.3"), "row filter: invalid number at position 5");
  EXPECT_EQ(Error("a ! 1"), "row filter: unexpected character '!' at position 3");
  EXPECT_EQ(Error("\"\" = 1"), "row filter: empty quoted identifier at position 1");
  EXPECT_EQ(Error(std::string("a = '\0'", 7)),
            "row filter: unexpected character '\\x00' at position 6");
  EXPECT_EQ(Error("a = 1 -- comment"), "row filter: unexpected character '-' at position 7");
  EXPECT_EQ(Error(std::string(2049, ' ')), "row filter: longer than 2048 characters");
}

// Policies are JSON text and SQLite's LIKE reads stray bytes its own way:
// text that is not UTF-8 is refused (found by the row_filter fuzzer).
TEST(RowFilterParseTest, TextMustBeUtf8) {
  EXPECT_EQ(Error("name LIKE '\xc0%'"),
            "row filter: not valid UTF-8 (byte '\\xc0') at position 12");
  EXPECT_EQ(Error("name = '\xed\xa0\x80'"),  // a surrogate
            "row filter: not valid UTF-8 (byte '\\xed') at position 9");
  EXPECT_EQ(Error("name = '\xe2\x82'"),  // cut short
            "row filter: not valid UTF-8 (byte '\\xe2') at position 9");
  EXPECT_TRUE(ParseRowFilter("name LIKE 'Jos\xc3\xa9%' OR name = '\xf0\x9f\x98\x80'").ok());
}

TEST(RowFilterParseTest, NestingIsBounded) {
  std::string ok = std::string(20, '(') + "a = 1" + std::string(20, ')');
  EXPECT_TRUE(ParseRowFilter(ok).ok());
  std::string deep = std::string(21, '(') + "a = 1" + std::string(21, ')');
  EXPECT_EQ(Error(deep), "row filter: nested more than 20 levels at position 21");
  std::string nots;
  for (int i = 0; i < 21; ++i) nots += "NOT ";
  EXPECT_EQ(Error(nots + "a = 1"), "row filter: nested more than 20 levels at position 81");
}

TEST(RowFilterMatchTest, ThreeValuedLogic) {
  std::map<std::string, Value> row = {{"a", Int(5)}, {"n", Null()}, {"s", Text("Hello")}};
  EXPECT_TRUE(Matches("a = 5", row));
  EXPECT_FALSE(Matches("a = 6", row));
  // NULL comparisons are unknown; NOT unknown is unknown; only TRUE shows.
  EXPECT_FALSE(Matches("n = 1", row));
  EXPECT_FALSE(Matches("NOT n = 1", row));
  EXPECT_FALSE(Matches("n <> 1", row));
  EXPECT_TRUE(Matches("n = 1 OR a = 5", row));
  EXPECT_FALSE(Matches("n = 1 AND a = 5", row));
  EXPECT_TRUE(Matches("NOT (n = 1 AND a = 6)", row));  // unknown AND false = false
  EXPECT_TRUE(Matches("n IS NULL", row));
  EXPECT_FALSE(Matches("a IS NULL", row));
  EXPECT_TRUE(Matches("a IS NOT NULL", row));
  EXPECT_FALSE(Matches("a = NULL", row));
  // IN with NULL in the list.
  EXPECT_TRUE(Matches("a IN (1, NULL, 5)", row));
  EXPECT_FALSE(Matches("a IN (1, NULL)", row));
  EXPECT_FALSE(Matches("a NOT IN (1, NULL)", row));
  EXPECT_TRUE(Matches("a NOT IN (1, 2)", row));
  EXPECT_FALSE(Matches("n NOT IN (1, 2)", row));
  // BETWEEN, NOT BETWEEN.
  EXPECT_TRUE(Matches("a BETWEEN 5 AND 5.5", row));
  EXPECT_FALSE(Matches("a NOT BETWEEN 1 AND 9", row));
  EXPECT_FALSE(Matches("n NOT BETWEEN 1 AND 9", row));
  // No affinity: the integer 5 is not the text '5'; numbers sort before text.
  EXPECT_FALSE(Matches("a = '5'", row));
  EXPECT_TRUE(Matches("a < 'a'", row));
  EXPECT_TRUE(Matches("a = 5.0", row));
  EXPECT_TRUE(Matches("s > 'Hell'", row));
  EXPECT_FALSE(Matches("s = 'hello'", row));  // BINARY
  // LIKE: ASCII case-insensitive, numbers as text.
  EXPECT_TRUE(Matches("s LIKE 'h%O'", row));
  EXPECT_TRUE(Matches("s LIKE '_ello'", row));
  EXPECT_FALSE(Matches("s LIKE 'ello'", row));
  EXPECT_TRUE(Matches("s NOT LIKE 'x%'", row));
  EXPECT_FALSE(Matches("n NOT LIKE 'x%'", row));
  EXPECT_TRUE(Matches("a LIKE '5'", row));
  EXPECT_TRUE(Matches("r LIKE '2.0'", {{"r", Real(2.0)}}));
  EXPECT_TRUE(Matches("r LIKE '1.0e+20'", {{"r", Real(1e20)}}));
  EXPECT_TRUE(Matches("u LIKE '_b%'", {{"u", Text("\xc3\xa9"
                                                  "bc")}}));
  EXPECT_TRUE(Matches("TRUE", row));
  EXPECT_FALSE(Matches("FALSE", row));
  EXPECT_TRUE(Matches("a = TRUE OR a = 5", row));
  EXPECT_TRUE(Matches("b = TRUE", {{"b", Int(1)}}));
}

}  // namespace
}  // namespace lakegate::policy

namespace lakegate::policy {
namespace {

std::string TrinoSql(std::string_view text) {
  Result<RowFilter> f = ParseRowFilter(text);
  EXPECT_TRUE(f.ok()) << text;
  return f->ToSql([](std::string_view c) { return "\"" + std::string(c) + "\""; },
                  SqlDialect::kTrino);
}

TEST(RowFilterTrinoTest, RendersForTrino) {
  EXPECT_EQ(TrinoSql(""), "TRUE");
  EXPECT_EQ(TrinoSql("region = 'eu' AND NOT id > 3"),
            "((\"region\" = 'eu') AND (NOT (\"id\" > 3)))");
  EXPECT_EQ(TrinoSql("id NOT BETWEEN 1 AND 5 OR x IS NULL"),
            "((NOT (\"id\" >= 1 AND \"id\" <= 5)) OR (\"x\" IS NULL))");
  // SQLite's LIKE folds ASCII case only; Trino's folds none: the column's
  // ASCII letters are folded by translate(), the pattern's here.
  EXPECT_EQ(TrinoSql("name NOT LIKE 'A%'"),
            "(translate(\"name\", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') NOT "
            "LIKE 'a%')");
}

TEST(RowFilterTrinoTest, NonAsciiLettersAreNotFolded) {
  EXPECT_EQ(TrinoSql("name LIKE 'É%'"),
            "(translate(\"name\", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') LIKE "
            "'É%')");
}

TEST(MaskExpressionTrinoTest, RendersForTrino) {
  Result<MaskExpression> e = ParseMaskExpression("ifnull(instr(name, 'a'), 0) + 1");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(
      e->ToSql([](std::string_view c) { return "\"" + std::string(c) + "\""; }, SqlDialect::kTrino),
      "(coalesce(strpos(\"name\", 'a'), 0) + 1)");
}

}  // namespace
}  // namespace lakegate::policy

namespace lakegate::policy {
namespace {

std::string PostgresSql(std::string_view text) {
  Result<RowFilter> f = ParseRowFilter(text);
  EXPECT_TRUE(f.ok()) << text;
  return f->ToSql([](std::string_view c) { return "t.\"" + std::string(c) + "\""; },
                  SqlDialect::kPostgreSQL);
}

TEST(RowFilterPostgresTest, TextLiteralsAreTypedAndBytewise) {
  EXPECT_EQ(PostgresSql(""), "TRUE");
  EXPECT_EQ(PostgresSql("TRUE AND FALSE"), "(TRUE AND FALSE)");
  // '5' stays text: compared with a number column it is a type error when the
  // view is created (SQLite: never equal), not a coerced match.
  EXPECT_EQ(PostgresSql("id = '5'"), "(t.\"id\" = ('5'::text COLLATE \"C\"))");
  EXPECT_EQ(PostgresSql("region IN ('eu', 'us') OR id BETWEEN 1 AND 2"),
            "((t.\"region\" IN (('eu'::text COLLATE \"C\"), ('us'::text COLLATE \"C\"))) OR "
            "(t.\"id\" >= 1 AND t.\"id\" <= 2))");
  EXPECT_EQ(PostgresSql("x IS NOT NULL"), "(t.\"x\" IS NOT NULL)");
}

TEST(RowFilterPostgresTest, LikeFoldsAsciiOnlyWithoutEscape) {
  EXPECT_EQ(PostgresSql("name LIKE 'A_%'"),
            "(translate(t.\"name\", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') "
            "COLLATE \"C\" LIKE 'a_%'::text ESCAPE '')");
}

}  // namespace
}  // namespace lakegate::policy
