// The engines' one SQL lexer (engine/sql_lexer.h) in its two dialects.
#include "engine/sql_lexer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lakegate::engine::sql {
namespace {

// The tokens as text: words and quoted names by name, the rest as written.
std::vector<std::string> Tokens(std::string_view text, Dialect dialect) {
  std::vector<std::string> out;
  for (const Token& t : Lex(text, dialect)) {
    switch (t.kind) {
      case Token::Kind::kWord:
        out.push_back("w:" + t.name);
        break;
      case Token::Kind::kQuoted:
        out.push_back("q:" + t.name);
        break;
      default:
        out.push_back(std::string(text.substr(t.begin, t.end - t.begin)));
    }
  }
  return out;
}

using V = std::vector<std::string>;

TEST(SqlLexerTest, BothDialectsSkipStringsCommentsAndDollarQuotes) {
  for (Dialect d : {Dialect::kPostgres, Dialect::kAnyDialect}) {
    EXPECT_EQ(Tokens("SELECT a.B -- c.d\n, 'x''y' /* e.f */ $t$g.h$t$ \"Q\"\"r\"", d),
              (V{"w:select", "w:a", ".", "w:b", ",", "'x''y'", "$t$g.h$t$", "q:Q\"r"}));
    EXPECT_EQ(Tokens("f($1)", d), (V{"w:f", "(", "$", "1", ")"}));
    EXPECT_EQ(Tokens("'open", d), V{"'open"});
  }
}

TEST(SqlLexerTest, DialectsDifferWherePostgresDoes) {
  // Nested comments, E'' escapes and U&"" are PostgreSQL's.
  EXPECT_EQ(Tokens("/* a /* b */ c */ d", Dialect::kPostgres), V{"w:d"});
  EXPECT_EQ(Tokens("/* a /* b */ c */ d", Dialect::kAnyDialect), (V{"w:c", "*", "/", "w:d"}));
  EXPECT_EQ(Tokens("E'\\'' x", Dialect::kPostgres), (V{"E'\\''", "w:x"}));
  EXPECT_EQ(Tokens("E'\\'' x", Dialect::kAnyDialect), V{"E'\\'' x"});
  EXPECT_EQ(Tokens("U&\"a\".b", Dialect::kPostgres), (V{"U&\"a\"", ".", "w:b"}));
  // Backticks and numbers as one token are the neutral dialect's.
  EXPECT_EQ(Tokens("`a`.b 1.5e3", Dialect::kAnyDialect), (V{"q:a", ".", "w:b", "1.5e3"}));
  EXPECT_EQ(Tokens("1.5", Dialect::kPostgres), (V{"1", ".", "5"}));
}

}  // namespace
}  // namespace lakegate::engine::sql
