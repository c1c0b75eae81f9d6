// Runs the data-driven cases in tests/sql/*.test against an engine: SQLite
// (sql_cases_test); built with LAKEGATE_SQL_CASES_POSTGRES, the PostgreSQL
// engine on the ctest fixture's server (sql_cases_postgres_test); built with
// LAKEGATE_SQL_CASES_TRINO, the Trino engine on the ctest fixture's cluster
// (sql_cases_trino_test), with this process as the cluster's decision point
// (trino::OpaDecider over the case's policy, on the port the cluster asks)
// and its token issuer (a key of its own in the cluster's jwt-keys/).
//
// Format (DuckDB sqllogictest-like; the same files can run against another
// engine with the same lake and roles):
//   # comment
//   statement ok [role=dev|super] [scope=read|write|admin] [db=NAME]
//   <SQL, one or more lines, ended by a blank line>
//
//   statement error [options]
//   <SQL>
//   ----
//   <text the error's "CODE: message" (or its reason, "engine.NAME") must contain>
//
//   query [options]
//   <SQL>
//   ----
//   <one line per row, cells joined by '|', NULL for null>
// Defaults: role=dev scope=read db=analytics.
// `engines=sqlite` (or postgresql) runs a case on those engines only: SQL
// written in one engine's dialect (pragma_table_info, typeof, x'' blobs).
// A second expectation block after a line "---- postgresql" (or "---- trino")
// replaces the expectation on that engine (e.g. a fail-closed error where
// SQLite answers, Trino's wording of an error); its first line "error" makes
// the case an error case there, and a first line "skip: REASON" skips the
// case there (a statement that engine cannot run: Hive tables on Trino have
// no UPDATE). Every skipped case is printed with its reason.
// On Trino, a CREATE TABLE's column types are spelled in Trino's words
// (TEXT -> varchar, REAL -> double, BLOB -> varbinary): Trino has no TEXT type.
//
// Roles: "dev" (lf-dev-role) and "super" (lf-super-user-role) always exist;
// a policy block adds roles, filters, masks and tags to the snapshot (blocks
// accumulate; each one makes a new policy version):
//   policy
//   role NAME                                  declares an empty role
//   grant ROLE DB TABLE PERMS [COLUMNS]        PERMS: SELECT,DESCRIBE,INSERT,... or ALL
//   filter NAME DB TABLE COLUMNS [ROW FILTER]  the rest of the line is the row filter
//                                              (empty = all rows)
//   grant-filter ROLE FILTER                   SELECT through a data-cell filter
//   mask ROLE DB TABLE COLUMN KIND [N|EXPR]    KIND: null redact hash show_last_n
//                                              year_only expression (EXPR: the rest of the line)
//   tag-key KEY V1,V2,...
//   tag DB[.TABLE[.COLUMN]] KEY VALUE          an LF-tag assignment
//   tag-grant ROLE PERMS KEY=V1,V2 [KEY=V...]  AND across keys, OR across values
//   (blank line)
// COLUMNS is "all", "include:a,b" or "exclude:a,b". Grants use "*" for every
// database or table. `query role=NAME` and `statement ... role=NAME` then run
// as that role.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

// engine_test_util.h builds SqliteEngineOptions without its newest field.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include "engine_test_util.h"
#pragma GCC diagnostic pop
#ifdef LAKEGATE_SQL_CASES_POSTGRES
#include "engine/postgres/postgres_engine.h"
#include "store/postgres_test_server.h"
#endif
#ifdef LAKEGATE_SQL_CASES_TRINO
#include <nlohmann/json.hpp>
#include <regex>

#include "common/clock.h"
#include "common/files.h"
#include "common/random.h"
#include "common/strings.h"
#include "common/thread_annotations.h"
#include "crypto/keys.h"
#include "engine/trino/trino_engine.h"
#include "http/server.h"
#include "jose/jws.h"
#include "trino/file_metastore.h"
#include "trino/opa_decider.h"
#endif

namespace lakegate::engine {
namespace {

using testing::Lake;

#if defined(LAKEGATE_SQL_CASES_POSTGRES)
constexpr const char* kEngine = "postgresql";
#elif defined(LAKEGATE_SQL_CASES_TRINO)
constexpr const char* kEngine = "trino";
#else
constexpr const char* kEngine = "sqlite";
#endif

struct Case {
  int line = 0;
  bool runs = true;         // on this engine (engines=..., "skip: ...")
  std::string skip_reason;  // why not, when it does not
  std::string kind;         // "ok", "error", "query", "policy"
  std::string role = "dev";
  StatementClass scope = StatementClass::kRead;
  std::string db = "analytics";
  std::string sql;
  std::vector<std::string> expected;
};

std::vector<Case> Parse(const std::string& path) {
  std::ifstream in(path);
  std::vector<Case> cases;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream header(line);
    std::string word;
    header >> word;
    Case c;
    c.line = number;
    if (word == "statement") {
      header >> c.kind;
    } else if (word == "policy") {
      c.kind = "policy";
      while (std::getline(in, line)) {
        ++number;
        if (line.empty()) break;
        c.expected.push_back(line);
      }
      cases.push_back(std::move(c));
      continue;
    } else if (word == "query") {
      c.kind = "query";
    } else {
      ADD_FAILURE() << path << ":" << number << ": unknown directive " << line;
      return {};
    }
    while (header >> word) {
      if (word.rfind("role=", 0) == 0) c.role = word.substr(5);
      if (word == "scope=write") c.scope = StatementClass::kWrite;
      if (word == "scope=admin") c.scope = StatementClass::kAdmin;
      if (word.rfind("db=", 0) == 0) c.db = word.substr(3);
      if (word.rfind("engines=", 0) == 0) {
        c.runs = ("," + word.substr(8) + ",").find(std::string(",") + kEngine + ",") !=
                 std::string::npos;
        if (!c.runs) c.skip_reason = "written for " + word.substr(8) + " only (" + word + ")";
      }
    }
    bool expecting = false;
    bool other_engine = false;  // inside a "---- <engine>" block of another engine
    bool replaced = false;
    while (std::getline(in, line)) {
      ++number;
      if (line.empty()) break;
      if (line == "----") {
        expecting = true;
        continue;
      }
      if (line.rfind("---- ", 0) == 0) {
        other_engine = line.substr(5) != kEngine;
        if (!other_engine) {
          c.expected.clear();
          replaced = true;
          expecting = true;
        }
        continue;
      }
      if (other_engine) continue;
      if (replaced && c.expected.empty() && line == "error") {
        c.kind = "error";
        continue;
      }
      if (replaced && c.expected.empty() && line.rfind("skip: ", 0) == 0) {
        c.runs = false;
        c.skip_reason = line.substr(6);
        continue;
      }
      if (expecting) {
        c.expected.push_back(line);
      } else {
        c.sql += (c.sql.empty() ? "" : "\n") + line;
      }
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (!part.empty()) out.push_back(part);
  }
  return out;
}

policy::ColumnSpec ParseColumns(const std::string& s) {
  policy::ColumnSpec spec;
  if (s.rfind("include:", 0) == 0) {
    spec.kind = policy::ColumnSpec::Kind::kInclude;
    spec.columns = SplitList(s.substr(8));
  } else if (s.rfind("exclude:", 0) == 0) {
    spec.kind = policy::ColumnSpec::Kind::kExclude;
    spec.columns = SplitList(s.substr(8));
  } else if (s != "all") {
    ADD_FAILURE() << "bad column spec " << s;
  }
  return spec;
}

policy::PermissionSet ParsePermissions(const std::string& s) {
  policy::PermissionSet set = 0;
  for (const auto& p : SplitList(s)) {
    auto bit = policy::ParsePermission(p);
    if (!bit) ADD_FAILURE() << "bad permission " << p;
    set |= bit.value_or(0);
  }
  return set;
}

// Applies one policy block to `snapshot`; a malformed line fails the test.
void ApplyPolicy(const Case& c, policy::PolicySnapshot& snapshot) {
  snapshot.version++;
  for (const std::string& line : c.expected) {
    SCOPED_TRACE(line);
    std::istringstream in(line);
    std::string verb;
    in >> verb;
    auto role = [&](const std::string& name) -> policy::Role& {
      auto it = snapshot.roles.find(name);
      if (it == snapshot.roles.end()) ADD_FAILURE() << "undeclared role " << name;
      return snapshot.roles[name];
    };
    if (verb == "role") {
      std::string name;
      in >> name;
      snapshot.roles[name] = policy::Role{name, "", {}};
    } else if (verb == "grant") {
      std::string r, db, table, perms, cols = "all";
      in >> r >> db >> table >> perms >> cols;
      role(r).grants.push_back({db, table, ParsePermissions(perms), ParseColumns(cols)});
    } else if (verb == "filter") {
      policy::DataCellFilter f;
      std::string cols, rest;
      in >> f.name >> f.database >> f.table >> cols;
      std::getline(in, rest);
      f.columns = ParseColumns(cols);
      auto rows = policy::ParseRowFilter(rest);
      ASSERT_TRUE(rows.ok()) << rows.status().ToString();
      f.rows = *rows;
      snapshot.filters[f.name] = f;
    } else if (verb == "grant-filter") {
      std::string r, f;
      in >> r >> f;
      role(r).filters.push_back(f);
    } else if (verb == "mask") {
      policy::ColumnMask m;
      std::string r, kind;
      in >> r >> m.database >> m.table >> m.column >> kind;
      static const std::map<std::string, policy::MaskKind> kinds = {
          {"null", policy::MaskKind::kNull},
          {"redact", policy::MaskKind::kRedact},
          {"hash", policy::MaskKind::kHash},
          {"show_last_n", policy::MaskKind::kShowLastN},
          {"year_only", policy::MaskKind::kYearOnly},
          {"expression", policy::MaskKind::kExpression}};
      ASSERT_TRUE(kinds.count(kind)) << "bad mask kind " << kind;
      m.kind = kinds.at(kind);
      if (m.kind == policy::MaskKind::kExpression) {
        std::getline(in, m.expression);  // the rest of the line
        ASSERT_TRUE(policy::ValidateColumnMask(m).ok()) << policy::ValidateColumnMask(m).ToString();
      } else if (int64_t n; in >> n) {
        m.n = n;
      }
      role(r).masks.push_back(m);
    } else if (verb == "tag-key") {
      policy::TagKey k;
      std::string values;
      in >> k.key >> values;
      k.values = SplitList(values);
      snapshot.tag_keys.push_back(k);
    } else if (verb == "tag") {
      std::string path;
      policy::TagAssignment a;
      in >> path >> a.key >> a.value;
      std::vector<std::string> parts;
      std::stringstream ps(path);
      std::string part;
      while (std::getline(ps, part, '.')) parts.push_back(part);
      ASSERT_TRUE(!parts.empty() && parts.size() <= 3) << "bad tag path " << path;
      a.database = parts[0];
      if (parts.size() > 1) a.table = parts[1];
      if (parts.size() > 2) a.column = parts[2];
      snapshot.tag_assignments.push_back(a);
    } else if (verb == "tag-grant") {
      std::string r, perms, clause;
      in >> r >> perms;
      policy::TagGrant g;
      g.permissions = ParsePermissions(perms);
      while (in >> clause) {
        size_t eq = clause.find('=');
        ASSERT_NE(eq, std::string::npos) << "bad tag clause " << clause;
        g.expression.clauses[clause.substr(0, eq)] = SplitList(clause.substr(eq + 1));
      }
      role(r).tag_grants.push_back(g);
    } else {
      ADD_FAILURE() << "unknown policy line";
    }
  }
}

class SqlCasesTest : public ::testing::TestWithParam<std::string> {};

#if defined(LAKEGATE_SQL_CASES_POSTGRES) || defined(LAKEGATE_SQL_CASES_TRINO)
// One statement on a server engine, as testing::Lake::RunAs runs it.
testing::Outcome RunOn(Engine& engine, const policy::PolicySnapshot& policy,
                       const policy::Role& role, const std::string& sql, StatementClass max_class,
                       const std::string& database) {
  QueryRequest req;
  req.sql = sql;
  req.database = database;
  req.max_class = max_class;
  testing::CollectingSink sink;
  testing::Outcome out;
  auto r = engine.Execute(policy, role, req, sink);
  out.status = r.status();
  if (r.ok()) out.result = *r;
  out.columns = sink.columns();
  out.rows = sink.rows();
  return out;
}
#endif

#ifdef LAKEGATE_SQL_CASES_POSTGRES
// The same lake as testing::Lake, in a fresh PostgreSQL database.
class PostgresLake {
 public:
  Status Build() {
    std::string server = ::lakegate::testing::PostgresTestServerUrl();
    if (server.empty()) return Status(StatusCode::kUnavailable, "no PostgreSQL test server");
    db_ = std::make_unique<::lakegate::testing::TestDatabase>(server);
    policy_.version = 1;
    policy_.roles["lf-super-user-role"] = testing::SuperRole();
    policy_.roles["lf-dev-role"] = testing::DevRole();
    auto engine = OpenPostgresEngineAt(db_->url(), {});
    if (!engine.ok()) return engine.status();
    engine_ = std::move(engine).value();
    LG_RETURN_IF_ERROR(LoadDemoMembers(*engine_, 1000));
    ::lakegate::testing::RawQuery(
        db_->url(),
        "CREATE TABLE analytics.orders(order_id bigint PRIMARY KEY, member_id bigint, amount "
        "double precision, note text, payload bytea);"
        "INSERT INTO analytics.orders VALUES (1, 1, 10.5, 'first', '\\x0001ff'), "
        "(2, 1, 20.25, NULL, NULL), (3, 2, 7.0, 'third', '\\x');"
        "CREATE TABLE analytics.secret_table(code text);"
        "INSERT INTO analytics.secret_table VALUES ('TOPSECRET-1');"
        "CREATE SCHEMA hr; CREATE TABLE hr.salaries(employee text, salary bigint);"
        "INSERT INTO hr.salaries VALUES ('SECRET-HR-alice', 123456);"
        "CREATE TABLE hr.members(member_id bigint, name text);"
        "INSERT INTO hr.members VALUES (-1, 'SECRET-HR-member')");
    return Status::Ok();
  }
  testing::Outcome RunAs(const policy::Role& role, const std::string& sql, StatementClass max_class,
                         const std::string& database) {
    return RunOn(*engine_, policy_, role, sql, max_class, database);
  }
  policy::PolicySnapshot& policy() { return policy_; }

 private:
  std::unique_ptr<::lakegate::testing::TestDatabase> db_;
  policy::PolicySnapshot policy_;
  std::unique_ptr<Engine> engine_;
};
using CaseLake = PostgresLake;
#elif defined(LAKEGATE_SQL_CASES_TRINO)
// The same lake as testing::Lake in the lake catalog of the fixture's Trino
// cluster ($LAKEGATE_TEST_TRINO_DIR, scripts/trino.sh), as Parquet tables.
// This process plays lakegate's part for the cluster: the decision point
// (the OPA routes, on the port the cluster was started to ask, answering
// only its key) over the case's policy, and the issuer of the engine's
// tokens (a key of its own in DIR/jwt-keys, removed at the end). The tables
// other than analytics.members are dropped before and after each file.
class TrinoLake {
 public:
  ~TrinoLake() {
    if (engine_) {
      Status s = DropTables();
      if (!s.ok()) ADD_FAILURE() << "cleaning the lake: " << s.ToString();
    }
    engine_.reset();
    if (server_) server_->Stop(std::chrono::milliseconds(0));
    if (!key_file_.empty()) std::filesystem::remove(key_file_);
  }

  Status Build() {
    const char* dir = std::getenv("LAKEGATE_TEST_TRINO_DIR");
    if (dir == nullptr || *dir == '\0') {
      return Status(StatusCode::kUnavailable,
                    "no Trino cluster: $LAKEGATE_TEST_TRINO_DIR is not set (ctest fixture "
                    "trino.start, or bash scripts/trino.sh start DIR --workers 0 --lakegate auto)");
    }
    dir_ = dir;
    LG_ASSIGN_OR_RETURN(std::string url, ReadLine(dir_ + "/url"));
    LG_ASSIGN_OR_RETURN(std::string port, ReadLine(dir_ + "/lakegate-port"));
    LG_ASSIGN_OR_RETURN(std::string secret, ReadLine(dir_ + "/opa-secret"));
    secret_ = std::move(secret);

    // The engine's tokens: Trino verifies them with DIR/jwt-keys/<kid>.pem.
    LG_ASSIGN_OR_RETURN(crypto::PrivateKey key,
                        crypto::PrivateKey::Generate(crypto::Algorithm::kES256));
    const std::string kid = "sql-cases-" + HexEncode(RandomBytes(8));
    key_file_ = dir_ + "/jwt-keys/" + kid + ".pem";
    LG_RETURN_IF_ERROR(WriteFileAtomic(key_file_, key.Public().ToPem(), 0644));
    signer_ = std::make_unique<jose::Signer>(kid, std::move(key));

    policy_.version = 1;
    policy_.roles["lf-super-user-role"] = testing::SuperRole();
    policy_.roles["lf-dev-role"] = testing::DevRole();
    Publish();
    trino::OpaDecider::Options options;
    options.mask_hash_key = SecretString(RandomBytes(32));
    const std::string metastore = dir_ + "/lake/metastore";
    decider_ = std::make_unique<trino::OpaDecider>(
        std::move(options),
        [this] {
          MutexLock lock(mu_);
          return published_;
        },
        // Statements run as an engine principal (lakegate:<class>:<role>),
        // loads as the load principal (as app/trino_link.cc resolves it).
        [](std::string_view user) -> Result<trino::TrinoPrincipal> {
          if (user == kTrinoLoadPrincipal) {
            return trino::TrinoPrincipal{
                .role = "", .max_class = StatementClass::kAdmin, .superuser = true};
          }
          return Status(StatusCode::kPermissionDenied, "no client " + std::string(user));
        },
        [] { return uint64_t{0}; },
        [metastore](std::string_view schema, std::string_view table) {
          return trino::FileMetastoreColumns(metastore, schema, table);
        });
    LG_RETURN_IF_ERROR(StartDecisionPoint(port));

    EngineSettings settings;
    settings.bearer_token = [this](std::string_view principal) { return Mint(principal); };
    LG_ASSIGN_OR_RETURN(
        engine_,
        OpenTrinoEngineAt("trino://" + url.substr(url.find("://") + 3) + "?dir=" + dir_, settings));
    // The lake of testing::Lake, in Trino's types.
    LG_RETURN_IF_ERROR(Super("CREATE SCHEMA IF NOT EXISTS lake.analytics"));
    LG_RETURN_IF_ERROR(Super("CREATE SCHEMA IF NOT EXISTS lake.hr"));
    LG_RETURN_IF_ERROR(DropTables());
    LG_RETURN_IF_ERROR(LoadDemoMembers(*engine_, 1000));  // kept when it is there
    // One statement a table (each costs Trino ~0.1-0.3 s).
    for (const char* sql :
         {"CREATE TABLE lake.analytics.orders AS SELECT * FROM (VALUES (BIGINT '1', BIGINT '1', "
          "DOUBLE '10.5', CAST('first' AS varchar), X'0001ff'), (2, 1, 20.25, NULL, NULL), "
          "(3, 2, 7.0, 'third', X'')) AS t(order_id, member_id, amount, note, payload)",
          "CREATE TABLE lake.analytics.secret_table AS SELECT CAST('TOPSECRET-1' AS varchar) AS "
          "code",
          "CREATE TABLE lake.hr.salaries AS SELECT CAST('SECRET-HR-alice' AS varchar) AS employee, "
          "BIGINT '123456' AS salary",
          "CREATE TABLE lake.hr.members AS SELECT BIGINT '-1' AS member_id, "
          "CAST('SECRET-HR-member' AS varchar) AS name"}) {
      LG_RETURN_IF_ERROR(Super(sql));
    }
    return Status::Ok();
  }

  testing::Outcome RunAs(const policy::Role& role, const std::string& sql, StatementClass max_class,
                         const std::string& database) {
    Publish();  // the policy blocks applied so far
    return RunOn(*engine_, policy_, role, TrinoTypes(sql), max_class, database);
  }
  policy::PolicySnapshot& policy() { return policy_; }

 private:
  static Result<std::string> ReadLine(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    if (!std::getline(in, line) || line.empty()) {
      return Status(StatusCode::kUnavailable,
                    "cannot read " + path + ": is the fixture's Trino cluster started?");
    }
    return line;
  }

  // SQLite's column types in a CREATE TABLE, in Trino's words.
  static std::string TrinoTypes(const std::string& sql) {
    static const std::regex create("^\\s*CREATE\\s+TABLE\\b", std::regex::icase);
    if (!std::regex_search(sql, create)) return sql;
    std::string out = sql;
    for (const auto& [from, to] : {std::pair{"TEXT", "varchar"}, std::pair{"REAL", "double"},
                                   std::pair{"BLOB", "varbinary"}}) {
      out = std::regex_replace(
          out, std::regex(std::string("\\b") + from + "\\b", std::regex::icase), to);
    }
    return out;
  }

  void Publish() {
    auto snapshot = std::make_shared<const policy::PolicySnapshot>(policy_);
    MutexLock lock(mu_);
    published_ = std::move(snapshot);
  }

  Result<SecretString> Mint(std::string_view principal) const {
    const int64_t now = SystemClock::Get().NowSeconds();
    nlohmann::json claims = {
        {"iss", "lakegate-sql-cases"}, {"sub", principal}, {"iat", now}, {"exp", now + 300}};
    LG_ASSIGN_OR_RETURN(std::string token, signer_->SignCompact(claims.dump()));
    return SecretString(std::move(token));
  }

  Status StartDecisionPoint(const std::string& port) {
    using Decide = Result<std::string> (trino::OpaDecider::*)(std::string_view);
    const std::pair<const char*, Decide> routes[] = {
        {"/trino/opa/allow", &trino::OpaDecider::Allow},
        {"/trino/opa/batch", &trino::OpaDecider::Batch},
        {"/trino/opa/row-filters", &trino::OpaDecider::RowFilters},
        {"/trino/opa/column-masks", &trino::OpaDecider::ColumnMasks},
    };
    http::Router router;
    for (const auto& [path, decide] : routes) {
      http::RouteOptions route;
      route.max_body_bytes = 4 << 20;
      router.Add(
          http::Method::kPost, path,
          [this, d = decide](std::shared_ptr<http::Exchange> ex) {
            http::Response response;
            const std::string key = "key=" + secret_;
            if (ex->request().query != key) {
              response.status = 401;
              response.body = "{\"error\":\"unknown key\"}";
              return ex->Respond(std::move(response));
            }
            Result<std::string> answer = (decider_.get()->*d)(ex->request().body);
            if (!answer.ok()) {
              response.status = 400;
              response.body = nlohmann::json{{"error", answer.status().ToString()}}.dump();
            } else {
              response.body = std::move(answer).value();
            }
            ex->Respond(std::move(response));
          },
          route);
    }
    http::ServerOptions options;
    options.port = static_cast<uint16_t>(std::stoi(port));
    server_ = std::make_unique<http::Server>(options, std::move(router), nullptr);
    return server_->Start();
  }

  // One statement as the super role with the admin class.
  Status Super(const std::string& sql, std::vector<std::vector<testing::Cell>>* rows = nullptr) {
    testing::Outcome o = RunAs(testing::SuperRole(), sql, StatementClass::kAdmin, "analytics");
    if (o.status.ok() && rows != nullptr) *rows = o.rows;
    return o.status.ok() ? Status::Ok() : Status(o.status.code(), sql + ": " + o.status.message());
  }

  // Every table of lake.analytics and lake.hr but analytics.members.
  Status DropTables() {
    std::vector<std::vector<testing::Cell>> tables;
    LG_RETURN_IF_ERROR(
        Super("SELECT table_schema, table_name FROM lake.information_schema.tables "
              "WHERE table_schema IN ('analytics', 'hr')",
              &tables));
    for (const auto& t : tables) {
      const std::string schema = testing::CellText(t[0]), table = testing::CellText(t[1]);
      if (schema == "analytics" && table == "members") continue;
      LG_RETURN_IF_ERROR(Super("DROP TABLE lake." + QuoteIdent(schema) + "." + QuoteIdent(table)));
    }
    return Status::Ok();
  }

  std::string dir_;
  std::string secret_;
  std::string key_file_;
  std::unique_ptr<jose::Signer> signer_;
  policy::PolicySnapshot policy_;
  Mutex mu_;
  std::shared_ptr<const policy::PolicySnapshot> published_ GUARDED_BY(mu_);
  std::unique_ptr<trino::OpaDecider> decider_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<Engine> engine_;
};
using CaseLake = TrinoLake;
#else
using CaseLake = Lake;
#endif

TEST_P(SqlCasesTest, Run) {
  std::vector<Case> cases = Parse(GetParam());
  ASSERT_FALSE(cases.empty()) << GetParam();
  // A file none of whose cases runs here builds no lake (each costs seconds
  // on a remote engine): its skips are printed all the same.
  const bool any_runs = std::any_of(cases.begin(), cases.end(),
                                    [](const Case& c) { return c.kind != "policy" && c.runs; });
  CaseLake lake;
  if (any_runs) {
    Status built = lake.Build();
    ASSERT_TRUE(built.ok()) << built.ToString();
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(GetParam() + ":" + std::to_string(c.line) + ": " + c.sql);
    if (c.kind == "policy") {
      ApplyPolicy(c, lake.policy());
      continue;
    }
    if (!c.runs) {
      // Not gtest's "[  SKIPPED ]" marker: ctest would count the whole file as skipped.
      std::cout << "case skipped on " << kEngine << ": " << GetParam() << ":" << c.line << ": "
                << c.skip_reason << "\n";
      continue;
    }
    std::string name = c.role == "super" ? "lf-super-user-role"
                       : c.role == "dev" ? "lf-dev-role"
                                         : c.role;
    const policy::Role* found = lake.policy().FindRole(name);
    ASSERT_NE(found, nullptr) << "unknown role " << c.role;
    policy::Role role = *found;
    auto o = lake.RunAs(role, c.sql, c.scope, c.db);
    if (c.kind == "ok") {
      EXPECT_TRUE(o.status.ok()) << o.status.ToString();
    } else if (c.kind == "error") {
      ASSERT_FALSE(o.status.ok());
      ASSERT_EQ(c.expected.size(), 1u) << "an error case needs one expected line";
      // The expected line is "CODE: message", or a part of the status with its
      // reason ("engine.permission_denied").
      const std::string shown =
          std::string(StatusCodeName(o.status.code())) + ": " + o.status.message();
      EXPECT_TRUE(shown.find(c.expected[0]) != std::string::npos ||
                  o.status.ToString().find(c.expected[0]) != std::string::npos)
          << "got " << o.status.ToString();
      // Every engine error carries its typed reason.
      EXPECT_TRUE(o.status.reason<EngineFailure>().has_value()) << o.status.ToString();
    } else {
      ASSERT_TRUE(o.status.ok()) << o.status.ToString();
      std::vector<std::string> got;
      for (const auto& row : o.rows) {
        std::string text;
        for (size_t i = 0; i < row.size(); ++i) {
          text += (i > 0 ? "|" : "") + testing::CellText(row[i]);
        }
        got.push_back(text);
      }
      EXPECT_EQ(got, c.expected);
    }
  }
}

std::vector<std::string> CaseFiles() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(LAKEGATE_SQL_CASES_DIR)) {
    if (e.path().extension() == ".test") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The PostgreSQL build's tests are named Postgres/... so that ctest tells the
// two executables' tests apart (and gives only those the fixture).
#if defined(LAKEGATE_SQL_CASES_POSTGRES)
#define LAKEGATE_SQL_CASES_PREFIX Postgres
#elif defined(LAKEGATE_SQL_CASES_TRINO)
#define LAKEGATE_SQL_CASES_PREFIX Trino
#else
#define LAKEGATE_SQL_CASES_PREFIX Files
#endif
INSTANTIATE_TEST_SUITE_P(LAKEGATE_SQL_CASES_PREFIX, SqlCasesTest, ::testing::ValuesIn(CaseFiles()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string name =
                               std::filesystem::path(param_info.param).stem().string();
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace lakegate::engine
