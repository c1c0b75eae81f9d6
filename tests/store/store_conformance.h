// The Store conformance suite: every behaviour store.h promises, as
// value-parameterised tests that each backend instantiates with its own
// StoreKind (store_test.cc: SQLite file and in-memory; postgres_store_test.cc:
// PostgreSQL), so that every backend keeps exactly the same semantics.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "common/secret_string.h"
#include "store/store.h"

namespace lakegate::store {

// Where a store under test keeps its data (a temporary file, a fresh
// database); removed with the object.
class StoreBacking {
 public:
  virtual ~StoreBacking() = default;
  // A new Store object on this backing: every call sees the same data when
  // shared(). Null (after a test failure) when it cannot be opened.
  virtual std::unique_ptr<Store> Open() = 0;
  // False for a private store whose Open() gives independent stores.
  virtual bool shared() const { return true; }
};

struct StoreKind {
  std::string name;
  // A fresh, empty backing; null when the backend is not available (no
  // server configured): the tests skip.
  std::function<std::unique_ptr<StoreBacking>()> make;

  // Test names show the kind, not its bytes.
  friend void PrintTo(const StoreKind& kind, std::ostream* os) { *os << kind.name; }
};

class StoreConformanceTest : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    backing_ = GetParam().make();
    if (backing_ == nullptr) GTEST_SKIP() << GetParam().name << " is not available here";
    store_ = backing_->Open();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    backing_.reset();
  }

  std::unique_ptr<StoreBacking> backing_;
  std::unique_ptr<Store> store_;
};

inline ClientRecord MakeClient(std::string id, std::string name,
                               std::vector<std::string> scopes = {}) {
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

inline SigningKeyRecord MakeKey(std::string kid, int64_t created_at) {
  SigningKeyRecord k;
  k.kid = std::move(kid);
  k.algorithm = "ES256";
  k.private_pem =
      SecretString("-----BEGIN PRIVATE KEY-----\n" + k.kid + "\n-----END PRIVATE KEY-----\n");
  k.created_at = created_at;
  return k;
}

}  // namespace lakegate::store
