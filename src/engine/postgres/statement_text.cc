#include "engine/postgres/statement_text.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <iterator>

#include "common/strings.h"
#include "engine/postgres/pg_conn.h"
#include "engine/sql_lexer.h"

namespace lakegate::engine::postgres_internal {
namespace {

using sql::IsWord;
using sql::Token;

std::vector<Token> Lex(std::string_view s) { return sql::Lex(s, sql::Dialect::kPostgres); }

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
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

bool ReadsOnly(const TextClass& text, std::string_view sql) {
  if (!text.allowed || text.klass != StatementClass::kRead) return false;
  if (text.type != "SELECT" && text.type != "WITH" && text.type != "VALUES" &&
      text.type != "TABLE" && text.type != "SHOW") {
    return false;
  }
  constexpr std::string_view kWrites[] = {"insert", "update",  "delete", "merge",
                                          "into",   "nextval", "setval", "pg_notify"};
  const std::vector<Token> tokens = Lex(sql);
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].kind != Token::Kind::kWord) continue;
    const std::string& word = tokens[i].name;
    if (std::find(std::begin(kWrites), std::end(kWrites), word) != std::end(kWrites)) return false;
    // FOR SHARE, FOR KEY SHARE, FOR NO KEY UPDATE (FOR UPDATE above).
    if (word == "for" && i + 1 < tokens.size() &&
        (IsWord(tokens[i + 1], "share") || IsWord(tokens[i + 1], "key") ||
         IsWord(tokens[i + 1], "no"))) {
      return false;
    }
  }
  return true;
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
