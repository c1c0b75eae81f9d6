#include "engine/sql_lexer.h"

#include <algorithm>
#include <cctype>

#include "common/strings.h"

namespace lakegate::engine::sql {
namespace {

bool IdentStart(unsigned char c) { return std::isalpha(c) != 0 || c == '_' || c >= 0x80; }
bool IdentChar(unsigned char c) { return IdentStart(c) || std::isdigit(c) != 0 || c == '$'; }

// The end of a '..' string starting at `i` (the quote), where '' stands for
// a quote; `backslash`: E'..' escapes.
size_t SkipString(std::string_view s, size_t i, bool backslash) {
  for (++i; i < s.size(); ++i) {
    if (backslash && s[i] == '\\') {
      ++i;
    } else if (s[i] == '\'') {
      if (i + 1 < s.size() && s[i + 1] == '\'') {
        ++i;
      } else {
        return i + 1;
      }
    }
  }
  return s.size();
}

// The end of an identifier quoted by `close` from `i` (the opening quote),
// where a doubled `close` stands for itself; its text lands in `text`.
size_t SkipQuoted(std::string_view s, size_t i, char close, std::string& text) {
  for (++i; i < s.size(); ++i) {
    if (s[i] != close) {
      text += s[i];
    } else if (i + 1 < s.size() && s[i + 1] == close) {
      text += close;
      ++i;
    } else {
      return i + 1;
    }
  }
  return s.size();
}

// The end of a /* */ comment starting at `i`.
size_t SkipComment(std::string_view s, size_t i, bool nested) {
  if (!nested) {
    size_t end = s.find("*/", i + 2);
    return end == std::string_view::npos ? s.size() : end + 2;
  }
  int depth = 0;
  while (i < s.size()) {
    if (s.substr(i, 2) == "/*") {
      ++depth;
      i += 2;
    } else if (s.substr(i, 2) == "*/") {
      i += 2;
      if (--depth == 0) break;
    } else {
      ++i;
    }
  }
  return i;
}

}  // namespace

std::vector<Token> Lex(std::string_view s, Dialect dialect) {
  const bool postgres = dialect == Dialect::kPostgres;
  std::vector<Token> out;
  auto other = [&](size_t begin, size_t end) {
    out.push_back({Token::Kind::kOther, begin, end, ""});
    return end;
  };
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (std::isspace(c) != 0) {
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      i = SkipComment(s, i, postgres);
    } else if (c == '\'') {
      i = other(i, SkipString(s, i, false));
    } else if (c == '"' || (c == '`' && !postgres)) {
      Token t{Token::Kind::kQuoted, i, i, ""};
      t.end = i = SkipQuoted(s, i, static_cast<char>(c), t.name);
      out.push_back(std::move(t));
    } else if (c == '$' && i + 1 < s.size() &&
               std::isdigit(static_cast<unsigned char>(s[i + 1])) == 0) {
      // $tag$ ... $tag$ (a parameter $1 is other text).
      size_t j = i + 1;
      while (j < s.size() && s[j] != '$' && IdentChar(static_cast<unsigned char>(s[j]))) ++j;
      if (j < s.size() && s[j] == '$') {
        std::string_view tag = s.substr(i, j - i + 1);
        size_t close = s.find(tag, j + 1);
        i = other(i, close == std::string_view::npos ? s.size() : close + tag.size());
      } else {
        i = other(i, i + 1);
      }
    } else if (!postgres && std::isdigit(c) != 0) {
      // A number, 1.5 and 1e5 included.
      size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) != 0 || s[j] == '.')) {
        ++j;
      }
      i = other(i, j);
    } else if (IdentStart(c)) {
      size_t j = i;
      while (j < s.size() && IdentChar(static_cast<unsigned char>(s[j]))) ++j;
      std::string_view word = s.substr(i, j - i);
      // String prefixes: E'..' B'..' X'..' N'..', and U&'..' / U&"..".
      if (j < s.size() && s[j] == '\'' && word.size() == 1) {
        i = other(i, SkipString(s, j, postgres && (word == "E" || word == "e")));
        continue;
      }
      if (postgres && (word == "U" || word == "u") && s.substr(j, 2) == "&'") {
        i = other(i, SkipString(s, j + 1, false));
        continue;
      }
      if (postgres && (word == "U" || word == "u") && s.substr(j, 2) == "&\"") {
        // A Unicode-escaped identifier: other text (never a name the
        // engines look for).
        size_t k = j + 2;
        while (k < s.size() && !(s[k] == '"' && (k + 1 >= s.size() || s[k + 1] != '"'))) {
          k += s[k] == '"' ? size_t{2} : size_t{1};
        }
        i = other(i, std::min(k + 1, s.size()));
        continue;
      }
      out.push_back({Token::Kind::kWord, i, j, AsciiLower(word)});
      i = j;
    } else if (c == '.') {
      out.push_back({Token::Kind::kDot, i, i + 1, ""});
      ++i;
    } else if (c == '(') {
      out.push_back({Token::Kind::kOpenParen, i, i + 1, ""});
      ++i;
    } else {
      i = other(i, i + 1);
    }
  }
  return out;
}

}  // namespace lakegate::engine::sql
