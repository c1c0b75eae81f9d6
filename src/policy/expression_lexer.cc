#include "policy/expression_lexer.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

#include "common/sql_quote.h"
#include "common/strings.h"

namespace lakegate::policy::internal {

Status Dialect::ErrorAt(size_t pos, std::string_view what) const {
  return InvalidArgumentError(std::string(name) + ": " + std::string(what) + " at position " +
                              std::to_string(pos));
}

Status Dialect::Error(std::string_view what) const {
  return InvalidArgumentError(std::string(name) + ": " + std::string(what));
}

std::string Dialect::Describe(const Token& t) const {
  switch (t.type) {
    case Token::Type::kEnd:
      return std::string(end_name);
    case Token::Type::kString:
      return "a string";
    case Token::Type::kQuotedIdent:
      return "\"" + t.text + "\"";
    default:
      return "'" + t.text + "'";
  }
}

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9') || c == '$'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

namespace {

// The offset of the first byte that does not begin a well-formed UTF-8
// sequence (RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF), or npos.
size_t FirstInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    const auto second = static_cast<unsigned char>(s[i + 1]);
    if (second < lo || second > hi) return i;
    for (size_t k = 2; k < len; ++k) {
      const auto next = static_cast<unsigned char>(s[i + k]);
      if (next < 0x80 || next > 0xBF) return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

}  // namespace

Status CheckText(const Dialect& dialect, std::string_view text) {
  if (text.size() > kMaxExpressionLength) {
    return dialect.Error("longer than " + std::to_string(kMaxExpressionLength) + " characters");
  }
  if (size_t nul = text.find('\0'); nul != std::string_view::npos) {
    return dialect.ErrorAt(nul + 1, "unexpected character '\\x00'");
  }
  // Policies are JSON (UTF-8) and SQLite's LIKE and the reference evaluator
  // would read other bytes differently: such text is refused, not guessed at.
  if (size_t bad = FirstInvalidUtf8(text); bad != std::string_view::npos) {
    return dialect.ErrorAt(bad + 1,
                           "not valid UTF-8 (byte '\\x" + HexEncode(text.substr(bad, 1)) + "')");
  }
  return Status::Ok();
}

namespace {

std::string UnexpectedCharacter(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  std::string shown =
      c >= 0x20 && c < 0x7f ? std::string(1, s[i]) : "\\x" + HexEncode(s.substr(i, 1));
  std::string what = "unexpected character '" + shown + "'";
  if (c == '?' || c == ':' || c == '@' || c == '$') what += " (parameters are not allowed)";
  return what;
}

}  // namespace

Result<std::vector<Token>> Lex(const Dialect& dialect, std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (true) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
    Token t;
    t.pos = i + 1;
    if (i >= s.size()) {
      out.push_back(t);
      return out;
    }
    const char c = s[i];
    const char next = i + 1 < s.size() ? s[i + 1] : '\0';
    // Row filters read a sign directly before a digit as part of the number;
    // mask expressions read it as an operator.
    const bool signed_number =
        !dialect.arithmetic && (c == '-' || c == '+') && (IsDigit(next) || next == '.');
    if (IsIdentStart(c)) {
      size_t start = i;
      while (i < s.size() && IsIdentChar(s[i])) ++i;
      t.type = Token::Type::kWord;
      t.text = std::string(s.substr(start, i - start));
    } else if (c == '"' || c == '\'') {
      const char quote = c;
      ++i;
      bool closed = false;
      while (i < s.size()) {
        if (s[i] == quote) {
          if (i + 1 < s.size() && s[i + 1] == quote) {
            t.text += quote;
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        t.text += s[i++];
      }
      if (!closed) {
        return dialect.ErrorAt(
            t.pos, quote == '"' ? "unterminated quoted identifier" : "unterminated string literal");
      }
      if (quote == '"' && t.text.empty()) return dialect.ErrorAt(t.pos, "empty quoted identifier");
      t.type = quote == '"' ? Token::Type::kQuotedIdent : Token::Type::kString;
    } else if (IsDigit(c) || (c == '.' && IsDigit(next)) || signed_number) {
      size_t start = i;
      if (c == '-' || c == '+') ++i;
      bool digits = false;
      while (i < s.size() && IsDigit(s[i])) digits = true, ++i;
      if (i < s.size() && s[i] == '.') {
        ++i;
        while (i < s.size() && IsDigit(s[i])) digits = true, ++i;
      }
      if (digits && i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
        if (i >= s.size() || !IsDigit(s[i])) return dialect.ErrorAt(t.pos, "invalid number");
        while (i < s.size() && IsDigit(s[i])) ++i;
      }
      if (!digits || (i < s.size() && (IsIdentChar(s[i]) || s[i] == '.'))) {
        return dialect.ErrorAt(t.pos, "invalid number");
      }
      t.type = Token::Type::kNumber;
      t.text = std::string(s.substr(start, i - start));
    } else if (c == '(' || c == ')' || c == ',' || c == '=') {
      t.type = Token::Type::kSymbol;
      t.text = std::string(1, c);
      ++i;
    } else if (c == '<' || c == '>' || c == '!') {
      t.type = Token::Type::kSymbol;
      if (next == '=' || (c == '<' && next == '>')) {
        t.text = std::string(s.substr(i, 2));
        i += 2;
      } else if (c == '!') {
        return dialect.ErrorAt(t.pos, "unexpected character '!'");
      } else {
        t.text = std::string(1, c);
        ++i;
      }
    } else if (dialect.arithmetic && (c == '-' || c == '+' || c == '*' || c == '/' || c == '%')) {
      // Never a comment: "--" and "/*" would make SQLite ignore the rest of
      // the line or text, so they are refused rather than read as two
      // operators (write "- -" for a double minus).
      if ((c == '-' && next == '-') || (c == '/' && next == '*')) {
        return dialect.ErrorAt(
            t.pos, "unexpected '" + std::string(s.substr(i, 2)) + "' (comments are not allowed)");
      }
      t.type = Token::Type::kSymbol;
      t.text = std::string(1, c);
      ++i;
    } else if (dialect.arithmetic && c == '|' && next == '|') {
      t.type = Token::Type::kSymbol;
      t.text = "||";
      i += 2;
    } else {
      return dialect.ErrorAt(t.pos, UnexpectedCharacter(s, i));
    }
    out.push_back(std::move(t));
  }
}

Result<RowFilter::Value> NumberValue(const Dialect& dialect, std::string_view text, size_t pos) {
  const std::string s(text);
  RowFilter::Value v;
  const bool decimal = s.find_first_of(".eE") != std::string::npos;
  char* end = nullptr;
  errno = 0;
  if (!decimal) {
    long long i = std::strtoll(s.c_str(), &end, 10);
    if (errno == ERANGE || end != s.c_str() + s.size()) {
      return dialect.ErrorAt(pos, "integer out of range");
    }
    v.type = RowFilter::Value::Type::kInteger;
    v.i = i;
  } else {
    double d = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || !std::isfinite(d)) {
      return dialect.ErrorAt(pos, "decimal out of range");
    }
    v.type = RowFilter::Value::Type::kReal;
    v.r = d;
  }
  return v;
}

std::string RealSql(double d) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", d);
  std::string s = buf;
  // Keep it a REAL literal in SQLite ("5" would be an INTEGER).
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string LiteralSql(const RowFilter::Value& v) {
  switch (v.type) {
    case RowFilter::Value::Type::kNull:
      return "NULL";
    case RowFilter::Value::Type::kInteger:
      return std::to_string(v.i);
    case RowFilter::Value::Type::kReal:
      return RealSql(v.r);
    case RowFilter::Value::Type::kText:
      return QuoteString(v.t);
  }
  return "NULL";
}

bool TokenCursor::PeekKeyword(std::string_view keyword) const {
  return Peek().type == Token::Type::kWord && EqualsIgnoreCase(Peek().text, keyword);
}

bool TokenCursor::PeekSymbol(std::string_view symbol) const {
  return Peek().type == Token::Type::kSymbol && Peek().text == symbol;
}

bool IsComparison(std::string_view symbol) {
  for (std::string_view op : {"=", "<>", "!=", "<", "<=", ">", ">="}) {
    if (symbol == op) return true;
  }
  return false;
}

}  // namespace lakegate::policy::internal
