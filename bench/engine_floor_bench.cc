// The query engine's floor: `SELECT * FROM members LIMIT 10` through the SQLite
// C API directly (cached and fresh statements) against the same query through
// lakegate's engine for an unrestricted role (fast path) and a column-limited
// role (governed virtual tables). Single thread, in-process, no HTTP.
// Usage: engine_floor_bench DIR [SQL]   (DIR is created; the demo lake is
// built in it; SQL replaces the query, e.g. a scan with LIKE)
//        engine_floor_bench postgresql://... [SQL]
//   the same on the PostgreSQL engine: the demo table is loaded into that
//   database (schema analytics), the floor is libpq with a prepared
//   statement on one connection (PQexecPrepared, as pgbench -M prepared).
#include <libpq-fe.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>

#include "engine/demo_members.h"
#include "engine/engine.h"
#include "engine/postgres/postgres_engine.h"
#include "engine/sqlite/sqlite_engine.h"
#include "policy/policy.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr char kDefaultSql[] = "SELECT * FROM members LIMIT 10";

// Microseconds per call of `fn`, over about one second.
double MicrosPerCall(const std::function<void()>& fn) {
  for (int i = 0; i < 200; ++i) fn();
  int64_t calls = 0;
  auto start = Clock::now();
  auto deadline = start + std::chrono::seconds(1);
  while (Clock::now() < deadline) {
    for (int i = 0; i < 100; ++i) fn();
    calls += 100;
  }
  double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
  return us / static_cast<double>(calls);
}

class CountingSink : public lakegate::engine::ResultSink {
 public:
  lakegate::Status Begin(const std::vector<lakegate::engine::ColumnInfo>&) override { return {}; }
  lakegate::Status Row(const lakegate::engine::RowView& row) override {
    for (size_t i = 0; i < row.size(); ++i) {
      if (row.type(i) == lakegate::engine::ValueType::kText) bytes += row.text(i).size();
    }
    ++rows;
    return {};
  }
  int64_t rows = 0;
  size_t bytes = 0;
};

}  // namespace

int main(int argc, char** argv) {
  namespace lg = lakegate;
  std::string dir = argc > 1 ? argv[1] : "/tmp/lakegate-engine-floor";
  const std::string sql = argc > 2 ? argv[2] : kDefaultSql;
  std::filesystem::create_directories(dir);
  const bool postgres = dir.rfind("postgres", 0) == 0;
  auto engine =
      postgres ? lg::engine::OpenPostgresEngineAt(dir, {}) : lg::engine::OpenSqliteEngine({dir});
  if (!engine.ok()) {
    std::fprintf(stderr, "%s\n", engine.status().ToString().c_str());
    return 1;
  }
  if (auto s = lg::engine::LoadDemoMembers(**engine, 1000); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }

  size_t sink = 0;
  int64_t expected_rows = 0;
  double raw_cached = 0, raw_fresh = 0;
  if (postgres) {
    // The database owner on the raw table, schema-qualified: no governance.
    std::string raw_sql = sql;
    if (raw_sql == kDefaultSql) raw_sql = "SELECT * FROM analytics.members LIMIT 10";
    PGconn* pg = PQconnectdb(dir.c_str());
    PGresult* prepared = PQprepare(pg, "floor", raw_sql.c_str(), 0, nullptr);
    if (PQresultStatus(prepared) != PGRES_COMMAND_OK) {
      std::fprintf(stderr, "%s\n", PQerrorMessage(pg));
      return 1;
    }
    PQclear(prepared);
    auto read_all = [&](PGresult* r) {
      expected_rows = PQntuples(r);
      for (int row = 0; row < PQntuples(r); ++row) {
        for (int i = 0; i < PQnfields(r); ++i) sink += static_cast<size_t>(PQgetlength(r, row, i));
      }
      PQclear(r);
    };
    raw_cached = MicrosPerCall(
        [&] { read_all(PQexecPrepared(pg, "floor", 0, nullptr, nullptr, nullptr, 0)); });
    raw_fresh = MicrosPerCall([&] {
      read_all(PQexecParams(pg, raw_sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0));
    });
    PQfinish(pg);
  } else {
    sqlite3* db = nullptr;
    sqlite3_open_v2((dir + "/analytics.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* cached = nullptr;
    sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &cached, nullptr);
    auto step_all = [&](sqlite3_stmt* st) {
      expected_rows = 0;
      while (sqlite3_step(st) == SQLITE_ROW) {
        ++expected_rows;
        for (int i = 0; i < sqlite3_column_count(st); ++i) {
          if (sqlite3_column_type(st, i) == SQLITE_TEXT)
            sink += static_cast<size_t>(sqlite3_column_bytes(st, i));
        }
      }
    };
    raw_cached = MicrosPerCall([&] {
      step_all(cached);
      sqlite3_reset(cached);
    });
    raw_fresh = MicrosPerCall([&] {
      sqlite3_stmt* st = nullptr;
      sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
      step_all(st);
      sqlite3_finalize(st);
    });
    sqlite3_finalize(cached);
    sqlite3_close(db);
  }

  lg::policy::PolicySnapshot policy;
  policy.version = 1;
  lg::policy::Role super{"super", "", {{"*", "*", lg::policy::kAllPermissions, {}}}};
  lg::policy::Role dev{"dev",
                       "",
                       {{"analytics", "", lg::policy::Bit(lg::policy::Permission::kDescribe), {}},
                        {"analytics",
                         "members",
                         lg::policy::Bit(lg::policy::Permission::kSelect),
                         {lg::policy::ColumnSpec::Kind::kExclude, {"email"}}}}};
  policy.roles.emplace("super", super);
  policy.roles.emplace("dev", dev);
  auto run = [&](const lg::policy::Role& role) {
    lg::engine::QueryRequest request;
    request.sql = sql.c_str();
    request.database = "analytics";
    CountingSink out;
    auto result = (*engine)->Execute(policy, role, request, out);
    if (!result.ok() || out.rows != expected_rows) {
      std::fprintf(stderr, "engine query failed: %s\n", result.status().ToString().c_str());
      std::exit(1);
    }
  };
  double fast = MicrosPerCall([&] { run(super); });
  double governed = MicrosPerCall([&] { run(dev); });

  const char* floor = postgres ? "libpq prepared" : "SQLite cached";
  std::printf("| `%s`, one thread, in-process | µs per query | queries/s | vs %s |\n", sql.c_str(),
              floor);
  std::printf("|---|---:|---:|---:|\n");
  auto row = [&](const char* name, double us) {
    std::printf("| %s | %.1f | %.0f | %.2fx |\n", name, us, 1e6 / us, us / raw_cached);
  };
  row(postgres ? "libpq, prepared statement (the floor)"
               : "SQLite C API, cached statement (the floor)",
      raw_cached);
  row(postgres ? "libpq, statement parsed per query" : "SQLite C API, prepare per query",
      raw_fresh);
  row("lakegate engine, lf-super-user-role (fast path)", fast);
  row("lakegate engine, lf-dev-role (governed, no email)", governed);
  return sink == 0 ? 1 : 0;
}
