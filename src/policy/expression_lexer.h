// The lexer and the literal helpers shared by the two expression languages of
// policy.h: row filters (row_filter.cc) and mask expressions
// (mask_expression.cc). Internal to the policy module: not part of its API.
//
// Everything here is pure and thread-safe. Positions are 1-based byte offsets
// into the text as written.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "policy/policy.h"

namespace lakegate::policy::internal {

// Both languages accept at most this many characters.
inline constexpr size_t kMaxExpressionLength = 2048;

struct Token {
  enum class Type { kEnd, kWord, kQuotedIdent, kString, kNumber, kSymbol };
  Type type = Type::kEnd;
  // Word, identifier or string contents (quotes undone), number as written,
  // or symbol.
  std::string text;
  size_t pos = 0;  // 1-based position of the token's first character
};

// What differs between the two languages: the name their errors start with,
// and whether the arithmetic symbols exist.
//
// Row filters (arithmetic == false): symbols are ( ) , = <> != < <= > >=; a
// sign directly before a digit belongs to the number ("-5", "+5"); any other
// '-', '+', '*', '/', '%' or '|' is an unexpected character.
//
// Mask expressions (arithmetic == true): the symbols also include || + - * / %
// and numbers are unsigned ("a-1" is a subtraction, "-1" a unary minus on 1).
// "--" and "/*" (SQL comments) are errors, so no token sequence can ever turn
// into a comment.
struct Dialect {
  std::string_view name;      // "row filter": the prefix of every error
  std::string_view end_name;  // how the end of the text is described in errors
  bool arithmetic = false;
  // At most this many nesting levels (CheckDepth in expression_parser.h).
  int max_depth = 64;

  // InvalidArgument "<name>: <what> at position <pos>".
  Status ErrorAt(size_t pos, std::string_view what) const;
  // InvalidArgument "<name>: <what>" (errors about the whole text).
  Status Error(std::string_view what) const;
  // How `token` is shown in "found ..." parts of errors.
  std::string Describe(const Token& token) const;
};

// A row filter's nesting is its SQL's: every engine must parse the filter
// where the compiled view puts it (in a cell filter's CASE WHEN, OR-ed with
// the role's other filters), and SQLite's parser refuses 28 levels there
// ("parser stack overflow"); GovernanceTest.DeepestFiltersRun runs the
// deepest shapes at this limit.
inline constexpr Dialect kRowFilterDialect{"row filter", "the end of the filter", false, 20};
// Stored policy versions (ParseStoredRowFilter, ParseStoredMaskExpression):
// the limit they were written with.
inline constexpr Dialect kStoredRowFilterDialect{"row filter", "the end of the filter", false, 64};
// A mask's likewise, where the view puts it (in the THEN of a cell filter's
// CASE): SQLite refuses 15 nested CASEs there; GovernanceTest.DeepestMasksRun.
inline constexpr Dialect kMaskExpressionDialect{"mask expression", "the end of the expression",
                                                true, 12};
inline constexpr Dialect kStoredMaskExpressionDialect{"mask expression",
                                                      "the end of the expression", true, 64};

bool IsIdentStart(char c);
bool IsIdentChar(char c);
bool IsDigit(char c);

// InvalidArgument when `text` is longer than kMaxExpressionLength ("longer
// than 2048 characters") or holds a NUL byte ("unexpected character '\x00'"
// at its position).
Status CheckText(const Dialect& dialect, std::string_view text);

// The tokens of `text`, the last one of type kEnd (at position size + 1).
// InvalidArgument for an unterminated string or quoted identifier, an empty
// quoted identifier, a malformed number, a comment (mask expressions) or any
// other character outside the language.
Result<std::vector<Token>> Lex(const Dialect& dialect, std::string_view text);

// A read position over Lex()'s tokens, shared by both parsers. Take() never
// moves past the final kEnd token.
class TokenCursor {
 public:
  explicit TokenCursor(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  const Token& Peek() const { return tokens_[next_]; }
  const Token& PeekNext() const { return tokens_[next_ + 1 < tokens_.size() ? next_ + 1 : next_]; }
  const Token& Take() { return tokens_[next_ < tokens_.size() - 1 ? next_++ : next_]; }
  // Case-insensitive keyword / exact symbol at the read position.
  bool PeekKeyword(std::string_view keyword) const;
  bool PeekSymbol(std::string_view symbol) const;

 private:
  std::vector<Token> tokens_;  // never empty: ends with kEnd
  size_t next_ = 0;
};

// = <> != < <= > >=
bool IsComparison(std::string_view symbol);

// The value of a number as lexed (`text` may carry a leading sign): an
// integer when it has no '.', 'e' or 'E', else a real. InvalidArgument
// "integer out of range" / "decimal out of range" at `pos`.
Result<RowFilter::Value> NumberValue(const Dialect& dialect, std::string_view text, size_t pos);

// SQL for a literal, re-rendered from its value: integers in decimal, reals
// with 17 significant digits (always with a '.' or an exponent, so SQLite
// reads a REAL back), strings quoted with '' for a quote, NULL.
std::string RealSql(double d);
std::string LiteralSql(const RowFilter::Value& v);

}  // namespace lakegate::policy::internal
