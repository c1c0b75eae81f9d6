// Internal to engine/postgres: what the engine reads from a statement's text
// before PostgreSQL does. Neither function is a security wall -- PostgreSQL's
// privileges, the READ ONLY transaction and the command tag check are -- they
// make statements fail early with the query API's reasons and make qualified
// names resolve like on SQLite. Pure; thread-safe.
//
// The text is read with the engines' SQL lexer in PostgreSQL's rules
// (engine/sql_lexer.h, Dialect::kPostgres); identifiers fold to lower case
// unless quoted.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"

namespace lakegate::engine::postgres_internal {

// The statement's leading keywords (upper case), after comments and opening
// parentheses: up to `count` words ("CREATE", "TABLE"). Empty for no word.
std::vector<std::string> LeadingKeywords(std::string_view sql, size_t count);

// The class of a statement from its leading keywords, and the statements the
// query API never runs (transaction control, session state, LISTEN/NOTIFY,
// PREPARE, cursors, DO, COPY, CALL, ...): false in `allowed`, with the
// statement's name in `type`.
struct TextClass {
  // False when the text starts with no PostgreSQL statement keyword at all
  // (PostgreSQL would answer with a syntax error; so does the engine).
  bool statement = true;
  bool allowed = false;
  StatementClass klass = StatementClass::kRead;
  std::string type;  // "SELECT", "CREATE TABLE", "DO", ...
};
TextClass ClassifyText(std::string_view sql);

// True when a statement ClassifyText() calls a read reads only by its text,
// so that a request of write scope may run it first in a READ ONLY
// transaction (one round trip; PostgreSQL's 25006 sends it on to the write
// path): it starts with SELECT, WITH, VALUES, TABLE or SHOW and holds no
// INSERT, UPDATE, DELETE or MERGE (a data-modifying WITH), no INTO (SELECT
// INTO creates a table), no locking clause (FOR UPDATE / NO KEY UPDATE /
// SHARE / KEY SHARE) and no call of nextval, setval or pg_notify, which
// write (or, for pg_notify, take effect only on COMMIT). Words in strings,
// comments and quoted names do not count; a word anywhere else does, so a
// misjudged read is at worst a write as before. `text` is ClassifyText(sql).
bool ReadsOnly(const TextClass& text, std::string_view sql);

// The class of a statement by the command tag PostgreSQL reported after
// running it ("SELECT 3", "INSERT 0 1", "CREATE TABLE"): `type` is the tag
// without its counts. Tags of statements ClassifyText() refuses are not
// allowed.
TextClass ClassifyTag(std::string_view tag);

// `sql` with every schema qualifier `S.` whose name is a key of `schemas`
// (after PostgreSQL's case folding) replaced by the quoted value: the
// governed schema of that catalog database. Qualifiers inside strings,
// comments and quoted text stay as written. `S.` preceded by another `.`
// (a database-qualified name) is not a schema qualifier and stays.
// True for the DDL statements on tables (and their indexes) that the engine
// runs against the raw schemas: CREATE/ALTER/DROP TABLE, CREATE [UNIQUE]
// INDEX, ALTER/DROP INDEX.
bool IsTableDdl(std::string_view type);

// A relation name as a statement wrote it: `schema` is "" when unqualified.
struct RelationName {
  std::string schema;
  std::string name;
};

// The tables a table DDL statement names, read from its text: the table
// CREATE TABLE creates, the tables DROP TABLE drops, the table ALTER TABLE
// alters and the table CREATE INDEX indexes. `parsed` is false for any other
// statement and for text this reader does not follow (PostgreSQL's
// privileges still decide; the engine then names no table in a denial).
struct DdlTargets {
  bool parsed = false;
  std::vector<RelationName> tables;
};
DdlTargets DdlTargetsOf(std::string_view sql);

std::string MapSchemaQualifiers(std::string_view sql,
                                const std::map<std::string, std::string>& schemas);

}  // namespace lakegate::engine::postgres_internal
