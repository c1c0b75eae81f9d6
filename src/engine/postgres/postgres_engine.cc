#include "engine/postgres/postgres_engine.h"

#include <poll.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/log.h"
#include "common/random.h"
#include "common/strings.h"
#include "common/thread_annotations.h"
#include "crypto/hash.h"
#include "engine/load_driver.h"
#include "engine/postgres/catalog_compiler.h"
#include "engine/postgres/pg_conn.h"
#include "engine/postgres/pg_rows.h"
#include "engine/postgres/statement_text.h"
#include "store/postgres/url.h"

namespace lakegate::engine {
namespace {

using namespace postgres_internal;  // NOLINT: the engine's own internals
using Clock = std::chrono::steady_clock;

constexpr auto kSchemaCheckInterval = std::chrono::milliseconds(250);
constexpr auto kCancelGrace = std::chrono::seconds(5);

// The large-object functions that write: revoked from PUBLIC (and so from
// every role), since PostgreSQL allows them in a READ ONLY transaction.
constexpr const char* kLargeObjectWriters[] = {"lo_create(oid)",
                                               "lo_creat(integer)",
                                               "lo_from_bytea(oid, bytea)",
                                               "lo_import(text)",
                                               "lo_import(text, oid)",
                                               "lo_put(oid, bigint, bytea)",
                                               "lowrite(integer, bytea)",
                                               "lo_truncate(integer, integer)",
                                               "lo_truncate64(integer, bigint)",
                                               "lo_unlink(oid)",
                                               "lo_export(oid, text)"};

Status Failure(StatusCode code, EngineFailure reason, std::string message) {
  return Status(code, reason, std::move(message));
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  if (from.empty()) return text;
  for (size_t pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos)) {
    text.replace(pos, from.size(), to);
    pos += to.size();
  }
  return text;
}

// work_mem for a request whose limit is `max_memory_bytes`, in kB within
// PostgreSQL's range ("" for 0, no limit: the role's or server's setting).
std::string WorkMem(int64_t max_memory_bytes) {
  if (max_memory_bytes <= 0) return "";
  return std::to_string(std::clamp<int64_t>(max_memory_bytes / 1024, 64, 2147483647)) + "kB";
}

// One of lakegate's own entries in a request's pipeline.
struct PipelineStep {
  enum What { kPrepare, kRun, kSync } what = kRun;
  OwnStatement which = OwnStatement::kCount;  // kPrepare, kRun
};

// Reads the results of one request's pipeline. While the user's statement
// runs (Watch(true)), lakegate's timeout and the client's going away send a
// cancel to the backend; a backend that ignores a cancel for kCancelGrace,
// or one of lakegate's own steps taking that long, loses its connection.
class PipelineReader {
 public:
  // `deadline`: the request's, from lakegate's timeout (one for every
  // attempt of the request).
  PipelineReader(PGconn* pg, const QueryRequest& request, Clock::time_point deadline)
      : pg_(pg), request_(request), deadline_(deadline) {}

  // The next result into `out` (null at the end of the current query's
  // results); false when the connection is lost or stuck.
  bool Next(ResultPtr& out);
  // Sends a cancel to the backend (once).
  void Cancel();
  void Watch(bool statement_runs) {
    watch_ = statement_runs;
    step_deadline_ = Clock::now() + kCancelGrace;
  }
  bool timed_out() const { return timed_out_; }
  bool cancelled() const { return cancelled_; }
  bool cancelling() const { return cancel_deadline_.has_value(); }
  // Our own steps queued after the statement's sync.
  void set_after_statement(std::vector<PipelineStep> steps) { after_statement_ = std::move(steps); }
  const std::vector<PipelineStep>& after_statement() const { return after_statement_; }

 private:
  PGconn* const pg_;
  const QueryRequest& request_;
  const Clock::time_point deadline_;
  Clock::time_point step_deadline_ = Clock::now() + kCancelGrace;
  std::optional<Clock::time_point> cancel_deadline_;
  bool watch_ = false, timed_out_ = false, cancelled_ = false;
  std::vector<PipelineStep> after_statement_;
};

// Reads the result of one of our own steps (and its query's end), marking a
// prepared statement as held once its prepare succeeded; false when the
// result is not the step's success. The result read lands in `kept`.
bool ReadStep(PipelineReader& reader, Conn& conn, const PipelineStep& step,
              ResultPtr* kept = nullptr) {
  ResultPtr r, end;
  bool ok = reader.Next(r) && r != nullptr;
  if (ok && step.what == PipelineStep::kSync) {
    ok = PQresultStatus(r.get()) == PGRES_PIPELINE_SYNC;
  } else if (ok) {
    ExecStatusType want = step.what == PipelineStep::kRun && ReturnsRows(step.which)
                              ? PGRES_TUPLES_OK
                              : PGRES_COMMAND_OK;
    ok = PQresultStatus(r.get()) == want && reader.Next(end) && end == nullptr;
    if (ok && step.what == PipelineStep::kPrepare) conn.MarkPrepared(step.which);
  }
  if (kept != nullptr) *kept = std::move(r);
  return ok;
}

// The compiled catalog: what every request of one policy version and one
// schema state uses.
struct Compiled {
  uint64_t policy_version = 0;
  std::string fingerprint;
  RawCatalog raw;
  std::map<std::string, RolePlan, std::less<>> roles;
};

class PostgresEngine final : public Engine {
 public:
  PostgresEngine(ConnectTarget admin_target, std::unique_ptr<Conn> admin, std::string key,
                 size_t max_idle)
      : target_(std::move(admin_target)),
        naming_(PQdb(admin->raw())),
        key_(std::move(key)),
        max_idle_(max_idle),
        admin_(std::move(admin)) {}

  Result<QueryResult> Execute(const policy::PolicySnapshot& policy, const policy::Role& role,
                              const QueryRequest& request, ResultSink& sink) override;
  Result<std::vector<DatabaseInfo>> Catalog(const policy::PolicySnapshot& policy,
                                            const policy::Role& role) override;
  Result<LoadSummary> Load(const LoadRequest& request, RowSource& source,
                           const LoadProgressFn& progress) override;

 private:
  // The catalog compiled for `policy` (or a newer version) and the current
  // schema, compiling first when needed.
  Result<std::shared_ptr<const Compiled>> Ensure(const policy::PolicySnapshot& policy);
  Result<RawCatalog> Describe(Conn& conn) REQUIRES(admin_mu_);
  Status Compile(Conn& conn, const policy::PolicySnapshot& policy, const RawCatalog& raw,
                 const std::string& fingerprint, std::vector<RolePlan>& plans) REQUIRES(admin_mu_);
  Result<Conn*> AdminConn() REQUIRES(admin_mu_);
  // Gives every raw table of `raw` its own owner role (catalog_compiler.h);
  // `owned` receives the owner roles that own their table.
  Status OwnTables(Conn& conn, const RawCatalog& raw,
                   const std::map<std::string, std::string>& roles, std::set<std::string>& owned)
      REQUIRES(admin_mu_);
  // The DDL check before a statement runs: SQLite's denial when the role
  // lacks the permission, a fail-closed denial where PostgreSQL cannot give
  // it exactly. PostgreSQL's privileges decide either way.
  Status CheckDdl(const policy::PolicySnapshot& policy, const policy::Role& role,
                  const RolePlan& plan, const TextClass& text, const QueryRequest& request) const;

  std::string Password(const std::string& login) const {
    return HexEncode(crypto::HmacSha256(key_, "lakegate postgres engine login\n" + login));
  }
  Result<std::unique_ptr<Conn>> Checkout(const std::string& login);
  void Return(const std::string& login, std::unique_ptr<Conn> conn);

  // One statement on `conn` (Execute's contract), sent in one pipeline
  // with BEGIN, the `settings` (kSettings' parameters) when the session's
  // differ, and, on the read path (`read_only`: a READ ONLY transaction),
  // the request's end. `broken` is set when the connection must not be
  // reused, `retry` when nothing ran because the connection was gone,
  // `writes` when a request of write scope run on the read path met
  // PostgreSQL's read_only_sql_transaction (25006) before any row reached
  // `sink`: the write path runs it again.
  Result<QueryResult> Run(Conn& conn, PipelineReader& reader, const RolePlan& plan,
                          const TextClass& text, const std::string& sql,
                          const std::vector<std::string>& settings, const QueryRequest& request,
                          bool read_only, ResultSink& sink, bool& retry, bool& broken,
                          bool& writes);
  // Ends the request's transaction (a read's end was queued by Run; a write
  // commits or rolls back by `result`, then DISCARD ALL) and leaves
  // pipeline mode. True when the connection is clean and idle, fit for the
  // pool; a failed COMMIT becomes `result`.
  bool EndRequest(Conn& conn, PipelineReader& reader, const RolePlan& plan, bool read_only,
                  Result<QueryResult>& result);
  // DROP and ALTER TABLE: the query that drops the governed views over the
  // tables the statement names, run first in its transaction (PostgreSQL
  // refuses to drop or retype what a view uses; the compile after the
  // statement makes them anew). "" for any other statement.
  std::string ReleaseSql(const TextClass& text, const QueryRequest& request) const;
  // `sql` and `type` (the statement as sent, its class's name) and
  // `database` (the request's) shape the messages like the SQLite engine's.
  Status UserFailure(const PGresult* result, PGconn* conn, const RolePlan& plan,
                     const std::string& sql = {}, const std::string& type = {},
                     const std::string& database = {}) const;

  const ConnectTarget target_;
  const Naming naming_;
  const std::string key_;
  const size_t max_idle_;

  Mutex admin_mu_;  // the administrative connection; compiles run one at a time
  std::unique_ptr<Conn> admin_ GUARDED_BY(admin_mu_);

  Mutex state_mu_;
  std::shared_ptr<const Compiled> compiled_ GUARDED_BY(state_mu_);
  Clock::time_point checked_ GUARDED_BY(state_mu_);
  bool stale_ GUARDED_BY(state_mu_) = false;

  Mutex pool_mu_;
  std::map<std::string, std::vector<std::unique_ptr<Conn>>> idle_ GUARDED_BY(pool_mu_);
};

Result<Conn*> PostgresEngine::AdminConn() {
  if (admin_ == nullptr || !admin_->Healthy()) {
    LG_ASSIGN_OR_RETURN(admin_, Conn::Open(target_));
  }
  return admin_.get();
}

Status PostgresEngine::OwnTables(Conn& conn, const RawCatalog& raw,
                                 const std::map<std::string, std::string>& roles,
                                 std::set<std::string>& owned) {
  LG_ASSIGN_OR_RETURN(ResultPtr current,
                      conn.Query("cannot list the table owners",
                                 "SELECT n.nspname, c.relname, pg_get_userbyid(c.relowner) "
                                 "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                 "WHERE c.relkind IN ('r','p')"));
  std::map<std::pair<std::string, std::string>, std::string> owners;
  for (int i = 0; i < PQntuples(current.get()); ++i) {
    owners[{PQgetvalue(current.get(), i, 0), PQgetvalue(current.get(), i, 1)}] =
        PQgetvalue(current.get(), i, 2);
  }
  auto run = [&](const std::string& sql) { return conn.Run("compile: " + sql, sql); };
  for (const RawSchema& s : raw) {
    for (const RawTable& t : s.tables) {
      if (!t.table) continue;
      const std::string table_owner = naming_.TableOwner(s.name, t.name);
      if (owners[{s.name, t.name}] == table_owner) {
        owned.insert(table_owner);
        continue;
      }
      const std::string quoted = QuoteIdent(table_owner);
      const std::string schema = QuoteIdent(s.name);
      if (roles.count(table_owner) == 0) {
        LG_RETURN_IF_ERROR(run("CREATE ROLE " + quoted + " NOLOGIN NOINHERIT"));
        LG_RETURN_IF_ERROR(run("COMMENT ON ROLE " + quoted + " IS " +
                               QuoteString("lakegate owner of " + s.name + "." + t.name)));
      }
      LG_RETURN_IF_ERROR(run("GRANT " + quoted + " TO CURRENT_USER"));
      // PostgreSQL wants CREATE on the schema for the new owner, for the
      // moment of the change only.
      LG_RETURN_IF_ERROR(run("SAVEPOINT lg_own"));
      Status moved = run("GRANT CREATE ON SCHEMA " + schema + " TO " + quoted);
      if (moved.ok()) {
        moved = run("ALTER TABLE " + schema + "." + QuoteIdent(t.name) + " OWNER TO " + quoted);
      }
      if (moved.ok()) moved = run("REVOKE CREATE ON SCHEMA " + schema + " FROM " + quoted);
      if (!moved.ok()) {
        LG_RETURN_IF_ERROR(run("ROLLBACK TO SAVEPOINT lg_own"));
        log::Warn("postgres engine: table " + s.name + "." + t.name + " stays owned by " +
                  owners[{s.name, t.name}] +
                  " (the engine's user is no member of that role), so no role may DROP or ALTER "
                  "it through lakegate: " +
                  moved.message());
        continue;
      }
      LG_RETURN_IF_ERROR(run("RELEASE SAVEPOINT lg_own"));
      owned.insert(table_owner);
    }
  }
  return Status::Ok();
}

Result<RawCatalog> PostgresEngine::Describe(Conn& conn) {
  LG_ASSIGN_OR_RETURN(
      ResultPtr r,
      conn.Query(
          "cannot list the catalog schemas",
          "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), c.oid, "
          "c.relkind IN ('r','p') "
          "FROM pg_namespace n "
          "LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r','p','v','m','f') "
          "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
          "WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' "
          "ORDER BY n.nspname, c.relname, a.attnum"));
  RawCatalog raw;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    std::string schema = PQgetvalue(r.get(), i, 0);
    if (naming_.IsOurs(schema) || !IsValidDatabaseName(schema)) continue;
    if (raw.empty() || raw.back().name != schema) raw.push_back({schema, {}});
    if (PQgetisnull(r.get(), i, 1) != 0) continue;
    std::string table = PQgetvalue(r.get(), i, 1);
    auto& tables = raw.back().tables;
    if (tables.empty() || tables.back().name != table) {
      tables.push_back({table,
                        {},
                        std::string_view(PQgetvalue(r.get(), i, 5)) == "t",
                        PQgetvalue(r.get(), i, 4)});
    }
    if (PQgetisnull(r.get(), i, 2) != 0) continue;
    tables.back().columns.push_back({PQgetvalue(r.get(), i, 2), PQgetvalue(r.get(), i, 3)});
  }
  return raw;
}

std::string Fingerprint(const RawCatalog& raw) {
  std::string text;
  for (const RawSchema& s : raw) {
    text += "S" + s.name + "\n";
    for (const RawTable& t : s.tables) {
      text += (t.table ? "T" : "V") + t.name + " " + t.oid + "\n";
      for (const RawColumn& c : t.columns) text += "C" + c.name + " " + c.type + "\n";
    }
  }
  return HexEncode(crypto::Sha256(text));
}

Result<std::shared_ptr<const Compiled>> PostgresEngine::Ensure(
    const policy::PolicySnapshot& policy) {
  {
    MutexLock lock(state_mu_);
    if (compiled_ != nullptr && compiled_->policy_version >= policy.version && !stale_ &&
        Clock::now() - checked_ < kSchemaCheckInterval) {
      return compiled_;
    }
  }
  MutexLock admin_lock(admin_mu_);
  std::shared_ptr<const Compiled> current;
  {
    MutexLock lock(state_mu_);
    current = compiled_;
    // Another thread checked while this one waited.
    if (current != nullptr && current->policy_version >= policy.version && !stale_ &&
        Clock::now() - checked_ < kSchemaCheckInterval) {
      return current;
    }
  }
  LG_ASSIGN_OR_RETURN(Conn * conn, AdminConn());
  Result<RawCatalog> raw = Describe(*conn);
  if (!raw.ok()) {
    // A connection lost between requests: one new connection, one retry.
    admin_.reset();
    LG_ASSIGN_OR_RETURN(conn, AdminConn());
    raw = Describe(*conn);
    LG_RETURN_IF_ERROR(raw.status());
  }
  std::string fingerprint = Fingerprint(*raw);
  if (current != nullptr && current->policy_version >= policy.version &&
      current->fingerprint == fingerprint) {
    MutexLock lock(state_mu_);
    checked_ = Clock::now();
    stale_ = false;
    return current;
  }
  std::vector<RolePlan> plans = PlanRoles(policy, *raw, naming_);
  Status compiled = Compile(*conn, policy, *raw, fingerprint, plans);
  if (!compiled.ok()) {
    (void)conn->Run("rollback", "ROLLBACK");
    log::Error("postgres engine: cannot compile policy version " + std::to_string(policy.version) +
               ": " + compiled.message());
    return Failure(StatusCode::kFailedPrecondition, EngineFailure::kMisconfigured,
                   "cannot compile the policy into PostgreSQL objects: " + compiled.message());
  }
  auto next = std::make_shared<Compiled>();
  next->policy_version = policy.version;
  next->fingerprint = fingerprint;
  next->raw = std::move(*raw);
  for (RolePlan& plan : plans) {
    if (!plan.unsupported.empty()) {
      log::Warn("postgres engine: role " + plan.role + " fails closed: " + plan.unsupported);
    }
    next->roles.emplace(plan.role, std::move(plan));
  }
  MutexLock lock(state_mu_);
  compiled_ = next;
  checked_ = Clock::now();
  stale_ = false;
  return std::shared_ptr<const Compiled>(next);
}

Status PostgresEngine::Compile(Conn& conn, const policy::PolicySnapshot& policy,
                               const RawCatalog& raw, const std::string& fingerprint,
                               std::vector<RolePlan>& plans) {
  (void)policy;
  const std::string owner = QuoteIdent(naming_.owner());
  const std::string priv = QuoteIdent(naming_.private_schema());
  LG_RETURN_IF_ERROR(conn.Run("cannot begin the compile", "BEGIN"));
  // Nodes sharing the database compile one at a time.
  LG_RETURN_IF_ERROR(
      conn.Query("cannot lock the compile", "SELECT pg_advisory_xact_lock($1::bigint)",
                 {std::to_string(std::strtoll(naming_.prefix().substr(3, 8).c_str(), nullptr, 16))})
          .status());
  // What this compile would create; when the database already holds it
  // (another node compiled the same), nothing is done.
  std::string digest_text = fingerprint + "\n" + HexEncode(crypto::Sha256(key_));
  for (const RolePlan& plan : plans) {
    digest_text += "R" + plan.role + (plan.unrestricted ? "*" : "") + "\n";
    digest_text += "C" + Join(plan.create_in, ",") + "\nO" + Join(plan.table_owners, ",") + "\n";
    for (const auto& [schema, views] : plan.views_by_schema) {
      for (const ViewPlan& v : views) digest_text += v.create_sql + "\n" + v.grant_sql + "\n";
    }
  }
  const std::string digest = HexEncode(crypto::Sha256(digest_text));

  LG_ASSIGN_OR_RETURN(
      ResultPtr existing,
      conn.Query("cannot list the engine's roles",
                 "SELECT rolname, coalesce(shobj_description(oid, 'pg_authid'), '') "
                 "FROM pg_roles WHERE starts_with(rolname, $1)",
                 {naming_.prefix() + "_"}));
  std::map<std::string, std::string> roles;
  for (int i = 0; i < PQntuples(existing.get()); ++i) {
    roles[PQgetvalue(existing.get(), i, 0)] = PQgetvalue(existing.get(), i, 1);
  }
  auto it = roles.find(naming_.owner());
  if (it != roles.end() && it->second == digest) {
    // Plans that failed to compile on another node fail the same way here:
    // read back which roles have no views for their tables is not needed,
    // since a failed view leaves the role's `unsupported` recorded below only
    // when compiled here; recompile when any plan is unsupported.
    bool any_unsupported = std::any_of(plans.begin(), plans.end(),
                                       [](const RolePlan& p) { return !p.unsupported.empty(); });
    if (!any_unsupported) return conn.Run("cannot commit the compile", "COMMIT");
  }
  auto run = [&](const std::string& sql) { return conn.Run("compile: " + sql, sql); };
  // Runs `sql` in a savepoint; false when it fails.
  auto try_run = [&](const std::string& sql) {
    if (!run("SAVEPOINT lg_try").ok()) return false;
    Status s = run(sql);
    if (!s.ok()) {
      (void)run("ROLLBACK TO SAVEPOINT lg_try");
      return false;
    }
    return run("RELEASE SAVEPOINT lg_try").ok();
  };

  if (roles.find(naming_.owner()) == roles.end()) {
    LG_RETURN_IF_ERROR(run("CREATE ROLE " + owner + " NOLOGIN"));
  }
  LG_RETURN_IF_ERROR(run("GRANT " + owner + " TO CURRENT_USER"));
  // Nothing for PUBLIC (every login role): no temp tables, no CREATE in
  // public, no large-object writes. The first two need the database owner;
  // the third a superuser (docs/postgresql.md says how to do it once).
  const std::string db = QuoteIdent(PQdb(conn.raw()));
  (void)try_run("REVOKE TEMPORARY, CREATE ON DATABASE " + db + " FROM PUBLIC");
  (void)try_run("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
  std::vector<std::string> still_public;
  for (const char* fn : kLargeObjectWriters) {
    std::string function = std::string("pg_catalog.") + fn;
    LG_ASSIGN_OR_RETURN(
        ResultPtr granted,
        conn.Query("cannot read a function privilege",
                   "SELECT has_function_privilege('public', $1, 'EXECUTE')", {function}));
    if (std::string_view(PQgetvalue(granted.get(), 0, 0)) != "t") continue;
    if (!try_run("REVOKE EXECUTE ON FUNCTION " + function + " FROM PUBLIC")) {
      still_public.push_back(fn);
    }
  }
  if (!still_public.empty()) {
    log::Warn("postgres engine: every role may still create and write large objects (" +
              Join(still_public, ", ") +
              "); run scripts/postgres-engine-hardening.sql as a superuser in database " + db);
  }
  // The mask key, readable by the owner role only.
  LG_RETURN_IF_ERROR(run("CREATE SCHEMA IF NOT EXISTS " + priv + " AUTHORIZATION " + owner));
  LG_RETURN_IF_ERROR(run("REVOKE ALL ON SCHEMA " + priv + " FROM PUBLIC"));
  LG_RETURN_IF_ERROR(run("CREATE TABLE IF NOT EXISTS " + priv +
                         ".mask_key (ipad bytea NOT NULL, opad bytea NOT NULL)"));
  LG_RETURN_IF_ERROR(run("ALTER TABLE " + priv + ".mask_key OWNER TO " + owner));
  LG_RETURN_IF_ERROR(run("DELETE FROM " + priv + ".mask_key"));
  {
    // HMAC-SHA256 (RFC 2104) split into its two padded keys, so that SQL
    // computes sha256(opad || sha256(ipad || message)).
    std::string k = key_.size() > 64 ? crypto::Sha256(key_) : key_;
    k.resize(64, '\0');
    std::string ipad = k, opad = k;
    for (size_t i = 0; i < 64; ++i) {
      ipad[i] = static_cast<char>(ipad[i] ^ 0x36);
      opad[i] = static_cast<char>(opad[i] ^ 0x5c);
    }
    LG_RETURN_IF_ERROR(conn.Query("cannot store the mask key",
                                  "INSERT INTO " + priv +
                                      ".mask_key VALUES (decode($1, 'hex'), decode($2, 'hex'))",
                                  {HexEncode(ipad), HexEncode(opad)})
                           .status());
  }
  // Each raw table its owner role, before the grants below (a new owner
  // takes over the grants its table's old owner made, not its own rights).
  std::set<std::string> table_owners;
  LG_RETURN_IF_ERROR(OwnTables(conn, raw, roles, table_owners));
  LG_RETURN_IF_ERROR(run(AdoptFunctionSql(naming_)));
  LG_RETURN_IF_ERROR(run(ReleaseFunctionSql(naming_)));
  // The raw schemas: nothing for PUBLIC; the owner role reads and writes
  // through its views.
  for (const RawSchema& s : raw) {
    std::string schema = QuoteIdent(s.name);
    LG_RETURN_IF_ERROR(run("REVOKE ALL ON SCHEMA " + schema + " FROM PUBLIC"));
    LG_RETURN_IF_ERROR(run("REVOKE ALL ON ALL TABLES IN SCHEMA " + schema + " FROM PUBLIC"));
    LG_RETURN_IF_ERROR(run("GRANT USAGE ON SCHEMA " + schema + " TO " + owner));
    LG_RETURN_IF_ERROR(run("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " +
                           schema + " TO " + owner));
    // The owner role receives the tables roles create (adopt_created_tables).
    LG_RETURN_IF_ERROR(run("GRANT CREATE ON SCHEMA " + schema + " TO " + owner));
  }
  for (const std::string& function :
       {naming_.AdoptFunction() + "()", naming_.ReleaseFunction() + "(text[])"}) {
    LG_RETURN_IF_ERROR(run("REVOKE ALL ON FUNCTION " + function + " FROM PUBLIC"));
  }
  // Every governed schema is made anew.
  LG_ASSIGN_OR_RETURN(ResultPtr schemas,
                      conn.Query("cannot list the governed schemas",
                                 "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1) "
                                 "AND nspname <> $2",
                                 {naming_.prefix() + "_", naming_.private_schema()}));
  for (int i = 0; i < PQntuples(schemas.get()); ++i) {
    LG_RETURN_IF_ERROR(
        run("DROP SCHEMA " + QuoteIdent(PQgetvalue(schemas.get(), i, 0)) + " CASCADE"));
  }
  std::map<std::string, bool> planned;
  for (RolePlan& plan : plans) {
    planned[plan.login] = true;
    const std::string login = QuoteIdent(plan.login);
    // A login role that can become no one and owns nothing.
    const std::string attributes =
        " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT NOREPLICATION NOBYPASSRLS";
    std::string password = Password(plan.login);
    char* hashed = PQencryptPasswordConn(conn.raw(), password.c_str(), plan.login.c_str(), nullptr);
    if (hashed == nullptr) {
      return Failure(StatusCode::kInternal, EngineFailure::kInternal,
                     "cannot hash a login password: " + std::string(PQerrorMessage(conn.raw())));
    }
    std::string verifier = hashed;
    PQfreemem(hashed);
    // (Never the statement in messages: it holds the password's verifier.)
    if (roles.count(plan.login) == 0) {
      LG_RETURN_IF_ERROR(
          conn.Run("cannot create login role " + plan.login,
                   "CREATE ROLE " + login + attributes + " PASSWORD " + QuoteString(verifier)));
    } else {
      // Only a superuser may name the superuser-level attributes; a role
      // that holds one fails the compile instead (fail closed).
      LG_ASSIGN_OR_RETURN(ResultPtr attrs,
                          conn.Query("cannot read a login role",
                                     "SELECT rolsuper OR rolbypassrls OR rolreplication "
                                     "FROM pg_roles WHERE rolname = $1",
                                     {plan.login}));
      if (PQntuples(attrs.get()) != 1 || std::string_view(PQgetvalue(attrs.get(), 0, 0)) != "f") {
        return Failure(StatusCode::kFailedPrecondition, EngineFailure::kMisconfigured,
                       "login role " + plan.login +
                           " has SUPERUSER, BYPASSRLS or REPLICATION; drop the role so that "
                           "lakegate creates it anew");
      }
      LG_RETURN_IF_ERROR(conn.Run("cannot update login role " + plan.login,
                                  "ALTER ROLE " + login +
                                      " LOGIN NOCREATEDB NOCREATEROLE INHERIT PASSWORD " +
                                      QuoteString(verifier)));
    }
    LG_RETURN_IF_ERROR(
        run("COMMENT ON ROLE " + login + " IS " + QuoteString("lakegate role " + plan.role)));
    // Members of nothing but the owner roles of the tables it may DROP or
    // ALTER (granted below): SET ROLE has no other target.
    LG_ASSIGN_OR_RETURN(ResultPtr member_of,
                        conn.Query("cannot list memberships",
                                   "SELECT roleid::regrole::text FROM pg_auth_members "
                                   "WHERE member = $1::regrole",
                                   {login}));
    for (int i = 0; i < PQntuples(member_of.get()); ++i) {
      LG_RETURN_IF_ERROR(
          run("REVOKE " + std::string(PQgetvalue(member_of.get(), i, 0)) + " FROM " + login));
    }
    for (const RawSchema& s : raw) {
      std::string schema = QuoteIdent(s.name);
      LG_RETURN_IF_ERROR(run("REVOKE ALL ON SCHEMA " + schema + " FROM " + login));
      LG_RETURN_IF_ERROR(run("REVOKE ALL ON ALL TABLES IN SCHEMA " + schema + " FROM " + login));
      bool creates =
          std::find(plan.create_in.begin(), plan.create_in.end(), s.name) != plan.create_in.end();
      bool owns = std::any_of(s.tables.begin(), s.tables.end(), [&](const RawTable& t) {
        return std::find(plan.table_owners.begin(), plan.table_owners.end(),
                         naming_.TableOwner(s.name, t.name)) != plan.table_owners.end();
      });
      // DDL names raw tables: USAGE to look them up, CREATE to create.
      if (creates || owns) {
        LG_RETURN_IF_ERROR(run("GRANT USAGE" + std::string(creates ? ", CREATE" : "") +
                               " ON SCHEMA " + schema + " TO " + login));
      }
      if (!plan.unrestricted) continue;
      LG_RETURN_IF_ERROR(run("GRANT USAGE, CREATE ON SCHEMA " + schema + " TO " + login));
      LG_RETURN_IF_ERROR(run("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA " +
                             schema + " TO " + login));
      LG_RETURN_IF_ERROR(
          run("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA " + schema + " TO " + login));
    }
    for (const std::string& table_owner : plan.table_owners) {
      if (table_owners.count(table_owner) == 0) continue;  // a table the compile could not own
      LG_RETURN_IF_ERROR(run("GRANT " + QuoteIdent(table_owner) + " TO " + login));
    }
    // The adopt function (run as the engine's user) hands what the role
    // creates to the owner role: it acts as the role's owner for that.
    LG_RETURN_IF_ERROR(run("GRANT " + login + " TO CURRENT_USER"));
    LG_RETURN_IF_ERROR(run("GRANT USAGE ON SCHEMA " + priv + " TO " + login));
    LG_RETURN_IF_ERROR(run("GRANT EXECUTE ON FUNCTION " + naming_.AdoptFunction() + "(), " +
                           naming_.ReleaseFunction() + "(text[]) TO " + login));
    for (const auto& [schema, views] : plan.views_by_schema) {
      LG_RETURN_IF_ERROR(run("CREATE SCHEMA " + QuoteIdent(schema) + " AUTHORIZATION " + owner));
      LG_RETURN_IF_ERROR(run("GRANT USAGE ON SCHEMA " + QuoteIdent(schema) + " TO " + login));
      LG_RETURN_IF_ERROR(run("SET LOCAL ROLE " + owner));
      for (const ViewPlan& v : views) {
        if (!run("SAVEPOINT lg_view").ok()) return Status(StatusCode::kInternal, "savepoint");
        Status created = run(v.create_sql);
        if (created.ok() && !v.grant_sql.empty()) created = run(v.grant_sql);
        if (!created.ok()) {
          LG_RETURN_IF_ERROR(run("ROLLBACK TO SAVEPOINT lg_view"));
          if (plan.unsupported.empty()) {
            // The compile error names what PostgreSQL could not type (e.g. a
            // filter comparing a number column with a string).
            std::string message = created.message();
            size_t colon = message.rfind(": ");
            plan.unsupported = "the row filters or masks of table " + v.table +
                               " cannot be evaluated exactly by PostgreSQL (" +
                               (colon == std::string::npos ? message : message.substr(colon + 2)) +
                               ")";
          }
        } else {
          LG_RETURN_IF_ERROR(run("RELEASE SAVEPOINT lg_view"));
        }
      }
      LG_RETURN_IF_ERROR(run("RESET ROLE"));
    }
  }
  // Roles no longer in the policy cannot log in.
  for (const auto& [name, comment] : roles) {
    if (name == naming_.owner() || planned.count(name) != 0) continue;
    if (name.starts_with(naming_.prefix() + "_t")) {
      // The owner role of a table that is gone.
      if (table_owners.count(name) == 0) (void)try_run("DROP ROLE " + QuoteIdent(name));
      continue;
    }
    LG_RETURN_IF_ERROR(run("ALTER ROLE " + QuoteIdent(name) + " NOLOGIN"));
    for (const RawSchema& s : raw) {
      LG_RETURN_IF_ERROR(
          run("REVOKE ALL ON SCHEMA " + QuoteIdent(s.name) + " FROM " + QuoteIdent(name)));
      LG_RETURN_IF_ERROR(run("REVOKE ALL ON ALL TABLES IN SCHEMA " + QuoteIdent(s.name) + " FROM " +
                             QuoteIdent(name)));
    }
  }
  LG_RETURN_IF_ERROR(run("COMMENT ON ROLE " + owner + " IS " + QuoteString(digest)));
  return run("COMMIT");
}

Result<std::unique_ptr<Conn>> PostgresEngine::Checkout(const std::string& login) {
  {
    MutexLock lock(pool_mu_);
    auto& idle = idle_[login];
    if (!idle.empty()) {
      std::unique_ptr<Conn> conn = std::move(idle.back());
      idle.pop_back();
      return conn;
    }
  }
  ConnectTarget target = target_;
  target.user = login;
  target.password = Password(login);
  return Conn::Open(target);
}

void PostgresEngine::Return(const std::string& login, std::unique_ptr<Conn> conn) {
  MutexLock lock(pool_mu_);
  auto& idle = idle_[login];
  if (idle.size() < max_idle_) idle.push_back(std::move(conn));
}

// The identifier chain (a.b.c, quoted parts too) at 1-based byte `position`
// of `sql`, as PostgreSQL's error position points at a name.
std::string NameAt(const std::string& sql, const char* position) {
  if (position == nullptr) return "";
  long at = std::strtol(position, nullptr, 10) - 1;
  if (at < 0 || static_cast<size_t>(at) >= sql.size()) return "";
  std::string out;
  for (size_t i = static_cast<size_t>(at); i < sql.size(); ++i) {
    char c = sql[i];
    if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.') {
      out += c;
    } else if (c != '"') {
      break;
    }
  }
  return out;
}

// PermissionDenied (SQLite's words) when `view` of `database` is a table
// `plan`'s role may write with `type` but does not see whole; OK otherwise.
Status PartialWrite(const RolePlan& plan, const std::string& view, const std::string& type,
                    const std::string& database) {
  policy::Permission needed = type == "INSERT"   ? policy::Permission::kInsert
                              : type == "UPDATE" ? policy::Permission::kUpdate
                              : type == "DELETE" ? policy::Permission::kDelete
                                                 : policy::Permission::kAlter;
  if (needed == policy::Permission::kAlter) return Status::Ok();
  for (const auto& [schema, views] : plan.views_by_schema) {
    for (const ViewPlan& v : views) {
      if (v.table != view || (!database.empty() && v.database != database)) continue;
      if (!v.whole_table && policy::Has(v.permissions, needed)) {
        return Failure(StatusCode::kPermissionDenied, EngineFailure::kPermissionDenied,
                       "role " + plan.role + " may not run this " + type +
                           ": a restricted role writes only whole tables");
      }
    }
  }
  return Status::Ok();
}

// The text between the first and last double quote of `message` ("" when none).
std::string QuotedPart(const std::string& message) {
  size_t open = message.find('"'), close = message.rfind('"');
  return open != std::string::npos && close > open ? message.substr(open + 1, close - open - 1)
                                                   : "";
}

Status PostgresEngine::UserFailure(const PGresult* result, PGconn* conn, const RolePlan& plan,
                                   const std::string& sql, const std::string& type,
                                   const std::string& database) const {
  std::string state = SqlState(result);
  std::string message = PrimaryMessage(result, conn);
  // Governed schemas read as the catalog databases they stand for.
  for (const auto& [catalog_db, schema] : plan.schemas)
    message = Replace(message, schema, catalog_db);
  if (message.size() > 300) message = message.substr(0, 300) + "...";
  if (IsConnectionLoss(result, conn)) {
    return Failure(StatusCode::kUnavailable, EngineFailure::kUnavailable,
                   "the PostgreSQL connection was lost: " + message);
  }
  if (state == "25006") {
    return Failure(StatusCode::kPermissionDenied, EngineFailure::kStatementNotAllowed,
                   "statement needs the write scope; the token has only read (" + message + ")");
  }
  if (state == "42501") {
    if (message.starts_with("permission denied for schema")) {
      // A catalog database the role may not see reads like a missing one.
      std::string name = NameAt(sql, PQresultErrorField(result, PG_DIAG_STATEMENT_POSITION));
      return Failure(StatusCode::kInvalidArgument, EngineFailure::kInvalidQuery,
                     "no such table: " + (name.empty() ? QuotedPart(message) : name));
    }
    if (message.starts_with("permission denied for view ") && !type.empty()) {
      // A governed view without the privilege: the role lacks the permission,
      // or holds it on a table it does not see whole.
      std::string view = message.substr(27);
      if (Status partial = PartialWrite(plan, view, type, database); !partial.ok()) return partial;
      std::string object = database.empty() ? view : database + "." + view;
      if (type != "INSERT" && type != "UPDATE" && type != "DELETE" && type != "MERGE") {
        return Failure(
            StatusCode::kPermissionDenied, EngineFailure::kPermissionDenied,
            "access to " + object + " is not granted to role " + plan.role + " (no SELECT)");
      }
      return Failure(StatusCode::kPermissionDenied, EngineFailure::kPermissionDenied,
                     "role " + plan.role + " lacks " + type + " on " + object);
    }
    if (message.starts_with("must be owner of ") && !type.empty()) {
      // Not a member of the table's owner role: no DROP/ALTER permission.
      std::string table = message.substr(message.rfind(' ') + 1);
      std::string object = database.empty() ? table : database + "." + table;
      return Failure(StatusCode::kPermissionDenied, EngineFailure::kPermissionDenied,
                     "role " + plan.role + " lacks " +
                         (type == "DROP TABLE" ? std::string("DROP") : std::string("ALTER")) +
                         " on " + object);
    }
    return Failure(StatusCode::kPermissionDenied, EngineFailure::kPermissionDenied,
                   message + " (role " + plan.role + ")");
  }
  if ((state == "0A000" || state == "55000") && message.find(" view ") != std::string::npos &&
      !type.empty()) {
    // A view PostgreSQL cannot write through (masked or filtered columns).
    std::string view = QuotedPart(message.substr(message.find(" view ")));
    if (Status partial = PartialWrite(plan, view, type, database); !partial.ok()) return partial;
  }
  if (state == "42703" && message.starts_with("column ")) {
    // column "x" does not exist, or unquoted when qualified: column a.x does not exist.
    std::string name = QuotedPart(message);
    constexpr std::string_view kMissing = " does not exist";
    if (name.empty() && message.ends_with(kMissing)) {
      name = message.substr(7, message.size() - 7 - kMissing.size());
    }
    return Failure(StatusCode::kInvalidArgument, EngineFailure::kInvalidQuery,
                   "no such column: " + (name.empty() ? message : name));
  }
  if (state == "42601" && message.find("multiple commands") != std::string::npos) {
    return Failure(StatusCode::kInvalidArgument, EngineFailure::kInvalidQuery,
                   "one statement per request: the text holds more than one");
  }
  if (state == "42P01") {
    // relation "x" does not exist: SQLite's words, so both engines read alike.
    return Failure(StatusCode::kInvalidArgument, EngineFailure::kInvalidQuery,
                   "no such table: " + QuotedPart(message));
  }
  if (state == "57014") {
    return Failure(StatusCode::kDeadlineExceeded, EngineFailure::kTimeout,
                   "the query was cancelled by PostgreSQL: " + message);
  }
  if (state == "53200") {
    return Failure(StatusCode::kResourceExhausted, EngineFailure::kOutOfMemory, message);
  }
  if (state.starts_with("40") || state.starts_with("53") || state == "55P03") {
    return Failure(StatusCode::kUnavailable, EngineFailure::kUnavailable, message);
  }
  if (state.starts_with("XX") || state.starts_with("58")) {
    return Failure(StatusCode::kInternal, EngineFailure::kInternal, message);
  }
  return Failure(StatusCode::kInvalidArgument, EngineFailure::kInvalidQuery, message);
}

Status PostgresEngine::CheckDdl(const policy::PolicySnapshot& policy, const policy::Role& role,
                                const RolePlan& plan, const TextClass& text,
                                const QueryRequest& request) const {
  using P = policy::Permission;
  if (plan.unrestricted) return Status::Ok();
  const std::string& type = text.type;
  auto denied = [](std::string message) {
    return Failure(StatusCode::kPermissionDenied, EngineFailure::kPermissionDenied,
                   std::move(message));
  };
  auto lacks = [&](P needed, const std::string& object) {
    return denied("role " + role.name + " lacks " + policy::PermissionNames(policy::Bit(needed)) +
                  " on " + object);
  };
  if (!IsTableDdl(type)) {
    if (!type.starts_with("CREATE ") && !type.starts_with("DROP ") && !type.starts_with("ALTER ")) {
      return Status::Ok();
    }
    // Views and schemas: an owner of a view reads what the view reads.
    const std::string& database = request.database;
    if (type == "CREATE VIEW" && !database.empty() &&
        !policy::Has(policy::DecideDatabase(policy, role, database), P::kCreateTable)) {
      return lacks(P::kCreateTable, "database " + database);
    }
    return denied(type + " is not supported for roles with restricted access on the PostgreSQL " +
                  "engine: a view's owner reads the raw tables under it; use a role with " +
                  "unrestricted access (role " + role.name + ")");
  }
  DdlTargets targets = DdlTargetsOf(request.sql);
  if (!targets.parsed) {
    // PostgreSQL decides, by ownership -- exactly the permission unless the
    // role holds only one of DROP and ALTER on a table it owns.
    if (plan.ddl_split.empty()) return Status::Ok();
    return denied(type + " is refused for role " + role.name +
                  ": the engine cannot tell which table the statement names, and the role may " +
                  "DROP or ALTER " + plan.ddl_split +
                  " but not both, which PostgreSQL's ownership cannot tell apart: write DROP " +
                  "TABLE, ALTER TABLE or CREATE INDEX ... ON with the table as [database.]table " +
                  "(DROP INDEX and ALTER INDEX need both permissions)");
  }
  for (const RelationName& target : targets.tables) {
    const std::string database = target.schema.empty() ? request.database : target.schema;
    if (database.empty()) continue;
    if (type == "CREATE TABLE") {
      if (!policy::Has(policy::DecideDatabase(policy, role, database), P::kCreateTable)) {
        return lacks(P::kCreateTable, "database " + database);
      }
      continue;
    }
    const P needed = type == "DROP TABLE" ? P::kDrop : P::kAlter;
    const std::string object = database + "." + target.name;
    if (!policy::Has(policy::DecideView(policy, role, database, target.name, {}).permissions,
                     needed)) {
      return lacks(needed, object);
    }
    if (auto refused = plan.ddl_refused.find(object); refused != plan.ddl_refused.end()) {
      return denied(type + " on " + object + " is refused for role " + role.name + ": " +
                    refused->second);
    }
  }
  return Status::Ok();
}

std::string PostgresEngine::ReleaseSql(const TextClass& text, const QueryRequest& request) const {
  if (text.type != "DROP TABLE" && text.type != "ALTER TABLE") return "";
  std::vector<std::string> names;
  for (const RelationName& t : DdlTargetsOf(request.sql).tables) {
    std::string schema = t.schema.empty() ? request.database : t.schema;
    if (!schema.empty())
      names.push_back(QuoteString(QuoteIdent(schema) + "." + QuoteIdent(t.name)));
  }
  if (names.empty()) return "";
  return "SELECT " + naming_.ReleaseFunction() + "(ARRAY[" + Join(names, ", ") + "])";
}

Result<QueryResult> PostgresEngine::Execute(const policy::PolicySnapshot& policy,
                                            const policy::Role& role, const QueryRequest& request,
                                            ResultSink& sink) {
  if (!request.database.empty() && !IsValidDatabaseName(request.database)) {
    return Failure(StatusCode::kInvalidArgument, EngineFailure::kUnknownDatabase,
                   "unknown database: " + request.database);
  }
  LG_ASSIGN_OR_RETURN(std::shared_ptr<const Compiled> compiled, Ensure(policy));
  auto found = compiled->roles.find(role.name);
  if (found == compiled->roles.end()) {
    return Failure(StatusCode::kPermissionDenied, EngineFailure::kPermissionDenied,
                   "role " + role.name + " has no compiled policy on the PostgreSQL engine");
  }
  const RolePlan& plan = found->second;
  if (!plan.unsupported.empty()) {
    return Failure(StatusCode::kPermissionDenied, EngineFailure::kPermissionDenied,
                   "the policy of role " + role.name +
                       " cannot be enforced exactly on the PostgreSQL engine, so its queries are "
                       "refused: " +
                       plan.unsupported);
  }
  if (!request.database.empty() && plan.schemas.count(request.database) == 0) {
    return Failure(StatusCode::kInvalidArgument, EngineFailure::kUnknownDatabase,
                   "unknown database: " + request.database);
  }
  TextClass text = ClassifyText(request.sql);
  if (!text.statement) {
    return Failure(
        StatusCode::kInvalidArgument, EngineFailure::kInvalidQuery,
        text.type == "OTHER" ? "empty statement" : "syntax error at or near \"" + text.type + "\"");
  }
  if (!text.allowed) {
    return Failure(StatusCode::kPermissionDenied, EngineFailure::kStatementNotAllowed,
                   "the query API does not run " + text.type +
                       " statements (one SELECT, DML or DDL statement per request)");
  }
  if (text.klass > request.max_class) {
    return Failure(StatusCode::kPermissionDenied, EngineFailure::kStatementNotAllowed,
                   "statement needs the " + std::string(StatementClassName(text.klass)) +
                       " scope; the token has only " +
                       std::string(StatementClassName(request.max_class)) + " (" + text.type + ")");
  }
  if (text.type == "EXPLAIN" && !plan.unrestricted) {
    return Failure(StatusCode::kPermissionDenied, EngineFailure::kPermissionDenied,
                   "EXPLAIN is refused for role " + role.name +
                       ": a governed view's plan shows its filters and the rows they remove");
  }
  LG_RETURN_IF_ERROR(CheckDdl(policy, role, plan, text, request));
  // Table DDL names raw tables (PostgreSQL's ownership and schema privileges
  // decide); everything else a restricted role runs names governed views.
  const bool raw_names = plan.unrestricted || IsTableDdl(text.type);
  std::string sql = raw_names ? request.sql : MapSchemaQualifiers(request.sql, plan.schemas);
  // Unqualified names: the request's database first, then the others.
  std::vector<std::string> path;
  if (raw_names && !plan.unrestricted) {
    if (!request.database.empty()) path.push_back(QuoteIdent(request.database));
  } else {
    if (!request.database.empty()) path.push_back(QuoteIdent(plan.schemas.at(request.database)));
    for (const auto& [database, schema] : plan.schemas) {
      if (database != request.database) path.push_back(QuoteIdent(schema));
    }
  }
  if (path.empty()) path.push_back("pg_catalog");
  // The read path (READ ONLY, one round trip) for the read scope, and for a
  // statement of write scope that reads only by its text; PostgreSQL's 25006
  // sends the latter on to the write path (Run's `writes`).
  bool read_only = request.max_class == StatementClass::kRead || ReadsOnly(text, request.sql);
  const Clock::time_point deadline = Clock::now() + request.limits.timeout;
  // Never relies on the session's defaults: the transaction says READ ONLY
  // itself, and PostgreSQL's own timeout backs up lakegate's cancel.
  const std::vector<std::string> settings = {Join(path, ", "),
                                             std::to_string(request.limits.timeout.count() + 2000),
                                             WorkMem(request.limits.max_memory_bytes)};

  for (int attempt = 0;; ++attempt) {
    LG_ASSIGN_OR_RETURN(std::unique_ptr<Conn> conn, Checkout(plan.login));
    PipelineReader reader(conn->raw(), request, deadline);
    bool retry = false, broken = false, writes = false;
    Result<QueryResult> result = Run(*conn, reader, plan, text, sql, settings, request, read_only,
                                     sink, retry, broken, writes);
    // A pooled connection whose backend went away (pg_terminate_backend, a
    // server restart) fails before BEGIN ran: a new connection retries.
    if (retry && attempt < 2) continue;
    if (!broken && EndRequest(*conn, reader, plan, read_only, result)) {
      Return(plan.login, std::move(conn));
    }
    if (writes) {
      // The read attempt rolled back; the write path runs the statement
      // with its own rules, as if the read path had not been tried.
      read_only = false;
      attempt = -1;
      continue;
    }
    if (result.ok() && result->statement_class != StatementClass::kRead) {
      // DDL or a load-like change: look at the schema before the next query.
      MutexLock lock(state_mu_);
      stale_ = true;
    }
    return result;
  }
}

bool PipelineReader::Next(ResultPtr& out) {
  while (PQisBusy(pg_) != 0) {
    auto now = Clock::now();
    if (watch_ && !cancel_deadline_) {
      if (request_.cancelled != nullptr && request_.cancelled->load()) {
        cancelled_ = true;
        Cancel();
      } else if (now >= deadline_) {
        timed_out_ = true;
        Cancel();
      }
    }
    // The backend ignores the cancel, or one of our own steps hangs: the
    // connection goes, and with it the backend's session.
    auto until = cancel_deadline_ ? *cancel_deadline_ : watch_ ? deadline_ : step_deadline_;
    if (now >= until && (cancel_deadline_ || !watch_)) return false;
    pollfd fd{PQsocket(pg_), POLLIN, 0};
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count();
    (void)poll(&fd, 1, static_cast<int>(std::clamp<int64_t>(wait, 1, 50)));
    if (PQconsumeInput(pg_) == 0) return false;
  }
  out.reset(PQgetResult(pg_));
  return true;
}

void PipelineReader::Cancel() {
  if (cancel_deadline_) return;
  cancel_deadline_ = Clock::now() + kCancelGrace;
  if (PGcancel* c = PQgetCancel(pg_)) {
    char buf[256];
    (void)PQcancel(c, buf, sizeof(buf));
    PQfreeCancel(c);
  }
}

Result<QueryResult> PostgresEngine::Run(Conn& conn, PipelineReader& reader, const RolePlan& plan,
                                        const TextClass& text, const std::string& sql,
                                        const std::vector<std::string>& settings,
                                        const QueryRequest& request, bool read_only,
                                        ResultSink& sink, bool& retry, bool& broken, bool& writes) {
  PGconn* pg = conn.raw();
  // A statement of write scope on the read path: until a row reaches the
  // sink, PostgreSQL's 25006 means "run it as a write".
  const bool speculative = read_only && request.max_class > StatementClass::kRead;
  // Parameters: integers and reals typed, text left for PostgreSQL to infer
  // from the context, blobs as binary bytea.
  std::vector<Oid> types;
  std::vector<std::string> texts;
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  texts.reserve(request.params.size());
  for (const Param& p : request.params) {
    Oid type = 0;
    int format = 0;
    const char* value = nullptr;
    if (const auto* i = std::get_if<int64_t>(&p)) {
      type = 20;
      texts.push_back(std::to_string(*i));
    } else if (const auto* d = std::get_if<double>(&p)) {
      type = 701;
      char buf[40];
      std::snprintf(buf, sizeof(buf), "%.17g", *d);
      texts.push_back(buf);
    } else if (const auto* s = std::get_if<std::string>(&p)) {
      texts.push_back(*s);
    } else if (const auto* b = std::get_if<Blob>(&p)) {
      type = 17;
      format = 1;
      texts.push_back(b->bytes);
    } else {
      texts.push_back("");
    }
    if (!std::holds_alternative<std::monostate>(p)) value = texts.back().c_str();
    types.push_back(type);
    values.push_back(value);
    lengths.push_back(static_cast<int>(texts.back().size()));
    formats.push_back(format);
  }

  // One round trip (pipeline mode): the session's settings when they differ
  // from the request's (then a sync: they must not be part of the request's
  // transaction), BEGIN and the statement, a sync, and for a read the end of
  // the request too (ROLLBACK and the release of advisory locks after the
  // sync, so that they run whether or not the statement failed). A write's
  // end waits for its result (EndRequest): nothing commits before lakegate
  // has read it.
  std::vector<PipelineStep> steps;
  auto own = [&](OwnStatement which, const std::vector<std::string>& params) {
    bool prepare = false;
    // A write's session ends with DISCARD ALL, which would drop them.
    if (!conn.SendOwn(which, params, /*keep=*/read_only, prepare)) return false;
    if (prepare) steps.push_back({PipelineStep::kPrepare, which});
    steps.push_back({PipelineStep::kRun, which});
    return true;
  };
  auto sync = [&] {
    steps.push_back({PipelineStep::kSync, OwnStatement::kCount});
    return PQpipelineSync(pg) == 1;
  };
  const std::string wanted = Join(settings, std::string_view("\x1f", 1));
  bool sent = PQenterPipelineMode(pg) == 1;
  if (conn.settings() != wanted) sent = sent && own(OwnStatement::kSettings, settings) && sync();
  sent = sent && own(read_only ? OwnStatement::kBeginReadOnly : OwnStatement::kBeginReadWrite, {});
  const size_t before_statement = steps.size();
  const std::string release = ReleaseSql(text, request);
  sent = sent &&
         (release.empty() ||
          PQsendQueryParams(pg, release.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) == 1) &&
         PQsendQueryParams(pg, sql.c_str(), static_cast<int>(values.size()), types.data(),
                           values.data(), lengths.data(), formats.data(), 0) == 1 &&
         PQpipelineSync(pg) == 1;
  if (read_only) {
    sent = sent && own(OwnStatement::kRollback, {}) && own(OwnStatement::kUnlockAll, {}) && sync();
  }
  reader.set_after_statement(
      {steps.begin() + static_cast<ptrdiff_t>(before_statement), steps.end()});
  if (!sent) {
    broken = true;
    retry = true;
    return Failure(StatusCode::kUnavailable, EngineFailure::kUnavailable,
                   "cannot send the query: " + PrimaryMessage(nullptr, pg));
  }
  for (size_t i = 0; i < before_statement; ++i) {
    ResultPtr r;
    if (!ReadStep(reader, conn, steps[i], &r)) {
      broken = true;
      // Nothing ran when the first step found the connection gone.
      retry = i == 0 && IsConnectionLoss(r.get(), pg);
      return InternalFailure(r.get(), pg, "cannot begin the request");
    }
    if (steps[i].what == PipelineStep::kRun && steps[i].which == OwnStatement::kSettings) {
      conn.set_settings(wanted);
    }
  }
  if (!release.empty()) {
    ResultPtr r, end;
    if (!reader.Next(r) || !r || PQresultStatus(r.get()) != PGRES_TUPLES_OK || !reader.Next(end) ||
        end) {
      broken = true;
      return InternalFailure(r.get(), pg, "cannot release the governed views of the table");
    }
  }
  // Rows one at a time: set for the statement's results before libpq reads
  // any of them.
  if (PQsetSingleRowMode(pg) != 1) {
    broken = true;
    return Failure(StatusCode::kInternal, EngineFailure::kInternal,
                   "cannot stream the statement's rows (libpq refused single-row mode)");
  }

  QueryResult out;
  out.statement_class = text.klass;
  out.statement_type = text.type;
  bool stopping = false, described = false, begun = false;
  Status error = Status::Ok();
  std::vector<ColumnInfo> columns;
  PgRowView row;
  auto stop = [&](Status s) {
    if (error.ok() && !s.ok()) error = std::move(s);
    stopping = true;
    reader.Cancel();
  };
  // The sink begins with the first row handed to it (or the statement's
  // end), so that a read attempt refused with 25006 has handed nothing.
  auto begin = [&] {
    if (begun) return true;
    begun = true;
    Status s = sink.Begin(columns);
    if (!s.ok()) stop(std::move(s));
    return s.ok();
  };

  reader.Watch(true);
  while (true) {
    ResultPtr r;
    if (!reader.Next(r)) {
      broken = true;
      if (reader.cancelling()) break;  // reported below
      return Failure(StatusCode::kUnavailable, EngineFailure::kUnavailable,
                     "the PostgreSQL connection was lost: " + PrimaryMessage(nullptr, pg));
    }
    if (!r) break;
    switch (PQresultStatus(r.get())) {
      case PGRES_SINGLE_TUPLE:
      case PGRES_TUPLES_OK: {
        if (!described) {
          described = true;
          columns = ColumnsOf(r.get());
        }
        if (PQresultStatus(r.get()) == PGRES_TUPLES_OK) {
          TextClass tag = ClassifyTag(PQcmdStatus(r.get()));
          if (!tag.type.empty()) out.statement_type = tag.type;
          if (!stopping) (void)begin();
          break;
        }
        if (stopping || !begin()) break;
        if (out.rows >= request.limits.max_rows) {
          out.truncated = true;
          // A read stops here; a write runs to its end (its rows count).
          if (text.klass == StatementClass::kRead) {
            stopping = true;
            reader.Cancel();
          }
          break;
        }
        row.Reset(r.get());
        for (int c = 0; c < PQnfields(r.get()); ++c) {
          if (PQgetlength(r.get(), 0, c) > request.limits.max_string_bytes) {
            stop(Failure(StatusCode::kResourceExhausted, EngineFailure::kValueTooLarge,
                         "a value of column " + columns[static_cast<size_t>(c)].name +
                             " is longer than " + std::to_string(request.limits.max_string_bytes) +
                             " bytes"));
            break;
          }
        }
        if (stopping) break;
        Status s = sink.Row(row);
        if (!s.ok()) {
          stop(std::move(s));
          break;
        }
        ++out.rows;
        break;
      }
      case PGRES_COMMAND_OK: {
        TextClass tag = ClassifyTag(PQcmdStatus(r.get()));
        out.statement_type = tag.type;
        const char* tuples = PQcmdTuples(r.get());
        if (tuples != nullptr && *tuples != '\0') out.changes = std::strtoll(tuples, nullptr, 10);
        break;
      }
      case PGRES_EMPTY_QUERY:
        if (error.ok()) {
          error = Failure(StatusCode::kInvalidArgument, EngineFailure::kInvalidQuery,
                          "empty statement");
        }
        break;
      case PGRES_FATAL_ERROR:
        // Our own cancel (timeout, max rows, a sink error) is not the error.
        if (reader.cancelling() && SqlState(r.get()) == "57014") break;
        if (speculative && error.ok() && SqlState(r.get()) == "25006") {
          if (!begun && !reader.cancelling()) {
            writes = true;
            error = Failure(StatusCode::kFailedPrecondition, EngineFailure::kInternal,
                            "the statement writes; it runs again on the write path");
          } else {
            error = Failure(
                StatusCode::kInvalidArgument, EngineFailure::kInvalidQuery,
                "the statement writes (" + PrimaryMessage(r.get(), pg) +
                    "), which lakegate learned only after " + std::to_string(out.rows) +
                    " rows had been sent, so it could not run it again as a write: name the "
                    "writing function in the statement text (nextval, setval, pg_notify) or add "
                    "a FOR UPDATE clause, and lakegate runs it as a write from the start");
          }
        }
        if (error.ok()) {
          error = UserFailure(r.get(), pg, plan, sql, text.type, request.database);
        }
        if (IsConnectionLoss(r.get(), pg)) broken = true;
        break;
      default:
        // COPY and the like never reach here (ClassifyText refuses them);
        // the connection is not reused.
        broken = true;
        if (error.ok()) {
          error = Failure(StatusCode::kPermissionDenied, EngineFailure::kStatementNotAllowed,
                          "the query API does not run this statement");
        }
        break;
    }
    if (broken) break;
  }
  reader.Watch(false);
  if (!broken) {
    ResultPtr synced;
    if (!reader.Next(synced) || !synced || PQresultStatus(synced.get()) != PGRES_PIPELINE_SYNC) {
      broken = true;
    }
  }
  if (reader.cancelled()) {
    return Failure(StatusCode::kDeadlineExceeded, EngineFailure::kCancelled,
                   "the query was cancelled");
  }
  if (reader.timed_out()) {
    return Failure(StatusCode::kDeadlineExceeded, EngineFailure::kTimeout,
                   "the query ran longer than the limit of " +
                       std::to_string(request.limits.timeout.count()) + " ms");
  }
  if (broken && error.ok()) {
    return Failure(StatusCode::kUnavailable, EngineFailure::kUnavailable,
                   reader.cancelling()
                       ? "the PostgreSQL backend did not stop after a cancel"
                       : "the PostgreSQL connection was lost: " + PrimaryMessage(nullptr, pg));
  }
  LG_RETURN_IF_ERROR(error);
  if (!begun) LG_RETURN_IF_ERROR(sink.Begin({}));
  // What PostgreSQL says it ran decides the class, whatever the text looked
  // like (a data-modifying WITH, CREATE TABLE AS).
  TextClass tag = ClassifyTag(out.statement_type);
  StatementClass klass = std::max(text.klass, tag.klass);
  if (!tag.allowed || klass > request.max_class) {
    return Failure(StatusCode::kPermissionDenied, EngineFailure::kStatementNotAllowed,
                   "the " + out.statement_type + " statement is not allowed with the " +
                       std::string(StatementClassName(request.max_class)) + " scope");
  }
  out.statement_class = klass;
  return out;
}

bool PostgresEngine::EndRequest(Conn& conn, PipelineReader& reader, const RolePlan& plan,
                                bool read_only, Result<QueryResult>& result) {
  PGconn* pg = conn.raw();
  // Reads one result of ours of status `want`, then its query's end.
  auto expect = [&](ExecStatusType want, ResultPtr* kept = nullptr) {
    ResultPtr r, end;
    bool ok = reader.Next(r) && r && PQresultStatus(r.get()) == want && reader.Next(end) && !end;
    if (kept != nullptr) *kept = std::move(r);
    return ok;
  };
  auto sync = [&] {
    ResultPtr r;
    return reader.Next(r) && r && PQresultStatus(r.get()) == PGRES_PIPELINE_SYNC;
  };
  if (read_only) {
    // Queued with the statement: the rollback undoes everything a statement
    // can set up in a read-only transaction (settings, LISTEN, cursors, temp
    // objects) except session-level advisory locks, released next.
    for (const PipelineStep& step : reader.after_statement()) {
      if (!ReadStep(reader, conn, step)) return false;
    }
  } else {
    // The statement's result decides: commit, or roll back (a failure, a
    // class above the scope). Then DISCARD ALL: a committed statement may
    // have set up anything a session keeps (prepared statements, cursors
    // WITH HOLD, temp objects, LISTEN, settings, advisory locks).
    const char* end = result.ok() ? "COMMIT" : "ROLLBACK";
    // What the role created goes to the owner role before the commit.
    const bool adopt = result.ok() && !plan.create_in.empty();
    const std::string adopt_sql = "SELECT " + naming_.AdoptFunction() + "()";
    if ((adopt &&
         PQsendQueryParams(pg, adopt_sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) ||
        PQsendQueryParams(pg, end, 0, nullptr, nullptr, nullptr, nullptr, 0) != 1 ||
        PQpipelineSync(pg) != 1 ||
        PQsendQueryParams(pg, "DISCARD ALL", 0, nullptr, nullptr, nullptr, nullptr, 0) != 1 ||
        PQpipelineSync(pg) != 1) {
      if (result.ok()) {
        result = Failure(StatusCode::kUnavailable, EngineFailure::kUnavailable,
                         "cannot commit: " + PrimaryMessage(nullptr, pg));
      }
      return false;
    }
    ResultPtr adopted;
    if (adopt && !expect(PGRES_TUPLES_OK, &adopted)) {
      // Nothing commits (the pipeline aborts to its sync); the connection
      // goes, and its transaction with it.
      result = UserFailure(adopted.get(), pg, plan);
      return false;
    }
    ResultPtr ended;
    if (!expect(PGRES_COMMAND_OK, &ended)) {
      if (result.ok()) result = UserFailure(ended.get(), pg, plan);
      if (!ended || IsConnectionLoss(ended.get(), pg)) return false;
      ResultPtr rest;  // the failed COMMIT's end
      if (PQresultStatus(ended.get()) != PGRES_FATAL_ERROR || !reader.Next(rest) || rest) {
        return false;
      }
    }
    if (!sync()) return false;
    if (!expect(PGRES_COMMAND_OK) || !sync()) return false;
    conn.Discarded();
  }
  return PQexitPipelineMode(pg) == 1 && PQtransactionStatus(pg) == PQTRANS_IDLE;
}

Result<std::vector<DatabaseInfo>> PostgresEngine::Catalog(const policy::PolicySnapshot& policy,
                                                          const policy::Role& role) {
  LG_ASSIGN_OR_RETURN(std::shared_ptr<const Compiled> compiled, Ensure(policy));
  std::vector<DatabaseInfo> out;
  const bool unrestricted = policy::IsUnrestricted(role);
  for (const RawSchema& s : compiled->raw) {
    if (!unrestricted && policy::DecideDatabase(policy, role, s.name) == 0) continue;
    DatabaseInfo db{s.name, {}};
    for (const RawTable& t : s.tables) {
      std::vector<std::string> all;
      for (const RawColumn& c : t.columns) all.push_back(c.name);
      policy::TableView view = policy::DecideView(policy, role, s.name, t.name, all);
      if (!unrestricted && !view.visible()) continue;
      TableInfo info{t.name, {}};
      for (const RawColumn& c : t.columns) {
        bool shown = unrestricted;
        const policy::ViewColumn* vc = nullptr;
        for (const policy::ViewColumn& v : view.columns) {
          if (EqualsIgnoreCase(v.name, c.name)) vc = &v;
        }
        shown = shown || vc != nullptr;
        if (!shown) continue;
        std::string type = PublicType(c.type);
        if (vc != nullptr && vc->mask != nullptr && vc->mask->kind != policy::MaskKind::kNull &&
            vc->mask->kind != policy::MaskKind::kRedact) {
          type = "TEXT";
        }
        info.columns.push_back({c.name, type});
      }
      db.tables.push_back(std::move(info));
    }
    out.push_back(std::move(db));
  }
  return out;
}

// ---- Load: COPY into one table, in one transaction ----

std::string CopyText(const LoadValue& value) {
  if (std::holds_alternative<std::monostate>(value)) return "\\N";
  if (const auto* i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) {
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%.17g", *d);
    return buf;
  }
  std::string out;
  for (char c : std::get<std::string_view>(value)) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string TableTypeFor(const std::string& declared) {
  std::string t = AsciiLower(declared);
  if (t.empty() || t == "text") return "text";
  if (t == "integer" || t == "int") return "bigint";
  if (t == "real" || t == "double" || t == "float") return "double precision";
  return declared;
}

class CopyTarget final : public LoadTarget {
 public:
  CopyTarget(std::unique_ptr<Conn> conn, std::string database, std::string table)
      : conn_(std::move(conn)), database_(std::move(database)), table_(std::move(table)) {}
  ~CopyTarget() override {
    if (copying_) (void)PQputCopyEnd(conn_->raw(), "load abandoned");
  }

  Result<std::optional<std::vector<LoadedColumn>>> DescribeTable() override {
    LG_ASSIGN_OR_RETURN(
        ResultPtr r,
        conn_->Query(
            "cannot describe the table",
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            "WHERE n.nspname = $1 AND c.relname = $2 ORDER BY a.attnum",
            {database_, table_}));
    if (PQntuples(r.get()) == 0) return std::optional<std::vector<LoadedColumn>>();
    std::vector<LoadedColumn> columns;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      columns.push_back({PQgetvalue(r.get(), i, 0), PublicType(PQgetvalue(r.get(), i, 1))});
    }
    return std::optional<std::vector<LoadedColumn>>(std::move(columns));
  }
  ColumnKind KindOf(std::string_view declared) const override {
    std::string t(declared);
    if (t == "INTEGER") return ColumnKind::kInteger;
    if (t == "REAL") return ColumnKind::kReal;
    if (t == "NUMERIC") return ColumnKind::kNumeric;
    if (t == "TEXT") return ColumnKind::kText;
    return ColumnKind::kAny;
  }
  Status Begin() override { return conn_->Run("cannot begin the load", "BEGIN"); }
  Status CreateTable(const std::vector<LoadedColumn>& columns) override {
    LG_RETURN_IF_ERROR(conn_->Run("cannot create the schema",
                                  "CREATE SCHEMA IF NOT EXISTS " + QuoteIdent(database_)));
    std::string sql = "CREATE TABLE " + Target() + " (";
    for (size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) sql += ", ";
      sql += QuoteIdent(columns[i].name) + " " + TableTypeFor(columns[i].type);
    }
    sql += ")";
    ResultPtr r(PQexec(conn_->raw(), sql.c_str()));
    if (r && PQresultStatus(r.get()) == PGRES_COMMAND_OK) return Status::Ok();
    if (SqlState(r.get()) == "42P07") {
      return Failure(StatusCode::kFailedPrecondition, EngineFailure::kConflict,
                     "table " + database_ + "." + table_ + " appeared while the load created it");
    }
    return InternalFailure(r.get(), conn_->raw(), "cannot create the table");
  }
  Status PrepareInsert(const std::vector<std::string>& columns) override {
    defaults_only_ = columns.empty();
    if (defaults_only_) return Status::Ok();
    std::vector<std::string> quoted;
    for (const std::string& c : columns) quoted.push_back(QuoteIdent(c));
    std::string sql = "COPY " + Target() + " (" + Join(quoted, ", ") + ") FROM STDIN";
    ResultPtr r(PQexec(conn_->raw(), sql.c_str()));
    if (!r || PQresultStatus(r.get()) != PGRES_COPY_IN) {
      return InternalFailure(r.get(), conn_->raw(), "cannot start the COPY");
    }
    copying_ = true;
    return Status::Ok();
  }
  Status Insert(const std::vector<LoadValue>& values) override {
    if (defaults_only_) {
      return conn_->Run("cannot insert", "INSERT INTO " + Target() + " DEFAULT VALUES");
    }
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) buffer_ += '\t';
      buffer_ += CopyText(values[i]);
    }
    buffer_ += '\n';
    if (buffer_.size() >= (1 << 16)) return Flush();
    return Status::Ok();
  }
  Status Commit() override {
    if (copying_) {
      LG_RETURN_IF_ERROR(Flush());
      copying_ = false;
      if (PQputCopyEnd(conn_->raw(), nullptr) != 1) {
        return InternalFailure(nullptr, conn_->raw(), "cannot end the COPY");
      }
      ResultPtr r(PQgetResult(conn_->raw()));
      ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
      while (ResultPtr more{PQgetResult(conn_->raw())}) {
      }
      if (status != PGRES_COMMAND_OK) {
        if (IsConnectionLoss(r.get(), conn_->raw())) {
          return InternalFailure(r.get(), conn_->raw(), "the load failed");
        }
        const char* context = r ? PQresultErrorField(r.get(), PG_DIAG_CONTEXT) : nullptr;
        return Failure(StatusCode::kInvalidArgument, EngineFailure::kInvalidData,
                       "PostgreSQL refused the data: " + PrimaryMessage(r.get(), conn_->raw()) +
                           (context != nullptr ? " (" + std::string(context) + ")" : ""));
      }
    }
    return conn_->Run("cannot commit the load", "COMMIT");
  }

 private:
  std::string Target() const { return QuoteIdent(database_) + "." + QuoteIdent(table_); }
  Status Flush() {
    if (buffer_.empty()) return Status::Ok();
    if (PQputCopyData(conn_->raw(), buffer_.data(), static_cast<int>(buffer_.size())) != 1) {
      return InternalFailure(nullptr, conn_->raw(), "cannot send rows");
    }
    buffer_.clear();
    return Status::Ok();
  }

  std::unique_ptr<Conn> conn_;
  std::string database_, table_;
  std::string buffer_;
  bool copying_ = false;
  bool defaults_only_ = false;
};

Result<LoadSummary> PostgresEngine::Load(const LoadRequest& request, RowSource& source,
                                         const LoadProgressFn& progress) {
  LG_RETURN_IF_ERROR(ValidateLoadRequest(request));
  LG_ASSIGN_OR_RETURN(std::unique_ptr<Conn> conn, Conn::Open(target_));
  if (!request.create) {
    LG_ASSIGN_OR_RETURN(ResultPtr r, conn->Query("cannot look up the database",
                                                 "SELECT 1 FROM pg_namespace WHERE nspname = $1",
                                                 {request.database}));
    if (PQntuples(r.get()) == 0) {
      return Failure(StatusCode::kNotFound, EngineFailure::kNotFound,
                     "no database " + request.database + " (schema) in the PostgreSQL engine");
    }
  }
  CopyTarget target(std::move(conn), request.database, request.table);
  Result<LoadSummary> summary = LoadInto(target, request, source, progress);
  MutexLock lock(state_mu_);
  stale_ = true;  // the next query compiles the new table's views
  return summary;
}

}  // namespace

Result<std::unique_ptr<Engine>> OpenPostgresEngineAt(std::string_view url,
                                                     const EngineSettings& settings) {
  ConnectTarget target;
  target.url = std::string(url);
  target.display = store::RedactPostgresUrl(url);
  LG_ASSIGN_OR_RETURN(std::unique_ptr<Conn> admin, Conn::Open(target));
  std::string key(settings.mask_hash_key.Reveal());
  // Without a configured key the login passwords and hash masks hold for
  // this process only (a restart sets new passwords at its first compile).
  if (key.empty()) key = RandomBytes(32);
  return std::unique_ptr<Engine>(
      new PostgresEngine(std::move(target), std::move(admin), std::move(key),
                         std::max<size_t>(1, settings.max_idle_sessions_per_role)));
}

}  // namespace lakegate::engine
