// Internal to engine/sqlite: a session, the pooled unit of work that runs one
// user statement at a time.
//
// A direct session (a role with unrestricted access) is one connection with
// the lake's files attached. A governed session is a user connection that
// holds no raw data -- one in-memory schema per visible database, holding a
// governed virtual table per visible table -- and a privileged connection
// whose attached raw files the virtual tables' cursors read. An authorizer
// (deny by default) guards both; a progress handler enforces the deadline and
// cancellation between steps, and within one step the functions that can
// do quadratic work (bounded_functions.h) and the memory budget's work meter
// (memory_budget.h) do; printf()/format() are bounded.
//
// Thread-compatible: a session is used by one thread at a time (the engine
// checks it out of its pool for one call).
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/engine.h"
#include "engine/sqlite/bounded_functions.h"
#include "engine/sqlite/classify.h"
#include "engine/sqlite/connection.h"
#include "engine/sqlite/governed_table.h"
#include "engine/sqlite/guard.h"
#include "engine/sqlite/memory_budget.h"
#include "policy/policy.h"

namespace lakegate::engine::sqlite_internal {

// The limits of the request a session is running.
struct RequestState {
  std::chrono::steady_clock::time_point deadline;
  std::chrono::milliseconds timeout{0};
  const std::atomic<bool>* cancelled = nullptr;
  const MemoryBudget* memory = nullptr;  // the statement's memory budget
  bool timed_out = false;
  bool was_cancelled = false;
};

class Session {
 public:
  Session(uint64_t generation, bool governed) : generation_(generation), governed_(governed) {}
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Opens a governed session of `role` over `databases` (the lake's files
  // under `lake_dir`); `database` (may be empty) is the request's default
  // database. Errors: kUnknownDatabase when `database` is not one the role
  // may see, kMisconfigured / kInternal from describing the lake.
  static Result<std::unique_ptr<Session>> OpenGoverned(
      uint64_t generation, const std::string& lake_dir, const std::vector<std::string>& databases,
      const policy::PolicySnapshot& policy, const policy::Role& role, const std::string& database,
      const std::string& mask_hash_key);
  // Opens a direct session: `database` is its `main`, or an empty in-memory
  // `main` when `database` is empty. kUnknownDatabase for a database not in
  // `databases`.
  static Result<std::unique_ptr<Session>> OpenDirect(uint64_t generation,
                                                     const std::string& lake_dir,
                                                     const std::vector<std::string>& databases,
                                                     const std::string& database);

  // Runs one statement (Engine::Execute's contract).
  Result<QueryResult> Run(const policy::PolicySnapshot& policy, const policy::Role& role,
                          const QueryRequest& request, ResultSink& sink);
  uint64_t generation() const { return generation_; }
  // The most memory the last Run() held (MemoryBudget::peak()).
  int64_t memory_peak() const { return memory_peak_; }
  // False when a failure left a connection in a state we do not reuse.
  bool reusable() const {
    return !broken_ && sqlite3_get_autocommit(user_.get()) != 0 &&
           (priv_ == nullptr || sqlite3_get_autocommit(priv_.get()) != 0) &&
           (writer_ == nullptr || writer_->reusable());
  }

 private:
  // Connection setup and the callbacks SQLite calls (session_setup.cc).
  Status InstallCommon();
  // `SELECT function(?1, ..., ?argc)` on helper_, prepared once.
  sqlite3_stmt* HelperStatement(const char* function, int argc);
  // Evaluates the built-in `function` over argv on helper_ (within the user
  // connection's length limit) and sets ctx's result.
  void RunOnHelper(sqlite3_context* ctx, const char* function, int argc, sqlite3_value** argv);
  static int Progress(void* self);
  // The memory budget's work meter: Progress() as a bool.
  static bool OverTime(void* self);
  static int Busy(void* self, int count);
  static void GuardedPrintf(sqlite3_context* ctx, int argc, sqlite3_value** argv);
  static void GuardedJsonPatch(sqlite3_context* ctx, int argc, sqlite3_value** argv);
  static void MaskHash(sqlite3_context* ctx, int argc, sqlite3_value** argv);

  // Statement execution (session.cc).
  Status DeniedMessage(const policy::PolicySnapshot& policy, const policy::Role& role,
                       const Classification& cls, int rc);
  Status StepError(int rc);
  // True when `cls` (from the governed prepare just recorded in user_guard_)
  // is an INSERT/UPDATE/DELETE whose target and every table it reads are
  // whole tables of the role with the needed permissions.
  bool WholeTableWrite(const Classification& cls) const;
  // The direct session that runs this governed session's whole-table writes.
  Result<Session*> Writer();

  const uint64_t generation_;
  const bool governed_;
  bool broken_ = false;
  int64_t memory_peak_ = 0;
  // The work of the bounded functions on this session's connections.
  WorkMeter meter_{&Session::OverTime, this};
  DbPtr user_;
  DbPtr priv_;    // governed only
  DbPtr helper_;  // evaluates the guarded built-ins (printf, json_patch), lazily opened
  Guard user_guard_;
  Guard priv_guard_;
  std::unique_ptr<GovernedModule> module_;
  std::map<std::string, StmtPtr> helper_stmts_;  // by "function/argc", on helper_
  // BEGIN / COMMIT / ROLLBACK on the privileged connection (governed only).
  StmtPtr begin_;
  StmtPtr commit_;
  StmtPtr rollback_;
  RequestState* state_ = nullptr;  // set for the duration of Run()
  std::string mask_hash_key_;      // the key of hash masks (governed only)
  // Governed only: what OpenDirect needs for whole-table writes, and the
  // direct session they run on (opened on first use).
  std::string lake_dir_;
  std::vector<std::string> databases_;
  std::string database_;
  std::unique_ptr<Session> writer_;

  // Prepared read statements by SQL text, most recently used first, so that
  // a repeated query skips parsing and planning. Only statements that passed
  // every check at prepare time are kept; the per-request checks (scope,
  // parameters) run again on every use. The session is rebuilt when the
  // policy version or the lake's schema generation changes.
  struct CachedStatement {
    std::string sql;
    StmtPtr stmt;
    Classification cls;
  };
  static constexpr size_t kStatementCacheSize = 32;
  std::vector<CachedStatement> statement_cache_;
  bool TakeCached(const std::string& sql, StmtPtr& stmt, Classification& cls);
  void PutCached(const std::string& sql, StmtPtr stmt, const Classification& cls);
};

}  // namespace lakegate::engine::sqlite_internal
