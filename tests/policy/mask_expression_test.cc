// Mask expressions: the parser's errors, the compiled SQL (golden strings),
// the nesting and length limits, and what SQLite computes from the output.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "policy/policy.h"

namespace lakegate::policy {
namespace {

std::string Quote(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

MaskExpression Parse(std::string_view text) {
  auto e = ParseMaskExpression(text);
  EXPECT_TRUE(e.ok()) << text << ": " << e.status().ToString();
  return e.ok() ? *e : MaskExpression{};
}

std::string Sql(std::string_view text) { return Parse(text).ToSql(Quote); }

// A column reference as ToSql() renders it with Quote().
std::string C(std::string_view name) { return "(+" + Quote(name) + " COLLATE BINARY)"; }

std::string Error(std::string_view text) {
  auto e = ParseMaskExpression(text);
  EXPECT_FALSE(e.ok()) << text << " parsed to " << (e.ok() ? e->ToSql(Quote) : "");
  if (e.ok()) return "";
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument) << text;
  return e.status().message();
}

// `sql` without its string literals and quoted identifiers.
std::string OutsideQuotes(std::string_view sql) {
  std::string out;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c != '\'' && c != '"') {
      out += c;
      continue;
    }
    // Skip to the closing quote; a doubled quote stays inside.
    for (++i; i < sql.size(); ++i) {
      if (sql[i] != c) continue;
      if (i + 1 < sql.size() && sql[i + 1] == c) {
        ++i;
        continue;
      }
      break;
    }
    out += ' ';
  }
  return out;
}

TEST(MaskExpressionSqlTest, LiteralsAndColumns) {
  EXPECT_EQ(Sql("name"), C("name"));
  EXPECT_EQ(Sql("\"Name\""), C("Name"));
  EXPECT_EQ(Sql("'abc'"), "'abc'");
  EXPECT_EQ(Sql("'it''s'"), "'it''s'");
  EXPECT_EQ(Sql("''"), "''");
  EXPECT_EQ(Sql("42"), "42");
  EXPECT_EQ(Sql("007"), "7");
  EXPECT_EQ(Sql("1.5"), "1.5");
  EXPECT_EQ(Sql("1e3"), "1000.0");
  EXPECT_EQ(Sql(".5"), "0.5");
  EXPECT_EQ(Sql("2.50E-1"), "0.25");
  EXPECT_EQ(Sql("NULL"), "NULL");
  EXPECT_EQ(Sql("true"), "1");
  EXPECT_EQ(Sql("FALSE"), "0");
  EXPECT_EQ(Sql("9223372036854775807"), "9223372036854775807");
  // The one integer whose magnitude is out of range, as SQLite reads it.
  EXPECT_EQ(Sql("-9223372036854775808"), "(-9223372036854775808)");
  EXPECT_EQ(Sql("a - -9223372036854775808"), "(" + C("a") + " - (-9223372036854775808))");
  // Bare function names are columns when not called.
  EXPECT_EQ(Sql("lower || replace"), "(" + C("lower") + " || " + C("replace") + ")");
  // Keywords are columns when quoted.
  EXPECT_EQ(Sql("\"select\""), C("select"));
  EXPECT_EQ(Sql("\"end\" || \"CAST\""), "(" + C("end") + " || " + C("CAST") + ")");
}

TEST(MaskExpressionSqlTest, Arithmetic) {
  EXPECT_EQ(Sql("-1"), "(- 1)");
  EXPECT_EQ(Sql("-a"), "(- " + C("a") + ")");
  EXPECT_EQ(Sql("- -1"), "(- (- 1))");
  EXPECT_EQ(Sql("-(-1)"), "(- (- 1))");
  EXPECT_EQ(Sql("a-1"), "(" + C("a") + " - 1)");
  EXPECT_EQ(Sql("a - 1"), "(" + C("a") + " - 1)");
  EXPECT_EQ(Sql("a - -1"), "(" + C("a") + " - (- 1))");
  EXPECT_EQ(Sql("a- -b"), "(" + C("a") + " - (- " + C("b") + "))");
  EXPECT_EQ(Sql("a+-1"), "(" + C("a") + " + (- 1))");
  EXPECT_EQ(Sql("1 + 2 * 3"), "(1 + (2 * 3))");
  EXPECT_EQ(Sql("(1 + 2) * 3"), "((1 + 2) * 3)");
  EXPECT_EQ(Sql("a - b - c"), "((" + C("a") + " - " + C("b") + ") - " + C("c") + ")");
  EXPECT_EQ(Sql("a - (b - c)"), "(" + C("a") + " - (" + C("b") + " - " + C("c") + "))");
  EXPECT_EQ(Sql("a / b % c"), "((" + C("a") + " / " + C("b") + ") % " + C("c") + ")");
  EXPECT_EQ(Sql("-a * b"), "((- " + C("a") + ") * " + C("b") + ")");
  // || binds looser than + and * (unlike SQLite's own table, where it binds
  // tighter; the parentheses make the output mean what the grammar says).
  EXPECT_EQ(Sql("'x' || n * 2"), "('x' || (" + C("n") + " * 2))");
  EXPECT_EQ(Sql("'a' || 'b' || 'c'"), "(('a' || 'b') || 'c')");
  EXPECT_EQ(Sql("a || b + 1"), "(" + C("a") + " || (" + C("b") + " + 1))");
}

// Trino: SQLite's function names and, since Trino's LIKE is case-sensitive,
// both sides of a LIKE folded to lower case (ASCII letters only, as SQLite).
TEST(MaskExpressionSqlTest, TrinoFoldsLikeAndRenamesFunctions) {
  auto trino = [](std::string_view text) { return Parse(text).ToSql(Quote, SqlDialect::kTrino); };
  const std::string fold = ", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')";
  EXPECT_EQ(trino("a LIKE 'X%'"), "(translate(\"a\"" + fold + " LIKE translate('X%'" + fold + ")");
  EXPECT_EQ(trino("a NOT LIKE b || '%'"),
            "(translate(\"a\"" + fold + " NOT LIKE translate((\"b\" || '%')" + fold + ")");
  EXPECT_EQ(trino("ifnull(instr(a, 'x'), 0)"), "coalesce(strpos(\"a\", 'x'), 0)");
}

TEST(MaskExpressionSqlTest, Predicates) {
  EXPECT_EQ(Sql("a = 1"), "(" + C("a") + " = 1)");
  EXPECT_EQ(Sql("a != b"), "(" + C("a") + " <> " + C("b") + ")");
  EXPECT_EQ(Sql("a <> b"), "(" + C("a") + " <> " + C("b") + ")");
  EXPECT_EQ(Sql("a <= 1 + 2"), "(" + C("a") + " <= (1 + 2))");
  EXPECT_EQ(Sql("a < 1"), "(" + C("a") + " < 1)");
  EXPECT_EQ(Sql("a > 1"), "(" + C("a") + " > 1)");
  EXPECT_EQ(Sql("a >= 1"), "(" + C("a") + " >= 1)");
  EXPECT_EQ(Sql("a IS NULL"), "(" + C("a") + " IS NULL)");
  EXPECT_EQ(Sql("a is not null"), "(" + C("a") + " IS NOT NULL)");
  EXPECT_EQ(Sql("a IN (1, 'x', b)"), "(" + C("a") + " IN (1, 'x', " + C("b") + "))");
  EXPECT_EQ(Sql("a NOT IN (1)"), "(" + C("a") + " NOT IN (1))");
  EXPECT_EQ(Sql("a IN (b = 1, c OR d)"),
            "(" + C("a") + " IN ((" + C("b") + " = 1), (" + C("c") + " OR " + C("d") + ")))");
  EXPECT_EQ(Sql("a BETWEEN 1 AND b + 1"), "(" + C("a") + " BETWEEN 1 AND (" + C("b") + " + 1))");
  EXPECT_EQ(Sql("a NOT BETWEEN -1 AND 1"), "(" + C("a") + " NOT BETWEEN (- 1) AND 1)");
  EXPECT_EQ(Sql("a BETWEEN 1 AND 2 AND b"),
            "((" + C("a") + " BETWEEN 1 AND 2) AND " + C("b") + ")");
  EXPECT_EQ(Sql("a LIKE 'x%'"), "(" + C("a") + " LIKE 'x%')");
  EXPECT_EQ(Sql("lower(a) NOT LIKE b || '%'"),
            "(lower(" + C("a") + ") NOT LIKE (" + C("b") + " || '%'))");
  EXPECT_EQ(Sql("NOT a = 1 AND b OR c"),
            "(((NOT (" + C("a") + " = 1)) AND " + C("b") + ") OR " + C("c") + ")");
  EXPECT_EQ(Sql("a OR b AND c"), "(" + C("a") + " OR (" + C("b") + " AND " + C("c") + "))");
  EXPECT_EQ(Sql("NOT NOT a"), "(NOT (NOT " + C("a") + "))");
  EXPECT_EQ(Sql("(a = 1) = (b = 2)"), "((" + C("a") + " = 1) = (" + C("b") + " = 2))");
}

TEST(MaskExpressionSqlTest, FunctionsAndCase) {
  EXPECT_EQ(Sql("LOWER(a)"), "lower(" + C("a") + ")");
  EXPECT_EQ(Sql("Upper(a)"), "upper(" + C("a") + ")");
  EXPECT_EQ(Sql("length(a)"), "length(" + C("a") + ")");
  EXPECT_EQ(Sql("substr(a, -3)"), "substr(" + C("a") + ", (- 3))");
  EXPECT_EQ(Sql("substr(a, 1, 2)"), "substr(" + C("a") + ", 1, 2)");
  EXPECT_EQ(Sql("replace(a, 'x', 'y')"), "replace(" + C("a") + ", 'x', 'y')");
  EXPECT_EQ(Sql("trim(a)"), "trim(" + C("a") + ")");
  EXPECT_EQ(Sql("ltrim(a, 'x')"), "ltrim(" + C("a") + ", 'x')");
  EXPECT_EQ(Sql("rtrim ( a )"), "rtrim(" + C("a") + ")");
  EXPECT_EQ(Sql("coalesce(a, b, 'none')"), "coalesce(" + C("a") + ", " + C("b") + ", 'none')");
  EXPECT_EQ(Sql("ifnull(a, 0)"), "ifnull(" + C("a") + ", 0)");
  EXPECT_EQ(Sql("nullif(a, '')"), "nullif(" + C("a") + ", '')");
  EXPECT_EQ(Sql("instr(a, '@')"), "instr(" + C("a") + ", '@')");
  EXPECT_EQ(Sql("substr(a || b, length(a) - 1)"),
            "substr((" + C("a") + " || " + C("b") + "), (length(" + C("a") + ") - 1))");
  EXPECT_EQ(Sql("CASE WHEN n > 10 THEN n / 10 * 10 ELSE 0 END"),
            "(CASE WHEN (" + C("n") + " > 10) THEN ((" + C("n") + " / 10) * 10) ELSE 0 END)");
  EXPECT_EQ(Sql("case when a then 1 when b then 2 end"),
            "(CASE WHEN " + C("a") + " THEN 1 WHEN " + C("b") + " THEN 2 END)");
  EXPECT_EQ(Sql("CASE WHEN a OR b THEN CASE WHEN c THEN 1 END END || 'x'"),
            "((CASE WHEN (" + C("a") + " OR " + C("b") + ") THEN (CASE WHEN " + C("c") +
                " THEN 1 END) END) || 'x')");
}

TEST(MaskExpressionSqlTest, QuotingAndUnicode) {
  // Quoted identifiers are unescaped on parse; column_sql quotes them again.
  MaskExpression e = Parse("\"we\"\"ird\" || 'x'");
  EXPECT_EQ(e.Columns(), (std::vector<std::string>{"we\"ird"}));
  EXPECT_EQ(e.ToSql(Quote), "((+\"we\"\"ird\" COLLATE BINARY) || 'x')");
  // A quote inside a string stays inside it.
  EXPECT_EQ(Sql("'x'' OR 1=1 --'"), "'x'' OR 1=1 --'");
  EXPECT_EQ(Sql("a || ''';DROP TABLE t;--'"), "(" + C("a") + " || ''';DROP TABLE t;--')");
  EXPECT_EQ(Sql("\"a\"\"; DROP TABLE t; --\""), "(+\"a\"\"; DROP TABLE t; --\" COLLATE BINARY)");
  // Unicode inside strings and quoted identifiers is kept byte for byte.
  EXPECT_EQ(Sql("'Zo\xc3\xab \xe2\x9c\x93' || \"Zo\xc3\xab\""),
            "('Zo\xc3\xab \xe2\x9c\x93' || " + C("Zo\xc3\xab") + ")");
  // The text is kept as written.
  EXPECT_EQ(Parse(" a||b ").text, " a||b ");
  // Not parsed: fail closed.
  EXPECT_EQ(MaskExpression{}.ToSql(Quote), "NULL");
  EXPECT_TRUE(MaskExpression{}.Columns().empty());
}

TEST(MaskExpressionSqlTest, ColumnsAreDistinctInFirstUseOrder) {
  EXPECT_EQ(Parse("a || A || \"B\" || b || lower(c)").Columns(),
            (std::vector<std::string>{"a", "B", "c"}));
  EXPECT_EQ(Parse("coalesce(b, a, B) || CASE WHEN c THEN d ELSE A END").Columns(),
            (std::vector<std::string>{"b", "a", "c", "d"}));
  EXPECT_EQ(Parse("e BETWEEN f AND g OR h IN (i, -j) OR k LIKE l OR m IS NULL").Columns(),
            (std::vector<std::string>{"e", "f", "g", "h", "i", "j", "k", "l", "m"}));
  EXPECT_TRUE(Parse("'x' || 1").Columns().empty());
}

TEST(MaskExpressionSqlTest, OutputNeverHoldsACommentOrSeparator) {
  for (std::string_view text : {"- -1",
                                "a - -1",
                                "- - - a",
                                "1 - -a",
                                "a / -b",
                                "-a - -b",
                                "a - -9223372036854775808",
                                "- -9223372036854775808",
                                "-(-(-1))",
                                "a/b",
                                "a/ -b",
                                "a - (-b)",
                                "'--' || a",
                                "'/*' || '*/' || a",
                                "\"a--b\" - -\"c/*d\"",
                                "a * -1",
                                "a % -1",
                                "-a * -b",
                                "CASE WHEN -a THEN -b ELSE -c END",
                                "substr(a, -1, -2)",
                                "a IN (-1, -2)",
                                "a BETWEEN -1 AND -a"}) {
    std::string sql = Sql(text);
    std::string bare = OutsideQuotes(sql);
    EXPECT_EQ(bare.find("--"), std::string::npos) << text << " -> " << sql;
    EXPECT_EQ(bare.find("/*"), std::string::npos) << text << " -> " << sql;
    EXPECT_EQ(bare.find("*/"), std::string::npos) << text << " -> " << sql;
    EXPECT_EQ(bare.find(';'), std::string::npos) << text << " -> " << sql;
  }
}

TEST(MaskExpressionErrorTest, ExpectationsAndPositions) {
  EXPECT_EQ(Error(""),
            "mask expression: expected an expression, found the end of the expression at "
            "position 1");
  EXPECT_EQ(Error("   "),
            "mask expression: expected an expression, found the end of the expression at "
            "position 4");
  EXPECT_EQ(Error("a +"),
            "mask expression: expected an expression, found the end of the expression at "
            "position 4");
  EXPECT_EQ(Error("a b"),
            "mask expression: expected an operator or the end of the expression, found 'b' at "
            "position 3");
  EXPECT_EQ(Error("a = b = c"),
            "mask expression: expected an operator or the end of the expression, found '=' at "
            "position 7");
  EXPECT_EQ(Error("a == 1"), "mask expression: expected an expression, found '=' at position 4");
  EXPECT_EQ(Error("(a"),
            "mask expression: expected ')', found the end of the expression at "
            "position 3");
  EXPECT_EQ(Error("a)"),
            "mask expression: expected an operator or the end of the expression, found ')' at "
            "position 2");
  EXPECT_EQ(Error("+a"), "mask expression: expected an expression, found '+' at position 1");
  EXPECT_EQ(Error("*"), "mask expression: expected an expression, found '*' at position 1");
  EXPECT_EQ(Error("a || || b"),
            "mask expression: expected an expression, found '||' at position 6");
  EXPECT_EQ(Error("AND"), "mask expression: expected an expression, found 'AND' at position 1");
  EXPECT_EQ(Error("a AND end"),
            "mask expression: expected an expression, found 'end' at position 7");
  EXPECT_EQ(Error("from"), "mask expression: expected an expression, found 'from' at position 1");
  EXPECT_EQ(Error("CURRENT_TIMESTAMP"),
            "mask expression: expected an expression, found 'CURRENT_TIMESTAMP' at position 1");
  EXPECT_EQ(Error("a IS 5"), "mask expression: expected NULL, found '5' at position 6");
  EXPECT_EQ(Error("a IS NOT 'x'"), "mask expression: expected NULL, found a string at position 10");
  EXPECT_EQ(Error("a NOT 5"),
            "mask expression: expected IN, BETWEEN or LIKE after NOT, found '5' at position 7");
  EXPECT_EQ(Error("a NOT NULL"),
            "mask expression: expected IN, BETWEEN or LIKE after NOT, found 'NULL' at position 7");
  EXPECT_EQ(Error("a IN 5"), "mask expression: expected '(' after IN, found '5' at position 6");
  EXPECT_EQ(Error("a IN ()"), "mask expression: expected an expression, found ')' at position 7");
  EXPECT_EQ(Error("a IN (1 2)"),
            "mask expression: expected ',' or ')' in the IN list, found '2' at position 9");
  EXPECT_EQ(Error("a BETWEEN 1 OR 2"),
            "mask expression: expected AND in BETWEEN, found 'OR' at position 13");
  EXPECT_EQ(Error("a LIKE"),
            "mask expression: expected an expression, found the end of the expression at "
            "position 7");
  EXPECT_EQ(Error("CASE a WHEN 1 THEN 2 END"),
            "mask expression: expected WHEN after CASE, found 'a' at position 6");
  EXPECT_EQ(Error("CASE END"),
            "mask expression: expected WHEN after CASE, found 'END' at position 6");
  EXPECT_EQ(Error("CASE WHEN a 1"), "mask expression: expected THEN, found '1' at position 13");
  EXPECT_EQ(Error("CASE WHEN a THEN 1"),
            "mask expression: expected WHEN, ELSE or END, found the end of the expression at "
            "position 19");
  EXPECT_EQ(Error("CASE WHEN a THEN 1 ELSE 2"),
            "mask expression: expected END, found the end of the expression at position 26");
  EXPECT_EQ(Error("CASE WHEN a THEN 1 ELSE 2 WHEN b THEN 3 END"),
            "mask expression: expected END, found 'WHEN' at position 27");
  // A quoted name is a column, never a function.
  EXPECT_EQ(Error("\"lower\"(a)"),
            "mask expression: expected an operator or the end of the expression, found '(' at "
            "position 8");
  // No blob literals, no qualified names.
  EXPECT_EQ(Error("x'41'"),
            "mask expression: expected an operator or the end of the expression, found a string "
            "at position 2");
  EXPECT_EQ(Error("t.a"), "mask expression: unexpected character '.' at position 2");
}

TEST(MaskExpressionErrorTest, FunctionsAndArity) {
  const std::string allowed =
      "; allowed: lower, upper, length, substr, replace, trim, ltrim, rtrim, coalesce, ifnull, "
      "nullif, instr";
  EXPECT_EQ(Error("hex(a)"), "mask expression: unknown function 'hex' at position 1" + allowed);
  EXPECT_EQ(Error("x || HEX(a)"),
            "mask expression: unknown function 'HEX' at position 6" + allowed);
  EXPECT_EQ(Error("count(*)"), "mask expression: unknown function 'count' at position 1" + allowed);
  EXPECT_EQ(Error("randomblob(8)"),
            "mask expression: unknown function 'randomblob' at position 1" + allowed);
  EXPECT_EQ(Error("load_extension('x')"),
            "mask expression: unknown function 'load_extension' at position 1" + allowed);
  EXPECT_EQ(Error("lower()"), "mask expression: lower takes 1 argument, found 0 at position 1");
  EXPECT_EQ(Error("upper(a, b)"), "mask expression: upper takes 1 argument, found 2 at position 1");
  EXPECT_EQ(Error("length(a, b)"),
            "mask expression: length takes 1 argument, found 2 at position 1");
  EXPECT_EQ(Error("substr(a)"),
            "mask expression: substr takes 2 or 3 arguments, found 1 at position 1");
  EXPECT_EQ(Error("x || substr(a, 1, 2, 3)"),
            "mask expression: substr takes 2 or 3 arguments, found 4 at position 6");
  EXPECT_EQ(Error("replace(a, 'x')"),
            "mask expression: replace takes 3 arguments, found 2 at position 1");
  EXPECT_EQ(Error("trim(a, 'x', 'y')"),
            "mask expression: trim takes 1 or 2 arguments, found 3 at position 1");
  EXPECT_EQ(Error("ltrim()"),
            "mask expression: ltrim takes 1 or 2 arguments, found 0 at position 1");
  EXPECT_EQ(Error("rtrim(a, b, c)"),
            "mask expression: rtrim takes 1 or 2 arguments, found 3 at position 1");
  EXPECT_EQ(Error("coalesce(a)"),
            "mask expression: coalesce takes at least 2 arguments, found 1 at position 1");
  EXPECT_EQ(Error("ifnull(a)"), "mask expression: ifnull takes 2 arguments, found 1 at position 1");
  EXPECT_EQ(Error("nullif(a, b, c)"),
            "mask expression: nullif takes 2 arguments, found 3 at position 1");
  EXPECT_EQ(Error("instr(a)"), "mask expression: instr takes 2 arguments, found 1 at position 1");
  EXPECT_EQ(Error("lower(a b)"),
            "mask expression: expected ',' or ')' in the arguments of lower, found 'b' at "
            "position 9");
  EXPECT_EQ(Error("lower(a,)"), "mask expression: expected an expression, found ')' at position 9");
  EXPECT_EQ(Error("lower(*)"), "mask expression: expected an expression, found '*' at position 7");
  EXPECT_EQ(Error("lower(DISTINCT a)"),
            "mask expression: expected an expression, found 'DISTINCT' at position 7");
  EXPECT_EQ(Error("lower(a) OVER ()"),
            "mask expression: expected an operator or the end of the expression, found 'OVER' at "
            "position 10");
}

TEST(MaskExpressionErrorTest, UnsupportedSql) {
  EXPECT_EQ(Error("(SELECT 1)"), "mask expression: subqueries are not allowed at position 2");
  EXPECT_EQ(Error("a IN (SELECT b FROM t)"),
            "mask expression: subqueries are not allowed at position 7");
  EXPECT_EQ(Error("EXISTS (SELECT 1)"),
            "mask expression: subqueries are not allowed at position 1");
  EXPECT_EQ(Error("a || (WITH x AS (SELECT 1) SELECT * FROM x)"),
            "mask expression: subqueries are not allowed at position 7");
  EXPECT_EQ(Error("a IN (VALUES (1))"),
            "mask expression: subqueries are not allowed at position 7");
  EXPECT_EQ(Error("CAST(a AS TEXT)"), "mask expression: CAST is not supported at position 1");
  EXPECT_EQ(Error("x || cast(a as integer)"),
            "mask expression: CAST is not supported at position 6");
  EXPECT_EQ(Error("a COLLATE NOCASE"), "mask expression: COLLATE is not supported at position 3");
  EXPECT_EQ(Error("(a collate nocase) = 'x'"),
            "mask expression: COLLATE is not supported at position 4");
  EXPECT_EQ(Error("lower(a COLLATE NOCASE)"),
            "mask expression: COLLATE is not supported at position 9");
  EXPECT_EQ(Error("a LIKE 'x!%' ESCAPE '!'"),
            "mask expression: ESCAPE is not supported at position 14");
  EXPECT_EQ(Error("a GLOB 'x*'"), "mask expression: GLOB is not supported at position 3");
  EXPECT_EQ(Error("a REGEXP 'x'"), "mask expression: REGEXP is not supported at position 3");
  EXPECT_EQ(Error("a MATCH 'x'"), "mask expression: MATCH is not supported at position 3");
  EXPECT_EQ(Error("a ISNULL"), "mask expression: ISNULL is not supported at position 3");
  EXPECT_EQ(Error("a notnull"), "mask expression: NOTNULL is not supported at position 3");
  EXPECT_EQ(Error("?"),
            "mask expression: unexpected character '?' (parameters are not allowed) "
            "at position 1");
  EXPECT_EQ(Error("a = ?1"),
            "mask expression: unexpected character '?' (parameters are not "
            "allowed) at position 5");
  EXPECT_EQ(Error(":p"),
            "mask expression: unexpected character ':' (parameters are not allowed) "
            "at position 1");
  EXPECT_EQ(Error("@p"),
            "mask expression: unexpected character '@' (parameters are not allowed) "
            "at position 1");
  EXPECT_EQ(Error("$p"),
            "mask expression: unexpected character '$' (parameters are not allowed) "
            "at position 1");
  EXPECT_EQ(Error("a | b"), "mask expression: unexpected character '|' at position 3");
  EXPECT_EQ(Error("a & b"), "mask expression: unexpected character '&' at position 3");
  EXPECT_EQ(Error("a << 1"), "mask expression: expected an expression, found '<' at position 4");
  EXPECT_EQ(Error("~a"), "mask expression: unexpected character '~' at position 1");
  EXPECT_EQ(Error("a ! 1"), "mask expression: unexpected character '!' at position 3");
  EXPECT_EQ(Error("`a`"), "mask expression: unexpected character '`' at position 1");
  EXPECT_EQ(Error("[a]"), "mask expression: unexpected character '[' at position 1");
}

TEST(MaskExpressionErrorTest, InjectionAndComments) {
  EXPECT_EQ(Error("a; DROP TABLE t"), "mask expression: unexpected character ';' at position 2");
  EXPECT_EQ(Error("a -- x"),
            "mask expression: unexpected '--' (comments are not allowed) at "
            "position 3");
  EXPECT_EQ(Error("a--1"),
            "mask expression: unexpected '--' (comments are not allowed) at "
            "position 2");
  EXPECT_EQ(Error("--a"),
            "mask expression: unexpected '--' (comments are not allowed) at "
            "position 1");
  EXPECT_EQ(Error("a /* x */"),
            "mask expression: unexpected '/*' (comments are not allowed) at "
            "position 3");
  EXPECT_EQ(Error("a/*x*/"),
            "mask expression: unexpected '/*' (comments are not allowed) at "
            "position 2");
  EXPECT_EQ(Error("a */ 2"), "mask expression: expected an expression, found '/' at position 4");
  EXPECT_EQ(Error("'x' ' OR 1=1"), "mask expression: unterminated string literal at position 5");
  EXPECT_EQ(Error("'open"), "mask expression: unterminated string literal at position 1");
  EXPECT_EQ(Error("\"open"), "mask expression: unterminated quoted identifier at position 1");
  EXPECT_EQ(Error("\"\" || a"), "mask expression: empty quoted identifier at position 1");
  EXPECT_EQ(Error("a || 'x') OR (1"),
            "mask expression: expected an operator or the end of the expression, found ')' at "
            "position 9");
  EXPECT_EQ(Error("a\n;"), "mask expression: unexpected character ';' at position 3");
  // Non-ASCII outside quotes: bytes are shown in hex, positions are byte offsets.
  EXPECT_EQ(Error("Zo\xc3\xab"), "mask expression: unexpected character '\\xc3' at position 3");
  EXPECT_EQ(Error("a \x7f"), "mask expression: unexpected character '\\x7f' at position 3");
}

TEST(MaskExpressionErrorTest, Numbers) {
  EXPECT_EQ(Error("99999999999999999999"), "mask expression: integer out of range at position 1");
  EXPECT_EQ(Error("-99999999999999999999"), "mask expression: integer out of range at position 2");
  EXPECT_EQ(Error("9223372036854775808"), "mask expression: integer out of range at position 1");
  // -9223372036854775808 is a literal; negating it again is SQLite's business.
  EXPECT_EQ(Sql("- - 9223372036854775808"), "(- (-9223372036854775808))");
  EXPECT_EQ(Error("1e999"), "mask expression: decimal out of range at position 1");
  EXPECT_EQ(Error("1x"), "mask expression: invalid number at position 1");
  EXPECT_EQ(Error("1.2.3"), "mask expression: invalid number at position 1");
  EXPECT_EQ(Error("1e"), "mask expression: invalid number at position 1");
  EXPECT_EQ(Error("a + 0x10"), "mask expression: invalid number at position 5");
}

TEST(MaskExpressionErrorTest, NulAndLength) {
  EXPECT_EQ(Error(std::string("'a\0'", 4)),
            "mask expression: unexpected character '\\x00' at position 3");
  EXPECT_EQ(Error(std::string("a\0", 2)),
            "mask expression: unexpected character '\\x00' at "
            "position 2");
  EXPECT_EQ(Error(std::string(2049, ' ')), "mask expression: longer than 2048 characters");
  std::string longest = "'" + std::string(2046, 'x') + "'";
  ASSERT_EQ(longest.size(), 2048u);
  EXPECT_EQ(Parse(longest).ToSql(Quote), longest);
  EXPECT_EQ(Error(longest + " "), "mask expression: longer than 2048 characters");
}

// At most 12 levels: where the compiled view puts a mask, SQLite's parser
// refuses 15 nested CASEs ("parser stack overflow"); GovernanceTest.
// DeepestMasksRun runs the deepest shapes at this limit through the engine.
TEST(MaskExpressionErrorTest, NestingIsBounded) {
  std::string ok = std::string(12, '(') + "a" + std::string(12, ')');
  EXPECT_EQ(Sql(ok), C("a"));
  EXPECT_EQ(Error(std::string(13, '(') + "a" + std::string(13, ')')),
            "mask expression: nested more than 12 levels at position 13");

  std::string minus;
  for (int i = 0; i < 12; ++i) minus += "- ";
  EXPECT_TRUE(ParseMaskExpression(minus + "a").ok());
  EXPECT_EQ(Error(minus + "- a"), "mask expression: nested more than 12 levels at position 25");

  std::string nots;
  for (int i = 0; i < 12; ++i) nots += "NOT ";
  EXPECT_TRUE(ParseMaskExpression(nots + "a").ok());
  EXPECT_EQ(Error(nots + "NOT a"), "mask expression: nested more than 12 levels at position 49");

  // A chain of operators nests too (it compiles to nested parentheses).
  std::string chain = "a";
  for (int i = 0; i < 12; ++i) chain += "+a";
  EXPECT_TRUE(ParseMaskExpression(chain).ok());
  EXPECT_EQ(Error(chain + "+a"), "mask expression: nested more than 12 levels at position 26");
  std::string ors = "a";
  for (int i = 0; i < 13; ++i) ors += " OR a";
  EXPECT_EQ(Error(ors), "mask expression: nested more than 12 levels at position 63");

  std::string calls;
  for (int i = 0; i < 12; ++i) calls += "lower(";
  EXPECT_TRUE(ParseMaskExpression(calls + "a" + std::string(12, ')')).ok());
  EXPECT_EQ(Error(calls + "lower(a" + std::string(13, ')')),
            "mask expression: nested more than 12 levels at position 78");

  std::string cases;
  for (int i = 0; i < 12; ++i) cases += "CASE WHEN a THEN ";
  std::string ends;
  for (int i = 0; i < 12; ++i) ends += " END";
  EXPECT_TRUE(ParseMaskExpression(cases + "1" + ends).ok());
  EXPECT_EQ(Error(cases + "CASE WHEN a THEN 1 END" + ends),
            "mask expression: nested more than 12 levels at position 205");

  // Unary minus and parentheses both count.
  std::string mixed;
  for (int i = 0; i < 6; ++i) mixed += "-(";
  EXPECT_TRUE(ParseMaskExpression(mixed + "a" + std::string(6, ')')).ok());
  EXPECT_EQ(Error(mixed + "-(a" + std::string(7, ')')),
            "mask expression: nested more than 12 levels at position 13");
}

// The lexer is shared with row filters, which keep their signed numbers and
// have no arithmetic.
TEST(SharedLexerTest, RowFiltersKeepTheirDialect) {
  auto quote = [](std::string_view c) { return Quote(c); };
  auto filter = ParseRowFilter("id > -5 AND x BETWEEN -1 AND +1.5");
  ASSERT_TRUE(filter.ok()) << filter.status().ToString();
  EXPECT_EQ(filter->ToSql(quote),
            "(((+\"id\" COLLATE BINARY) > -5) AND ((+\"x\" COLLATE BINARY) >= -1 AND "
            "(+\"x\" COLLATE BINARY) <= 1.5))");
  EXPECT_EQ(ParseRowFilter("a = 1 + 2").status().message(),
            "row filter: unexpected character '+' at position 7");
  EXPECT_EQ(ParseRowFilter("a = 1 - 2").status().message(),
            "row filter: unexpected character '-' at position 7");
  EXPECT_EQ(ParseRowFilter("a = 1 || 2").status().message(),
            "row filter: unexpected character '|' at position 7");
  EXPECT_EQ(ParseRowFilter("a * 2 = 1").status().message(),
            "row filter: unexpected character '*' at position 3");
  EXPECT_EQ(ParseRowFilter("a = 1 /* x */").status().message(),
            "row filter: unexpected character '/' at position 7");
  EXPECT_EQ(ParseRowFilter("a = ?").status().message(),
            "row filter: unexpected character '?' (parameters are not allowed) at position 5");
  EXPECT_EQ(ParseRowFilter(std::string(2049, 'a')).status().message(),
            "row filter: longer than 2048 characters");
  // And mask expressions read the sign as an operator.
  EXPECT_EQ(Sql("a > -5"), "(" + C("a") + " > (- 5))");
  EXPECT_EQ(Sql("a BETWEEN -1 AND 1"), "(" + C("a") + " BETWEEN (- 1) AND 1)");
}

TEST(ValidateColumnMaskExpressionTest, PrefixesTheParseError) {
  ColumnMask m{"db", "t", "c", MaskKind::kExpression, 4, "hex(c)"};
  EXPECT_EQ(ValidateColumnMask(m).message(),
            "mask on db.t.c: mask expression: unknown function 'hex' at position 1; allowed: "
            "lower, upper, length, substr, replace, trim, ltrim, rtrim, coalesce, ifnull, "
            "nullif, instr");
  m.expression = "";
  EXPECT_EQ(ValidateColumnMask(m).message(),
            "mask on db.t.c: mask expression: expected an expression, found the end of the "
            "expression at position 1");
  m.expression = "'***' || substr(c, -4)";
  EXPECT_TRUE(ValidateColumnMask(m).ok());
}

// ---------------------------------------------------------------------------
// What SQLite computes from the compiled SQL.

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// One cell: NULL, 42 (integer), ~1.5 (real, %.17g), 'text' (quotes not
// doubled).
std::string Cell(sqlite3_stmt* s, int i) {
  switch (sqlite3_column_type(s, i)) {
    case SQLITE_NULL:
      return "NULL";
    case SQLITE_INTEGER:
      return std::to_string(sqlite3_column_int64(s, i));
    case SQLITE_FLOAT: {
      char buf[40];
      std::snprintf(buf, sizeof(buf), "~%.17g", sqlite3_column_double(s, i));
      return buf;
    }
    default:
      return "'" +
             std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, i)),
                         static_cast<size_t>(sqlite3_column_bytes(s, i))) +
             "'";
  }
}

class MaskExpressionSqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
    db_.reset(db);
    // `name` is declared NOCASE and `n` INTEGER: the compiled SQL must
    // compare with BINARY collation and without affinity all the same.
    Exec("CREATE TABLE t (name TEXT COLLATE NOCASE, n INTEGER, r REAL, d TEXT, x)");
    Exec("INSERT INTO t VALUES ('alice', 5, 1.5, '2019-03-04', 'a')");
    Exec("INSERT INTO t VALUES ('Bob', 42, -2.25, NULL, 7)");
    Exec("INSERT INTO t VALUES (NULL, NULL, NULL, NULL, NULL)");
    Exec("INSERT INTO t VALUES ('Zo\xc3\xab', -17, 0.0, 'O''Brien', 2.5)");
    Exec("INSERT INTO t VALUES ('Alexander', 9223372036854775807, 1e20, '', '42')");
  }

  void Exec(const std::string& sql) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << sql << ": " << (err ? err : "");
    sqlite3_free(err);
  }

  Stmt Prepare(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &s, nullptr);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << sqlite3_errmsg(db_.get());
    return Stmt(rc == SQLITE_OK ? s : nullptr);
  }

  // The expression's value on every row of t, in insertion order.
  std::vector<std::string> Column(std::string_view text) {
    std::vector<std::string> out;
    auto e = ParseMaskExpression(text);
    EXPECT_TRUE(e.ok()) << text << ": " << e.status().ToString();
    if (!e.ok()) return out;
    Stmt s = Prepare("SELECT " + e->ToSql(Quote) + " FROM t ORDER BY rowid");
    if (!s) return out;
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) out.push_back(Cell(s.get(), 0));
    EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db_.get());
    return out;
  }

  Db db_;
};

using Cells = std::vector<std::string>;

TEST_F(MaskExpressionSqliteTest, TextFunctions) {
  EXPECT_EQ(Column("'***' || substr(name, -3)"),
            (Cells{"'***ice'", "'***Bob'", "NULL", "'***Zo\xc3\xab'", "'***der'"}));
  EXPECT_EQ(Column("coalesce(d, 'none')"),
            (Cells{"'2019-03-04'", "'none'", "'none'", "'O'Brien'", "''"}));
  EXPECT_EQ(Column("upper(name)"),
            (Cells{"'ALICE'", "'BOB'", "NULL", "'ZO\xc3\xab'", "'ALEXANDER'"}));
  EXPECT_EQ(Column("length(name)"), (Cells{"5", "3", "NULL", "3", "9"}));
  EXPECT_EQ(Column("ifnull(name, 'anon')"),
            (Cells{"'alice'", "'Bob'", "'anon'", "'Zo\xc3\xab'", "'Alexander'"}));
  EXPECT_EQ(Column("nullif(n, 42)"), (Cells{"5", "NULL", "NULL", "-17", "9223372036854775807"}));
  EXPECT_EQ(Column("instr(d, '-')"), (Cells{"5", "NULL", "NULL", "0", "0"}));
  EXPECT_EQ(Column("replace(name, 'a', '*')"),
            (Cells{"'*lice'", "'Bob'", "NULL", "'Zo\xc3\xab'", "'Alex*nder'"}));
  EXPECT_EQ(Column("trim('  ' || name || '  ')"),
            (Cells{"'alice'", "'Bob'", "NULL", "'Zo\xc3\xab'", "'Alexander'"}));
  EXPECT_EQ(Column("ltrim(name, 'A')"),
            (Cells{"'alice'", "'Bob'", "NULL", "'Zo\xc3\xab'", "'lexander'"}));
  EXPECT_EQ(Column("rtrim(name, 'er')"),
            (Cells{"'alic'", "'Bob'", "NULL", "'Zo\xc3\xab'", "'Alexand'"}));
  EXPECT_EQ(Column("substr(name, 2, 2)"), (Cells{"'li'", "'ob'", "NULL", "'o\xc3\xab'", "'le'"}));
  EXPECT_EQ(Column("'Name: ' || coalesce(name, '?') || ' (' || length(name) || ')'"),
            (Cells{"'Name: alice (5)'", "'Name: Bob (3)'", "NULL", "'Name: Zo\xc3\xab (3)'",
                   "'Name: Alexander (9)'"}));
  EXPECT_EQ(Column("'it''s ' || \"NAME\""),
            (Cells{"'it's alice'", "'it's Bob'", "NULL", "'it's Zo\xc3\xab'", "'it's Alexander'"}));
  EXPECT_EQ(Column("name || N"), (Cells{"'alice5'", "'Bob42'", "NULL", "'Zo\xc3\xab-17'",
                                        "'Alexander9223372036854775807'"}));
  EXPECT_EQ(Column("x || ''"), (Cells{"'a'", "'7'", "NULL", "'2.5'", "'42'"}));
  EXPECT_EQ(Column("'--' || name || '/*'"),
            (Cells{"'--alice/*'", "'--Bob/*'", "NULL", "'--Zo\xc3\xab/*'", "'--Alexander/*'"}));
}

TEST_F(MaskExpressionSqliteTest, Arithmetic) {
  EXPECT_EQ(Column("CASE WHEN n > 10 THEN n / 10 * 10 ELSE 0 END"),
            (Cells{"0", "40", "0", "0", "9223372036854775800"}));
  EXPECT_EQ(Column("-n"), (Cells{"-5", "-42", "NULL", "17", "-9223372036854775807"}));
  EXPECT_EQ(Column("- -n"), (Cells{"5", "42", "NULL", "-17", "9223372036854775807"}));
  // Integer overflow turns into a real, as in SQLite.
  EXPECT_EQ(Column("n - -1"), (Cells{"6", "43", "NULL", "-16", "~9.2233720368547758e+18"}));
  EXPECT_EQ(Column("-(n - 1)"), (Cells{"-4", "-41", "NULL", "18", "-9223372036854775806"}));
  EXPECT_EQ(Column("n % 7"), (Cells{"5", "0", "NULL", "-3", "0"}));
  EXPECT_EQ(Column("n / 0"), (Cells{"NULL", "NULL", "NULL", "NULL", "NULL"}));
  EXPECT_EQ(Column("r * 2"), (Cells{"~3", "~-4.5", "NULL", "~0", "~2e+20"}));
  EXPECT_EQ(Column("CASE WHEN r < 0 THEN -r ELSE r END"),
            (Cells{"~1.5", "~2.25", "NULL", "~0", "~1e+20"}));
  // || binds looser than * (the grammar's precedence, not SQLite's).
  EXPECT_EQ(Column("'x' || n * 2"),
            (Cells{"'x10'", "'x84'", "NULL", "'x-34'", "'x1.84467440737096e+19'"}));
  EXPECT_EQ(Column("x + 1"), (Cells{"1", "8", "NULL", "~3.5", "43"}));
  EXPECT_EQ(Column("1 - 2 - 3"), (Cells(5, "-4")));
  EXPECT_EQ(Column("2 * 3 + 4 * 5"), (Cells(5, "26")));
  EXPECT_EQ(Column("(2 + 3) * 4"), (Cells(5, "20")));
  EXPECT_EQ(Column("10 / 4 || ' ' || 10 / 4.0"), (Cells(5, "'2 2.5'")));
  EXPECT_EQ(Column("-7 / 2 || ' ' || -7 % 3"), (Cells(5, "'-3 -1'")));
  EXPECT_EQ(Column("- -1"), (Cells(5, "1")));
  EXPECT_EQ(Column("-9223372036854775808"), (Cells(5, "-9223372036854775808")));
  EXPECT_EQ(Column("-9223372036854775808 + n"),
            (Cells{"-9223372036854775803", "-9223372036854775766", "NULL",
                   "~-9.2233720368547758e+18", "-1"}));
}

TEST_F(MaskExpressionSqliteTest, Predicates) {
  EXPECT_EQ(Column("lower(name) LIKE 'a%'"), (Cells{"1", "0", "NULL", "0", "1"}));
  EXPECT_EQ(Column("name LIKE 'A%'"), (Cells{"1", "0", "NULL", "0", "1"}));
  EXPECT_EQ(Column("name NOT LIKE '%' || 'o' || '%'"), (Cells{"1", "0", "NULL", "0", "1"}));
  EXPECT_EQ(Column("d LIKE '%''%'"), (Cells{"0", "NULL", "NULL", "1", "0"}));
  EXPECT_EQ(Column("n BETWEEN 0 AND 10"), (Cells{"1", "0", "NULL", "0", "0"}));
  EXPECT_EQ(Column("n NOT BETWEEN 0 AND 10"), (Cells{"0", "1", "NULL", "1", "1"}));
  EXPECT_EQ(Column("n IN (5, 42)"), (Cells{"1", "1", "NULL", "0", "0"}));
  EXPECT_EQ(Column("n NOT IN (5, NULL)"), (Cells{"0", "NULL", "NULL", "NULL", "NULL"}));
  EXPECT_EQ(Column("name IS NULL"), (Cells{"0", "0", "1", "0", "0"}));
  EXPECT_EQ(Column("d IS NOT NULL AND d <> ''"), (Cells{"1", "0", "0", "1", "0"}));
  EXPECT_EQ(Column("NOT n > 10 OR name = 'Bob'"), (Cells{"1", "1", "NULL", "1", "0"}));
  // No affinity: the integer 7 is not the text '7', the text '42' not 42.
  EXPECT_EQ(Column("x = '42'"), (Cells{"0", "0", "NULL", "0", "1"}));
  EXPECT_EQ(Column("x = 7"), (Cells{"0", "1", "NULL", "0", "0"}));
  EXPECT_EQ(Column("n = '5'"), (Cells{"0", "0", "NULL", "0", "0"}));
  // BINARY collation although the column is declared NOCASE.
  EXPECT_EQ(Column("name = 'ALICE'"), (Cells{"0", "0", "NULL", "0", "0"}));
  EXPECT_EQ(Column("upper(name) = 'ALICE'"), (Cells{"1", "0", "NULL", "0", "0"}));
  EXPECT_EQ(Column("lower(name) = 'zo\xc3\xab'"), (Cells{"0", "0", "NULL", "1", "0"}));
  EXPECT_EQ(Column("r > 1 AND r < 1e30"), (Cells{"1", "0", "NULL", "0", "1"}));
  EXPECT_EQ(Column("n + 0.5 > 5"), (Cells{"1", "1", "NULL", "0", "1"}));
  EXPECT_EQ(Column("TRUE + FALSE + NULL IS NULL"), (Cells(5, "1")));
  EXPECT_EQ(Column("CASE WHEN name IS NULL THEN 'unknown' WHEN length(name) > 4 THEN "
                   "substr(name, 1, 1) || '****' END"),
            (Cells{"'a****'", "NULL", "'unknown'", "NULL", "'A****'"}));
}

TEST_F(MaskExpressionSqliteTest, BoundParameterAsColumn) {
  auto e = ParseMaskExpression("'***' || substr(name, -3) || coalesce(N, 'none')");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  std::vector<std::string> columns = e->Columns();
  ASSERT_EQ(columns, (std::vector<std::string>{"name", "N"}));
  std::string sql = e->ToSql([&](std::string_view c) {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i] == c) return "?" + std::to_string(i + 1);
    }
    ADD_FAILURE() << "unknown column " << c;
    return std::string("NULL");
  });
  EXPECT_EQ(sql,
            "(('***' || substr((+?1 COLLATE BINARY), (- 3))) || coalesce((+?2 COLLATE BINARY), "
            "'none'))");
  Stmt s = Prepare("SELECT " + sql);
  ASSERT_TRUE(s);
  ASSERT_EQ(sqlite3_bind_text(s.get(), 1, "Alexander", -1, SQLITE_STATIC), SQLITE_OK);
  ASSERT_EQ(sqlite3_bind_int64(s.get(), 2, 5), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s.get()), SQLITE_ROW);
  EXPECT_EQ(Cell(s.get(), 0), "'***der5'");
  ASSERT_EQ(sqlite3_reset(s.get()), SQLITE_OK);
  ASSERT_EQ(sqlite3_bind_null(s.get(), 2), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s.get()), SQLITE_ROW);
  EXPECT_EQ(Cell(s.get(), 0), "'***dernone'");
}

// Every golden-tested construct also prepares in SQLite (the output is valid
// SQL), with its columns bound to the table's.
TEST_F(MaskExpressionSqliteTest, EveryConstructPrepares) {
  for (std::string_view text :
       {"-9223372036854775808", "- -n", "n - -1", "-(-(-1))", "r/ -n", "n % -1", "name || d || x",
        "n IN (1, -2, d = 'x')", "n NOT BETWEEN -1 AND r", "name NOT LIKE d",
        "NOT NOT n IS NOT NULL", "CASE WHEN n THEN r WHEN d THEN x END",
        "coalesce(name, d, x, 'z')", "trim(name, 'a') || rtrim(d) || ltrim(x, '4')",
        "replace(substr(name, 1), 'a', 'b') || upper(lower(d)) || length(x) || instr(name, 'e')",
        "ifnull(nullif(n, 5), -1)", "\"name\" = \"NAME\"", "TRUE AND FALSE OR NULL"}) {
    auto e = ParseMaskExpression(text);
    ASSERT_TRUE(e.ok()) << text << ": " << e.status().ToString();
    EXPECT_TRUE(Prepare("SELECT " + e->ToSql(Quote) + " FROM t")) << text;
  }
}

// Random token soup (fixed seed): whatever parses compiles to SQL that SQLite
// accepts and that holds no comment and no statement separator.
TEST_F(MaskExpressionSqliteTest, RandomTokenSoupNeverEscapes) {
  const std::vector<std::string_view> tokens = {
      "name",  "n",       "\"x\"",    "d",    "1",    "0",    "1.5",  "9223372036854775808",
      "'s'",   "'--'",    "-",        "-",    "-",    "+",    "*",    "/",
      "%",     "||",      "(",        "(",    ")",    ")",    ",",    "=",
      "<",     "<>",      ">=",       "NOT",  "AND",  "OR",   "IS",   "NULL",
      "IN",    "BETWEEN", "LIKE",     "CASE", "WHEN", "THEN", "ELSE", "END",
      "lower", "substr",  "coalesce", "trim", "TRUE"};
  std::mt19937 random(20240601);
  std::uniform_int_distribution<size_t> pick(0, tokens.size() - 1);
  std::uniform_int_distribution<int> length(1, 12);
  std::uniform_int_distribution<int> coin(0, 1);
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    for (int k = length(random); k > 0; --k) {
      text += tokens[pick(random)];
      if (coin(random)) text += ' ';
    }
    auto e = ParseMaskExpression(text);
    if (!e.ok()) {
      EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument) << text;
      EXPECT_EQ(e.status().message().rfind("mask expression: ", 0), 0u) << text;
      continue;
    }
    ++parsed;
    std::string sql = e->ToSql(Quote);
    std::string bare = OutsideQuotes(sql);
    EXPECT_EQ(bare.find("--"), std::string::npos) << text << " -> " << sql;
    EXPECT_EQ(bare.find("/*"), std::string::npos) << text << " -> " << sql;
    EXPECT_EQ(bare.find(';'), std::string::npos) << text << " -> " << sql;
    EXPECT_TRUE(Prepare("SELECT " + sql + " FROM t")) << text;
  }
  EXPECT_GT(parsed, 500);
}

// PostgreSQL: typed from the columns' kinds (n integer, r real, t text).
Result<std::string> PgSql(std::string_view text) {
  return Parse(text).ToPostgreSql([](std::string_view column) -> std::optional<MaskColumnSql> {
    if (column == "n") return MaskColumnSql{"t.n", MaskColumnSql::Kind::kInteger};
    if (column == "r") return MaskColumnSql{"t.r", MaskColumnSql::Kind::kReal};
    if (column == "t") return MaskColumnSql{"t.t", MaskColumnSql::Kind::kText};
    return std::nullopt;
  });
}

TEST(MaskExpressionPostgresTest, RendersSqlitesValues) {
  EXPECT_EQ(*PgSql("n / 0"), "((t.n)::bigint / NULLIF((0)::bigint, 0))");
  EXPECT_EQ(*PgSql("t || n"), "((t.t COLLATE \"C\") || (((t.n)::bigint)::text COLLATE \"C\"))");
  EXPECT_EQ(*PgSql("n > 1"), "((((t.n)::bigint > (1)::bigint))::integer::bigint)");
  // An integer literal next to a real is that real, exactly.
  EXPECT_EQ(*PgSql("CASE WHEN r > 2 THEN 1 END"),
            "(CASE WHEN ((t.r)::double precision > ((2)::bigint::double precision)) THEN "
            "(1)::bigint END)");
  EXPECT_EQ(*PgSql("upper(t)"),
            "translate((t.t COLLATE \"C\"), 'abcdefghijklmnopqrstuvwxyz', "
            "'ABCDEFGHIJKLMNOPQRSTUVWXYZ')");
  EXPECT_EQ(*PgSql("NULL"), "(NULL::text)");
}

TEST(MaskExpressionPostgresTest, RefusesWhatCannotMatch) {
  for (const char* text : {"r || 'x'", "n = 'x'", "t + 1", "substr(t, -1)", "substr(t, n)", "r % 2",
                           "x", "coalesce(n, t)", "CASE WHEN t THEN 1 END", "n < r"}) {
    SCOPED_TRACE(text);
    Result<std::string> sql = PgSql(text);
    ASSERT_FALSE(sql.ok()) << *sql;
    EXPECT_EQ(sql.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(sql.status().message().find("no exact PostgreSQL counterpart"), std::string::npos)
        << sql.status().ToString();
  }
}

// Trino: typed like PostgreSQL (n integer, r real, t text), cast by the
// caller to a column of kind `target`.
Result<std::string> TrinoSql(std::string_view text, MaskColumnSql::Kind target) {
  return Parse(text).ToTrinoSql(
      [](std::string_view column) -> std::optional<MaskColumnSql> {
        if (column == "n") return MaskColumnSql{"\"n\"", MaskColumnSql::Kind::kInteger};
        if (column == "r") return MaskColumnSql{"\"r\"", MaskColumnSql::Kind::kReal};
        if (column == "t") return MaskColumnSql{"\"t\"", MaskColumnSql::Kind::kText};
        return std::nullopt;
      },
      target);
}

TEST(MaskExpressionTrinoTest, SubstrAndReplaceGiveSqlitesValues) {
  constexpr auto kText = MaskColumnSql::Kind::kText;
  // Positions >= 1 as written; SQLite's position 0 is one character short.
  EXPECT_EQ(*TrinoSql("substr(t, 2, 3)", kText), "substr(\"t\", 2, 3)");
  EXPECT_EQ(*TrinoSql("substr(t, 0, 2)", kText), "substr(\"t\", 1, 1)");
  EXPECT_EQ(*TrinoSql("substr(t, 0, 0)", kText), "substr(\"t\", 1, 0)");
  EXPECT_EQ(*TrinoSql("substr(t, 0)", kText), "substr(\"t\", 1)");
  // A negative position counts from the end; before the first character
  // SQLite starts there and shortens the length by the overshoot, where
  // Trino would return ''.
  EXPECT_EQ(*TrinoSql("substr(t, -4)", kText), "substr(\"t\", greatest(length(\"t\") - 4 + 1, 1))");
  EXPECT_EQ(*TrinoSql("substr(t, -7, 3)", kText),
            "substr(\"t\", greatest(length(\"t\") - 7 + 1, 1), greatest(3 - greatest(7 - "
            "length(\"t\"), 0), 0))");
  // An empty pattern leaves the string as it is; a computed one is checked.
  EXPECT_EQ(*TrinoSql("replace(t, 'a', '*')", kText), "replace(\"t\", 'a', '*')");
  EXPECT_EQ(*TrinoSql("replace(t, '', '*')", kText), "\"t\"");
  EXPECT_EQ(*TrinoSql("replace(t, lower(t), 'x')", kText),
            "(CASE WHEN lower(\"t\") = '' THEN \"t\" ELSE replace(\"t\", lower(\"t\"), 'x') END)");
}

// substr with a negative position renders its string up to three times and
// replace with a computed pattern twice; nested in each other's string, the
// SQL would grow as 3^depth (megabytes within the language's limits, gigabytes
// within those of stored versions), so that is refused and every node renders
// at most three times.
TEST(MaskExpressionTrinoTest, RepeatedOperandsDoNotNest) {
  constexpr auto kText = MaskColumnSql::Kind::kText;
  for (const char* refused : {"substr(substr(t, -2), -1)", "substr(lower(substr(t, -3, 2)), -1, 1)",
                              "replace(substr(t, -2), t, 'x')", "replace(t, replace(t, t, ''), '')",
                              "substr(replace(t, lower(t), '*'), -1)"}) {
    SCOPED_TRACE(refused);
    Result<std::string> sql = TrinoSql(refused, kText);
    ASSERT_FALSE(sql.ok()) << *sql;
    EXPECT_EQ(sql.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(sql.status().message(),
              "mask expression: on Trino, a substr with a negative position or a replace with a "
              "computed pattern cannot take its string from another");
  }
  // Beside each other, below a positive position, or in replace's
  // replacement: fine.
  EXPECT_TRUE(TrinoSql("substr(t, -2) || substr(t, -3)", kText).ok());
  EXPECT_TRUE(TrinoSql("substr(substr(t, 2), -1)", kText).ok());
  EXPECT_TRUE(TrinoSql("replace(t, 'a', substr(t, -1))", kText).ok());
  // The deepest nesting the language accepts is refused (3^levels
  // renderings of the string otherwise) ...
  std::string deep = "t";
  int levels = 0;
  for (std::string deeper; ParseMaskExpression(deeper = "substr(" + deep + ", -1, 1)").ok();
       ++levels) {
    deep = std::move(deeper);
  }
  EXPECT_GE(levels, 10);
  EXPECT_FALSE(TrinoSql(deep, kText).ok());
  // ... and one such substr over the deepest string stays linear in size.
  std::string wide = "t";
  for (int i = 0; i < 11; ++i) wide = "lower(" + wide + ")";
  wide = "substr(" + wide + ", -1, 1)";
  ASSERT_TRUE(TrinoSql(wide, kText).ok());
  EXPECT_LT(TrinoSql(wide, kText)->size(), 3 * wide.size() + 200);
}

TEST(MaskExpressionTrinoTest, ExactCastsOnly) {
  constexpr auto kInteger = MaskColumnSql::Kind::kInteger;
  constexpr auto kReal = MaskColumnSql::Kind::kReal;
  constexpr auto kText = MaskColumnSql::Kind::kText;
  // The column's own kind, NULL, or an integer on a real or text column.
  EXPECT_EQ(*TrinoSql("n * 2", kInteger), "(\"n\" * 2)");
  EXPECT_EQ(*TrinoSql("n * 2", kText), "(\"n\" * 2)");
  EXPECT_EQ(*TrinoSql("n * 2", kReal), "(\"n\" * 2)");
  EXPECT_EQ(*TrinoSql("r / 2", kReal), "(\"r\" / 2)");
  EXPECT_EQ(*TrinoSql("n > 1", kInteger), "(\"n\" > 1)");
  EXPECT_EQ(*TrinoSql("NULL", kInteger), "NULL");
  EXPECT_EQ(*TrinoSql("coalesce(t, 'none')", kText), "coalesce(\"t\", 'none')");
  struct Refusal {
    const char* text;
    MaskColumnSql::Kind target;
    const char* construct;
  };
  for (const Refusal& r : std::vector<Refusal>{
           {"r * 2", kText, "a real number as the value of a text column"},
           {"r / 2", kInteger, "a real number as the value of an integer column"},
           {"coalesce(n, r)", kInteger, "a real number as the value of an integer column"},
           {"t", kInteger, "text as the value of an integer column"},
           {"upper(t)", kReal, "text as the value of a real column"},
           {"n = 1", kText, "a comparison's value as the value of a text column"},
           {"substr(t, 1, -1)", kText,
            "substr with a computed position or a computed or negative length"},
           {"substr(t, n)", kText,
            "substr with a computed position or a computed or negative length"},
           {"substr(t, 1, n)", kText,
            "substr with a computed position or a computed or negative length"},
           {"CASE WHEN n > 1 THEN t ELSE n END", kText, "CASE mixing text and numbers"},
           {"coalesce(t, n)", kText, "coalesce mixing text and numbers"},
           {"x || t", kText, "column x's type"}}) {
    SCOPED_TRACE(r.text);
    Result<std::string> sql = TrinoSql(r.text, r.target);
    ASSERT_FALSE(sql.ok()) << *sql;
    EXPECT_EQ(sql.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(sql.status().message(),
              std::string("mask expression: ") + r.construct + " has no exact Trino counterpart");
  }
}

}  // namespace
}  // namespace lakegate::policy
