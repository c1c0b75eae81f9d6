#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/files.h"
#include "store/fault_injecting_store.h"
#include "store/sqlite/sqlite_store.h"
#include "store/store_conformance.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace lakegate::store {
namespace {

using ::testing::HasSubstr;

using ::lakegate::testing::HasStatus;
using ::lakegate::testing::TempDir;

::testing::AssertionResult IsOk(const Status& status) {
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << status.ToString();
}

#define EXPECT_STATUS(expr, code, substring) EXPECT_TRUE(HasStatus((expr), (code), (substring)))
#define ASSERT_OK(expr) ASSERT_TRUE(IsOk(expr))

std::unique_ptr<Store> MustOpen(const std::string& path, SqliteStoreOptions options = {}) {
  auto store = OpenSqliteStore(path, options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return nullptr;
  return std::move(store).value();
}

// Runs one SQL statement with the raw SQLite API (to tamper with a store file).
void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  std::string message = error != nullptr ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

int64_t RawQueryInt(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  int64_t value = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

std::string RawQueryText(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  std::string value;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

// The conformance suite (store_conformance.h) on a file store and on the
// in-memory store, so that the fake stays faithful.
class SqliteFileBacking final : public StoreBacking {
 public:
  std::unique_ptr<Store> Open() override {
    auto store = OpenSqliteStore(dir_.File("state.db"));
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

 private:
  TempDir dir_;
};

class MemoryBacking final : public StoreBacking {
 public:
  std::unique_ptr<Store> Open() override { return NewInMemoryStore(); }
  bool shared() const override { return false; }
};

INSTANTIATE_TEST_SUITE_P(
    Sqlite, StoreConformanceTest,
    ::testing::Values(
        StoreKind{"File", [] { return std::unique_ptr<StoreBacking>(new SqliteFileBacking()); }},
        StoreKind{"Memory", [] { return std::unique_ptr<StoreBacking>(new MemoryBacking()); }}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(InMemoryStoreTest, InstancesAreIndependent) {
  auto a = NewInMemoryStore();
  auto b = NewInMemoryStore();
  ASSERT_OK(a->PutSetting("k", "v"));
  EXPECT_FALSE(b->GetSetting("k")->has_value());
}

// ---- file-specific behaviour ----

class SqliteFileTest : public ::testing::Test {
 protected:
  std::string DbPath() const { return dir_.File("state.db"); }
  TempDir dir_;
};

TEST_F(SqliteFileTest, StatePersistsAcrossReopen) {
  {
    auto store = MustOpen(DbPath());
    ASSERT_NE(store, nullptr);
    ASSERT_OK(store->InsertClient(MakeClient("id-1", "etl", {"a/b"})));
    ASSERT_OK(store->InsertSigningKey(MakeKey("k1", 5)));
  }
  auto store = MustOpen(DbPath());
  ASSERT_NE(store, nullptr);
  auto c = store->FindClient("id-1");
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->scopes, std::vector<std::string>{"a/b"});
  EXPECT_EQ(store->ListSigningKeys()->size(), 1u);
}

TEST_F(SqliteFileTest, MigrationsAreIdempotent) {
  ASSERT_NE(MustOpen(DbPath()), nullptr);
  // Migration numbers may have gaps (numbers are assigned per feature), so
  // count what the first open applied and check later opens apply nothing.
  const int64_t applied = RawQueryInt(DbPath(), "SELECT count(*) FROM schema_migrations");
  EXPECT_GT(applied, 0);
  ASSERT_NE(MustOpen(DbPath()), nullptr);
  auto store = MustOpen(DbPath());
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->PutSetting("k", "v"));
  store.reset();
  EXPECT_EQ(RawQueryInt(DbPath(), "SELECT count(*) FROM schema_migrations"), applied);
  EXPECT_EQ(RawQueryInt(DbPath(), "SELECT max(version) FROM schema_migrations"),
            SqliteStoreSchemaVersion());
  EXPECT_GT(RawQueryInt(DbPath(), "SELECT min(applied_at) FROM schema_migrations"), 1'600'000'000);
  EXPECT_EQ(RawQueryText(DbPath(), "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(RawQueryInt(DbPath(), "PRAGMA application_id"), 0x4C4B4754);
  store = MustOpen(DbPath());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->GetSetting("k")->value(), "v");
}

TEST_F(SqliteFileTest, AMigrationNumberedBelowTheLatestStillRuns) {
  // Numbers are handed out per feature ahead of merging: a store may have
  // recorded a higher migration before a lower one exists. Take migration 4
  // (mTLS columns) back out of a store that has 6 (DPoP): opening it must
  // apply 4 again.
  ASSERT_NE(MustOpen(DbPath()), nullptr);
  RawExec(DbPath(),
          "ALTER TABLE clients DROP COLUMN tls_client_auth_field; "
          "ALTER TABLE clients DROP COLUMN tls_client_auth_value; "
          "ALTER TABLE clients DROP COLUMN tls_bound_tokens; "
          "DELETE FROM schema_migrations WHERE version = 4");
  const int64_t before = RawQueryInt(DbPath(), "SELECT count(*) FROM schema_migrations");
  ASSERT_EQ(RawQueryInt(DbPath(), "SELECT max(version) FROM schema_migrations"),
            SqliteStoreSchemaVersion());
  auto store = MustOpen(DbPath());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(RawQueryInt(DbPath(), "SELECT count(*) FROM schema_migrations WHERE version = 4"), 1);
  EXPECT_EQ(RawQueryInt(DbPath(), "SELECT count(*) FROM schema_migrations"), before + 1);
  ClientRecord client = MakeClient("id-1", "bound");
  client.dpop_bound_access_tokens = true;
  ASSERT_OK(store->InsertClient(client));
  EXPECT_TRUE((*store->FindClient("id-1"))->dpop_bound_access_tokens);
}

TEST_F(SqliteFileTest, FilesAreOwnerOnly) {
  mode_t old_umask = ::umask(022);
  {
    auto store = MustOpen(DbPath());
    ASSERT_NE(store, nullptr);
    ASSERT_OK(store->PutSetting("k", "v"));
    EXPECT_EQ(ModeOf(DbPath()), 0600u);
    EXPECT_EQ(ModeOf(DbPath() + "-wal"), 0600u);
    EXPECT_EQ(ModeOf(DbPath() + "-shm"), 0600u);
  }
  ::umask(old_umask);
}

TEST_F(SqliteFileTest, ExistingWideModeIsNarrowed) {
  ASSERT_NE(MustOpen(DbPath()), nullptr);
  ASSERT_EQ(::chmod(DbPath().c_str(), 0644), 0);
  ASSERT_NE(MustOpen(DbPath()), nullptr);
  EXPECT_EQ(ModeOf(DbPath()), 0600u);
}

TEST_F(SqliteFileTest, RefusesNewerSchema) {
  ASSERT_NE(MustOpen(DbPath()), nullptr);
  const int64_t applied = RawQueryInt(DbPath(), "SELECT count(*) FROM schema_migrations");
  RawExec(DbPath(), "INSERT INTO schema_migrations (version, applied_at) VALUES (999, 1)");
  auto store = OpenSqliteStore(DbPath());
  EXPECT_STATUS(store.status(), StatusCode::kFailedPrecondition, "schema version 999");
  EXPECT_THAT(store.status().message(), HasSubstr("upgrade lakegate"));
  EXPECT_THAT(store.status().message(), HasSubstr(DbPath()));
  // The refusal changed nothing.
  EXPECT_EQ(RawQueryInt(DbPath(), "SELECT count(*) FROM schema_migrations"), applied + 1);
}

TEST_F(SqliteFileTest, RefusesForeignSqliteDatabase) {
  RawExec(DbPath(), "CREATE TABLE members (id INTEGER)");
  auto store = OpenSqliteStore(DbPath());
  EXPECT_STATUS(store.status(), StatusCode::kFailedPrecondition,
                "is an SQLite database but not a lakegate state store");
  EXPECT_EQ(RawQueryInt(DbPath(), "SELECT count(*) FROM sqlite_schema WHERE name = 'clients'"), 0);
}

TEST_F(SqliteFileTest, RefusesNonDatabaseFile) {
  ASSERT_OK(WriteFileAtomic(DbPath(), std::string(4096, 'x')));
  auto store = OpenSqliteStore(DbPath());
  EXPECT_STATUS(store.status(), StatusCode::kFailedPrecondition, DbPath());
  EXPECT_THAT(store.status().message(), HasSubstr("not a lakegate state store"));
}

TEST_F(SqliteFileTest, MissingDirectory) {
  std::string path = dir_.File("nope/state.db");
  auto store = OpenSqliteStore(path);
  EXPECT_STATUS(
      store.status(), StatusCode::kFailedPrecondition,
      "cannot open state store " + path + ": directory " + dir_.File("nope") + " does not exist");
}

TEST_F(SqliteFileTest, PathIsADirectory) {
  ASSERT_EQ(::mkdir(DbPath().c_str(), 0700), 0);
  auto store = OpenSqliteStore(DbPath());
  EXPECT_STATUS(store.status(), StatusCode::kFailedPrecondition, "it is a directory");
}

TEST_F(SqliteFileTest, EmptyPath) {
  EXPECT_STATUS(OpenSqliteStore("").status(), StatusCode::kInvalidArgument, "path is empty");
}

// Opens `path` in a child process that runs as "nobody" when the test runs as
// root (root bypasses permission checks); returns the status it got.
Status OpenInUnprivilegedChild(const std::string& path) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return InternalError("pipe");
  pid_t pid = ::fork();
  if (pid < 0) return InternalError("fork");
  if (pid == 0) {
    ::close(pipe_fds[0]);
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    auto store = OpenSqliteStore(path);
    std::string out =
        std::to_string(static_cast<int>(store.status().code())) + "|" + store.status().message();
    (void)!::write(pipe_fds[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string in;
  char buffer[512];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buffer, sizeof(buffer))) > 0)
    in.append(buffer, static_cast<size_t>(n));
  ::close(pipe_fds[0]);
  int wait_status = 0;
  ::waitpid(pid, &wait_status, 0);
  size_t bar = in.find('|');
  if (bar == std::string::npos) return InternalError("child failed: " + in);
  return Status(static_cast<StatusCode>(std::stoi(in.substr(0, bar))), in.substr(bar + 1));
}

TEST_F(SqliteFileTest, PermissionDenied) {
  std::string locked = dir_.File("locked");
  ASSERT_EQ(::mkdir(locked.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(locked.c_str(), ::geteuid() == 0 ? 0755 : 0555), 0);
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0711), 0);  // let "nobody" reach `locked`
  EXPECT_STATUS(OpenInUnprivilegedChild(locked + "/state.db"), StatusCode::kFailedPrecondition,
                "cannot open state store " + locked +
                    "/state.db: permission denied; check the "
                    "owner and permissions of " +
                    locked);
}

TEST_F(SqliteFileTest, UnreadableDirectory) {
  std::string locked = dir_.File("locked");
  ASSERT_EQ(::mkdir(locked.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0711), 0);
  // As "nobody" (or a non-owner), the 0700 directory cannot be searched.
  if (::geteuid() != 0) {
    ASSERT_EQ(::chmod(locked.c_str(), 0), 0);
  }
  EXPECT_STATUS(OpenInUnprivilegedChild(locked + "/sub/state.db"), StatusCode::kFailedPrecondition,
                "cannot access directory " + locked + "/sub: Permission denied");
}

// Two store objects on one file stand for two nodes: a key one of them
// remembered is a replay for the other, and concurrent callers with one key
// get exactly one true between them. Neither moves the other's counter.
TEST_F(SqliteFileTest, RememberOnceIsSharedByEveryInstanceAndAtomic) {
  auto a = MustOpen(DbPath());
  auto b = MustOpen(DbPath());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto b0 = b->ChangeCounter();
  ASSERT_TRUE(b0.ok());
  ASSERT_TRUE(*a->RememberOnce("c jti", 1000, 10));
  EXPECT_FALSE(*b->RememberOnce("c jti", 1000, 11));
  EXPECT_EQ(*b->ChangeCounter(), *b0) << "a one-time key made other nodes reload";
  EXPECT_EQ(ModeOf(dir_.File("state.replay.db")), 0600u);

  constexpr int kThreads = 8;
  constexpr int kKeys = 50;
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Store& store = (t % 2 == 0) ? *a : *b;
      for (int k = 0; k < kKeys; ++k) {
        auto r = store.RememberOnce("race " + std::to_string(k), 1000, 10);
        if (r.ok() && *r) accepted.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), kKeys);
}

TEST_F(SqliteFileTest, BusyStoreFailsWithUnavailable) {
  auto a = MustOpen(DbPath());
  auto b = MustOpen(DbPath(), SqliteStoreOptions{.busy_timeout_ms = 50});
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_OK(a->RunInTransaction([&](Store& tx) -> Status {
    LG_RETURN_IF_ERROR(tx.PutSetting("a", "1"));
    EXPECT_STATUS(b->PutSetting("b", "2"), StatusCode::kUnavailable, "busy for more than 50 ms");
    // WAL: a reader is not blocked by the writer and sees the last commit.
    auto read = b->GetSetting("a");
    EXPECT_TRUE(read.ok()) << read.status().ToString();
    if (read.ok()) {
      EXPECT_FALSE(read->has_value());
    }
    return Status::Ok();
  }));
  ASSERT_OK(b->PutSetting("b", "2"));
  EXPECT_EQ(b->GetSetting("a")->value(), "1");
}

// A child process is killed with SIGKILL in the middle of a transaction big
// enough to spill uncommitted pages into the WAL; the store must reopen with
// the old state intact and stay writable.
TEST_F(SqliteFileTest, SurvivesSigkillInTheMiddleOfABigTransaction) {
  {
    auto store = MustOpen(DbPath());
    ASSERT_NE(store, nullptr);
    ASSERT_OK(store->InsertClient(MakeClient("id-keep", "keep", {"a/b"})));
    ASSERT_OK(store->PutSetting("issuer", "https://old"));
  }
  // Closing the last connection checkpoints and removes the WAL.
  struct stat before {};
  if (::stat((DbPath() + "-wal").c_str(), &before) != 0) before.st_size = 0;

  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(pipe_fds[0]);
    auto opened = OpenSqliteStore(DbPath());
    if (!opened.ok()) {
      (void)!::write(pipe_fds[1], "E", 1);
      ::_exit(1);
    }
    Status ignored = (*opened)->RunInTransaction([&](Store& tx) -> Status {
      tx.PutSetting("issuer", "https://new").IgnoreError();
      tx.DeleteClient("id-keep").IgnoreError();
      std::vector<std::string> scopes(8, std::string(200, 's'));
      for (int i = 0; i < 6000; ++i) {
        for (size_t j = 0; j < scopes.size(); ++j) scopes[j][0] = static_cast<char>('a' + j);
        ClientRecord c = MakeClient("id-" + std::to_string(i), "c-" + std::to_string(i), scopes);
        if (!tx.InsertClient(c).ok()) break;
        if (i == 5000) (void)!::write(pipe_fds[1], "R", 1);
      }
      for (;;) ::pause();  // never commit
    });
    ::_exit(2);
  }
  ::close(pipe_fds[1]);
  char signal_byte = 0;
  ASSERT_EQ(::read(pipe_fds[0], &signal_byte, 1), 1);
  ::close(pipe_fds[0]);
  ASSERT_EQ(signal_byte, 'R') << "child could not open the store";
  struct stat during {};
  ASSERT_EQ(::stat((DbPath() + "-wal").c_str(), &during), 0);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int wait_status = 0;
  ASSERT_EQ(::waitpid(pid, &wait_status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(wait_status));
  EXPECT_EQ(WTERMSIG(wait_status), SIGKILL);
  // Uncommitted frames reached the WAL, so recovery really had to ignore them.
  EXPECT_GT(during.st_size, before.st_size);

  auto store = MustOpen(DbPath());
  ASSERT_NE(store, nullptr);
  auto clients = store->ListClients();
  ASSERT_TRUE(clients.ok()) << clients.status().ToString();
  ASSERT_EQ(clients->size(), 1u);
  EXPECT_EQ((*clients)[0].client_id, "id-keep");
  EXPECT_EQ((*clients)[0].scopes, std::vector<std::string>{"a/b"});
  EXPECT_EQ(store->GetSetting("issuer")->value(), "https://old");
  ASSERT_OK(store->InsertClient(MakeClient("id-after", "after")));
  EXPECT_EQ(store->ListClients()->size(), 2u);
  EXPECT_EQ(RawQueryInt(DbPath(),
                        "SELECT count(*) FROM pragma_integrity_check WHERE "
                        "integrity_check <> 'ok'"),
            0);
}

// ---- FaultInjectingStore ----

TEST(FaultInjectingStoreTest, FailsTheNextWrites) {
  FaultInjectingStore store(NewInMemoryStore());
  store.FailNextWrites(2);
  EXPECT_STATUS(store.PutSetting("k", "1"), StatusCode::kUnavailable, "injected fault");
  EXPECT_STATUS(store.InsertClient(MakeClient("id", "n")), StatusCode::kUnavailable,
                "injected fault");
  ASSERT_OK(store.PutSetting("k", "2"));
  EXPECT_EQ(store.GetSetting("k")->value(), "2");
  EXPECT_EQ(store.writes_forwarded(), 1);
  EXPECT_FALSE(store.FindClient("id")->has_value());
}

TEST(FaultInjectingStoreTest, FailureInsideATransactionRollsItBack) {
  FaultInjectingStore store(NewInMemoryStore());
  store.FailWrites(1, /*after=*/1);
  EXPECT_STATUS(store.RunInTransaction([](Store& tx) -> Status {
    LG_RETURN_IF_ERROR(tx.PutSetting("a", "1"));
    return tx.PutSetting("b", "2");
  }),
                StatusCode::kUnavailable, "injected fault");
  EXPECT_FALSE(store.GetSetting("a")->has_value());
  ASSERT_OK(store.PutSetting("c", "3"));
}

TEST(FaultInjectingStoreTest, ReadsFail) {
  FaultInjectingStore store(NewInMemoryStore());
  store.SetReadsFail(true);
  EXPECT_STATUS(store.ListClients().status(), StatusCode::kUnavailable, "injected fault");
  EXPECT_STATUS(store.ChangeCounter().status(), StatusCode::kUnavailable, "injected fault");
  ASSERT_OK(store.PutSetting("k", "v"));
  store.SetReadsFail(false);
  EXPECT_EQ(store.GetSetting("k")->value(), "v");
}

}  // namespace
}  // namespace lakegate::store
