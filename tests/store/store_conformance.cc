#include "store/store_conformance.h"

#include <gmock/gmock.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "testing/status_matchers.h"

namespace lakegate::store {
namespace {

using ::lakegate::testing::HasStatus;

::testing::AssertionResult IsOk(const Status& status) {
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << status.ToString();
}

#define EXPECT_STATUS(expr, code, substring) EXPECT_TRUE(HasStatus((expr), (code), (substring)))
#define ASSERT_OK(expr) ASSERT_TRUE(IsOk(expr))

// `count` store objects on one backing (as many processes or nodes would
// have); fewer when one cannot be opened (the test fails).
std::vector<std::unique_ptr<Store>> OpenStores(StoreBacking& backing, int count) {
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < count; ++i) {
    std::unique_ptr<Store> store = backing.Open();
    if (store == nullptr) break;
    stores.push_back(std::move(store));
  }
  return stores;
}

TEST_P(StoreConformanceTest, ClientRoundTripAndOrdering) {
  ClientRecord etl =
      MakeClient("id-etl", "etl-service", {"athena-api/query.read", "athena-api/query.admin"});
  etl.enabled = false;
  etl.managed = true;
  etl.previous_secret_hash = "old";
  etl.previous_secret_expires_at = 4242;
  etl.auth_method = "private_key_jwt";
  etl.jwks = R"({"keys":[]})";
  etl.jwks_uri = "https://keys.example/jwks.json";
  etl.dpop_bound_access_tokens = true;
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

// Migration 4: a tls_client_auth client's certificate field and value, and
// the certificate-bound-tokens flag, survive insert, update and listing.
TEST_P(StoreConformanceTest, MutualTlsClientFieldsRoundTrip) {
  ClientRecord mtls = MakeClient("id-mtls", "mtls-service", {"athena-api/query.read"});
  mtls.secret_hash.clear();
  mtls.auth_method = "tls_client_auth";
  mtls.tls_client_auth_field = "tls_client_auth_subject_dn";
  mtls.tls_client_auth_value = "CN=mtls-service,O=Example\\, Inc.,C=DE";
  mtls.tls_client_certificate_bound_access_tokens = true;
  ASSERT_OK(store_->InsertClient(mtls));
  auto found = store_->FindClient("id-mtls");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ(**found, mtls);

  mtls.auth_method = "self_signed_tls_client_auth";
  mtls.tls_client_auth_field.clear();
  mtls.tls_client_auth_value.clear();
  mtls.jwks = R"({"keys":[{"kty":"EC","x5c":["MIIB"]}]})";
  mtls.tls_client_certificate_bound_access_tokens = false;
  ASSERT_OK(store_->UpdateClient(mtls));
  auto list = store_->ListClients();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0], mtls);

  mtls.auth_method = "tls_client_auth";
  mtls.jwks.clear();
  mtls.tls_client_auth_field = "tls_client_auth_san_ip";
  mtls.tls_client_auth_value = "2001:db8::1";
  ASSERT_OK(store_->UpdateClient(mtls));
  auto by_name = store_->FindClientByName("mtls-service");
  ASSERT_TRUE(by_name.ok() && by_name->has_value());
  EXPECT_EQ(**by_name, mtls);

  ClientRecord bad = mtls;
  bad.tls_client_auth_field = "tls_client_auth_cn";
  EXPECT_STATUS(store_->UpdateClient(bad), StatusCode::kInvalidArgument,
                "unknown tls_client_auth field \"tls_client_auth_cn\"");
  bad = mtls;
  bad.tls_client_auth_value.clear();
  EXPECT_STATUS(store_->UpdateClient(bad), StatusCode::kInvalidArgument,
                "tls_client_auth field and value go together");
  bad.client_id = "id-other";
  bad.name = "other";
  EXPECT_STATUS(store_->InsertClient(bad), StatusCode::kInvalidArgument,
                "tls_client_auth field and value go together");
}

TEST_P(StoreConformanceTest, InsertClientRejectsDuplicatesAndEmptyFields) {
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

TEST_P(StoreConformanceTest, UpdateClientReplacesEverythingIncludingScopes) {
  ASSERT_OK(store_->InsertClient(MakeClient("id-1", "etl-service", {"a/x", "a/y"})));
  ClientRecord updated = MakeClient("id-1", "etl-renamed", {"a/z"});
  updated.secret_hash = "new-hash";
  updated.previous_secret_hash = "hash-of-id-1";
  updated.previous_secret_expires_at = 99;
  updated.updated_at = 3000;
  updated.dpop_bound_access_tokens = true;
  ASSERT_OK(store_->UpdateClient(updated));
  auto found = store_->FindClient("id-1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ(**found, updated);
  auto old_name = store_->FindClientByName("etl-service");
  ASSERT_TRUE(old_name.ok());
  EXPECT_FALSE(old_name->has_value());
}

TEST_P(StoreConformanceTest, UpdateClientRejectsMissingAndTakenName) {
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

TEST_P(StoreConformanceTest, DeleteClientRemovesItAndItsScopes) {
  ASSERT_OK(store_->InsertClient(MakeClient("id-1", "etl-service", {"a/x"})));
  ASSERT_OK(store_->DeleteClient("id-1"));
  EXPECT_STATUS(store_->DeleteClient("id-1"), StatusCode::kNotFound, "no client with id \"id-1\"");
  ASSERT_OK(store_->InsertClient(MakeClient("id-1", "etl-service")));
  auto found = store_->FindClient("id-1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_TRUE((*found)->scopes.empty()) << "scopes of the deleted client came back";
}

AccessKeyRecord MakeAccessKey(std::string id, std::string client_id, int64_t created_at = 500) {
  AccessKeyRecord key;
  key.access_key_id = std::move(id);
  key.client_id = std::move(client_id);
  key.secret_ciphertext = "sealed-" + key.access_key_id;
  key.created_at = created_at;
  return key;
}

TEST_P(StoreConformanceTest, AccessKeysRoundTripOrderedById) {
  ASSERT_OK(store_->InsertClient(MakeClient("id-1", "etl-service")));
  ASSERT_OK(store_->InsertClient(MakeClient("id-2", "reporting-service")));
  ASSERT_OK(store_->InsertAccessKey(MakeAccessKey("LGAKZZZ", "id-1", 10)));
  ASSERT_OK(store_->InsertAccessKey(MakeAccessKey("LGAKAAA", "id-2", 20)));
  ASSERT_OK(store_->InsertAccessKey(MakeAccessKey("LGAKMMM", "id-1", 30)));
  auto keys = store_->ListAccessKeys();
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  ASSERT_EQ(keys->size(), 3u);
  EXPECT_EQ((*keys)[0], MakeAccessKey("LGAKAAA", "id-2", 20));
  EXPECT_EQ((*keys)[1], MakeAccessKey("LGAKMMM", "id-1", 30));
  EXPECT_EQ((*keys)[2], MakeAccessKey("LGAKZZZ", "id-1", 10));
}

TEST_P(StoreConformanceTest, AccessKeyErrors) {
  ASSERT_OK(store_->InsertClient(MakeClient("id-1", "etl-service")));
  EXPECT_STATUS(store_->InsertAccessKey(MakeAccessKey("", "id-1")), StatusCode::kInvalidArgument,
                "access key id is empty");
  EXPECT_STATUS(store_->InsertAccessKey(MakeAccessKey("LGAK1", "")), StatusCode::kInvalidArgument,
                "client id is empty");
  AccessKeyRecord no_secret = MakeAccessKey("LGAK1", "id-1");
  no_secret.secret_ciphertext.clear();
  EXPECT_STATUS(store_->InsertAccessKey(no_secret), StatusCode::kInvalidArgument, "no secret");
  EXPECT_STATUS(store_->InsertAccessKey(MakeAccessKey("LGAK1", "id-9")), StatusCode::kNotFound,
                "no client with id \"id-9\"");
  ASSERT_OK(store_->InsertAccessKey(MakeAccessKey("LGAK1", "id-1")));
  EXPECT_STATUS(store_->InsertAccessKey(MakeAccessKey("LGAK1", "id-1")), StatusCode::kAlreadyExists,
                "access key \"LGAK1\" already exists");
  ASSERT_OK(store_->DeleteAccessKey("LGAK1"));
  EXPECT_STATUS(store_->DeleteAccessKey("LGAK1"), StatusCode::kNotFound, "no access key \"LGAK1\"");
  auto keys = store_->ListAccessKeys();
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->empty());
}

TEST_P(StoreConformanceTest, DeletingAClientDeletesItsAccessKeys) {
  ASSERT_OK(store_->InsertClient(MakeClient("id-1", "etl-service")));
  ASSERT_OK(store_->InsertClient(MakeClient("id-2", "reporting-service")));
  ASSERT_OK(store_->InsertAccessKey(MakeAccessKey("LGAK1", "id-1")));
  ASSERT_OK(store_->InsertAccessKey(MakeAccessKey("LGAK2", "id-2")));
  auto before = store_->ChangeCounter();
  ASSERT_TRUE(before.ok());
  ASSERT_OK(store_->DeleteClient("id-1"));
  auto keys = store_->ListAccessKeys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].access_key_id, "LGAK2");
  // A key deleted with its client is a change every node must see.
  EXPECT_NE(*store_->ChangeCounter(), *before);
  // The id is free again, and a re-created client does not get the old key back.
  ASSERT_OK(store_->InsertClient(MakeClient("id-1", "etl-service")));
  keys = store_->ListAccessKeys();
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 1u);
  ASSERT_OK(store_->InsertAccessKey(MakeAccessKey("LGAK1", "id-1")));
}

TEST_P(StoreConformanceTest, AccessKeyWritesInATransactionAreAllOrNothing) {
  ASSERT_OK(store_->InsertClient(MakeClient("id-1", "etl-service")));
  Status failed = store_->RunInTransaction([](Store& tx) -> Status {
    LG_RETURN_IF_ERROR(tx.InsertAccessKey(MakeAccessKey("LGAK1", "id-1")));
    return tx.InsertAccessKey(MakeAccessKey("LGAK1", "id-1"));
  });
  EXPECT_EQ(failed.code(), StatusCode::kAlreadyExists);
  auto keys = store_->ListAccessKeys();
  ASSERT_TRUE(keys.ok());
  EXPECT_TRUE(keys->empty()) << "the first insert of a failed transaction stayed";
}

TEST_P(StoreConformanceTest, SigningKeysNewestFirstAndRoundTrip) {
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

TEST_P(StoreConformanceTest, SigningKeyErrors) {
  ASSERT_OK(store_->InsertSigningKey(MakeKey("k1", 1)));
  EXPECT_STATUS(store_->InsertSigningKey(MakeKey("k1", 2)), StatusCode::kAlreadyExists,
                "signing key \"k1\" already exists");
  EXPECT_STATUS(store_->InsertSigningKey(MakeKey("", 2)), StatusCode::kInvalidArgument,
                "kid) is empty");
  EXPECT_STATUS(store_->UpdateSigningKey(MakeKey("k9", 2)), StatusCode::kNotFound,
                "no signing key \"k9\"");
  EXPECT_STATUS(store_->DeleteSigningKey("k9"), StatusCode::kNotFound, "no signing key \"k9\"");
}

TEST_P(StoreConformanceTest, RevocationsAreIdempotentAndExpire) {
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

TEST_P(StoreConformanceTest, ResourceServersUpsertReplacesScopes) {
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

TEST_P(StoreConformanceTest, PutResourceServerRejectsBadRecords) {
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

TEST_P(StoreConformanceTest, Settings) {
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

TEST_P(StoreConformanceTest, TransactionCommitsAllOrNothing) {
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

TEST_P(StoreConformanceTest, TransactionBodyThatThrowsWritesNothing) {
  Status status = store_->RunInTransaction([](Store& tx) -> Status {
    tx.InsertClient(MakeClient("id-1", "a")).IgnoreError();
    throw std::runtime_error("boom");
  });
  EXPECT_STATUS(status, StatusCode::kInternal, "transaction body threw: boom");
  EXPECT_FALSE(store_->FindClient("id-1")->has_value());
  // The store is still usable.
  ASSERT_OK(store_->InsertClient(MakeClient("id-1", "a")));
}

TEST_P(StoreConformanceTest, FailedCallInsideTransactionLeavesNoPartialEffect) {
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

TEST_P(StoreConformanceTest, TransactionIsNotReentrant) {
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

TEST_P(StoreConformanceTest, ChangeCounterMovesOnCommittedWritesOnly) {
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

TEST_P(StoreConformanceTest, ChangeCounterSeesWritesFromAnotherInstance) {
  if (!backing_->shared()) GTEST_SKIP() << "a private store has no other instance";
  auto a = backing_->Open();
  auto b = backing_->Open();
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

TEST_P(StoreConformanceTest, ConcurrentWritersAndReaders) {
  Store* store = store_.get();
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

// ---- the policy catalog ----

TEST_P(StoreConformanceTest, EmptyStoreHasNoPolicy) {
  auto latest = store_->LatestPolicy();
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_FALSE(latest->has_value());
}

TEST_P(StoreConformanceTest, PolicyVersionsCountUpAndLatestWins) {
  auto v1 = store_->SavePolicy("{\"roles\":[]}", "test");
  ASSERT_TRUE(v1.ok()) << v1.status().ToString();
  EXPECT_EQ(*v1, 1u);
  auto v2 = store_->SavePolicy("{\"roles\":[1]}", "test");
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(*v2, 2u);
  auto latest = store_->LatestPolicy();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->first, 2u);
  EXPECT_EQ((*latest)->second, "{\"roles\":[1]}");
}

TEST_P(StoreConformanceTest, EmptyPolicyDocumentIsRejected) {
  auto saved = store_->SavePolicy("", "test");
  EXPECT_STATUS(saved.status(), StatusCode::kInvalidArgument, "the policy document is empty");
  EXPECT_FALSE(store_->LatestPolicy()->has_value());
}

TEST_P(StoreConformanceTest, SavingAPolicyMovesTheChangeCounter) {
  auto before = store_->ChangeCounter();
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(store_->SavePolicy("{}", "test").ok());
  auto after = store_->ChangeCounter();
  ASSERT_TRUE(after.ok());
  EXPECT_NE(*before, *after);
}

TEST_P(StoreConformanceTest, KeepsOnlyTheNewestPolicyVersionsAndNeverReusesANumber) {
  for (int i = 1; i <= kPolicyVersionsKept + 3; ++i) {
    auto v = store_->SavePolicy("{\"n\":" + std::to_string(i) + "}", "test");
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(*v, static_cast<uint64_t>(i));
  }
  auto latest = store_->LatestPolicy();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->second, "{\"n\":" + std::to_string(kPolicyVersionsKept + 3) + "}");
}

TEST_P(StoreConformanceTest, FailedPolicySaveInsideATransactionLeavesNothing) {
  ASSERT_TRUE(store_->SavePolicy("{\"v\":1}", "test").ok());
  Status status = store_->RunInTransaction([](Store& tx) -> Status {
    auto v = tx.SavePolicy("{\"v\":2}", "test");
    if (!v.ok()) return v.status();
    return UnavailableError("boom");
  });
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  auto latest = store_->LatestPolicy();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->first, 1u);
  EXPECT_EQ((*latest)->second, "{\"v\":1}");
}

// Several store objects (separate processes or nodes) saving at once each get
// their own version numbers: SavePolicy's read-modify-write is serialised.
TEST_P(StoreConformanceTest, ConcurrentPolicySaversGetDistinctVersions) {
  if (!backing_->shared()) GTEST_SKIP() << "a private store has no other instance";
  constexpr int kThreads = 4, kEach = 15;
  std::vector<std::unique_ptr<Store>> stores = OpenStores(*backing_, kThreads);
  ASSERT_EQ(stores.size(), static_cast<size_t>(kThreads));
  std::vector<std::vector<uint64_t>> got(kThreads);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Store& store = *stores[static_cast<size_t>(t)];
      while (!go.load()) std::this_thread::yield();  // start together: contend
      for (int i = 0; i < kEach; ++i) {
        auto v = store.SavePolicy("{}", "thread");
        EXPECT_TRUE(v.ok()) << v.status().ToString();
        if (v.ok()) got[static_cast<size_t>(t)].push_back(*v);
      }
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  std::vector<uint64_t> all;
  for (const auto& g : got) all.insert(all.end(), g.begin(), g.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], i + 1);
}

// Two store objects rotating the signing key at once, each in one
// transaction that retires the current key and inserts a new one (what
// oauth::KeyManager::Rotate does): afterwards exactly one key is current.
TEST_P(StoreConformanceTest, ConcurrentKeyRotationsLeaveOneCurrentKey) {
  if (!backing_->shared()) GTEST_SKIP() << "a private store has no other instance";
  ASSERT_OK(store_->InsertSigningKey(MakeKey("k0", 1)));
  constexpr int kThreads = 4, kEach = 10;
  std::vector<std::unique_ptr<Store>> stores = OpenStores(*backing_, kThreads);
  ASSERT_EQ(stores.size(), static_cast<size_t>(kThreads));
  std::atomic<int> failures{0};
  std::atomic<int> several_current{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Store& store = *stores[static_cast<size_t>(t)];
      while (!go.load()) std::this_thread::yield();  // start together: contend
      for (int i = 0; i < kEach; ++i) {
        const std::string kid = "k-" + std::to_string(t) + "-" + std::to_string(i);
        Status s = store.RunInTransaction([&](Store& tx) -> Status {
          LG_ASSIGN_OR_RETURN(auto keys, tx.ListSigningKeys());
          // Every rotation must find exactly the one key the previous one
          // made current (a later rotation would hide an interleaving by
          // retiring both).
          int current_seen = 0;
          for (const auto& key : keys) current_seen += key.retired_at == 0 ? 1 : 0;
          if (current_seen != 1) ++several_current;
          // Give another writer every chance to interleave here.
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
          for (auto& key : keys) {
            if (key.retired_at != 0) continue;
            key.retired_at = 10;
            key.publish_until = 20;
            LG_RETURN_IF_ERROR(tx.UpdateSigningKey(key));
          }
          return tx.InsertSigningKey(MakeKey(kid, 5));
        });
        if (!s.ok()) {
          ADD_FAILURE() << s.ToString();
          ++failures;
        }
      }
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(several_current.load(), 0) << "a rotation saw several current keys";
  auto keys = store_->ListSigningKeys();
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), static_cast<size_t>(1 + kThreads * kEach));
  int current = 0;
  for (const auto& key : *keys) current += key.retired_at == 0 ? 1 : 0;
  EXPECT_EQ(current, 1) << "rotations interleaved and left several current keys";
}

}  // namespace
TEST_P(StoreConformanceTest, RememberOnceRefusesALiveKeyAndRevivesAnExpiredOne) {
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

TEST_P(StoreConformanceTest, RememberOnceIsNotAChangeAndStaysOutOfTransactions) {
  auto before = store_->ChangeCounter();
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(*store_->RememberOnce("k", 100, 1));
  EXPECT_EQ(*store_->ChangeCounter(), *before);
  Status in_tx =
      store_->RunInTransaction([](Store& tx) { return tx.RememberOnce("k2", 100, 1).status(); });
  EXPECT_STATUS(in_tx, StatusCode::kFailedPrecondition, "not available inside RunInTransaction");
}

}  // namespace lakegate::store
