// The SQLite Store object: one connection behind one mutex, every call atomic
// (a read transaction for reads, BEGIN IMMEDIATE for writes, a savepoint per
// call inside RunInTransaction), and the change counter other nodes poll.
// The SQL of each operation is in Ops (ops.h).
#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

#include "common/thread_annotations.h"
#include "store/ops_store.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/ops.h"
#include "store/sqlite/replay_file.h"
#include "store/sqlite/schema.h"
#include "store/sqlite/state_file.h"

namespace lakegate::store {
namespace sqlite {
namespace {

// The Store& handed to a RunInTransaction body. The owning SqliteStore holds
// its mutex and the open transaction for the whole life of this object; each
// write runs in a savepoint so that a failed call leaves no partial effect.
class TxStore final : public TxOpsStore<TxStore, Ops> {
 public:
  TxStore(Connection* conn, Ops* ops) : conn_(conn), ops_(ops) {}

  template <typename F>
  auto Read(F&& op) -> decltype(op(std::declval<Ops&>())) {
    LG_RETURN_IF_ERROR(CheckUsable());
    return op(*ops_);
  }

  template <typename F>
  Status Write(F&& op) {
    LG_RETURN_IF_ERROR(CheckUsable());
    LG_RETURN_IF_ERROR(conn_->Exec("SAVEPOINT lakegate_op", "cannot open a savepoint"));
    Status status = op(*ops_);
    if (!status.ok()) {
      // Undo this call only; the enclosing transaction stays open.
      if (conn_->InTransaction()) {
        conn_->Exec("ROLLBACK TO lakegate_op", "cannot roll back a savepoint").IgnoreError();
        conn_->Exec("RELEASE lakegate_op", "cannot release a savepoint").IgnoreError();
      }
      return status;
    }
    return conn_->Exec("RELEASE lakegate_op", "cannot release a savepoint");
  }

 private:
  Status CheckUsable() {
    if (!conn_->InTransaction()) {
      // SQLite rolled the transaction back by itself (disk full, I/O error):
      // refuse further calls, which would otherwise commit one by one.
      return UnavailableError("state store " + conn_->path() +
                              ": the transaction was aborted by an earlier error");
    }
    return Status::Ok();
  }

  Connection* conn_;
  Ops* ops_;
};

class SqliteStore final : public OpsStore<SqliteStore, Ops> {
 public:
  SqliteStore(std::unique_ptr<Connection> conn, std::string replay_path, int busy_timeout_ms)
      : conn_(std::move(conn)),
        ops_(conn_.get()),
        replay_path_(std::move(replay_path)),
        busy_timeout_ms_(busy_timeout_ms) {}

  // In a file of its own (replay_file.h), opened on first use: commands that
  // never see an assertion never create it. Group commit: the caller that
  // finds the file idle writes every record queued by then in one
  // transaction; the others wait for their result.
  Result<bool> RememberOnce(std::string_view key, int64_t expires_at, int64_t now) override {
    OnceRecord mine{.key = key, .expires_at = expires_at, .now = now};
    MutexLock lock(replay_mu_);
    replay_queue_.push_back(&mine);
    while (true) {
      if (mine.done) return std::move(mine.result);
      if (replay_writing_) {
        replay_done_.Wait(replay_mu_,
                          [&]() REQUIRES(replay_mu_) { return mine.done || !replay_writing_; });
        continue;
      }
      std::vector<OnceRecord*> batch;
      batch.swap(replay_queue_);
      replay_writing_ = true;
      Status opened;
      if (replay_ == nullptr) {
        Result<std::unique_ptr<Connection>> conn = OpenReplayFile(replay_path_, busy_timeout_ms_);
        if (conn.ok()) {
          replay_ = std::move(*conn);
        } else {
          opened = conn.status();
        }
      }
      Connection* conn = replay_.get();
      const uint64_t batch_number = replay_batches_++;
      lock.Unlock();
      // Only the writer (replay_writing_) touches the connection, so it runs
      // without the lock while the others queue the next batch.
      if (opened.ok()) {
        RememberAll(*conn, batch, batch_number);
      } else {
        for (OnceRecord* record : batch) record->result = opened;
      }
      lock.Lock();
      for (OnceRecord* record : batch) record->done = true;
      replay_writing_ = false;
      replay_done_.NotifyAll();
    }
  }

  // Runs a read in one read transaction so that multi-statement reads see one
  // snapshot.
  template <typename F>
  auto Read(F&& op) -> decltype(op(std::declval<Ops&>())) {
    LG_RETURN_IF_ERROR(CheckNotInsideOwnTransaction());
    MutexLock lock(mu_);
    LG_RETURN_IF_ERROR(conn_->Begin(/*immediate=*/false));
    auto result = op(ops_);
    if (!result.ok()) {
      conn_->RollbackIfOpen();
      return result;
    }
    LG_RETURN_IF_ERROR(conn_->Commit());
    return result;
  }

  template <typename F>
  Status Write(F&& op) {
    LG_RETURN_IF_ERROR(CheckNotInsideOwnTransaction());
    MutexLock lock(mu_);
    LG_RETURN_IF_ERROR(conn_->Begin(/*immediate=*/true));
    int64_t changes_before = sqlite3_total_changes64(conn_->db());
    Status status = op(ops_);
    if (!status.ok()) {
      conn_->RollbackIfOpen();
      return status;
    }
    return CommitLocked(changes_before);
  }

  Result<uint64_t> ChangeCounter() override {
    LG_RETURN_IF_ERROR(CheckNotInsideOwnTransaction());
    MutexLock lock(mu_);
    // PRAGMA data_version changes when another connection (any process)
    // commits; our own commits are counted in CommitLocked.
    LG_ASSIGN_OR_RETURN(Stmt stmt, conn_->Prepare("PRAGMA data_version"));
    LG_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return InternalError("state store " + conn_->path() + ": no data_version");
    int64_t data_version = stmt.ColumnInt(0);
    if (data_version != last_data_version_) {
      last_data_version_ = data_version;
      ++change_counter_;
    }
    return change_counter_;
  }

  Status RunInTransaction(const std::function<Status(Store&)>& body) override {
    LG_RETURN_IF_ERROR(CheckNotInsideOwnTransaction());
    MutexLock lock(mu_);
    LG_RETURN_IF_ERROR(conn_->Begin(/*immediate=*/true));
    int64_t changes_before = sqlite3_total_changes64(conn_->db());
    Status status;
    {
      TxStore tx(conn_.get(), &ops_);
      transaction_thread_.store(std::this_thread::get_id());
      try {
        status = body(tx);
      } catch (const std::exception& e) {
        status = InternalError(std::string("transaction body threw: ") + e.what());
      } catch (...) {
        status = InternalError("transaction body threw a non-standard exception");
      }
      transaction_thread_.store(std::thread::id());
    }
    if (status.ok() && !conn_->InTransaction()) {
      status = UnavailableError("state store " + conn_->path() +
                                ": the transaction was aborted by an earlier error; retry");
    }
    if (!status.ok()) {
      conn_->RollbackIfOpen();
      return status;
    }
    return CommitLocked(changes_before);
  }

 private:
  Status CommitLocked(int64_t changes_before) REQUIRES(mu_) {
    LG_RETURN_IF_ERROR(conn_->Commit());
    if (sqlite3_total_changes64(conn_->db()) != changes_before) ++change_counter_;
    return Status::Ok();
  }

  // Calling the outer store from a transaction body would deadlock on mu_.
  Status CheckNotInsideOwnTransaction() const {
    if (transaction_thread_.load() == std::this_thread::get_id()) {
      return FailedPreconditionError(
          "the store was called from inside its own RunInTransaction body; use the Store& "
          "passed to the body");
    }
    return Status::Ok();
  }

  Mutex mu_;
  std::unique_ptr<Connection> conn_ PT_GUARDED_BY(mu_);
  Ops ops_ GUARDED_BY(mu_);
  uint64_t change_counter_ GUARDED_BY(mu_) = 0;
  int64_t last_data_version_ GUARDED_BY(mu_) = -1;
  const std::string replay_path_;
  const int busy_timeout_ms_;
  Mutex replay_mu_;      // independent of mu_: replay records never join a transaction
  CondVar replay_done_;  // a batch finished (replay_writing_ went false)
  // Set under the lock; used outside it only by the caller that set
  // replay_writing_.
  std::unique_ptr<Connection> replay_ GUARDED_BY(replay_mu_);
  std::vector<OnceRecord*> replay_queue_ GUARDED_BY(replay_mu_);  // waiting for the next batch
  bool replay_writing_ GUARDED_BY(replay_mu_) = false;
  uint64_t replay_batches_ GUARDED_BY(replay_mu_) = 0;
  // The thread running a RunInTransaction body, or id() when none.
  std::atomic<std::thread::id> transaction_thread_{};
};

}  // namespace
}  // namespace sqlite

int SqliteStoreSchemaVersion() { return sqlite::LatestSchemaVersion(); }

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               SqliteStoreOptions options) {
  if (path.empty()) return InvalidArgumentError("state store path is empty");
  LG_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Connection> conn,
                      sqlite::OpenFile(path, options.busy_timeout_ms));
  LG_RETURN_IF_ERROR(sqlite::Configure(*conn, options.busy_timeout_ms));
  return std::unique_ptr<Store>(std::make_unique<sqlite::SqliteStore>(
      std::move(conn), sqlite::ReplayPathFor(path), options.busy_timeout_ms));
}

std::unique_ptr<Store> NewInMemoryStore() {
  auto store = OpenSqliteStore(":memory:");
  if (!store.ok()) {
    // Only a broken SQLite build or exhausted memory gets here; this is a test
    // helper, so stop loudly rather than hand out a null store.
    std::fprintf(stderr, "NewInMemoryStore: %s\n", store.status().ToString().c_str());
    std::abort();
  }
  return std::move(store).value();
}

}  // namespace lakegate::store
