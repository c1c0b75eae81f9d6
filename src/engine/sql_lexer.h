// The one SQL tokenizer of the engines: what the routing engine
// (QualifierNames) and the PostgreSQL engine (statement_text.h) read from a
// statement's text before an engine does. It never decides what a statement
// may do -- the engines' own privileges do -- it finds names, leading
// keywords and qualifiers while skipping strings, comments and quoted text.
// Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lakegate::engine::sql {

// Whose lexical rules apply.
//  kPostgres: PostgreSQL's -- -- and nested /* */ comments, '..' strings
//    (E'..' with backslash escapes, U&'..', B'..', X'..', N'..'), "quoted"
//    identifiers (U&".." as other text) and $tag$ dollar quoting; digits are
//    other text, one character a token.
//  kAnyDialect: what SQLite, PostgreSQL and Trino share, for a text whose
//    engine is not chosen yet: -- and /* */ comments (not nested), '..'
//    strings (a one-letter prefix such as E or X is part of the string, no
//    backslash escapes), "quoted" and `quoted` identifiers, $tag$ quoting,
//    and numbers (1.5, 1e5) as one token.
enum class Dialect { kPostgres, kAnyDialect };

struct Token {
  enum class Kind { kWord, kQuoted, kDot, kOpenParen, kOther };
  Kind kind = Kind::kOther;
  size_t begin = 0, end = 0;  // the token's bytes in the text
  std::string name;           // kWord: folded to lower case; kQuoted: unescaped
};

// The tokens of `sql`; whitespace and comments make none. Unterminated
// strings, comments and quoted text run to the end of the text.
std::vector<Token> Lex(std::string_view sql, Dialect dialect);

// True when `t` is the (unquoted) word `word`, given in lower case.
inline bool IsWord(const Token& t, std::string_view word) {
  return t.kind == Token::Kind::kWord && t.name == word;
}

}  // namespace lakegate::engine::sql
