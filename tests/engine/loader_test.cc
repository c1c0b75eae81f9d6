// Tests of loading through Engine::Load on the SQLite engine: the CSV/NDJSON
// readers (engine/file_sources.h), type inference and column matching
// (engine/load_driver.h), the all-or-nothing load and name validation.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/file_sources.h"
#include "engine/load.h"
#include "engine/sqlite/guard.h"
#include "engine/sqlite/sqlite_engine.h"
#include "testing/status_matchers.h"

namespace lakegate::engine {
namespace {

namespace fs = std::filesystem;
using lakegate::testing::HasReason;

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lakegate-loader-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    lake_ = dir_ + "/lake";
    // The lake directory does not exist yet: the first load with create
    // makes it, as `lakegate load` does.
    SqliteEngineOptions options;
    options.lake_dir = lake_;
    options.create_if_missing = true;
    auto engine = OpenSqliteEngine(options);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value();
  }
  void TearDown() override {
    engine_.reset();
    fs::remove_all(dir_);
  }

  Result<LoadSummary> Load(const std::string& db, const std::string& table, RowSource& source,
                           bool create, const LoadProgressFn& progress = nullptr) {
    LoadRequest request;
    request.database = db;
    request.table = table;
    request.create = create;
    return engine_->Load(request, source, progress);
  }

  std::string Write(const std::string& name, const std::string& content) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  Result<LoadSummary> LoadCsv(const std::string& table, const std::string& content,
                              bool create = true, const std::string& db = "analytics") {
    auto source = OpenCsvSource(Write(table + ".csv", content));
    if (!source.ok()) return source.status();
    return Load(db, table, **source, create);
  }
  Result<LoadSummary> LoadNdjson(const std::string& table, const std::string& content,
                                 bool create = true) {
    auto source = OpenNdjsonSource(Write(table + ".ndjson", content));
    if (!source.ok()) return source.status();
    return Load("analytics", table, **source, create);
  }

  // Runs `sql` on the raw database; each row as "a|b|NULL" with values
  // rendered as SQLite's typeof:value.
  std::vector<std::string> Query(const std::string& sql, const std::string& db = "analytics") {
    std::vector<std::string> rows;
    sqlite3* h = nullptr;
    EXPECT_EQ(
        sqlite3_open_v2((lake_ + "/" + db + ".db").c_str(), &h, SQLITE_OPEN_READONLY, nullptr),
        SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(h, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(h);
    while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        if (i > 0) row += "|";
        switch (sqlite3_column_type(stmt, i)) {
          case SQLITE_NULL:
            row += "NULL";
            break;
          case SQLITE_INTEGER:
            row += "i:" + std::to_string(sqlite3_column_int64(stmt, i));
            break;
          case SQLITE_FLOAT: {
            char buf[32];
            std::snprintf(buf, sizeof buf, "r:%g", sqlite3_column_double(stmt, i));
            row += buf;
            break;
          }
          default:
            row += "t:" + std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, i)),
                                      static_cast<size_t>(sqlite3_column_bytes(stmt, i)));
        }
      }
      rows.push_back(row);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(h);
    return rows;
  }
  std::string Schema(const std::string& table) {
    auto rows = Query("SELECT sql FROM sqlite_schema WHERE name = '" + table + "'");
    return rows.empty() ? "" : rows[0];
  }
  bool TableExists(const std::string& table) {
    return !Query("SELECT 1 FROM sqlite_schema WHERE name = '" + table + "'").empty();
  }

  std::string dir_;
  std::string lake_;
  std::unique_ptr<Engine> engine_;
};

using Rows = std::vector<std::string>;

TEST_F(LoaderTest, InfersIntegerRealTextAndNulls) {
  auto summary = LoadCsv("t",
                         "id,score,name,zip,empty,mixed\n"
                         "1,1.5,Ada,02134,,7\n"
                         "-2,3,Bo,10001,,x\n"
                         "3,,Chen,,,8\n");
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->rows, 3);
  EXPECT_TRUE(summary->created);
  ASSERT_EQ(summary->columns.size(), 6u);
  std::vector<std::string> types;
  for (const auto& c : summary->columns) types.push_back(c.name + " " + c.type);
  // A leading zero keeps zip codes as TEXT; an all-empty column is TEXT.
  EXPECT_EQ(types, (std::vector<std::string>{"id INTEGER", "score REAL", "name TEXT", "zip TEXT",
                                             "empty TEXT", "mixed TEXT"}));
  EXPECT_EQ(Query("SELECT * FROM t ORDER BY rowid"),
            (Rows{"i:1|r:1.5|t:Ada|t:02134|NULL|t:7", "i:-2|r:3|t:Bo|t:10001|NULL|t:x",
                  "i:3|NULL|t:Chen|NULL|NULL|t:8"}));
}

TEST_F(LoaderTest, QuotedCsvFieldsCommasNewlinesQuotesCrlfAndBom) {
  auto summary = LoadCsv("q",
                         "\xEF\xBB\xBFid,text\r\n"
                         "1,\"Smith, J\"\r\n"
                         "2,\"two\r\nlines\"\r\n"
                         "3,\"say \"\"hi\"\"\"\r\n"
                         "4,\"\"\r\n"
                         "\r\n"
                         "5,a\"b\r\n");
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->rows, 5);
  EXPECT_EQ(summary->columns[0].name, "id");  // the BOM is not part of the name
  EXPECT_EQ(Query("SELECT id, text FROM q ORDER BY id"),
            (Rows{"i:1|t:Smith, J", "i:2|t:two\r\nlines", "i:3|t:say \"hi\"",
                  "i:4|t:",  // a quoted empty field is an empty string, not NULL
                  "i:5|t:a\"b"}));
}

TEST_F(LoaderTest, LastRecordWithoutNewline) {
  ASSERT_TRUE(LoadCsv("n", "a,b\n1,2").ok());
  EXPECT_EQ(Query("SELECT * FROM n"), (Rows{"i:1|i:2"}));
}

TEST_F(LoaderTest, BadFieldCountAbortsWithLineNumberAndCreatesNothing) {
  // Line numbers count physical lines: record 2 spans lines 3-4.
  auto summary = LoadCsv("t", "a,b\n1,2\n3,\"x\ny\"\n5,6,7\n8,9\n");
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(summary.status().message(),
            dir_ + "/t.csv:5: expected 2 fields (the header's), found 3");
  EXPECT_TRUE(HasReason(summary.status(), EngineFailure::kInvalidData));
  EXPECT_FALSE(TableExists("t"));
}

TEST_F(LoaderTest, BadLineLeavesExistingTableUnchanged) {
  ASSERT_TRUE(LoadCsv("t", "id,score\n1,1.5\n2,2.5\n").ok());
  auto summary = LoadCsv("t", "id,score\n3,3.5\n4,4.5\nfive,5\n6,6\n", /*create=*/false);
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(summary.status().message(),
            dir_ + "/t.csv:4: column 'id' is INTEGER but the value 'five' is not an integer");
  EXPECT_TRUE(HasReason(summary.status(), EngineFailure::kInvalidData));
  EXPECT_EQ(Query("SELECT * FROM t ORDER BY id"), (Rows{"i:1|r:1.5", "i:2|r:2.5"}));

  summary = LoadCsv("t", "id,score\n3,abc\n", false);
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().message(),
            dir_ + "/t.csv:2: column 'score' is REAL but the value 'abc' is not a number");
  EXPECT_EQ(Query("SELECT count(*) FROM t"), (Rows{"i:2"}));
}

TEST_F(LoaderTest, ExistingTableAcceptsFittingValues) {
  ASSERT_TRUE(LoadCsv("t", "id,score,name\n1,1.5,a\n").ok());
  // --create with an existing table just loads into it.
  auto summary = LoadCsv("t", "name,id\nb,2\nc,\n", /*create=*/true);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_FALSE(summary->created);
  EXPECT_EQ(summary->columns[0].type, "TEXT");
  EXPECT_EQ(summary->columns[1].type, "INTEGER");
  EXPECT_EQ(Query("SELECT * FROM t ORDER BY rowid"),
            (Rows{"i:1|r:1.5|t:a", "i:2|NULL|t:b", "NULL|NULL|t:c"}));
}

TEST_F(LoaderTest, ConstraintViolationReportsLine) {
  ASSERT_EQ(CreateDatabaseIfMissing(lake_, "analytics"), Status::Ok());
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open((lake_ + "/analytics.db").c_str(), &h), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h, "CREATE TABLE k(id INTEGER PRIMARY KEY, v TEXT NOT NULL)", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(h);
  auto summary = LoadCsv("k", "id,v\n1,a\n2,\n", false);
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(summary.status().message(), dir_ + "/k.csv:3: NOT NULL constraint failed: k.v");
  EXPECT_TRUE(HasReason(summary.status(), EngineFailure::kInvalidData));
  EXPECT_TRUE(Query("SELECT * FROM k").empty());
}

TEST_F(LoaderTest, CsvSyntaxErrors) {
  auto unterminated = LoadCsv("u", "a,b\n1,2\n3,\"open\n4,5\n");
  ASSERT_FALSE(unterminated.ok());
  EXPECT_EQ(unterminated.status().message(),
            dir_ + "/u.csv:3: unterminated quoted field in field 2");
  EXPECT_TRUE(HasReason(unterminated.status(), EngineFailure::kInvalidData));
  auto trailing = LoadCsv("v", "a,b\n1,\"x\"y\n");
  ASSERT_FALSE(trailing.ok());
  EXPECT_EQ(trailing.status().message(),
            dir_ +
                "/v.csv:2: unexpected character after the closing quote of field 2 (a quote "
                "inside a quoted field is written \"\")");
  auto empty = LoadCsv("w", "");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(),
            dir_ + "/w.csv:1: empty file: the first line must name the columns");
  EXPECT_FALSE(TableExists("v"));
}

TEST_F(LoaderTest, HeaderValidation) {
  auto spaced = LoadCsv("h", "id,first name\n1,a\n");
  ASSERT_FALSE(spaced.ok());
  EXPECT_EQ(spaced.status().message(),
            dir_ + "/h.csv:1: invalid column name 'first name': use [A-Za-z_][A-Za-z0-9_]{0,63}");
  auto dup = LoadCsv("h", "id,ID\n1,2\n");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().message(), dir_ + "/h.csv:1: duplicate column 'ID'");
  auto blank = LoadCsv("h", "id,,x\n1,2,3\n");
  ASSERT_FALSE(blank.ok());
  EXPECT_EQ(blank.status().message(),
            dir_ + "/h.csv:1: header field 2 is empty: every column needs a name");
}

TEST_F(LoaderTest, ReservedWordColumnsAreQuoted) {
  auto summary = LoadCsv("kw", "select,from,order_\n1,2,3\n");
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(Schema("kw"),
            "t:CREATE TABLE \"kw\"(\"select\" INTEGER, \"from\" INTEGER, \"order_\" INTEGER)");
  EXPECT_EQ(sqlite_internal::QuoteIdent("a\"b"), "\"a\"\"b\"");
}

TEST_F(LoaderTest, DatabaseAndTableNamesAreValidated) {
  auto bad_db = LoadCsv("t", "a\n1\n", true, "bad-name");
  ASSERT_FALSE(bad_db.ok());
  EXPECT_EQ(bad_db.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_db.status().message(),
            "invalid database name 'bad-name': use [A-Za-z_][A-Za-z0-9_]{0,63}");
  EXPECT_TRUE(HasReason(bad_db.status(), EngineFailure::kInvalidName));
  auto path = Write("x.csv", "a\n1\n");
  for (const std::string& table : std::vector<std::string>{"x;drop", "1abc", "", "sqlite_master",
                                                           "SQLITE_x", std::string(65, 'a')}) {
    auto source = OpenCsvSource(path);
    ASSERT_TRUE(source.ok());
    auto summary = Load("analytics", table, **source, true);
    ASSERT_FALSE(summary.ok()) << table;
    EXPECT_EQ(summary.status().code(), StatusCode::kInvalidArgument) << table;
    EXPECT_EQ(summary.status().message().rfind("invalid table name '", 0), 0u) << table;
    EXPECT_TRUE(HasReason(summary.status(), EngineFailure::kInvalidName)) << table;
  }
  EXPECT_FALSE(fs::exists(lake_ + "/bad-name.db"));
}

TEST_F(LoaderTest, ColumnMismatchListsColumns) {
  ASSERT_TRUE(LoadCsv("t", "id,name\n1,a\n").ok());
  auto summary = LoadCsv("t", "id,nme,extra\n2,b,c\n", false);
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(summary.status().message(),
            dir_ +
                "/t.csv: column(s) nme, extra of the file are not in analytics.t, whose "
                "columns are: id, name");
  EXPECT_TRUE(HasReason(summary.status(), EngineFailure::kInvalidData));
  EXPECT_EQ(Query("SELECT count(*) FROM t"), (Rows{"i:1"}));
}

TEST_F(LoaderTest, MissingTableOrDatabaseWithoutCreate) {
  auto no_db = LoadCsv("t", "a\n1\n", false, "nodb");
  ASSERT_FALSE(no_db.ok());
  EXPECT_EQ(no_db.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(lake_ + "/nodb.db"));  // nothing created
  EXPECT_TRUE(HasReason(no_db.status(), EngineFailure::kNotFound));
  ASSERT_TRUE(LoadCsv("other", "a\n1\n").ok());
  auto no_table = LoadCsv("t", "a\n1\n", false);
  ASSERT_FALSE(no_table.ok());
  EXPECT_EQ(no_table.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(no_table.status().message(),
            "table analytics.t does not exist; pass --create to create it with column types "
            "inferred from the file");
  EXPECT_TRUE(HasReason(no_table.status(), EngineFailure::kNotFound));
}

TEST_F(LoaderTest, DatabaseFileIsCreated0600) {
  ASSERT_TRUE(LoadCsv("t", "a\n1\n").ok());
  struct stat st {};
  ASSERT_EQ(::stat((lake_ + "/analytics.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(lake_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(LoaderTest, NdjsonTypesNestedNullsAndLateKeys) {
  auto summary = LoadNdjson("e",
                            "{\"id\": 1, \"name\": \"a\", \"tags\": [1, 2], \"ok\": true}\n"
                            "\n"
                            "{\"id\": 2, \"name\": null, \"meta\": {\"k\": \"v\"}, \"ok\": false}\n"
                            "{\"id\": 3, \"score\": 2.5, \"code\": \"123\"}\r\n");
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->rows, 3);
  std::vector<std::string> types;
  for (const auto& c : summary->columns) types.push_back(c.name + " " + c.type);
  // Keys in order of first appearance; a JSON string stays TEXT even when it
  // looks like a number; booleans are 1/0.
  EXPECT_EQ(types, (std::vector<std::string>{"id INTEGER", "name TEXT", "tags TEXT", "ok INTEGER",
                                             "meta TEXT", "score REAL", "code TEXT"}));
  EXPECT_EQ(
      Query("SELECT * FROM e ORDER BY id"),
      (Rows{"i:1|t:a|t:[1,2]|i:1|NULL|NULL|NULL", "i:2|NULL|NULL|i:0|t:{\"k\":\"v\"}|NULL|NULL",
            "i:3|NULL|NULL|NULL|NULL|r:2.5|t:123"}));
}

TEST_F(LoaderTest, NdjsonErrorsReportLine) {
  auto invalid = LoadNdjson("e", "{\"a\": 1}\n{\"a\": 2,}\n");
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(invalid.status().message().rfind(dir_ + "/e.ndjson:2: invalid JSON: ", 0), 0u)
      << invalid.status().message();
  auto array = LoadNdjson("e", "{\"a\": 1}\n\n[1]\n");
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().message(), dir_ + "/e.ndjson:3: expected a JSON object, found array");
  EXPECT_TRUE(HasReason(array.status(), EngineFailure::kInvalidData));
  auto dup = LoadNdjson("e", "{\"a\": 1, \"A\": 2}\n");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().message(),
            dir_ + "/e.ndjson:1: key 'A' appears twice (keys are case-insensitive)");
  auto badkey = LoadNdjson("e", "{\"a\": 1}\n{\"a b\": 2}\n");
  ASSERT_FALSE(badkey.ok());
  EXPECT_EQ(badkey.status().message(),
            dir_ + "/e.ndjson:2: invalid column name 'a b': use [A-Za-z_][A-Za-z0-9_]{0,63}");
  EXPECT_FALSE(TableExists("e"));
}

TEST_F(LoaderTest, NdjsonIntoExistingTableRejectsUnknownKeyAtItsLine) {
  ASSERT_TRUE(LoadCsv("t", "id,name\n1,a\n").ok());
  auto ok = LoadNdjson("t", "{\"id\": 2}\n{\"name\": \"c\", \"id\": \"3\"}\n", false);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(Query("SELECT * FROM t ORDER BY id"), (Rows{"i:1|t:a", "i:2|NULL", "i:3|t:c"}));
  auto bad = LoadNdjson("t", "{\"id\": 4}\n{\"id\": 5, \"zzz\": 1}\n", false);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            dir_ +
                "/t.ndjson:2: column(s) zzz of the file are not in analytics.t, whose columns "
                "are: id, name");
  auto nested = LoadNdjson("t", "{\"id\": [1]}\n", false);
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.status().message(),
            dir_ + "/t.ndjson:1: column 'id' is INTEGER but the value '[1]' is not an integer");
  EXPECT_EQ(Query("SELECT count(*) FROM t"), (Rows{"i:3"}));
}

TEST_F(LoaderTest, ProgressReportsBothPhases) {
  std::string csv = "n\n";
  for (int i = 0; i < 20000; ++i) csv += std::to_string(i) + "\n";
  auto source = OpenCsvSource(Write("p.csv", csv));
  ASSERT_TRUE(source.ok());
  std::vector<LoadProgress> seen;
  auto summary =
      Load("analytics", "p", **source, true, [&](const LoadProgress& p) { seen.push_back(p); });
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->rows, 20000);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.front().phase, LoadProgress::Phase::kScanning);
  EXPECT_EQ(seen.back().phase, LoadProgress::Phase::kLoading);
  EXPECT_EQ(seen.back().rows, 20000);
  EXPECT_EQ(seen.back().bytes_read, csv.size());
  EXPECT_EQ(seen.back().total_bytes, csv.size());
  EXPECT_EQ(Query("SELECT count(*), sum(n) FROM p"), (Rows{"i:20000|i:199990000"}));
}

TEST_F(LoaderTest, DeclaredColumnsSkipInferenceAndKeepExistingLoadsNothing) {
  auto path = Write("d.csv", "id,score\n007,1\n");
  LoadRequest request;
  request.database = "analytics";
  request.table = "d";
  request.create = true;
  request.keep_existing = true;
  request.columns = {{"id", "TEXT"}, {"score", "REAL"}, {"note", "TEXT"}};
  auto source = OpenCsvSource(path);
  ASSERT_TRUE(source.ok());
  std::vector<LoadProgress> seen;
  auto summary =
      engine_->Load(request, **source, [&](const LoadProgress& p) { seen.push_back(p); });
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_TRUE(summary->created);
  EXPECT_EQ(summary->rows, 1);
  for (const LoadProgress& p : seen) EXPECT_EQ(p.phase, LoadProgress::Phase::kLoading);
  // The declared types, not inferred ones: "007" stays text, 1 becomes real.
  EXPECT_EQ(Query("SELECT * FROM d"), (Rows{"t:007|r:1|NULL"}));
  // The table exists now: keep_existing leaves it as it is.
  source = OpenCsvSource(path);
  ASSERT_TRUE(source.ok());
  summary = engine_->Load(request, **source, nullptr);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_FALSE(summary->created);
  EXPECT_EQ(summary->rows, 0);
  EXPECT_EQ(Query("SELECT count(*) FROM d"), (Rows{"i:1"}));
  // Declared names and types are checked before anything is written.
  request.table = "e";
  request.columns = {{"id", "TEXT); DROP TABLE d; --"}};
  source = OpenCsvSource(path);
  ASSERT_TRUE(source.ok());
  summary = engine_->Load(request, **source, nullptr);
  EXPECT_TRUE(HasReason(summary.status(), EngineFailure::kInvalidName));
  EXPECT_FALSE(TableExists("e"));
  EXPECT_TRUE(TableExists("d"));
}

TEST_F(LoaderTest, MissingFile) {
  auto source = OpenCsvSource(dir_ + "/nope.csv");
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(source.status().message(), "no such file: " + dir_ + "/nope.csv");
  EXPECT_TRUE(HasReason(source.status(), EngineFailure::kSourceUnreadable));
}

}  // namespace
}  // namespace lakegate::engine
