// The engine of sqlite_engine.h: the lake listing, the schema watch rounds,
// the session pools keyed by role, policy version and database, and Load().
// Sessions (session.h) run the statements; catalog.h describes the lake.
#include "engine/sqlite/sqlite_engine.h"

#include <dirent.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <tuple>
#include <utility>
#include <vector>

#include "common/random.h"
#include "common/thread_annotations.h"
#include "engine/load_driver.h"
#include "engine/sqlite/catalog.h"
#include "engine/sqlite/classify.h"
#include "engine/sqlite/connection.h"
#include "engine/sqlite/memory_budget.h"
#include "engine/sqlite/schema_watch.h"
#include "engine/sqlite/session.h"
#include "engine/sqlite/table_loader.h"

namespace lakegate::engine {
namespace {

using sqlite_internal::DbPtr;
using sqlite_internal::Guard;
using sqlite_internal::SchemaWatch;
using sqlite_internal::Session;

int64_t SteadyNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class SqliteEngine final : public Engine {
 public:
  SqliteEngine(SqliteEngineOptions options, size_t max_attached)
      : options_(std::move(options)),
        mask_hash_key_(options_.mask_hash_key.empty() ? RandomBytes(32) : options_.mask_hash_key),
        max_attached_(max_attached) {}

  Result<QueryResult> Execute(const policy::PolicySnapshot& policy, const policy::Role& role,
                              const QueryRequest& request, ResultSink& sink) override;
  Result<std::vector<DatabaseInfo>> Catalog(const policy::PolicySnapshot& policy,
                                            const policy::Role& role) override;
  Result<LoadSummary> Load(const LoadRequest& request, RowSource& source,
                           const LoadProgressFn& progress) override;

 private:
  // role, policy version, default database, direct, and the databases the
  // session attaches ("" = every database the role may see).
  using PoolKey = std::tuple<std::string, uint64_t, std::string, bool, std::string>;
  struct IdleSession {
    uint64_t returned;  // idle_seq_ when it was returned: the oldest is evicted first
    std::unique_ptr<Session> session;
  };

  // The database names in the lake (sorted): the last listing, or a new one
  // with `relist` (the schema watch relists every round; the first call
  // lists); bumps generation_ when the set of files changed.
  Result<std::vector<std::string>> Databases(bool relist = false) EXCLUDES(lake_mu_);
  // Runs a schema check round (SqliteEngineOptions::schema_check_interval)
  // when one is due and no other thread is running one; never waits.
  void MaybeWatchSchemas() EXCLUDES(watch_mu_);
  // One round: re-lists the lake and bumps generation_ when the SchemaWatch
  // saw a change.
  void WatchSchemasLocked() REQUIRES(watch_mu_);
  // This engine changed a raw schema (DDL, a table or database a load
  // created): governed sessions describe tables when they are built, so every
  // pooled session is rebuilt. The lake is listed and its cookies read again
  // first (the cookies only when no round is running) so that the next round
  // does not report this same change and retire the rebuilt sessions again.
  void SchemaChangedHere() EXCLUDES(watch_mu_);
  std::unique_ptr<Session> Checkout(const PoolKey& key) EXCLUDES(pool_mu_);
  void Return(const PoolKey& key, std::unique_ptr<Session> session) EXCLUDES(pool_mu_);
  // The databases a session for `request` attaches, from `visible` (the
  // lake's databases the role may see, sorted): all of them when SQLite can
  // attach that many (*key = ""), else the request's database and the
  // databases the statement names (*key lists them). kInvalidQuery when the
  // statement names more than SQLite attaches.
  Result<std::vector<std::string>> AttachSet(const QueryRequest& request,
                                             std::vector<std::string> visible,
                                             std::string* key) const;

  const SqliteEngineOptions options_;
  const std::string mask_hash_key_;  // options_.mask_hash_key, or random per engine
  // Sessions remember the generation they were built under and are not
  // reused once it moved on. Every session loads it before it lists and
  // describes the lake, and every bump happens after the change it reports
  // was observed, so a pooled session of the current generation never
  // predates an observed change.
  std::atomic<uint64_t> generation_{1};

  Mutex lake_mu_;
  std::vector<std::string> lake_dbs_ GUARDED_BY(lake_mu_);
  bool lake_listed_ GUARDED_BY(lake_mu_) = false;

  // Held (try_lock only) by the one thread running a check round.
  Mutex watch_mu_ ACQUIRED_BEFORE(lake_mu_);
  SchemaWatch watch_ GUARDED_BY(watch_mu_);
  // Steady-clock nanoseconds before which no round is due: the start of the
  // last round plus the interval.
  std::atomic<int64_t> next_watch_ns_{0};

  // How many databases one SQLite connection attaches (SQLITE_LIMIT_ATTACHED:
  // 10 in Debian's build).
  const size_t max_attached_;

  Mutex pool_mu_;
  std::map<PoolKey, std::vector<IdleSession>> idle_ GUARDED_BY(pool_mu_);
  size_t idle_count_ GUARDED_BY(pool_mu_) = 0;
  uint64_t idle_seq_ GUARDED_BY(pool_mu_) = 0;
};

// Idle sessions kept across all pools. Pools are keyed by role, policy
// version, database and attached set, so their number is not bounded by the
// configuration alone; beyond this many idle sessions the oldest is closed.
constexpr size_t kMaxIdleSessions = 128;
// A statement that held at least this much returns the free heap to the
// system when it ends (a few milliseconds, only after such statements).
constexpr int64_t kTrimAfterBytes = int64_t{32} << 20;

Result<std::vector<std::string>> SqliteEngine::Databases(bool relist) {
  {
    // The hot path: no system call. The schema watch relists the directory
    // every schema_check_interval, which bounds how stale this list can be.
    MutexLock lock(lake_mu_);
    if (!relist && lake_listed_) return lake_dbs_;
  }
  MutexLock lock(lake_mu_);
  DIR* dir = ::opendir(options_.lake_dir.c_str());
  if (dir == nullptr) {
    return Status(StatusCode::kInternal, EngineFailure::kInternal,
                  "lake directory is not readable: " + options_.lake_dir);
  }
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(dir)) {
    std::string_view file(e->d_name);
    if (file.size() <= 3 || file.substr(file.size() - 3) != ".db") continue;
    std::string name(file.substr(0, file.size() - 3));
    if (IsValidDatabaseName(name)) names.push_back(std::move(name));
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  if (lake_listed_ && names != lake_dbs_) generation_.fetch_add(1);
  lake_dbs_ = names;
  lake_listed_ = true;
  return names;
}

void SqliteEngine::MaybeWatchSchemas() {
  const int64_t arrived = SteadyNanos();
  if (arrived < next_watch_ns_.load(std::memory_order_relaxed)) return;
  if (!watch_mu_.try_lock()) return;  // another thread is checking: never wait for it
  // A round that started after this call arrived has already seen what this
  // one would.
  if (arrived >= next_watch_ns_.load(std::memory_order_relaxed)) {
    const int64_t interval =
        std::chrono::duration_cast<std::chrono::nanoseconds>(options_.schema_check_interval)
            .count();
    next_watch_ns_.store(SteadyNanos() + std::max<int64_t>(interval, 0), std::memory_order_relaxed);
    WatchSchemasLocked();
  }
  watch_mu_.unlock();
}

void SqliteEngine::WatchSchemasLocked() {
  Result<std::vector<std::string>> databases = Databases(/*relist=*/true);
  if (!databases.ok()) return;  // the caller's own Databases() reports it
  if (watch_.Poll(options_.lake_dir, *databases)) generation_.fetch_add(1);
}

void SqliteEngine::SchemaChangedHere() {
  if (watch_mu_.try_lock()) {
    WatchSchemasLocked();
    watch_mu_.unlock();
  } else {
    Databases(/*relist=*/true).status().IgnoreError();  // the next call reports a failure
  }
  generation_.fetch_add(1);
}

std::unique_ptr<Session> SqliteEngine::Checkout(const PoolKey& key) {
  std::vector<std::unique_ptr<Session>> stale;  // destroyed outside the lock
  std::unique_ptr<Session> found;
  {
    MutexLock lock(pool_mu_);
    const uint64_t generation = generation_.load();
    // Sessions of older policy versions of this role are never used again.
    for (auto it = idle_.begin(); it != idle_.end();) {
      if (std::get<0>(it->first) == std::get<0>(key) && std::get<1>(it->first) < std::get<1>(key)) {
        for (auto& idle : it->second) stale.push_back(std::move(idle.session));
        idle_count_ -= it->second.size();
        it = idle_.erase(it);
      } else {
        ++it;
      }
    }
    auto it = idle_.find(key);
    if (it != idle_.end()) {
      while (!it->second.empty() && found == nullptr) {
        std::unique_ptr<Session> s = std::move(it->second.back().session);
        it->second.pop_back();
        --idle_count_;
        if (s->generation() == generation) {
          found = std::move(s);
        } else {
          stale.push_back(std::move(s));
        }
      }
      if (it->second.empty()) idle_.erase(it);
    }
  }
  return found;
}

void SqliteEngine::Return(const PoolKey& key, std::unique_ptr<Session> session) {
  if (!session->reusable() || session->generation() != generation_.load()) return;
  std::unique_ptr<Session> evicted;  // closed outside the lock
  MutexLock lock(pool_mu_);
  auto& list = idle_[key];
  if (list.size() >= options_.max_idle_connections_per_role) return;  // closed here; it is quick
  if (idle_count_ >= kMaxIdleSessions) {
    // Each list is ordered oldest first: the oldest idle session is at the
    // front of one of them.
    auto oldest = idle_.end();
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      if (!it->second.empty() && (oldest == idle_.end() ||
                                  it->second.front().returned < oldest->second.front().returned)) {
        oldest = it;
      }
    }
    if (oldest != idle_.end()) {
      evicted = std::move(oldest->second.front().session);
      oldest->second.erase(oldest->second.begin());
      --idle_count_;
      if (oldest->second.empty() && &oldest->second != &list) idle_.erase(oldest);
    }
  }
  list.push_back(IdleSession{++idle_seq_, std::move(session)});
  ++idle_count_;
}

Result<std::vector<std::string>> SqliteEngine::AttachSet(const QueryRequest& request,
                                                         std::vector<std::string> visible,
                                                         std::string* key) const {
  key->clear();
  if (visible.size() <= max_attached_) return visible;
  // More databases than one connection attaches: a statement can only reach
  // a database other than the request's by naming it, so attach those.
  std::vector<std::string> named =
      sqlite_internal::DatabasesNamed(request.sql, request.params, visible, request.database);
  if (named.size() > max_attached_) {
    return Status(StatusCode::kInvalidArgument, EngineFailure::kInvalidQuery,
                  "the statement names " + std::to_string(named.size()) +
                      " databases; the sqlite engine attaches at most " +
                      std::to_string(max_attached_) + " per statement");
  }
  for (const auto& name : named) *key += name + ",";
  return named;
}

Result<QueryResult> SqliteEngine::Execute(const policy::PolicySnapshot& policy,
                                          const policy::Role& role, const QueryRequest& request,
                                          ResultSink& sink) {
  if (!request.database.empty() && !IsValidDatabaseName(request.database)) {
    return Status(StatusCode::kInvalidArgument, EngineFailure::kUnknownDatabase,
                  "unknown database: " + request.database);
  }
  MaybeWatchSchemas();
  // Loaded before the lake is listed and described (see generation_).
  const uint64_t generation = generation_.load();
  LG_ASSIGN_OR_RETURN(std::vector<std::string> databases, Databases());
  // Only databases in the lake's listing are ever attached, on connections
  // opened without SQLITE_OPEN_CREATE: no request creates a lake file. A
  // database that is not there reads exactly like one the role may not see.
  auto listed = [&] {
    return std::binary_search(databases.begin(), databases.end(), request.database);
  };
  if (!request.database.empty() && !listed()) {
    // Maybe created since the last listing (a load by another process): one
    // directory read, never a file opened.
    LG_ASSIGN_OR_RETURN(databases, Databases(/*relist=*/true));
  }
  if (!request.database.empty() && !listed()) {
    return Status(StatusCode::kInvalidArgument, EngineFailure::kUnknownDatabase,
                  "unknown database: " + request.database);
  }
  const bool direct = policy::IsUnrestricted(role);
  if (!direct && databases.size() > max_attached_) {
    std::erase_if(databases, [&](const std::string& name) {
      return policy::DecideDatabase(policy, role, name) == 0 && name != request.database;
    });
  }
  std::string attach_key;
  LG_ASSIGN_OR_RETURN(std::vector<std::string> attach,
                      AttachSet(request, std::move(databases), &attach_key));
  PoolKey key{role.name, policy.version, request.database, direct, attach_key};
  std::unique_ptr<Session> session = Checkout(key);
  if (session == nullptr) {
    if (direct) {
      LG_ASSIGN_OR_RETURN(
          session, Session::OpenDirect(generation, options_.lake_dir, attach, request.database));
    } else {
      LG_ASSIGN_OR_RETURN(session,
                          Session::OpenGoverned(generation, options_.lake_dir, attach, policy, role,
                                                request.database, mask_hash_key_));
    }
  }
  Result<QueryResult> result = session->Run(policy, role, request, sink);
  if (result.ok() && direct && result->statement_class != StatementClass::kRead &&
      !sqlite_internal::IsRowWrite(result->statement_type)) {
    SchemaChangedHere();  // DDL changed a raw schema
  }
  const bool held_much = session->memory_peak() >= kTrimAfterBytes;
  Return(key, std::move(session));
  // The C heap keeps what a big statement freed (glibc does not return it
  // on its own): give it back, or a burst of big queries stays resident.
  if (held_much) sqlite_internal::ReleaseFreeHeap();
  return result;
}

Result<std::vector<DatabaseInfo>> SqliteEngine::Catalog(const policy::PolicySnapshot& policy,
                                                        const policy::Role& role) {
  // Catalog() describes the lake afresh; the check keeps the pooled sessions
  // of the queries that follow consistent with what it reports.
  MaybeWatchSchemas();
  LG_ASSIGN_OR_RETURN(std::vector<std::string> databases, Databases());
  // Without SQLITE_OPEN_CREATE, which ATTACH inherits: a lake file that
  // vanished since the listing fails to attach instead of coming back empty.
  LG_ASSIGN_OR_RETURN(DbPtr conn,
                      sqlite_internal::OpenConnection(":memory:", SQLITE_OPEN_READWRITE));
  Guard guard;
  guard.mode = Guard::Mode::kPrivileged;
  sqlite3_set_authorizer(conn.get(), sqlite_internal::Authorize, &guard);
  // One database at a time, detached after it is described: the lake may
  // hold more databases than one connection attaches.
  std::vector<sqlite_internal::DatabaseView> views;
  for (const auto& name : databases) {
    LG_ASSIGN_OR_RETURN(std::vector<sqlite_internal::DatabaseView> one,
                        sqlite_internal::DescribeLake(conn.get(), guard, options_.lake_dir, {name},
                                                      policy, role, policy::IsUnrestricted(role)));
    if (one.empty()) continue;  // not visible to the role: never attached
    views.push_back(std::move(one.front()));
    LG_RETURN_IF_ERROR(sqlite_internal::ExecTrusted(
        conn.get(), guard, "DETACH DATABASE " + sqlite_internal::QuoteIdent(name)));
  }
  std::vector<DatabaseInfo> out;
  for (auto& view : views) {
    DatabaseInfo db;
    db.name = view.name;
    for (auto& def : view.tables) {
      TableInfo t;
      t.name = def.table;
      for (auto& c : def.columns) t.columns.push_back(ColumnInfo{c.name, c.type});
      db.tables.push_back(std::move(t));
    }
    out.push_back(std::move(db));
  }
  return out;
}

Result<LoadSummary> SqliteEngine::Load(const LoadRequest& request, RowSource& source,
                                       const LoadProgressFn& progress) {
  LG_RETURN_IF_ERROR(ValidateLoadRequest(request));
  Result<LoadSummary> summary = [&]() -> Result<LoadSummary> {
    LG_ASSIGN_OR_RETURN(std::unique_ptr<LoadTarget> target,
                        sqlite_internal::OpenTableLoader(options_.lake_dir, request));
    return LoadInto(*target, request, source, progress);
  }();  // the target's connection is closed here
  if (summary.ok() && summary->created) SchemaChangedHere();
  return summary;
}

}  // namespace

Result<std::unique_ptr<Engine>> OpenSqliteEngine(SqliteEngineOptions options) {
  struct stat st {};
  const bool exists = !options.lake_dir.empty() && ::stat(options.lake_dir.c_str(), &st) == 0;
  if (exists ? !S_ISDIR(st.st_mode) : (options.lake_dir.empty() || !options.create_if_missing)) {
    return Status(StatusCode::kInvalidArgument, EngineFailure::kMisconfigured,
                  "lake directory does not exist: " + options.lake_dir);
  }
  if (options.max_idle_connections_per_role == 0) options.max_idle_connections_per_role = 1;
  if (!sqlite_internal::MemoryAccountingInstalled()) {
    // Only possible when something initialised SQLite before main().
    return Status(StatusCode::kFailedPrecondition, EngineFailure::kMisconfigured,
                  "SQLite was initialised before the engine installed its memory accounting; "
                  "per-query memory limits cannot be enforced");
  }
  LG_ASSIGN_OR_RETURN(DbPtr probe,
                      sqlite_internal::OpenConnection(":memory:", SQLITE_OPEN_READWRITE));
  const int max_attached = sqlite3_limit(probe.get(), SQLITE_LIMIT_ATTACHED, -1);
  return std::unique_ptr<Engine>(std::make_unique<SqliteEngine>(
      std::move(options), static_cast<size_t>(std::max(max_attached, 1))));
}

Result<std::unique_ptr<Engine>> OpenSqliteEngineAt(std::string_view location,
                                                   const EngineSettings& settings) {
  SqliteEngineOptions options;
  options.lake_dir = std::string(location);
  options.max_idle_connections_per_role = settings.max_idle_sessions_per_role;
  options.mask_hash_key = std::string(settings.mask_hash_key.Reveal());
  options.create_if_missing = settings.create_if_missing;
  return OpenSqliteEngine(std::move(options));
}

}  // namespace lakegate::engine
