// What the PostgreSQL engine reads from a statement's text before PostgreSQL
// does (engine/postgres/statement_text.h): the DDL targets it checks the
// policy's permissions on, and the statements it refuses outright.
#include <gtest/gtest.h>

#include "engine/postgres/statement_text.h"

namespace lakegate::engine::postgres_internal {
namespace {

std::vector<std::string> Targets(std::string_view sql) {
  DdlTargets t = DdlTargetsOf(sql);
  std::vector<std::string> out;
  if (!t.parsed) return {"<unparsed>"};
  for (const RelationName& n : t.tables) out.push_back(n.schema + "|" + n.name);
  return out;
}

TEST(DdlTargetsTest, NamesTheTablesOfTableDdl) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Targets("CREATE TABLE t(a int)"), V{"|t"});
  EXPECT_EQ(Targets("create unlogged table if not exists Analytics.\"T x\" (a int)"),
            V{"analytics|T x"});
  EXPECT_EQ(Targets("/* c */ DROP TABLE IF EXISTS a.b, c"), (V{"a|b", "|c"}));
  EXPECT_EQ(Targets("ALTER TABLE IF EXISTS ONLY s.t ADD COLUMN c int"), V{"s|t"});
  EXPECT_EQ(Targets("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON ONLY s.t (a)"), V{"s|t"});
  EXPECT_EQ(Targets("CREATE INDEX ON t (a)"), V{"|t"});
  // A database-qualified name or another statement: not followed.
  EXPECT_EQ(Targets("DROP TABLE db.s.t"), V{"<unparsed>"});
  EXPECT_EQ(Targets("DROP VIEW v"), V{"<unparsed>"});
  EXPECT_EQ(Targets("SELECT 1"), V{"<unparsed>"});
  EXPECT_EQ(Targets(""), V{"<unparsed>"});
}

TEST(DdlTargetsTest, OwnershipChangesAreRefused) {
  EXPECT_FALSE(ClassifyText("ALTER TABLE t OWNER TO someone").allowed);
  EXPECT_FALSE(ClassifyText("ALTER TABLE t ADD COLUMN c int, OWNER TO x").allowed);
  EXPECT_TRUE(ClassifyText("ALTER TABLE t RENAME COLUMN owner TO holder").allowed);
  EXPECT_TRUE(ClassifyText("ALTER TABLE t RENAME owner TO holder").allowed);
  EXPECT_TRUE(ClassifyText("ALTER TABLE t ADD COLUMN owner text").allowed);
  for (const char* sql :
       {"CREATE FUNCTION f() RETURNS int AS 'SELECT 1' LANGUAGE sql", "CREATE SEQUENCE s",
        "CREATE TRIGGER x", "CREATE POLICY p ON t", "GRANT SELECT ON t TO PUBLIC",
        "CREATE RULE r AS ON INSERT TO t DO NOTHING"}) {
    SCOPED_TRACE(sql);
    EXPECT_FALSE(ClassifyText(sql).allowed);
  }
  EXPECT_TRUE(IsTableDdl(ClassifyText("CREATE UNIQUE INDEX i ON t(a)").type));
  EXPECT_FALSE(IsTableDdl(ClassifyText("CREATE VIEW v AS SELECT 1").type));
}

TEST(ReadsOnlyTest, ReadsByTheirTextOnly) {
  for (const char* sql :
       {"SELECT * FROM members LIMIT 10", "(SELECT 1)", "with t AS (SELECT 1) SELECT * FROM t",
        "VALUES (1)", "TABLE members", "SHOW work_mem", "SELECT 'insert into x' -- update",
        "SELECT \"update\" FROM t /* delete */", "SELECT $$FOR SHARE$$, E'\\' for'",
        "SELECT * FROM t ORDER BY a FETCH FIRST 3 ROWS ONLY"}) {
    SCOPED_TRACE(sql);
    EXPECT_TRUE(ReadsOnly(ClassifyText(sql), sql));
  }
  for (const char* sql :
       {"INSERT INTO t VALUES (1)", "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
        "WITH u AS (UPDATE t SET a = 1 RETURNING *) SELECT 1", "SELECT * INTO t2 FROM t",
        "SELECT * FROM t FOR UPDATE", "SELECT * FROM t FOR NO KEY UPDATE OF t",
        "SELECT * FROM t FOR SHARE", "select * from t for key share nowait", "SELECT nextval('s')",
        "SELECT SetVal('s', 1)", "SELECT pg_notify('c', 'x')", "EXPLAIN SELECT 1",
        "EXPLAIN ANALYZE DELETE FROM t", "SELECT 1; DELETE FROM t", "CREATE TABLE t AS SELECT 1",
        "COPY t TO STDOUT", "", "frobnicate"}) {
    SCOPED_TRACE(sql);
    EXPECT_FALSE(ReadsOnly(ClassifyText(sql), sql));
  }
}

}  // namespace
}  // namespace lakegate::engine::postgres_internal
