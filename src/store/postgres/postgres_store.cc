// The PostgreSQL Store object: a pool of connections, every call atomic (a
// read-only snapshot transaction for reads; for writes a transaction holding
// the cluster-wide write lock, a savepoint per call inside RunInTransaction),
// the change counter and its notifications. The SQL of each operation is in
// Ops (ops.h).
#include "store/postgres/postgres_store.h"

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <utility>
#include <vector>

#include "common/thread_annotations.h"
#include "store/ops_store.h"
#include "store/postgres/change_listener.h"
#include "store/postgres/connection.h"
#include "store/postgres/ops.h"
#include "store/postgres/schema.h"

namespace lakegate::store {
namespace postgres {
namespace {

// Connections for calls: reused while healthy, dropped when the server closed
// them. Thread-safe.
class Pool {
 public:
  Pool(ConnectOptions options, int max_open)
      : options_(std::move(options)), max_open_(std::max(1, max_open)) {}

  // A connection on loan; returned to the pool (or dropped when broken or
  // left inside a transaction) when the lease ends.
  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Connection> conn, bool reused)
        : pool_(pool), conn_(std::move(conn)), reused_(reused) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_) pool_->Release(std::move(conn_));
    }
    Connection& operator*() { return *conn_; }
    Connection* operator->() { return conn_.get(); }
    // True when the connection came from the pool rather than a fresh
    // connect: a failure on it may just mean the server dropped it meanwhile.
    bool reused() const { return reused_; }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> conn_;
    bool reused_;
  };

  // An idle connection or a new one. kUnavailable when the database does not
  // answer or every connection stays busy for the connect timeout.
  Result<Lease> Acquire(bool fresh) EXCLUDES(mu_) {
    std::unique_ptr<Connection> idle;
    // Idle connections to drop, closed after the lock is released.
    std::vector<std::unique_ptr<Connection>> stale;
    {
      MutexLock lock(mu_);
      const auto wait = std::chrono::seconds(options_.connect_timeout_seconds);
      bool free = cv_.WaitFor(
          mu_, wait, [this]() REQUIRES(mu_) { return !idle_.empty() || open_ < max_open_; });
      if (!free) {
        return UnavailableError("state store " + options_.display_name + ": all " +
                                std::to_string(max_open_) + " connections stayed busy; retry");
      }
      if (fresh) {
        // The caller saw a dropped connection: the idle ones were most likely
        // dropped too (a server restart), so they are not handed out again.
        open_ -= static_cast<int>(idle_.size());
        stale.swap(idle_);
      }
      if (!idle_.empty()) {
        idle = std::move(idle_.back());
        idle_.pop_back();
      } else {
        ++open_;
      }
    }
    if (idle) return Lease(this, std::move(idle), /*reused=*/true);
    Result<std::unique_ptr<Connection>> conn = Connection::Open(options_);
    if (!conn.ok()) {
      {
        MutexLock lock(mu_);
        --open_;
      }
      cv_.NotifyOne();
      return conn.status();
    }
    return Lease(this, std::move(*conn), /*reused=*/false);
  }

  const ConnectOptions& options() const { return options_; }

 private:
  void Release(std::unique_ptr<Connection> conn) EXCLUDES(mu_) {
    const bool keep = conn->Healthy() && !conn->InTransaction();
    {
      MutexLock lock(mu_);
      if (keep) {
        idle_.push_back(std::move(conn));
      } else {
        --open_;
      }
    }
    cv_.NotifyOne();
    // A dropped connection closes here, outside the lock.
  }

  const ConnectOptions options_;
  const int max_open_;
  Mutex mu_;
  CondVar cv_;
  std::vector<std::unique_ptr<Connection>> idle_ GUARDED_BY(mu_);
  int open_ GUARDED_BY(mu_) = 0;  // idle + on loan
};

// The store whose RunInTransaction body the current thread runs, if any.
thread_local const Store* t_transaction_of = nullptr;

// Marks the end of a write transaction that changed rows: the counter every
// node polls, and the hint listeners wake on. Both commit with the changes.
Status NoteChanges(Connection& conn) {
  LG_RETURN_IF_ERROR(conn.Exec("cannot bump the change counter",
                               "UPDATE lakegate.change_counter SET counter = counter + 1 "
                               "WHERE id = 1")
                         .status());
  return conn.Exec("cannot notify other nodes", "SELECT pg_notify($1, '')", {kChangeChannel})
      .status();
}

// Opens a write transaction that holds the cluster-wide write lock.
Status BeginWrite(Connection& conn) {
  // Bounded waits: a writer stuck behind another node's write lock, or a
  // statement the server cannot finish, fails as kUnavailable (retry) instead
  // of holding a request thread.
  LG_RETURN_IF_ERROR(conn.Run("cannot begin a transaction",
                              "BEGIN; SET LOCAL lock_timeout = '10s'; "
                              "SET LOCAL statement_timeout = '15s'"));
  LG_RETURN_IF_ERROR(
      conn.Exec("cannot take the write lock", "SELECT pg_advisory_xact_lock($1)", {kWriteLockKey})
          .status());
  conn.set_changes(0);
  return Status::Ok();
}

// Commits what `conn` wrote since BeginWrite; `*commit_sent` says whether
// COMMIT went out (after that a lost connection leaves the outcome unknown,
// so the call is not retried).
Status CommitWrite(Connection& conn, bool* commit_sent) {
  if (PQtransactionStatus(conn.raw()) == PQTRANS_INERROR) {
    conn.Run("cannot roll back", "ROLLBACK").IgnoreError();
    return InternalError("state store " + conn.display_name() +
                         ": a statement failed inside the transaction; nothing was written");
  }
  if (conn.changes() > 0) {
    Status noted = NoteChanges(conn);
    if (!noted.ok()) {
      conn.Run("cannot roll back", "ROLLBACK").IgnoreError();
      return noted;
    }
  }
  *commit_sent = true;
  return conn.Run("cannot commit", "COMMIT");
}

void RollbackIfOpen(Connection& conn) {
  if (conn.Healthy() && conn.InTransaction()) {
    conn.Run("cannot roll back", "ROLLBACK").IgnoreError();
  }
}

// The Store& handed to a RunInTransaction body: the calls run on the
// transaction's connection, each write in a savepoint so that a failed call
// leaves no partial effect.
class TxStore final : public TxOpsStore<TxStore, Ops> {
 public:
  explicit TxStore(Connection& conn) : conn_(conn), ops_(conn) {}

  template <typename F>
  auto Read(F&& op) -> decltype(op(std::declval<Ops&>())) {
    LG_RETURN_IF_ERROR(CheckUsable());
    return op(ops_);
  }

  template <typename F>
  Status Write(F&& op) {
    LG_RETURN_IF_ERROR(CheckUsable());
    LG_RETURN_IF_ERROR(conn_.Run("cannot open a savepoint", "SAVEPOINT lakegate_op"));
    const int64_t changes_before = conn_.changes();
    Status status = op(ops_);
    if (!status.ok()) {
      // Undo this call only; the transaction stays open.
      if (conn_.Healthy()) {
        conn_.Run("cannot roll back a savepoint", "ROLLBACK TO SAVEPOINT lakegate_op")
            .IgnoreError();
        conn_.Run("cannot release a savepoint", "RELEASE SAVEPOINT lakegate_op").IgnoreError();
      }
      conn_.set_changes(changes_before);
      return status;
    }
    return conn_.Run("cannot release a savepoint", "RELEASE SAVEPOINT lakegate_op");
  }

 private:
  Status CheckUsable() {
    if (!conn_.Healthy()) {
      return UnreachableError(conn_.display_name(),
                              "the connection dropped during the transaction");
    }
    if (PQtransactionStatus(conn_.raw()) != PQTRANS_INTRANS) {
      return UnavailableError("state store " + conn_.display_name() +
                              ": the transaction was aborted by an earlier error");
    }
    return Status::Ok();
  }

  Connection& conn_;
  Ops ops_;
};

class PostgresStore final : public OpsStore<PostgresStore, Ops> {
 public:
  explicit PostgresStore(ConnectOptions options, int max_connections)
      : pool_(std::move(options), max_connections) {}

  template <typename F>
  auto Read(F&& op) -> decltype(op(std::declval<Ops&>())) {
    LG_RETURN_IF_ERROR(CheckNotInsideOwnTransaction());
    for (int attempt = 0;; ++attempt) {
      LG_ASSIGN_OR_RETURN(Pool::Lease conn, pool_.Acquire(/*fresh=*/attempt > 0));
      Status begun = conn->Run("cannot begin a transaction",
                               "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; "
                               "SET LOCAL statement_timeout = '10s'");
      if (begun.ok()) {
        Ops ops(*conn);
        auto result = op(ops);
        if (result.ok()) {
          Status committed = conn->Run("cannot end a read", "COMMIT");
          if (committed.ok()) return result;
          begun = committed;
        } else {
          begun = result.status();
        }
      }
      RollbackIfOpen(*conn);
      // Reads have no effect: retry once on a new connection when the server
      // dropped the pooled one (a restart since its last use).
      if (attempt == 0 && conn.reused() && IsConnectionLoss(begun)) continue;
      return begun;
    }
  }

  template <typename F>
  Status Write(F&& op) {
    return WriteTransaction([&](Connection& conn) {
      Ops ops(conn);
      return op(ops);
    });
  }

  Result<uint64_t> ChangeCounter() override {
    LG_RETURN_IF_ERROR(CheckNotInsideOwnTransaction());
    for (int attempt = 0;; ++attempt) {
      LG_ASSIGN_OR_RETURN(Pool::Lease conn, pool_.Acquire(/*fresh=*/attempt > 0));
      Result<PgResult> row = conn->Exec("cannot read the change counter",
                                        "SELECT counter FROM lakegate.change_counter WHERE id = 1");
      if (row.ok()) {
        if (row->rows() != 1) {
          return FailedPreconditionError("state store " + pool_.options().display_name +
                                         ": the change counter row is missing");
        }
        return static_cast<uint64_t>(row->Int(0, 0));
      }
      if (attempt == 0 && conn.reused() && IsConnectionLoss(row.status())) continue;
      return row.status();
    }
  }

  // One statement in its own transaction, outside the write lock and the
  // change counter: the upsert takes the key only when it is new or its record
  // expired, and PostgreSQL's unique index makes concurrent callers (on any
  // node) wait for each other, so exactly one of them gets the row back.
  Result<bool> RememberOnce(std::string_view key, int64_t expires_at, int64_t now) override {
    if (key.empty()) return InvalidArgumentError("one-time key is empty");
    LG_RETURN_IF_ERROR(CheckNotInsideOwnTransaction());
    const bool purge = remember_calls_.fetch_add(1, std::memory_order_relaxed) % 256 == 255;
    for (int attempt = 0;; ++attempt) {
      LG_ASSIGN_OR_RETURN(Pool::Lease conn, pool_.Acquire(/*fresh=*/attempt > 0));
      Result<PgResult> taken =
          conn->Exec("cannot record a one-time key",
                     "INSERT INTO lakegate.one_time_keys AS k (key, expires_at) VALUES ($1, $2) "
                     "ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at "
                     "WHERE k.expires_at <= $3 RETURNING 1",
                     {key, expires_at, now});
      if (taken.ok()) {
        if (purge) {
          // Records past their expiry only take space; a failure here costs nothing.
          conn->Exec("cannot forget expired one-time keys",
                     "DELETE FROM lakegate.one_time_keys WHERE expires_at <= $1", {now})
              .status()
              .IgnoreError();
        }
        return taken->rows() == 1;
      }
      // Nothing was written when the connection turned out dropped: retry once.
      if (attempt == 0 && conn.reused() && IsConnectionLoss(taken.status())) continue;
      return taken.status();
    }
  }

  Result<std::unique_ptr<Subscription>> SubscribeToChanges(
      std::function<void()> on_change) override {
    return std::unique_ptr<Subscription>(
        std::make_unique<ChangeListener>(pool_.options(), std::move(on_change)));
  }

  Status RunInTransaction(const std::function<Status(Store&)>& body) override {
    return WriteTransaction([&](Connection& conn) -> Status {
      TxStore tx(conn);
      t_transaction_of = this;
      Status status;
      try {
        status = body(tx);
      } catch (const std::exception& e) {
        status = InternalError(std::string("transaction body threw: ") + e.what());
      } catch (...) {
        status = InternalError("transaction body threw a non-standard exception");
      }
      t_transaction_of = nullptr;
      return status;
    });
  }

 private:
  // Runs `body` in a write transaction and commits it; retries once on a new
  // connection when the pooled one turned out dropped before COMMIT was sent.
  Status WriteTransaction(const std::function<Status(Connection&)>& body) {
    LG_RETURN_IF_ERROR(CheckNotInsideOwnTransaction());
    for (int attempt = 0;; ++attempt) {
      LG_ASSIGN_OR_RETURN(Pool::Lease conn, pool_.Acquire(/*fresh=*/attempt > 0));
      bool commit_sent = false;
      Status status = BeginWrite(*conn);
      if (status.ok()) status = body(*conn);
      if (status.ok()) {
        status = CommitWrite(*conn, &commit_sent);
      } else {
        RollbackIfOpen(*conn);
      }
      if (status.ok()) return status;
      if (attempt == 0 && conn.reused() && !commit_sent && IsConnectionLoss(status)) continue;
      return status;
    }
  }

  // Calling the outer store from a transaction body would wait for the write
  // lock its own transaction holds.
  Status CheckNotInsideOwnTransaction() const {
    if (t_transaction_of == this) {
      return FailedPreconditionError(
          "the store was called from inside its own RunInTransaction body; use the Store& "
          "passed to the body");
    }
    return Status::Ok();
  }

  Pool pool_;
  std::atomic<uint64_t> remember_calls_{0};
};

}  // namespace
}  // namespace postgres

int PostgresStoreSchemaVersion() { return postgres::LatestSchemaVersion(); }

Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url,
                                                 PostgresStoreOptions options) {
  if (url.empty()) return InvalidArgumentError("state store URL is empty");
  postgres::ConnectOptions connect;
  connect.url = url;
  connect.display_name = RedactPostgresUrl(url);
  connect.connect_timeout_seconds = std::max(1, options.connect_timeout_seconds);
  LG_ASSIGN_OR_RETURN(std::unique_ptr<postgres::Connection> conn,
                      postgres::Connection::Open(connect));
  LG_RETURN_IF_ERROR(postgres::Migrate(*conn));
  return std::unique_ptr<Store>(
      std::make_unique<postgres::PostgresStore>(std::move(connect), options.max_connections));
}

}  // namespace lakegate::store
