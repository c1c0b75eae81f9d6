#include "engine/postgres/statement_text.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
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

bool IsWord(const Token& t, std::string_view word) {
  return t.kind == Token::Kind::kWord && t.name == word;
}

// True when an ALTER statement holds an OWNER TO clause (not a column named
// "owner" being renamed).
bool ChangesOwner(std::string_view sql) {
  std::vector<Token> tokens = Lex(sql);
  for (size_t i = 1; i + 1 < tokens.size(); ++i) {
    if (!IsWord(tokens[i], "owner") || !IsWord(tokens[i + 1], "to")) continue;
    if (IsWord(tokens[i - 1], "column") || IsWord(tokens[i - 1], "rename")) continue;
    return true;
  }
  return false;
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
  if (first == "alter" && ChangesOwner(sql)) {
    // Ownership moves only through the engine's compile: an owner role could
    // otherwise hand a table to a role whose members see it filtered.
    out.type = TypeName(first, second) + " OWNER TO";
    return out;
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

bool IsTableDdl(std::string_view type) {
  return type == "CREATE TABLE" || type == "ALTER TABLE" || type == "DROP TABLE" ||
         type == "CREATE INDEX" || type == "CREATE UNIQUE" || type == "ALTER INDEX" ||
         type == "DROP INDEX";
}

DdlTargets DdlTargetsOf(std::string_view sql) {
  const std::string_view text = sql;
  std::vector<Token> t = Lex(sql);
  size_t i = 0;
  auto at = [&](std::string_view word) { return i < t.size() && IsWord(t[i], word); };
  auto skip = [&](std::initializer_list<std::string_view> words) {
    while (i < t.size() && std::any_of(words.begin(), words.end(),
                                       [&](std::string_view w) { return IsWord(t[i], w); })) {
      ++i;
    }
  };
  auto is_name = [&](size_t k) {
    return k < t.size() && (t[k].kind == Token::Kind::kWord || t[k].kind == Token::Kind::kQuoted);
  };
  // [schema.]name; false for a database-qualified name or no name.
  auto name = [&](RelationName& out) {
    if (!is_name(i)) return false;
    out.name = t[i++].name;
    if (i < t.size() && t[i].kind == Token::Kind::kDot) {
      if (!is_name(i + 1)) return false;
      out.schema = std::move(out.name);
      out.name = t[i + 1].name;
      i += 2;
    }
    return i >= t.size() || t[i].kind != Token::Kind::kDot;
  };
  auto is_comma = [&](size_t k) {
    return k < t.size() && t[k].kind == Token::Kind::kOther && text.substr(t[k].begin, 1) == ",";
  };
  DdlTargets out;
  RelationName target;
  if (at("create")) {
    ++i;
    skip({"global", "local", "temp", "temporary", "unlogged"});
    if (at("table")) {
      ++i;
      if (at("if")) skip({"if", "not", "exists"});
      if (!name(target)) return out;
    } else {
      skip({"unique"});
      if (!at("index")) return out;
      ++i;
      skip({"concurrently"});
      if (at("if")) skip({"if", "not", "exists"});
      if (!at("on")) {
        RelationName index;
        if (!name(index)) return out;
      }
      if (!at("on")) return out;
      ++i;
      skip({"only"});
      if (!name(target)) return out;
    }
  } else if (at("alter")) {
    ++i;
    if (!at("table")) return out;
    ++i;
    if (at("if")) skip({"if", "exists"});
    skip({"only"});
    if (!name(target)) return out;
  } else if (at("drop")) {
    ++i;
    if (!at("table")) return out;
    ++i;
    if (at("if")) skip({"if", "exists"});
    while (true) {
      RelationName dropped;
      if (!name(dropped)) return {};
      out.tables.push_back(std::move(dropped));
      if (!is_comma(i)) break;
      ++i;
    }
    out.parsed = true;
    return out;
  } else {
    return out;
  }
  out.tables.push_back(std::move(target));
  out.parsed = true;
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
