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

ClientRecord MakeClient(std::string id, std::string name, std::vector<std::string> scopes = {}) {
  ClientRecord c;
  c.client_id = std::move(id);
  c.name = std::move(name);
  c.scopes = std::move(scopes);
  c.token_ttl_seconds = 1800;
  c.secret_hash = "hash-of-" + c.client_id;
  c.created_at = 1000;
  c.updated_at = 2000;
  return c;
}

SigningKeyRecord MakeKey(std::string kid, int64_t created_at) {
  SigningKeyRecord k;
  k.kid = std::move(kid);
  k.algorithm = "ES256";
  k.private_pem =
      SecretString("-----BEGIN PRIVATE KEY-----\n" + k.kid + "\n-----END PRIVATE KEY-----\n");
  k.created_at = created_at;
  return k;
}

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

// Every test of the Store semantics runs against both a file store and the
// in-memory store, so that the fake stays faithful.
class StoreSemanticsTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      store_ = MustOpen(dir_.File("state.db"));
    } else {
      store_ = NewInMemoryStore();
    }
    ASSERT_NE(store_, nullptr);
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(FileAndMemory, StoreSemanticsTest, ::testing::Bool(),
                         [](const auto& param_info) {
                           return param_info.param ? "File" : "Memory";
                         });

TEST_P(StoreSemanticsTest, ClientRoundTripAndOrdering) {
  ClientRecord etl =
      MakeClient("id-etl", "etl-service", {"athena-api/query.read", "athena-api/query.admin"});
  etl.enabled = false;
  etl.managed = true;
  etl.previous_secret_hash = "old";
  etl.previous_secret_expires_at = 4242;
  etl.auth_method = "private_key_jwt";
  etl.jwks = R"({"keys":[]})";
  etl.jwks_uri = "https://keys.example/jwks.json";
  ASSERT_OK(
      store_->InsertClient(MakeClient("id-rep", "reporting-service", {"athena-api/query.read"})));
  ASSERT_OK(store_->InsertClient(etl));
  ASSERT_OK(store_->InsertClient(MakeClient("id-mon", "monitoring-service")));

  auto found = store_->FindClient("id-etl");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(**found, etl);

  auto by_name = store_->FindClientByName("reporting-service");
  ASSERT_TRUE(by_name.ok());
  ASSERT_TRUE(by_name->has_value());
  EXPECT_EQ((*by_name)->client_id, "id-rep");
  EXPECT_EQ((*by_name)->scopes, std::vector<std::string>{"athena-api/query.read"});

  auto missing = store_->FindClient("nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  auto missing_name = store_->FindClientByName("nope");
  ASSERT_TRUE(missing_name.ok());
  EXPECT_FALSE(missing_name->has_value());

  auto list = store_->ListClients();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].name, "etl-service");
  EXPECT_EQ((*list)[1].name, "monitoring-service");
  EXPECT_EQ((*list)[2].name, "reporting-service");
  EXPECT_EQ((*list)[0], etl);
  EXPECT_TRUE((*list)[1].scopes.empty());
}

TEST_P(StoreSemanticsTest, InsertClientRejectsDuplicatesAndEmptyFields) {
  ASSERT_OK(store_->InsertClient(MakeClient("id-1", "etl-service")));
  EXPECT_STATUS(store_->InsertClient(MakeClient("id-1", "other")), StatusCode::kAlreadyExists,
                "client id \"id-1\" already exists");
  EXPECT_STATUS(store_->InsertClient(MakeClient("id-2", "etl-service")), StatusCode::kAlreadyExists,
                "a client named \"etl-service\" already exists");
  EXPECT_STATUS(store_->InsertClient(MakeClient("", "x")), StatusCode::kInvalidArgument,
                "client id is empty");
  EXPECT_STATUS(store_->InsertClient(MakeClient("id-3", "")), StatusCode::kInvalidArgument,
                "client name is empty");
  auto list = store_->ListClients();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);
}

TEST_P(StoreSemanticsTest, UpdateClientReplacesEverythingIncludingScopes) {
  ASSERT_OK(store_->InsertClient(MakeClient("id-1", "etl-service", {"a/x", "a/y"})));
  ClientRecord updated = MakeClient("id-1", "etl-renamed", {"a/z"});
  updated.secret_hash = "new-hash";
  updated.previous_secret_hash = "hash-of-id-1";
  updated.previous_secret_expires_at = 99;
  updated.updated_at = 3000;
  ASSERT_OK(store_->UpdateClient(updated));
  auto found = store_->FindClient("id-1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ(**found, updated);
  auto old_name = store_->FindClientByName("etl-service");
  ASSERT_TRUE(old_name.ok());
  EXPECT_FALSE(old_name->has_value());
}

TEST_P(StoreSemanticsTest, UpdateClientRejectsMissingAndTakenName) {
  ASSERT_OK(store_->InsertClient(MakeClient("id-1", "etl-service")));
  ASSERT_OK(store_->InsertClient(MakeClient("id-2", "reporting-service")));
  EXPECT_STATUS(store_->UpdateClient(MakeClient("id-9", "x")), StatusCode::kNotFound,
                "no client with id \"id-9\"");
  EXPECT_STATUS(store_->UpdateClient(MakeClient("id-2", "etl-service")), StatusCode::kAlreadyExists,
                "a client named \"etl-service\" already exists");
  auto found = store_->FindClient("id-2");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->name, "reporting-service");
}

TEST_P(StoreSemanticsTest, DeleteClientRemovesItAndItsScopes) {
  ASSERT_OK(store_->InsertClient(MakeClient("id-1", "etl-service", {"a/x"})));
  ASSERT_OK(store_->DeleteClient("id-1"));
  EXPECT_STATUS(store_->DeleteClient("id-1"), StatusCode::kNotFound, "no client with id \"id-1\"");
  ASSERT_OK(store_->InsertClient(MakeClient("id-1", "etl-service")));
  auto found = store_->FindClient("id-1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_TRUE((*found)->scopes.empty()) << "scopes of the deleted client came back";
}

TEST_P(StoreSemanticsTest, SigningKeysNewestFirstAndRoundTrip) {
  ASSERT_OK(store_->InsertSigningKey(MakeKey("k-old", 100)));
  ASSERT_OK(store_->InsertSigningKey(MakeKey("k-new", 300)));
  ASSERT_OK(store_->InsertSigningKey(MakeKey("k-mid", 200)));
  ASSERT_OK(store_->InsertSigningKey(MakeKey("k-new2", 300)));  // same second: insertion order
  auto keys = store_->ListSigningKeys();
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  ASSERT_EQ(keys->size(), 4u);
  EXPECT_EQ((*keys)[0].kid, "k-new2");
  EXPECT_EQ((*keys)[1].kid, "k-new");
  EXPECT_EQ((*keys)[2].kid, "k-mid");
  EXPECT_EQ((*keys)[3].kid, "k-old");
  EXPECT_EQ((*keys)[3].private_pem.Reveal(),
            "-----BEGIN PRIVATE KEY-----\nk-old\n-----END PRIVATE KEY-----\n");

  SigningKeyRecord retired = MakeKey("k-old", 100);
  retired.algorithm = "EdDSA";
  retired.retired_at = 500;
  retired.publish_until = 900;
  ASSERT_OK(store_->UpdateSigningKey(retired));
  keys = store_->ListSigningKeys();
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ((*keys)[3].algorithm, "EdDSA");
  EXPECT_EQ((*keys)[3].retired_at, 500);
  EXPECT_EQ((*keys)[3].publish_until, 900);

  ASSERT_OK(store_->DeleteSigningKey("k-old"));
  keys = store_->ListSigningKeys();
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 3u);
}

TEST_P(StoreSemanticsTest, SigningKeyErrors) {
  ASSERT_OK(store_->InsertSigningKey(MakeKey("k1", 1)));
  EXPECT_STATUS(store_->InsertSigningKey(MakeKey("k1", 2)), StatusCode::kAlreadyExists,
                "signing key \"k1\" already exists");
  EXPECT_STATUS(store_->InsertSigningKey(MakeKey("", 2)), StatusCode::kInvalidArgument,
                "kid) is empty");
  EXPECT_STATUS(store_->UpdateSigningKey(MakeKey("k9", 2)), StatusCode::kNotFound,
                "no signing key \"k9\"");
  EXPECT_STATUS(store_->DeleteSigningKey("k9"), StatusCode::kNotFound, "no signing key \"k9\"");
}

TEST_P(StoreSemanticsTest, RevocationsAreIdempotentAndExpire) {
  ASSERT_OK(store_->AddRevocation("jti-b", 200));
  ASSERT_OK(store_->AddRevocation("jti-a", 100));
  ASSERT_OK(store_->AddRevocation("jti-a", 50));  // keeps the later expiry
  ASSERT_OK(store_->AddRevocation("jti-c", 300));
  ASSERT_OK(store_->AddRevocation("jti-c", 400));  // extends
  auto list = store_->ListRevocations(100);        // expires_at > now only
  ASSERT_TRUE(list.ok());
  std::vector<std::pair<std::string, int64_t>> expected = {{"jti-b", 200}, {"jti-c", 400}};
  EXPECT_EQ(*list, expected);
  list = store_->ListRevocations(99);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0], (std::pair<std::string, int64_t>{"jti-a", 100}));

  ASSERT_OK(store_->PurgeExpiredRevocations(200));
  list = store_->ListRevocations(0);
  ASSERT_TRUE(list.ok());
  expected = {{"jti-c", 400}};
  EXPECT_EQ(*list, expected);
  EXPECT_STATUS(store_->AddRevocation("", 5), StatusCode::kInvalidArgument,
                "jti) to revoke is empty");
}

TEST_P(StoreSemanticsTest, ResourceServersUpsertReplacesScopes) {
  ResourceServerRecord athena{
      "athena-api", "Athena", {{"query.read", "read"}, {"query.write", "write"}}};
  ResourceServerRecord billing{"billing", "Billing", {{"invoices.read", ""}}};
  ASSERT_OK(store_->PutResourceServer(billing));
  ASSERT_OK(store_->PutResourceServer(athena));
  auto list = store_->ListResourceServers();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0], athena);
  EXPECT_EQ((*list)[1], billing);

  athena.name = "Athena API";
  athena.scopes = {{"query.admin", "admin"}, {"query.read", "read it"}};
  ASSERT_OK(store_->PutResourceServer(athena));
  list = store_->ListResourceServers();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ((*list)[0], athena);

  ASSERT_OK(store_->DeleteResourceServer("billing"));
  EXPECT_STATUS(store_->DeleteResourceServer("billing"), StatusCode::kNotFound,
                "no resource server \"billing\"");
  list = store_->ListResourceServers();
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 1u);
}

TEST_P(StoreSemanticsTest, PutResourceServerRejectsBadRecords) {
  EXPECT_STATUS(store_->PutResourceServer({"", "x", {}}), StatusCode::kInvalidArgument,
                "resource server identifier is empty");
  EXPECT_STATUS(store_->PutResourceServer({"api", "x", {{"a", ""}, {"a", ""}}}),
                StatusCode::kInvalidArgument, "declares scope \"a\" twice");
  EXPECT_STATUS(store_->PutResourceServer({"api", "x", {{"", ""}}}), StatusCode::kInvalidArgument,
                "has a scope with an empty name");
  auto list = store_->ListResourceServers();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

TEST_P(StoreSemanticsTest, Settings) {
  auto missing = store_->GetSetting("issuer");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  ASSERT_OK(store_->PutSetting("issuer", "https://a"));
  ASSERT_OK(store_->PutSetting("issuer", "https://b"));
  ASSERT_OK(store_->PutSetting("empty", ""));
  auto issuer = store_->GetSetting("issuer");
  ASSERT_TRUE(issuer.ok() && issuer->has_value());
  EXPECT_EQ(**issuer, "https://b");
  auto empty = store_->GetSetting("empty");
  ASSERT_TRUE(empty.ok() && empty->has_value());
  EXPECT_EQ(**empty, "");
  EXPECT_STATUS(store_->PutSetting("", "v"), StatusCode::kInvalidArgument, "setting name is empty");
}

TEST_P(StoreSemanticsTest, TransactionCommitsAllOrNothing) {
  ASSERT_OK(store_->RunInTransaction([](Store& tx) -> Status {
    LG_RETURN_IF_ERROR(tx.InsertClient(MakeClient("id-1", "a")));
    LG_RETURN_IF_ERROR(tx.PutSetting("k", "v"));
    // Reads inside the transaction see its own writes.
    auto found = tx.FindClient("id-1");
    if (!found.ok() || !found->has_value()) return InternalError("own write not visible");
    return Status::Ok();
  }));
  EXPECT_TRUE(store_->FindClient("id-1")->has_value());

  // The name "a" is free again once id-1 is deleted earlier in the same transaction.
  ASSERT_OK(store_->RunInTransaction([](Store& tx) -> Status {
    LG_RETURN_IF_ERROR(tx.InsertClient(MakeClient("id-2", "b")));
    LG_RETURN_IF_ERROR(tx.DeleteClient("id-1"));
    return tx.InsertClient(MakeClient("id-3", "a"));
  }));
  EXPECT_FALSE(store_->FindClient("id-1")->has_value());
  EXPECT_TRUE(store_->FindClient("id-3")->has_value());
  // A transaction that fails half-way leaves no trace.
  EXPECT_STATUS(store_->RunInTransaction([](Store& tx) -> Status {
    LG_RETURN_IF_ERROR(tx.InsertClient(MakeClient("id-4", "d")));
    LG_RETURN_IF_ERROR(tx.PutSetting("k", "changed"));
    return tx.InsertClient(MakeClient("id-5", "b"));  // name "b" is taken
  }),
                StatusCode::kAlreadyExists, "a client named \"b\" already exists");
  EXPECT_FALSE(store_->FindClient("id-4")->has_value());
  EXPECT_EQ(store_->GetSetting("k")->value(), "v");
}

TEST_P(StoreSemanticsTest, TransactionBodyThatThrowsWritesNothing) {
  Status status = store_->RunInTransaction([](Store& tx) -> Status {
    tx.InsertClient(MakeClient("id-1", "a")).IgnoreError();
    throw std::runtime_error("boom");
  });
  EXPECT_STATUS(status, StatusCode::kInternal, "transaction body threw: boom");
  EXPECT_FALSE(store_->FindClient("id-1")->has_value());
  // The store is still usable.
  ASSERT_OK(store_->InsertClient(MakeClient("id-1", "a")));
}

TEST_P(StoreSemanticsTest, FailedCallInsideTransactionLeavesNoPartialEffect) {
  ASSERT_OK(store_->InsertClient(MakeClient("id-1", "a", {"s/one"})));
  ASSERT_OK(store_->InsertClient(MakeClient("id-2", "b")));
  ASSERT_OK(store_->RunInTransaction([](Store& tx) -> Status {
    // Fails (name taken) after nothing else; the body ignores the failure and commits.
    Status s = tx.UpdateClient(MakeClient("id-1", "b", {"s/two"}));
    if (s.code() != StatusCode::kAlreadyExists) return InternalError("expected AlreadyExists");
    return tx.PutSetting("after", "yes");
  }));
  auto c = store_->FindClient("id-1");
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->name, "a");
  EXPECT_EQ((*c)->scopes, std::vector<std::string>{"s/one"});
  EXPECT_EQ(store_->GetSetting("after")->value(), "yes");
}

TEST_P(StoreSemanticsTest, TransactionIsNotReentrant) {
  Store* outer = store_.get();
  ASSERT_OK(store_->RunInTransaction([&](Store& tx) -> Status {
    EXPECT_STATUS(tx.RunInTransaction([](Store&) { return Status::Ok(); }),
                  StatusCode::kFailedPrecondition, "not re-entrant");
    EXPECT_STATUS(outer->PutSetting("k", "v"), StatusCode::kFailedPrecondition,
                  "use the Store& passed to the body");
    EXPECT_STATUS(outer->ListClients().status(), StatusCode::kFailedPrecondition,
                  "inside its own RunInTransaction body");
    EXPECT_STATUS(outer->RunInTransaction([](Store&) { return Status::Ok(); }),
                  StatusCode::kFailedPrecondition, "inside its own RunInTransaction body");
    return Status::Ok();
  }));
  EXPECT_FALSE(store_->GetSetting("k")->has_value());
}

TEST_P(StoreSemanticsTest, ChangeCounterMovesOnCommittedWritesOnly) {
  auto c0 = store_->ChangeCounter();
  ASSERT_TRUE(c0.ok());
  EXPECT_EQ(*store_->ChangeCounter(), *c0) << "a read moved the counter";
  ASSERT_OK(store_->PutSetting("k", "v"));
  auto c1 = store_->ChangeCounter();
  ASSERT_TRUE(c1.ok());
  EXPECT_NE(*c1, *c0);
  store_->ListClients().status().IgnoreError();
  EXPECT_EQ(*store_->ChangeCounter(), *c1);
  EXPECT_FALSE(store_
                   ->RunInTransaction([](Store& tx) {
                     tx.PutSetting("k", "w").IgnoreError();
                     return InvalidArgumentError("no");
                   })
                   .ok());
  EXPECT_EQ(*store_->ChangeCounter(), *c1) << "a rolled-back transaction moved the counter";
  ASSERT_OK(store_->PurgeExpiredRevocations(100));  // deletes nothing
  EXPECT_EQ(*store_->ChangeCounter(), *c1) << "a write that changed nothing moved the counter";
  ASSERT_OK(store_->RunInTransaction([](Store& tx) { return tx.PutSetting("k", "x"); }));
  EXPECT_NE(*store_->ChangeCounter(), *c1);
}

TEST_P(StoreSemanticsTest, RememberOnceRefusesALiveKeyAndRevivesAnExpiredOne) {
  auto first = store_->RememberOnce("client-a jti-1", 200, 100);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*store_->RememberOnce("client-a jti-1", 300, 150)) << "a replay was accepted";
  EXPECT_TRUE(*store_->RememberOnce("client-b jti-1", 200, 150)) << "keys are not independent";
  // Still refused at the last second of its life, accepted once it expired.
  EXPECT_FALSE(*store_->RememberOnce("client-a jti-1", 300, 199));
  EXPECT_TRUE(*store_->RememberOnce("client-a jti-1", 400, 200));
  EXPECT_FALSE(*store_->RememberOnce("client-a jti-1", 400, 399));
  EXPECT_STATUS(store_->RememberOnce("", 10, 1).status(), StatusCode::kInvalidArgument, "empty");
}

TEST_P(StoreSemanticsTest, RememberOnceIsNotAChangeAndStaysOutOfTransactions) {
  auto before = store_->ChangeCounter();
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(*store_->RememberOnce("k", 100, 1));
  EXPECT_EQ(*store_->ChangeCounter(), *before);
  Status in_tx =
      store_->RunInTransaction([](Store& tx) { return tx.RememberOnce("k2", 100, 1).status(); });
  EXPECT_STATUS(in_tx, StatusCode::kFailedPrecondition, "not available inside RunInTransaction");
}

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
  ASSERT_NE(MustOpen(DbPath()), nullptr);
  auto store = MustOpen(DbPath());
  ASSERT_NE(store, nullptr);
  ASSERT_OK(store->PutSetting("k", "v"));
  store.reset();
  EXPECT_EQ(RawQueryInt(DbPath(), "SELECT count(*) FROM schema_migrations"),
            SqliteStoreSchemaVersion());
  EXPECT_EQ(RawQueryInt(DbPath(), "SELECT max(version) FROM schema_migrations"),
            SqliteStoreSchemaVersion());
  EXPECT_GT(RawQueryInt(DbPath(), "SELECT min(applied_at) FROM schema_migrations"), 1'600'000'000);
  EXPECT_EQ(RawQueryText(DbPath(), "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(RawQueryInt(DbPath(), "PRAGMA application_id"), 0x4C4B4754);
  store = MustOpen(DbPath());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->GetSetting("k")->value(), "v");
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
  RawExec(DbPath(), "INSERT INTO schema_migrations (version, applied_at) VALUES (999, 1)");
  auto store = OpenSqliteStore(DbPath());
  EXPECT_STATUS(store.status(), StatusCode::kFailedPrecondition, "schema version 999");
  EXPECT_THAT(store.status().message(), HasSubstr("upgrade lakegate"));
  EXPECT_THAT(store.status().message(), HasSubstr(DbPath()));
  // The refusal changed nothing.
  EXPECT_EQ(RawQueryInt(DbPath(), "SELECT count(*) FROM schema_migrations"),
            SqliteStoreSchemaVersion() + 1);
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

TEST_F(SqliteFileTest, ChangeCounterSeesWritesFromAnotherInstance) {
  auto a = MustOpen(DbPath());
  auto b = MustOpen(DbPath());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  auto a0 = a->ChangeCounter();
  ASSERT_TRUE(a0.ok());
  EXPECT_EQ(*a->ChangeCounter(), *a0);
  ASSERT_OK(b->InsertClient(MakeClient("id-1", "x")));
  auto a1 = a->ChangeCounter();
  ASSERT_TRUE(a1.ok());
  EXPECT_NE(*a1, *a0);
  EXPECT_EQ(*a->ChangeCounter(), *a1);
  ASSERT_OK(b->AddRevocation("j", 10));
  EXPECT_NE(*a->ChangeCounter(), *a1);
  EXPECT_TRUE(a->FindClient("id-1")->has_value());
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

TEST_F(SqliteFileTest, ConcurrentWritersAndReaders) {
  auto store = MustOpen(DbPath());
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string id = std::to_string(t) + "-" + std::to_string(i);
        if (!store->InsertClient(MakeClient("id-" + id, "n-" + id, {"a/b"})).ok()) ++failures;
        if (!store->ListClients().ok()) ++failures;
        if (!store->ChangeCounter().ok()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(store->ListClients()->size(), static_cast<size_t>(kThreads * kPerThread));
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
