// The PostgreSQL state store: the conformance suite (store_conformance.h) on
// a fresh database per test, and what only a shared database has: nodes
// migrating at once, change notifications across store objects, reconnecting
// after the server dropped or restarted, TLS, unreachable servers and
// password redaction. Needs the `postgres` ctest fixture (postgres_test_server.h).
#include "store/postgres/postgres_store.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/postgres/libpq_text.h"
#include "store/postgres/url.h"
#include "store/postgres_test_server.h"
#include "store/store_conformance.h"
#include "store/store_failure.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace lakegate::store {
namespace {

using ::lakegate::testing::HasReason;
using ::lakegate::testing::HasStatus;
using ::lakegate::testing::PostgresTestServerUrl;
using ::lakegate::testing::RawQuery;
using ::lakegate::testing::TempDir;
using ::lakegate::testing::TestDatabase;
using ::lakegate::testing::WithDatabase;
using Clock = std::chrono::steady_clock;

#define ASSERT_OK(expr)                              \
  do {                                               \
    const Status status_ = (expr);                   \
    ASSERT_TRUE(status_.ok()) << status_.ToString(); \
  } while (false)

std::unique_ptr<Store> MustOpen(const std::string& url, PostgresStoreOptions options = {}) {
  auto store = OpenPostgresStore(url, options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

class PostgresBacking final : public StoreBacking {
 public:
  explicit PostgresBacking(const std::string& server) : db_(server) {}
  std::unique_ptr<Store> Open() override { return MustOpen(db_.url()); }

 private:
  TestDatabase db_;
};

std::unique_ptr<StoreBacking> MakePostgresBacking() {
  std::string server = PostgresTestServerUrl();
  if (server.empty()) return nullptr;
  return std::make_unique<PostgresBacking>(server);
}

INSTANTIATE_TEST_SUITE_P(Postgres, StoreConformanceTest,
                         ::testing::Values(StoreKind{"Postgres", &MakePostgresBacking}),
                         [](const auto& param_info) { return param_info.param.name; });

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = PostgresTestServerUrl();
    if (server_.empty()) GTEST_SKIP() << "no PostgreSQL test server ($LAKEGATE_TEST_POSTGRES_DIR)";
    db_ = std::make_unique<TestDatabase>(server_);
  }

  std::string server_;
  std::unique_ptr<TestDatabase> db_;
};

// Waits up to `timeout` for `done`.
template <typename Predicate>
bool WaitUntil(Predicate done, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Counts notifications.
class Counter {
 public:
  std::function<void()> Callback() {
    return [this] { ++count_; };
  }
  int count() const { return count_.load(); }

 private:
  std::atomic<int> count_{0};
};

// True when, within 10 s, a write through `writer` is followed by a hint
// (the listener may still be reconnecting at first).
bool HintsFlow(Store& writer, const Counter& hints) {
  return WaitUntil(
      [&] {
        const int before = hints.count();
        if (!writer.PutSetting("ping", std::to_string(before)).ok()) return false;
        return WaitUntil([&] { return hints.count() > before; }, std::chrono::milliseconds(500));
      },
      std::chrono::seconds(10));
}

TEST_F(PostgresStoreTest, NodesStartingTogetherOnAnEmptyDatabaseMigrateOnce) {
  constexpr int kNodes = 8;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  std::atomic<bool> go{false};
  for (int i = 0; i < kNodes; ++i) {
    threads.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      auto store = OpenPostgresStore(db_->url());
      if (!store.ok()) {
        ADD_FAILURE() << store.status().ToString();
        ++failures;
        return;
      }
      if (!(*store)->PutSetting("k", "v").ok()) ++failures;
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  // Migration numbers may have gaps (they are shared between the stores).
  EXPECT_EQ(RawQuery(db_->url(), "SELECT max(version) FROM lakegate.schema_migrations"),
            std::to_string(PostgresStoreSchemaVersion()));
  EXPECT_EQ(
      RawQuery(db_->url(), "SELECT count(DISTINCT applied_by) FROM lakegate.schema_migrations"),
      "1")
      << "more than one node applied migrations";
}

TEST_F(PostgresStoreTest, RefusesANewerSchema) {
  ASSERT_NE(MustOpen(db_->url()), nullptr);
  RawQuery(db_->url(), "INSERT INTO lakegate.schema_migrations VALUES (999, 0, 0)");
  auto store = OpenPostgresStore(db_->url());
  EXPECT_TRUE(HasStatus(store.status(), StatusCode::kFailedPrecondition, "upgrade lakegate"));
}

TEST_F(PostgresStoreTest, ChangesReachAnotherStoreByNotificationAndCounter) {
  auto a = MustOpen(db_->url());
  auto b = MustOpen(db_->url());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  Counter hints;
  auto subscription = a->SubscribeToChanges(hints.Callback());
  ASSERT_TRUE(subscription.ok());
  ASSERT_NE(*subscription, nullptr) << "PostgreSQL pushes change hints";
  auto before = a->ChangeCounter();
  ASSERT_TRUE(before.ok());

  ASSERT_OK(b->AddRevocation("jti-1", 4'000'000'000));
  const auto written = Clock::now();
  ASSERT_TRUE(WaitUntil([&] { return hints.count() > 0; }, std::chrono::seconds(5)))
      << "no notification within 5 s";
  EXPECT_LT(Clock::now() - written, std::chrono::seconds(1));
  auto after = a->ChangeCounter();
  ASSERT_TRUE(after.ok());
  EXPECT_NE(*after, *before);
  auto revoked = a->ListRevocations(0);
  ASSERT_TRUE(revoked.ok());
  ASSERT_EQ(revoked->size(), 1u);

  // A write that changes nothing neither moves the counter nor notifies.
  const int hints_before = hints.count();
  ASSERT_OK(b->PurgeExpiredRevocations(0));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(hints.count(), hints_before);
  EXPECT_EQ(*a->ChangeCounter(), *after);

  // The subscription ends when destroyed: no more callbacks.
  subscription->reset();
  const int hints_at_end = hints.count();
  ASSERT_OK(b->PutSetting("k", "v"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(hints.count(), hints_at_end);
}

// The server drops every connection (a failover or an operator's
// pg_terminate_backend): calls reconnect by themselves, the listener comes
// back and hints flow again, with no new Store object.
// Two store objects stand for two nodes: a one-time key one of them took is
// a replay for the other, concurrent callers with one key get exactly one
// true between them, and neither moves the other's change counter.
TEST_F(PostgresStoreTest, OneTimeKeysAreSharedByEveryNodeAndTakenOnce) {
  auto a = MustOpen(db_->url());
  auto b = MustOpen(db_->url());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto b0 = b->ChangeCounter();
  ASSERT_TRUE(b0.ok());
  ASSERT_TRUE(*a->RememberOnce("c jti", 1000, 10));
  EXPECT_FALSE(*b->RememberOnce("c jti", 1000, 11));
  EXPECT_EQ(*b->ChangeCounter(), *b0) << "a one-time key made other nodes reload";

  constexpr int kThreads = 8;
  constexpr int kKeys = 40;
  std::atomic<int> accepted{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Store& store = (t % 2 == 0) ? *a : *b;
      for (int k = 0; k < kKeys; ++k) {
        auto r = store.RememberOnce("race " + std::to_string(k), 1000, 10);
        if (!r.ok()) errors.fetch_add(1);
        if (r.ok() && *r) accepted.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(accepted.load(), kKeys);
}

TEST_F(PostgresStoreTest, ReconnectsAfterTheServerDroppedItsConnections) {
  auto a = MustOpen(db_->url());
  auto b = MustOpen(db_->url());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  Counter hints;
  auto subscription = a->SubscribeToChanges(hints.Callback());
  ASSERT_TRUE(subscription.ok());
  ASSERT_OK(a->PutSetting("warm", "1"));  // a pooled connection each
  ASSERT_OK(b->PutSetting("warm", "2"));
  ASSERT_TRUE(a->ChangeCounter().ok());

  RawQuery(db_->url(),
           "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
           "WHERE datname = current_database() AND pid <> pg_backend_pid()");

  ASSERT_OK(a->PutSetting("after", "1"));
  auto read = b->GetSetting("after");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->value_or(""), "1");
  ASSERT_TRUE(a->ChangeCounter().ok());
  // The listener reconnects (within its backoff) and hears new writes.
  EXPECT_TRUE(HintsFlow(*b, hints)) << "no notifications after the connections were dropped";
}

// The pool keeps its full size through repeated server-side drops: dropped
// connections are discarded and counted out, never leaked.
TEST_F(PostgresStoreTest, ThePoolSurvivesRepeatedDrops) {
  auto store = MustOpen(db_->url(), PostgresStoreOptions{.max_connections = 2});
  ASSERT_NE(store, nullptr);
  auto busy = [&] {
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 20; ++i) {
          if (!store->ListClients().ok() || !store->ChangeCounter().ok()) ++failures;
        }
      });
    }
    for (auto& t : threads) t.join();
    return failures.load();
  };
  for (int round = 0; round < 4; ++round) {
    EXPECT_EQ(busy(), 0) << "round " << round;
    RawQuery(db_->url(),
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
             "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  }
  const auto start = Clock::now();
  EXPECT_EQ(busy(), 0);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2)) << "calls waited for a free connection";
}

// A port nobody listens on: the store is unreachable.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(PostgresUnreachableTest, OpeningFailsFastAsUnreachableWithoutThePassword) {
  const std::string url =
      "postgresql://lakegate:s3cret-pw@127.0.0.1:" + std::to_string(ClosedPort()) + "/lakegate";
  const auto start = Clock::now();
  auto store = OpenPostgresStore(url);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
  EXPECT_TRUE(HasStatus(store.status(), StatusCode::kUnavailable, "is unreachable"));
  EXPECT_TRUE(HasReason(store.status(), StoreFailure::kUnreachable));
  EXPECT_EQ(store.status().message().find("s3cret-pw"), std::string::npos)
      << store.status().message();
  EXPECT_NE(store.status().message().find("lakegate:***@127.0.0.1"), std::string::npos);
}

TEST_F(PostgresStoreTest, AWrongPasswordIsRefusedWithoutShowingIt) {
  std::string url = db_->url();
  const size_t colon = url.find(':', url.find("://") + 3);
  const size_t at = url.find('@');
  ASSERT_NE(colon, std::string::npos);
  url.replace(colon + 1, at - colon - 1, "not-the-password");
  auto store = OpenPostgresStore(url);
  EXPECT_TRUE(HasStatus(store.status(), StatusCode::kFailedPrecondition, "password"));
  EXPECT_EQ(store.status().message().find("not-the-password"), std::string::npos);
}

TEST_F(PostgresStoreTest, TlsWhenTheUrlAsksForIt) {
  if (db_->url().find("sslmode=verify-full") == std::string::npos) {
    GTEST_SKIP() << "the test server was started without --tls";
  }
  // The fixture's server refuses unencrypted connections, so a working store
  // proves the connection is encrypted (and the certificate verified).
  auto store = MustOpen(db_->url());
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->PutSetting("tls", "yes"));

  std::string plain = db_->url().substr(0, db_->url().find('?')) + "?sslmode=disable";
  auto refused = OpenPostgresStore(plain);
  EXPECT_TRUE(HasStatus(refused.status(), StatusCode::kFailedPrecondition, "no encryption"))
      << refused.status().ToString();

  // A CA that did not sign the server's certificate: verify-full refuses.
  TempDir dir;
  const std::string other_ca = dir.File("other-ca.pem");
  const std::string make_ca =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other "
      "-keyout " +
      dir.File("k.pem") + " -out " + other_ca + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(make_ca.c_str()), 0);
  std::string wrong_ca =
      db_->url().substr(0, db_->url().find('?')) + "?sslmode=verify-full&sslrootcert=" + other_ca;
  auto unverified = OpenPostgresStore(wrong_ca);
  EXPECT_TRUE(HasStatus(unverified.status(), StatusCode::kFailedPrecondition, "certificate"))
      << unverified.status().ToString();
}

// The database stops and comes back (a restart, an outage): writes fail fast
// with kUnavailable [kUnreachable] meanwhile, and the same Store object works
// again once the server is back. Runs a private server (scripts/postgres.sh).
TEST(PostgresRestartTest, WritesFailFastWhileTheServerIsDownAndWorkAfterItReturns) {
  const char* script = LAKEGATE_POSTGRES_SCRIPT;
  if (PostgresTestServerUrl().empty()) GTEST_SKIP() << "runs with the postgres fixture only";
  TempDir dir("lakegate-pg-restart");
  // The server runs as the unprivileged `postgres` user, who must reach DIR.
  std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_all |
                                               std::filesystem::perms::group_exec |
                                               std::filesystem::perms::others_exec);
  const std::string pg_dir = dir.File("pg");
  const std::string run = std::string("bash ") + script;
  struct Stopper {
    std::string command;
    ~Stopper() {
      if (std::system(command.c_str()) != 0) ADD_FAILURE() << "could not stop: " << command;
    }
  } stopper{run + " stop " + pg_dir + " >/dev/null 2>&1"};
  ASSERT_EQ(std::system((run + " start " + pg_dir + " >/dev/null").c_str()), 0);
  std::string url;
  {
    std::ifstream in(pg_dir + "/url");
    std::getline(in, url);
  }
  ASSERT_FALSE(url.empty());
  auto store = MustOpen(url);
  ASSERT_NE(store, nullptr);
  Counter hints;
  auto subscription = store->SubscribeToChanges(hints.Callback());
  ASSERT_TRUE(subscription.ok());
  ASSERT_OK(store->PutSetting("before", "1"));

  ASSERT_EQ(std::system((run + " halt " + pg_dir).c_str()), 0);
  const auto start = Clock::now();
  Status write = store->AddRevocation("jti-during-outage", 4'000'000'000);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(HasStatus(write, StatusCode::kUnavailable, "unreachable")) << write.ToString();
  EXPECT_TRUE(HasReason(write, StoreFailure::kUnreachable));
  const size_t user_end = url.find(':', url.find("://") + 3);
  const std::string password = url.substr(user_end + 1, url.find('@') - user_end - 1);
  EXPECT_EQ(write.message().find(password), std::string::npos) << "the password leaked";
  EXPECT_EQ(store->ChangeCounter().status().code(), StatusCode::kUnavailable);

  ASSERT_EQ(std::system((run + " start " + pg_dir + " >/dev/null").c_str()), 0);
  ASSERT_OK(store->AddRevocation("jti-after-outage", 4'000'000'000));
  auto revoked = store->ListRevocations(0);
  ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
  ASSERT_EQ(revoked->size(), 1u);
  EXPECT_EQ((*revoked)[0].first, "jti-after-outage");
  EXPECT_EQ(store->GetSetting("before")->value_or(""), "1");
  // The listener is back too.
  auto other = MustOpen(url);
  ASSERT_NE(other, nullptr);
  EXPECT_TRUE(HintsFlow(*other, hints)) << "no notifications after the restart";
}

TEST(LibpqTextTest, MessagesReadOnOneLine) {
  EXPECT_EQ(OneLine(nullptr), "");
  EXPECT_EQ(OneLine("FATAL:  no such role\nDETAIL:  x\n  \n"), "FATAL:  no such role DETAIL:  x");
  EXPECT_EQ(OneLine("plain"), "plain");
}

TEST(PostgresUrlTest, RedactsPasswords) {
  EXPECT_EQ(RedactPostgresUrl("postgresql://app:pw@db:5432/lg?sslmode=require"),
            "postgresql://app:***@db:5432/lg?sslmode=require");
  EXPECT_EQ(RedactPostgresUrl("postgres://app:p@ss@db/lg"), "postgres://app:***@db/lg");
  EXPECT_EQ(RedactPostgresUrl("postgresql://app@db/lg"), "postgresql://app@db/lg");
  EXPECT_EQ(RedactPostgresUrl("postgresql://db/lg?user=app&password=pw&sslmode=require"),
            "postgresql://db/lg?user=app&password=***&sslmode=require");
  EXPECT_EQ(RedactPostgresUrl("host=db password='a b' user=x"), "host=db password=*** user=x");
}

// Each of these is a password libpq accepts and the redaction once showed;
// tests/fuzz/postgres_url_fuzz.cc (libpq as the judge) found them.
TEST(PostgresUrlTest, RedactsPasswordsWhereverLibpqFindsThem) {
  // A '?' in the userinfo is part of the password (libpq ends it at '@').
  EXPECT_EQ(RedactPostgresUrl("postgresql://app:pa?ss@db/lg"), "postgresql://app:***@db/lg");
  // White space around '=' and any white space between pairs.
  EXPECT_EQ(RedactPostgresUrl("host=db password = secret"), "host=db password = ***");
  EXPECT_EQ(RedactPostgresUrl("host=db\tpassword=secret\nuser=x"), "host=db\tpassword=***\nuser=x");
  // A backslash-escaped space does not end a plain value.
  EXPECT_EQ(RedactPostgresUrl("password=a\\ b user=x"), "password=*** user=x");
  // A quoted value may run straight into the next pair.
  EXPECT_EQ(RedactPostgresUrl("password='a b'user=x"), "password=*** user=x");
  // Query keywords are percent-decoded.
  EXPECT_EQ(RedactPostgresUrl("postgresql:///lg?host=%2Frun&pass%77ord=secret"),
            "postgresql:///lg?host=%2Frun&pass%77ord=***");
  // A user ends at the first '@' even when a '?' comes first: what follows is
  // the host, and libpq's query starts at the next '?'.
  EXPECT_EQ(RedactPostgresUrl("postgresql://u?a@h?password=pw&x=1@y"),
            "postgresql://u?a@h?password=***&x=1@y");
  // libpq's query can start after a '?' inside an IPv6 host.
  EXPECT_EQ(RedactPostgresUrl("postgresql://[a?x=1]/db?password=pw"),
            "postgresql://[a?x=1]/db?password=***");
  // A password value runs to the next '&', '?' included.
  EXPECT_EQ(RedactPostgresUrl("postgresql://db/lg?password=a?b&user=x"),
            "postgresql://db/lg?password=***&user=x");
  // Without a userinfo, the '/' that ends libpq's look-ahead for one may lie
  // in a password value: a later '@' must not start a userinfo once it is gone.
  EXPECT_EQ(RedactPostgresUrl("postgresql://h?password=x/y&application_name=p:q@r"),
            "postgresql://h?password=***&application_name=p:q%40r");
  EXPECT_EQ(RedactPostgresUrl("postgresql://h/db?application_name=p:q@r"),
            "postgresql://h/db?application_name=p:q@r");
  // The hidden part of a password with a raw '@' ends with the host: the
  // query after it (here the user) is kept.
  EXPECT_EQ(RedactPostgresUrl("postgres://:pw@?user=@app"), "postgres://:***@?user=@app");
  // Nor when that would hide a '[' or start the host shown with one (libpq
  // reads such a host to its ']').
  EXPECT_EQ(RedactPostgresUrl("postgres://u:pw@a@[b/c]"), "postgres://u:***@a@[b/c]");
  EXPECT_EQ(RedactPostgresUrl("postgres://u:pw@[a@b]/db"), "postgres://u:***@[a@b]/db");
  // Not a URI for libpq (no postgresql:// or postgres:// prefix): key/value.
  EXPECT_EQ(RedactPostgresUrl("sqlite:/tmp/state.db"), "sqlite:/tmp/state.db");
}

// Where hiding the password in the text would change what libpq reads from
// the rest, the options libpq reads from the original are shown instead.
TEST(PostgresUrlTest, ShowsWhatLibpqReadsWhereTheTextCannotBeKept) {
  // libpq's IPv6 host runs to its ']', '?' and '&' included; a password value
  // in the text runs to the next '&' and would take the ']' and the database.
  EXPECT_EQ(RedactPostgresUrl("postgres://u:a@[h?password=x]/db&y]/other"),
            "dbname='db&y]/other' host='h?password=x' password=*** user='u'");
  // Quotes and backslashes are escaped; a host with an '@' is hidden.
  EXPECT_EQ(RedactPostgresUrl("postgres://it's:a@[h?password=x\\]/db&y]/o"),
            "dbname='db&y]/o' host='h?password=x\\\\' password=*** user='it\\'s'");
  EXPECT_EQ(RedactPostgresUrl("postgres://u:a@[h?password=x]/db&y]/o?host=p@q"),
            "dbname='db&y]/o' host=*** password=*** user='u'");
  // What libpq is handed ends at a NUL, and so does what is shown.
  EXPECT_EQ(RedactPostgresUrl(std::string_view("postgres://u:pw@db/lg\0?password=x", 33)),
            "postgres://u:***@db/lg");
}

}  // namespace
}  // namespace lakegate::store
