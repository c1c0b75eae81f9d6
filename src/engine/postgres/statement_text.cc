#include "engine/postgres/statement_text.h"

#include <algorithm>
#include <cctype>
#include <iterator>

#include "common/strings.h"
#include "engine/postgres/pg_conn.h"

namespace lakegate::engine::postgres_internal {
namespace {

struct Token {
  enum class Kind { kWord, kQuoted, kDot, kOpenParen, kOther };
  Kind kind = Kind::kOther;
  size_t begin = 0, end = 0;
  std::string name;  // kWord: folded to lower case; kQuoted: unescaped
};

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool IdentStart(unsigned char c) { return std::isalpha(c) != 0 || c == '_' || c >= 0x80; }
bool IdentChar(unsigned char c) { return IdentStart(c) || std::isdigit(c) != 0 || c == '$'; }

// Skips a '..' string starting at `i` (the quote); `backslash`: E'' escapes.
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

std::vector<Token> Lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (std::isspace(c) != 0) {
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
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
    } else if (c == '\'') {
      size_t end = SkipString(s, i, false);
      out.push_back({Token::Kind::kOther, i, end, ""});
      i = end;
    } else if (c == '"') {
      Token t{Token::Kind::kQuoted, i, i, ""};
      for (++i; i < s.size(); ++i) {
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            t.name += '"';
            ++i;
          } else {
            ++i;
            break;
          }
        } else {
          t.name += s[i];
        }
      }
      t.end = i;
      out.push_back(std::move(t));
    } else if (c == '$' && i + 1 < s.size() &&
               std::isdigit(static_cast<unsigned char>(s[i + 1])) == 0) {
      // $tag$ ... $tag$ (a parameter $1 is other text).
      size_t j = i + 1;
      while (j < s.size() && s[j] != '$' && IdentChar(static_cast<unsigned char>(s[j]))) ++j;
      if (j < s.size() && s[j] == '$') {
        std::string_view tag = s.substr(i, j - i + 1);
        size_t close = s.find(tag, j + 1);
        size_t end = close == std::string_view::npos ? s.size() : close + tag.size();
        out.push_back({Token::Kind::kOther, i, end, ""});
        i = end;
      } else {
        out.push_back({Token::Kind::kOther, i, i + 1, ""});
        ++i;
      }
    } else if (IdentStart(c)) {
      size_t j = i;
      while (j < s.size() && IdentChar(static_cast<unsigned char>(s[j]))) ++j;
      std::string_view word = s.substr(i, j - i);
      // String prefixes: E'..' B'..' X'..' N'..', and U&'..' / U&"..".
      if (j < s.size() && s[j] == '\'' && word.size() == 1) {
        bool backslash = word == "E" || word == "e";
        size_t end = SkipString(s, j, backslash);
        out.push_back({Token::Kind::kOther, i, end, ""});
        i = end;
        continue;
      }
      if ((word == "U" || word == "u") && s.substr(j, 2) == "&'") {
        size_t end = SkipString(s, j + 1, false);
        out.push_back({Token::Kind::kOther, i, end, ""});
        i = end;
        continue;
      }
      if ((word == "U" || word == "u") && s.substr(j, 2) == "&\"") {
        // A Unicode-escaped identifier: never a qualifier we map.
        size_t k = j + 2;
        while (k < s.size() && !(s[k] == '"' && (k + 1 >= s.size() || s[k + 1] != '"'))) {
          k += s[k] == '"' ? size_t{2} : size_t{1};
        }
        out.push_back({Token::Kind::kOther, i, std::min(k + 1, s.size()), ""});
        i = std::min(k + 1, s.size());
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
      out.push_back({Token::Kind::kOther, i, i + 1, ""});
      ++i;
    }
  }
  return out;
}

struct ClassRule {
  std::string_view first;
  std::string_view second;  // "" = any
  StatementClass klass;
};

// The statements the query API runs, by leading keywords (first match wins).
constexpr ClassRule kRules[] = {
    {"select", "", StatementClass::kRead},
    {"with", "", StatementClass::kRead},  // a data-modifying CTE: PostgreSQL's
                                          // READ ONLY and the tag check decide
    {"values", "", StatementClass::kRead},
    {"table", "", StatementClass::kRead},
    {"show", "", StatementClass::kRead},
    {"explain", "", StatementClass::kRead},
    {"insert", "", StatementClass::kWrite},
    {"update", "", StatementClass::kWrite},
    {"delete", "", StatementClass::kWrite},
    {"merge", "", StatementClass::kWrite},
    {"create", "table", StatementClass::kWrite},
    {"create", "view", StatementClass::kAdmin},
    {"create", "index", StatementClass::kAdmin},
    {"create", "unique", StatementClass::kAdmin},
    {"create", "schema", StatementClass::kAdmin},
    {"alter", "table", StatementClass::kAdmin},
    {"alter", "view", StatementClass::kAdmin},
    {"alter", "index", StatementClass::kAdmin},
    {"drop", "table", StatementClass::kAdmin},
    {"drop", "view", StatementClass::kAdmin},
    {"drop", "index", StatementClass::kAdmin},
    {"drop", "schema", StatementClass::kAdmin},
    {"truncate", "", StatementClass::kAdmin},
    {"comment", "", StatementClass::kAdmin},
    {"analyze", "", StatementClass::kAdmin},
    {"analyse", "", StatementClass::kAdmin},
    {"vacuum", "", StatementClass::kAdmin},
    {"reindex", "", StatementClass::kAdmin},
};

// Every keyword a PostgreSQL 15 statement starts with.
constexpr std::string_view kStatementKeywords[] = {
    "abort",   "alter",   "analyze", "analyse", "begin",    "call",      "checkpoint",
    "close",   "cluster", "comment", "commit",  "copy",     "create",    "deallocate",
    "declare", "delete",  "discard", "do",      "drop",     "end",       "execute",
    "explain", "fetch",   "grant",   "import",  "insert",   "listen",    "load",
    "lock",    "merge",   "move",    "notify",  "prepare",  "reassign",  "refresh",
    "reindex", "release", "reset",   "revoke",  "rollback", "savepoint", "security",
    "select",  "set",     "show",    "start",   "table",    "truncate",  "unlisten",
    "update",  "vacuum",  "values",  "with"};

std::string TypeName(std::string_view first, std::string_view second) {
  std::string type = Upper(first);
  if (!second.empty()) type += " " + Upper(second);
  return type;
}

}  // namespace

std::vector<std::string> LeadingKeywords(std::string_view sql, size_t count) {
  std::vector<std::string> out;
  for (const Token& t : Lex(sql)) {
    if (out.size() == count) break;
    if (t.kind == Token::Kind::kOpenParen && out.empty()) continue;
    if (t.kind != Token::Kind::kWord) break;
    out.push_back(Upper(t.name));
  }
  return out;
}

TextClass ClassifyText(std::string_view sql) {
  std::vector<std::string> words = LeadingKeywords(sql, 3);
  TextClass out;
  if (words.empty()) {
    out.statement = false;
    out.type = "OTHER";
    return out;
  }
  std::string first = AsciiLower(words[0]);
  if (std::find(std::begin(kStatementKeywords), std::end(kStatementKeywords), first) ==
      std::end(kStatementKeywords)) {
    out.statement = false;
    out.type = words[0];
    return out;
  }
  std::string second = words.size() > 1 ? AsciiLower(words[1]) : "";
  // CREATE [TEMP|TEMPORARY|UNLOGGED] TABLE
  if (first == "create" && (second == "temp" || second == "temporary" || second == "unlogged") &&
      words.size() > 2) {
    second = AsciiLower(words[2]);
  }
  for (const ClassRule& rule : kRules) {
    if (rule.first != first) continue;
    if (!rule.second.empty() && rule.second != second) continue;
    out.allowed = true;
    out.klass = rule.klass;
    out.type = TypeName(first, rule.second);
    return out;
  }
  out.type = first == "create" || first == "alter" || first == "drop" ? TypeName(first, second)
                                                                      : TypeName(first, "");
  return out;
}

TextClass ClassifyTag(std::string_view tag) {
  // The tag's words without trailing counts ("INSERT 0 1" -> "INSERT").
  std::string words;
  for (std::string_view part : SplitNonEmpty(tag, ' ')) {
    if (!part.empty() && std::isdigit(static_cast<unsigned char>(part[0])) != 0) break;
    if (!words.empty()) words += ' ';
    words += std::string(part);
  }
  TextClass out = ClassifyText(words);
  if (words == "SELECT" || words == "EXPLAIN" || words == "SHOW") {
    out.allowed = true;
    out.klass = StatementClass::kRead;
  }
  out.type = words;
  return out;
}

std::string MapSchemaQualifiers(std::string_view sql,
                                const std::map<std::string, std::string>& schemas) {
  if (schemas.empty()) return std::string(sql);
  std::vector<Token> tokens = Lex(sql);
  std::string out;
  size_t copied = 0;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    const Token& t = tokens[i];
    if (t.kind != Token::Kind::kWord && t.kind != Token::Kind::kQuoted) continue;
    if (tokens[i + 1].kind != Token::Kind::kDot) continue;
    if (i > 0 && tokens[i - 1].kind == Token::Kind::kDot) continue;
    auto it = schemas.find(t.name);
    if (it == schemas.end()) continue;
    out.append(sql.substr(copied, t.begin - copied));
    out += QuoteIdent(it->second);
    copied = t.end;
  }
  out.append(sql.substr(copied));
  return out;
}

}  // namespace lakegate::engine::postgres_internal
