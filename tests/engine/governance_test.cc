// Governance through the sqlite engine: data-cell filters, masks, LF-tags and
// their side channels. The people table has four known rows so every
// expectation is an exact value.
#include <gtest/gtest.h>

#include "common/strings.h"
#include "crypto/hash.h"
#include "engine_test_util.h"

namespace lakegate::engine {
namespace {

using policy::Bit;
using policy::ColumnSpec;
using policy::Permission;
using testing::Lake;
using testing::Outcome;
using testing::SuperRole;

constexpr policy::PermissionSet kSelectDescribe =
    Bit(Permission::kSelect) | Bit(Permission::kDescribe);

class GovernanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(lake_.Build(10).ok());
    for (const char* sql :
         {"CREATE TABLE people(id INTEGER, name TEXT, email TEXT, region TEXT, salary INTEGER, "
          "born TEXT, note TEXT COLLATE NOCASE)",
          "INSERT INTO people VALUES (1, 'Ann', 'ann@x.io', 'eu', 100, '1980-05-01', 'a'), "
          "(2, 'Bob', 'bob@x.io', 'us', 200, '1990-07-15', 'B'), "
          "(3, 'Cy', 'cy@x.io', 'eu', 300, NULL, NULL), "
          "(4, 'Di', NULL, 'ap', 400, 'unknown', 'd')",
          "CREATE TABLE weird(\"select\" TEXT, \"a\"\"b\" INTEGER, v INTEGER)",
          "INSERT INTO weird VALUES ('k', 1, 10), ('x'' OR 1=1 --', 2, 20), ('z', 3, 30)"}) {
      ASSERT_TRUE(lake_.RunAs(SuperRole(), sql, StatementClass::kAdmin).status.ok()) << sql;
    }
  }

  // Adds filter `name` on analytics.`table`.
  void AddFilter(const std::string& name, const std::string& rows, ColumnSpec columns,
                 const std::string& table = "people") {
    policy::DataCellFilter f;
    f.name = name;
    f.database = "analytics";
    f.table = table;
    auto parsed = policy::ParseRowFilter(rows);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    f.rows = *parsed;
    f.columns = std::move(columns);
    lake_.policy().filters[name] = f;
  }

  // Runs `sql` as `role` after a policy change (a new version).
  Outcome As(const policy::Role& role, const std::string& sql, std::vector<Param> params = {}) {
    return lake_.RunAs(role, sql, StatementClass::kRead, "analytics", std::move(params));
  }

  // The rows as "a|b\n" text, for exact comparisons.
  static std::string Rows(const Outcome& o) {
    std::string out;
    for (const auto& r : o.rows) {
      for (size_t i = 0; i < r.size(); ++i) out += (i ? "|" : "") + testing::CellText(r[i]);
      out += "\n";
    }
    return out;
  }

  void Bump() { lake_.policy().version++; }

  Lake lake_;
};

policy::Role FilterRole(std::string name, std::vector<std::string> filters) {
  policy::Role r;
  r.name = std::move(name);
  r.filters = std::move(filters);
  return r;
}

policy::ColumnMask Mask(const std::string& column, policy::MaskKind kind, int64_t n = 4) {
  policy::ColumnMask m;
  m.database = "analytics";
  m.table = "people";
  m.column = column;
  m.kind = kind;
  m.n = n;
  return m;
}

TEST_F(GovernanceTest, SingleRowFilter) {
  AddFilter("eu", "region = 'eu'", {});
  policy::Role r = FilterRole("eu-reader", {"eu"});
  auto o = As(r, "SELECT id, name FROM people ORDER BY id");
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(Rows(o), "1|Ann\n3|Cy\n");
  EXPECT_EQ(Rows(As(r, "SELECT count(*) FROM people")), "2\n");
  EXPECT_EQ(As(r, "SELECT * FROM people LIMIT 1").columns.size(), 7u);
  EXPECT_EQ(Rows(As(r, "SELECT id FROM people WHERE id = 2")), "");
  EXPECT_EQ(Rows(As(r, "SELECT id FROM people WHERE region = 'us'")), "");
  EXPECT_EQ(Rows(As(r, "SELECT id FROM analytics.people LIMIT 1")), "1\n");
  EXPECT_EQ(Rows(As(r, "SELECT sum(salary), max(id) FROM people")), "400|3\n");
  // Only this table: the role sees nothing else, and hidden tables read
  // like missing ones.
  EXPECT_EQ(As(r, "SELECT * FROM members").status.message(), "no such table: members");
  EXPECT_EQ(As(r, "SELECT * FROM hr.salaries").status.message(), "no such table: hr.salaries");
  EXPECT_EQ(As(r, "SELECT * FROM nosuch").status.message(), "no such table: nosuch");
}

TEST_F(GovernanceTest, SeveralFiltersGiveTheUnionOfCells) {
  AddFilter("eu", "region = 'eu'", {ColumnSpec::Kind::kInclude, {"id", "name", "region"}});
  AddFilter("big", "salary >= 300", {ColumnSpec::Kind::kInclude, {"id", "salary"}});
  policy::Role r = FilterRole("union", {"eu", "big"});
  auto o = As(r, "SELECT * FROM people ORDER BY id");
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  ASSERT_EQ(o.columns.size(), 4u);
  EXPECT_EQ(o.columns[3].name, "salary");
  // Row 2 is in no filter; in row 1 salary is not covered, in row 4 name and
  // region are not: they read NULL.
  EXPECT_EQ(Rows(o), "1|Ann|eu|NULL\n3|Cy|eu|300\n4|NULL|NULL|400\n");
  struct Case {
    const char* sql;
    const char* rows;
  } cases[] = {
      {"SELECT count(*) FROM people", "3\n"},
      {"SELECT id FROM people WHERE salary = 100", ""},
      {"SELECT id FROM people WHERE salary IS NULL", "1\n"},
      {"SELECT id FROM people WHERE salary > 50 ORDER BY id", "3\n4\n"},
      {"SELECT id FROM people WHERE salary = '300'", "3\n"},
      {"SELECT id FROM people WHERE name IS NULL", "4\n"},
      {"SELECT count(*) FROM people WHERE region = 'ap'", "0\n"},
      {"SELECT count(*) FROM people WHERE region = 'us'", "0\n"},
      {"SELECT sum(salary), min(salary), count(salary) FROM people", "700|300|2\n"},
      {"SELECT group_concat(name, ',') FROM (SELECT name FROM people ORDER BY id)", "Ann,Cy\n"},
      {"SELECT id FROM people ORDER BY salary DESC, id LIMIT 1", "4\n"},
      {"SELECT region, count(*) FROM people GROUP BY region ORDER BY region", "NULL|1\neu|2\n"},
      {"SELECT id, sum(salary) OVER () FROM people ORDER BY id", "1|700\n3|700\n4|700\n"},
      {"SELECT id, lag(salary) OVER (ORDER BY id) FROM people ORDER BY id",
       "1|NULL\n3|NULL\n4|300\n"},
      {"SELECT (SELECT salary FROM people WHERE id = 1)", "NULL\n"},
      {"WITH c AS (SELECT salary s FROM people) SELECT sum(s) FROM c", "700\n"},
      {"SELECT count(*) FROM people a JOIN people b ON a.salary = b.salary", "2\n"},
      {"SELECT id FROM people WHERE id IN (SELECT id FROM people WHERE salary < 250)", ""},
      {"SELECT count(*) FROM people WHERE id = 2", "0\n"},
      {"SELECT id FROM people WHERE salary BETWEEN 100 AND 200", ""},
  };
  for (const auto& c : cases) {
    auto q = As(r, c.sql);
    ASSERT_TRUE(q.status.ok()) << c.sql << ": " << q.status.ToString();
    EXPECT_EQ(Rows(q), c.rows) << c.sql;
    EXPECT_EQ(q.dump.find("Bob"), std::string::npos) << c.sql;
  }
  // Bound parameters push down the same way.
  EXPECT_EQ(Rows(As(r, "SELECT id FROM people WHERE salary = ?1", {int64_t{100}})), "");
  EXPECT_EQ(Rows(As(r, "SELECT id FROM people WHERE salary = ?1", {int64_t{400}})), "4\n");
  // email, born and note are covered by no filter: no such column.
  EXPECT_EQ(As(r, "SELECT email FROM people").status.message(), "no such column: email");
}

// The deepest filters the language accepts (kRowFilterDialect's max_depth),
// in the shapes that cost SQLite's parser most, run where the compiled view
// puts them: OR-ed with the role's other filter, and in the CASE WHEN of the
// columns only some filters cover, with a pushed comparison on such a column.
// A long chain of ORs reads flat. Every shape means region = 'eu' (or, for
// the chain, one of its terms), so the rows are exact.
TEST_F(GovernanceTest, DeepestFiltersRun) {
  const int depth = 20;
  auto nest = [](int levels, const std::string& open, const std::string& close,
                 const std::string& inner) {
    std::string text = inner;
    for (int i = 0; i < levels; ++i) text = open + text + close;
    return text;
  };
  std::string alternating = "region = 'eu'";
  for (int i = 0; i < depth; ++i) {
    alternating = i % 2 ? "(region = 'eu' OR " + alternating + ")"
                        : "(region = 'eu' AND " + alternating + ")";
  }
  std::string chain = "region = 'x0'";
  for (int i = 1; chain.size() < 1900; ++i) chain += " OR region = 'x" + std::to_string(i) + "'";
  chain += " OR region = 'eu'";
  const std::string shapes[] = {
      alternating,
      nest(depth / 2, "NOT (id > 99 OR ", ")", "region LIKE 'E%'"),
      nest(depth, "(", ")", "region IN ('eu', 'xx') AND name NOT LIKE 'b%'"),
      nest(depth, "NOT ", "", "region = 'eu'"),
      chain,
  };
  for (const std::string& rows : shapes) {
    SCOPED_TRACE(rows.substr(0, 80));
    ASSERT_TRUE(policy::ParseRowFilter(rows).ok());
    lake_.policy().filters.clear();
    AddFilter("deep", rows, {ColumnSpec::Kind::kInclude, {"id", "name", "region"}});
    AddFilter("big", "salary >= 400", {ColumnSpec::Kind::kInclude, {"id", "salary"}});
    Bump();
    policy::Role r = FilterRole("deep-reader", {"deep", "big"});
    auto o = As(r, "SELECT id, name, salary FROM people ORDER BY id");
    ASSERT_TRUE(o.status.ok()) << o.status.ToString();
    EXPECT_EQ(Rows(o), "1|Ann|NULL\n3|Cy|NULL\n4|NULL|400\n");
    EXPECT_EQ(Rows(As(r, "SELECT id FROM people WHERE name = 'Cy'")), "3\n");
  }
  // One level more is refused when the filter is parsed.
  EXPECT_FALSE(policy::ParseRowFilter(nest(depth + 1, "(", ")", "id = 1")).ok());
}

// The deepest mask expressions the language accepts, in the shapes that
// cost SQLite's parser most, run where the compiled view puts them: in the
// CASE WHEN of a column only some filters cover, with a pushed comparison on
// it. Every shape gives the name itself, so the rows are exact.
TEST_F(GovernanceTest, DeepestMasksRun) {
  AddFilter("eu", "region = 'eu'", {ColumnSpec::Kind::kInclude, {"id", "name", "region"}});
  AddFilter("big", "salary >= 400", {ColumnSpec::Kind::kInclude, {"id", "salary"}});
  struct Shape {
    const char* open;
    const char* close;
  };
  const Shape shapes[] = {
      {"CASE WHEN id > 0 THEN ", " END"},
      {"CASE WHEN id < 0 THEN NULL ELSE ", " END"},
      {"coalesce(NULL, ", ")"},
      {"substr(", ", 1)"},
      {"trim(", ")"},
      {"('' || ", ")"},
      {"ifnull(", ", 'x')"},
      {"nullif(", ", 'zz')"},
      {"replace(", ", 'Q', 'Q')"},
      {"CASE ", " WHEN 'zz' THEN NULL ELSE name END"},
      {"CASE WHEN (", ") IS NULL THEN NULL ELSE name END"},
  };
  int deepest = 0;
  for (const Shape& shape : shapes) {
    // Nested as deep as the language accepts.
    std::string text = "name";
    int levels = 0;
    for (std::string deeper;
         policy::ParseMaskExpression(deeper = std::string(shape.open) + text + shape.close).ok();
         ++levels) {
      text = std::move(deeper);
    }
    deepest = std::max(deepest, levels);
    SCOPED_TRACE(std::to_string(levels) + " levels: " + text.substr(0, 80));
    policy::ColumnMask mask = Mask("name", policy::MaskKind::kExpression);
    mask.expression = text;
    policy::Role r = FilterRole("deep-masked", {"eu", "big"});
    r.masks = {mask};
    Bump();
    auto o = As(r, "SELECT id, name, salary FROM people ORDER BY id");
    EXPECT_TRUE(o.status.ok()) << o.status.ToString();
    EXPECT_EQ(Rows(o), "1|Ann|NULL\n3|Cy|NULL\n4|NULL|400\n");
    EXPECT_EQ(Rows(As(r, "SELECT id FROM people WHERE name = 'Cy'")), "3\n");
  }
  EXPECT_GE(deepest, 8) << "the shapes nest";
}

TEST_F(GovernanceTest, PlainGrantAndFilterCombine) {
  // name on every row through a grant; salary only in eu rows.
  AddFilter("eu", "region = 'eu'", {ColumnSpec::Kind::kInclude, {"salary"}});
  policy::Role r = FilterRole("mixed", {"eu"});
  r.grants.push_back(
      {"analytics", "people", kSelectDescribe, {ColumnSpec::Kind::kInclude, {"id", "name"}}});
  auto o = As(r, "SELECT * FROM people ORDER BY id");
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(Rows(o), "1|Ann|100\n2|Bob|NULL\n3|Cy|300\n4|Di|NULL\n");
  EXPECT_EQ(Rows(As(r, "SELECT count(*) FROM people WHERE salary > 150")), "1\n");
}

TEST_F(GovernanceTest, MasksOfEachKind) {
  policy::Role r;
  r.name = "masked";
  r.grants.push_back({"analytics", "people", kSelectDescribe, {}});
  r.masks = {
      Mask("name", policy::MaskKind::kRedact),        Mask("salary", policy::MaskKind::kRedact),
      Mask("email", policy::MaskKind::kShowLastN, 4), Mask("born", policy::MaskKind::kYearOnly),
      Mask("region", policy::MaskKind::kNull),        Mask("note", policy::MaskKind::kExpression)};
  auto o = As(r, "SELECT * FROM people ORDER BY id");
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(Rows(o),
            "1|xxx|xxxxx.io|NULL|0|1980|NULL\n"
            "2|xxx|xxxxx.io|NULL|0|1990|NULL\n"
            "3|xx|xxxx.io|NULL|0|NULL|NULL\n"
            "4|xx|NULL|NULL|0|NULL|NULL\n");
  struct Case {
    const char* sql;
    const char* rows;
  } cases[] = {
      // Predicates, ordering, grouping and aggregates see the masked value.
      {"SELECT id FROM people WHERE name = 'Ann'", ""},
      {"SELECT id FROM people WHERE name = 'xxx' ORDER BY id", "1\n2\n"},
      {"SELECT id FROM people WHERE salary = 100", ""},
      {"SELECT count(*) FROM people WHERE salary = 0", "4\n"},
      {"SELECT count(*) FROM people WHERE salary > 50", "0\n"},
      {"SELECT count(*) FROM people WHERE salary = '100'", "0\n"},
      {"SELECT max(salary), sum(salary), avg(salary) FROM people", "0|0|0\n"},
      {"SELECT id FROM people ORDER BY salary DESC, id LIMIT 1", "1\n"},
      {"SELECT name, count(*) FROM people GROUP BY name ORDER BY name", "xx|2\nxxx|2\n"},
      {"SELECT id FROM people WHERE born LIKE '1980%'", "1\n"},
      {"SELECT id FROM people WHERE born = '1980-05-01'", ""},
      {"SELECT id FROM people WHERE born > '1985' ORDER BY id", "2\n"},
      {"SELECT count(*) FROM people WHERE region IS NULL", "4\n"},
      {"SELECT count(*) FROM people WHERE email LIKE 'ann%'", "0\n"},
      {"SELECT count(*) FROM people WHERE length(name) = 3", "2\n"},
      {"SELECT count(*) FROM people WHERE note = 'a'", "0\n"},
      {"SELECT id, first_value(salary) OVER (ORDER BY id) FROM people LIMIT 1", "1|0\n"},
      {"SELECT count(*) FROM people a JOIN people b ON a.salary = b.salary", "16\n"},
      {"SELECT (SELECT max(salary) FROM people)", "0\n"},
      {"WITH c AS (SELECT salary s, name n FROM people) SELECT sum(s), max(n) FROM c", "0|xxx\n"},
      {"SELECT count(*) FROM people WHERE salary IN (100, 200)", "0\n"},
      {"SELECT count(*) FROM people WHERE substr(email, 1, 3) = 'ann'", "0\n"},
  };
  for (const auto& c : cases) {
    auto q = As(r, c.sql);
    ASSERT_TRUE(q.status.ok()) << c.sql << ": " << q.status.ToString();
    EXPECT_EQ(Rows(q), c.rows) << c.sql;
    for (const char* raw : {"Ann", "Bob", "ann@", "05-01", "100", "eu"}) {
      EXPECT_EQ(q.dump.find(raw), std::string::npos) << c.sql << " leaked " << raw;
    }
  }
  EXPECT_EQ(Rows(As(r, "SELECT count(*) FROM people WHERE salary = ?1", {int64_t{100}})), "0\n");
  EXPECT_EQ(Rows(As(r, "SELECT count(*) FROM people WHERE name = ?1", {std::string("Ann")})),
            "0\n");
}

TEST_F(GovernanceTest, HashMaskIsKeyedAndJoinable) {
  auto keyed = OpenSqliteEngine(SqliteEngineOptions{lake_.dir(), 4, "test-key"});
  ASSERT_TRUE(keyed.ok());
  policy::Role r;
  r.name = "hasher";
  r.grants.push_back({"analytics", "people", kSelectDescribe, {}});
  r.masks = {Mask("email", policy::MaskKind::kHash)};
  QueryRequest req;
  req.sql = "SELECT email FROM people ORDER BY id";
  req.database = "analytics";
  testing::CollectingSink sink;
  auto result = (*keyed)->Execute(lake_.policy(), r, req, sink);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(sink.rows().size(), 4u);
  EXPECT_EQ(std::get<std::string>(sink.rows()[0][0]),
            HexEncode(crypto::HmacSha256("test-key", "ann@x.io")));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(sink.rows()[3][0]));
  EXPECT_EQ(sink.Dump().find("@x.io"), std::string::npos);
  // On the default engine (a random key): not the raw value, not the
  // unkeyed digest, equal values hash equally.
  auto o = As(r, "SELECT email, length(email) FROM people WHERE id = 1");
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  std::string h = std::get<std::string>(o.rows[0][0]);
  EXPECT_EQ(h.size(), 64u);
  EXPECT_NE(h, HexEncode(crypto::Sha256("ann@x.io")));
  EXPECT_NE(h, HexEncode(crypto::HmacSha256("test-key", "ann@x.io")));
  EXPECT_EQ(Rows(As(r, "SELECT count(*) FROM people a JOIN people b ON a.email = b.email")), "3\n");
  EXPECT_EQ(Rows(As(r, "SELECT count(*) FROM people WHERE email = '" + h + "'")), "1\n");
  EXPECT_EQ(Rows(As(r, "SELECT count(*) FROM people WHERE email = 'ann@x.io'")), "0\n");
  // The hash function is not callable from user SQL.
  auto direct = As(r, "SELECT lakegate_mask_hash('x')");
  EXPECT_EQ(direct.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(direct.status.message(), "no such function: lakegate_mask_hash");
}

TEST_F(GovernanceTest, MaskedFilteredColumnCombines) {
  AddFilter("eu", "region = 'eu'", {ColumnSpec::Kind::kInclude, {"id", "salary"}});
  AddFilter("all", "", {ColumnSpec::Kind::kInclude, {"id"}});
  policy::Role r = FilterRole("both", {"eu", "all"});
  r.masks = {Mask("salary", policy::MaskKind::kShowLastN, 1)};
  auto o = As(r, "SELECT id, salary FROM people ORDER BY id");
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(Rows(o), "1|xx0\n2|NULL\n3|xx0\n4|NULL\n");
  EXPECT_EQ(Rows(As(r, "SELECT count(*) FROM people WHERE salary = 'xx0'")), "2\n");
  EXPECT_EQ(Rows(As(r, "SELECT count(*) FROM people WHERE salary = 100")), "0\n");
}

TEST_F(GovernanceTest, TagGrants) {
  auto& p = lake_.policy();
  p.tag_keys = {{"domain", {"sales", "hr"}}, {"sensitivity", {"public", "pii"}}};
  p.tag_assignments = {{"analytics", "", "", "domain", "sales"},
                       {"analytics", "people", "", "sensitivity", "public"},
                       {"analytics", "people", "email", "sensitivity", "pii"},
                       {"hr", "", "", "domain", "hr"}};
  policy::Role r;
  r.name = "tagged";
  r.tag_grants.push_back({{{{"domain", {"sales"}}, {"sensitivity", {"public"}}}}, kSelectDescribe});
  auto o = As(r, "SELECT * FROM people WHERE id = 1");
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.columns.size(), 6u);  // email is pii (nearest assignment wins)
  EXPECT_EQ(Rows(o), "1|Ann|eu|100|1980-05-01|a\n");
  EXPECT_EQ(As(r, "SELECT email FROM people").status.message(), "no such column: email");
  EXPECT_EQ(As(r, "SELECT * FROM weird").status.message(), "no such table: weird");
  EXPECT_EQ(As(r, "SELECT * FROM hr.salaries").status.message(), "no such table: hr.salaries");
  // Tagging a table makes it visible without a new grant (new snapshot).
  p.tag_assignments.push_back({"analytics", "weird", "", "sensitivity", "public"});
  Bump();
  auto w = As(r, "SELECT v FROM weird ORDER BY v");
  ASSERT_TRUE(w.status.ok()) << w.status.ToString();
  EXPECT_EQ(Rows(w), "10\n20\n30\n");
  // OR across values of a key.
  policy::Role any;
  any.name = "any-sensitivity";
  any.tag_grants.push_back({{{{"sensitivity", {"public", "pii"}}}}, kSelectDescribe});
  EXPECT_EQ(Rows(As(any, "SELECT email FROM people WHERE id = 2")), "bob@x.io\n");
  auto catalog = lake_.engine().Catalog(p, r);
  ASSERT_TRUE(catalog.ok());
  ASSERT_EQ(catalog->size(), 1u);
  ASSERT_EQ((*catalog)[0].tables.size(), 2u);
  EXPECT_EQ((*catalog)[0].tables[0].name, "people");
  EXPECT_EQ((*catalog)[0].tables[0].columns.size(), 6u);
  EXPECT_EQ((*catalog)[0].tables[1].name, "weird");
}

TEST_F(GovernanceTest, InjectionAttemptsStayData) {
  // A string literal with quotes and SQL in it is one literal.
  AddFilter("quote", "\"select\" = 'x'' OR 1=1 --'", {}, "weird");
  policy::Role r = FilterRole("quoter", {"quote"});
  auto o = As(r, "SELECT \"a\"\"b\", v FROM weird");
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(Rows(o), "2|20\n");
  // Columns named like SQL are quoted identifiers.
  AddFilter("odd", "\"a\"\"b\" IN (1, 3) AND \"select\" <> 'z'", {}, "weird");
  Bump();
  policy::Role odd = FilterRole("odd", {"odd"});
  EXPECT_EQ(Rows(As(odd, "SELECT \"select\", v FROM weird")), "k|10\n");
  // A filter that names a missing column (e.g. rowid) covers nothing.
  AddFilter("rowid", "rowid = 1", {}, "weird");
  Bump();
  EXPECT_EQ(As(FilterRole("rowid", {"rowid"}), "SELECT * FROM weird").status.message(),
            "no such table: weird");
  // Filters compare without affinity: the integer column is not the text '1'.
  AddFilter("text", "\"a\"\"b\" = '1'", {}, "weird");
  Bump();
  EXPECT_EQ(Rows(As(FilterRole("text", {"text"}), "SELECT count(*) FROM weird")), "0\n");
  // Collation of the raw column does not leak into the filter (BINARY).
  AddFilter("nocase", "note = 'b'", {}, "people");
  Bump();
  EXPECT_EQ(Rows(As(FilterRole("nocase", {"nocase"}), "SELECT count(*) FROM people")), "0\n");
}

TEST_F(GovernanceTest, PolicyChangeAppliesToNewQueries) {
  AddFilter("f", "region = 'eu'", {});
  policy::Role r = FilterRole("changing", {"f"});
  EXPECT_EQ(Rows(As(r, "SELECT count(*) FROM people")), "2\n");
  AddFilter("f", "region = 'us'", {});
  Bump();
  EXPECT_EQ(Rows(As(r, "SELECT id FROM people")), "2\n");
  r.masks = {Mask("name", policy::MaskKind::kNull)};
  Bump();
  EXPECT_EQ(Rows(As(r, "SELECT id, name FROM people")), "2|NULL\n");
}

// SQLite answers some OR queries with a union of index scans keyed by rowid:
// governed rowids must be unique per row (rowid and WITHOUT ROWID tables).
TEST_F(GovernanceTest, OrQueriesKeepEveryRow) {
  for (const char* sql : {"CREATE TABLE kv(k TEXT, n INTEGER, v INTEGER, PRIMARY KEY(k, n)) "
                          "WITHOUT ROWID",
                          "INSERT INTO kv VALUES ('a', 1, 10), ('b', 1, 20), ('b', 2, 30)"}) {
    ASSERT_TRUE(lake_.RunAs(SuperRole(), sql, StatementClass::kAdmin).status.ok()) << sql;
  }
  policy::Role r;
  r.name = "or-reader";
  r.grants.push_back({"analytics", "*", kSelectDescribe, {ColumnSpec::Kind::kExclude, {"note"}}});
  EXPECT_EQ(Rows(As(r, "SELECT count(*) FROM people WHERE name > 'Bz' OR salary >= 100")), "4\n");
  EXPECT_EQ(Rows(As(r, "SELECT id FROM people WHERE region = 'us' OR id = 4 ORDER BY id")),
            "2\n4\n");
  EXPECT_EQ(Rows(As(r, "SELECT v FROM kv WHERE k > 'a' OR v = 10 ORDER BY v")), "10\n20\n30\n");
  EXPECT_EQ(Rows(As(r, "SELECT count(*) FROM kv WHERE n = 2 OR k = 'a'")), "2\n");
  // The rowid itself is not readable (it may alias a column).
  auto ids = As(r, "SELECT rowid FROM people WHERE id = 1");
  EXPECT_EQ(ids.status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ids.status.message(), "access to analytics.people.ROWID is prohibited");
}

TEST_F(GovernanceTest, RestrictedRolesCannotWriteThroughFiltersOrMasks) {
  AddFilter("eu", "region = 'eu'", {});
  // Writes are granted on the table, but SELECT only through a row filter.
  policy::Role r = FilterRole("writer", {"eu"});
  r.grants.push_back({"analytics",
                      "people",
                      Bit(Permission::kInsert) | Bit(Permission::kUpdate) |
                          Bit(Permission::kDelete) | Bit(Permission::kDescribe),
                      {}});
  for (const char* sql : {"INSERT INTO people(id) VALUES (9)", "DELETE FROM people",
                          "UPDATE people SET salary = 0"}) {
    auto o = lake_.RunAs(r, sql, StatementClass::kWrite);
    EXPECT_EQ(o.status.code(), StatusCode::kPermissionDenied) << sql;
    EXPECT_NE(o.status.message().find("a restricted role writes only whole tables"),
              std::string::npos)
        << o.status.message();
  }
  // A full grant subsumes the filter (union of cells): the role sees the
  // whole table and may write it.
  policy::Role full = r;
  full.name = "full-writer";
  full.grants.push_back({"analytics", "people", kSelectDescribe, {}});
  auto ins = lake_.RunAs(full, "INSERT INTO people(id) VALUES (9)", StatementClass::kWrite);
  ASSERT_TRUE(ins.status.ok()) << ins.status.ToString();
  EXPECT_EQ(ins.result.changes, 1);
  ASSERT_TRUE(
      lake_.RunAs(full, "DELETE FROM people WHERE id = 9", StatementClass::kWrite).status.ok());
  // A super role with a mask is governed, not direct: the mask holds and
  // writes of the masked table are refused.
  policy::Role super = SuperRole();
  super.name = "masked-super";
  super.masks = {Mask("email", policy::MaskKind::kNull)};
  EXPECT_EQ(Rows(lake_.RunAs(super, "SELECT email FROM people WHERE id = 1")), "NULL\n");
  EXPECT_EQ(
      lake_.RunAs(super, "DELETE FROM analytics.people", StatementClass::kWrite).status.code(),
      StatusCode::kPermissionDenied);
  EXPECT_EQ(Rows(lake_.RunAs(SuperRole(), "SELECT count(*) FROM people")), "4\n");
}

}  // namespace
}  // namespace lakegate::engine
