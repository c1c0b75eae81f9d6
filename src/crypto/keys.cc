#include "crypto/keys.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include <array>
#include <atomic>
#include <climits>
#include <cstring>

#include "crypto/ecdsa_der.h"

namespace lakegate::crypto {
namespace {

// ---- OpenSSL RAII ---------------------------------------------------------

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, ParamFree>;

constexpr size_t kP256Bytes = 32;
constexpr size_t kEd25519Bytes = 32;
constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;
constexpr size_t kMaxPemBytes = 64 * 1024;

// OpenSSL leaves the reason of a failure on a per-thread error queue; drop it
// so that it does not surface later in unrelated code.
Status Fail(StatusCode code, std::string message) {
  ERR_clear_error();
  return Status(code, std::move(message));
}

// Ids that tell keys apart in the per-thread context caches. Never reused, so a
// freed key whose address is recycled cannot hit another key's cached context.
std::atomic<uint64_t> g_next_key_id{1};

BioPtr MemBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BnToBytes(const BIGNUM* bn) {
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

BnPtr GetBnParam(const EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1) return nullptr;
  return BnPtr(bn);
}

// The JWS algorithm a key can serve (RS256 for RSA: PS256 is chosen by the
// caller), or nullopt for any other key type.
std::optional<Algorithm> AlgorithmOf(const EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "ED25519")) return Algorithm::kEdDSA;
  if (EVP_PKEY_is_a(pkey, "RSA")) return Algorithm::kRS256;  // not RSA-PSS keys
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char group[64];
    size_t len = 0;
    if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &len) != 1) return std::nullopt;
    std::string_view name(group, len);
    if (name == "prime256v1" || name == "P-256") return Algorithm::kES256;
  }
  return std::nullopt;
}

Status CheckRsaSize(const EVP_PKEY* pkey) {
  int bits = EVP_PKEY_get_bits(pkey);
  if (bits < kMinRsaBits || bits > kMaxRsaBits) {
    return Fail(StatusCode::kInvalidArgument, "RSA key must have 2048 to 8192 bits");
  }
  return Status::Ok();
}

// Reads the public components of a (public or private) key of `algorithm`.
Result<PublicKeyParams> ExtractParams(const EVP_PKEY* pkey, Algorithm algorithm) {
  PublicKeyParams params;
  params.algorithm = algorithm;
  switch (algorithm) {
    case Algorithm::kES256: {
      BnPtr x = GetBnParam(pkey, OSSL_PKEY_PARAM_EC_PUB_X);
      BnPtr y = GetBnParam(pkey, OSSL_PKEY_PARAM_EC_PUB_Y);
      if (!x || !y) return Fail(StatusCode::kInternal, "cannot read EC public key");
      params.x.assign(kP256Bytes, '\0');
      params.y.assign(kP256Bytes, '\0');
      if (BN_bn2binpad(x.get(), reinterpret_cast<unsigned char*>(params.x.data()), kP256Bytes) <
              0 ||
          BN_bn2binpad(y.get(), reinterpret_cast<unsigned char*>(params.y.data()), kP256Bytes) <
              0) {
        return Fail(StatusCode::kInternal, "cannot read EC public key");
      }
      return params;
    }
    case Algorithm::kEdDSA: {
      params.x.assign(kEd25519Bytes, '\0');
      size_t len = params.x.size();
      if (EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(params.x.data()),
                                      &len) != 1 ||
          len != kEd25519Bytes) {
        return Fail(StatusCode::kInternal, "cannot read Ed25519 public key");
      }
      return params;
    }
    case Algorithm::kRS256:
    case Algorithm::kPS256: {
      BnPtr n = GetBnParam(pkey, OSSL_PKEY_PARAM_RSA_N);
      BnPtr e = GetBnParam(pkey, OSSL_PKEY_PARAM_RSA_E);
      if (!n || !e) return Fail(StatusCode::kInternal, "cannot read RSA public key");
      params.n = BnToBytes(n.get());
      params.e = BnToBytes(e.get());
      return params;
    }
  }
  return Fail(StatusCode::kInternal, "unknown algorithm");
}

// Security checks on a public key that arrives from outside (JWKS, PEM): an
// invalid EC point enables invalid-curve attacks, a tiny or even RSA modulus
// or exponent makes signatures forgeable, a huge one makes verification slow.
Status ValidatePublic(EVP_PKEY* pkey, Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kES256: {
      PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
      // Full check: on the curve, not the identity, in the prime-order group.
      if (!ctx || EVP_PKEY_public_check(ctx.get()) != 1) {
        return Fail(StatusCode::kInvalidArgument, "invalid EC public key");
      }
      return Status::Ok();
    }
    case Algorithm::kEdDSA:
      return Status::Ok();
    case Algorithm::kRS256:
    case Algorithm::kPS256: {
      LG_RETURN_IF_ERROR(CheckRsaSize(pkey));
      BnPtr n = GetBnParam(pkey, OSSL_PKEY_PARAM_RSA_N);
      BnPtr e = GetBnParam(pkey, OSSL_PKEY_PARAM_RSA_E);
      if (!n || !e) return Fail(StatusCode::kInvalidArgument, "invalid RSA public key");
      if (!BN_is_odd(n.get()) || !BN_is_odd(e.get()) || BN_num_bits(e.get()) < 2 ||
          BN_num_bits(e.get()) > 64) {
        return Fail(StatusCode::kInvalidArgument, "invalid RSA public key");
      }
      return Status::Ok();
    }
  }
  return Fail(StatusCode::kInvalidArgument, "unknown algorithm");
}

PkeyPtr FromData(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  EVP_PKEY* pkey = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) return nullptr;
  return PkeyPtr(pkey);
}

// ---- Per-thread contexts ----------------------------------------------------

enum class Op { kSign, kVerify };

// A few EVP_PKEY_CTX per thread, set up once per key for sign or verify of a
// SHA-256 digest, so the hot path skips context creation and algorithm fetch.
// Not shared between threads, so no locking. Each cached context holds a
// reference to its key, which therefore lives until evicted or thread exit.
class ContextCache {
 public:
  ContextCache() = default;
  ContextCache(const ContextCache&) = delete;
  ContextCache& operator=(const ContextCache&) = delete;
  ~ContextCache() {
    for (Entry& e : entries_) EVP_PKEY_CTX_free(e.ctx);
  }

  // The context for key `id`, creating it on a miss; nullptr on failure.
  EVP_PKEY_CTX* Get(uint64_t id, EVP_PKEY* pkey, Algorithm algorithm, Op op) noexcept {
    for (Entry& e : entries_) {
      if (e.id == id && e.ctx != nullptr) return e.ctx;
    }
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr);
    if (ctx == nullptr) return nullptr;
    bool ok = (op == Op::kSign ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx)) == 1;
    if (ok && algorithm == Algorithm::kRS256) {
      ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
    }
    // Also makes OpenSSL check that the input is a 32-byte digest.
    ok = ok && EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1;
    if (ok && algorithm == Algorithm::kPS256) {
      // RFC 7518 §3.5: MGF1 with SHA-256 and a salt as long as the digest.
      ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) == 1;
    }
    if (!ok) {
      EVP_PKEY_CTX_free(ctx);
      return nullptr;
    }
    Entry& victim = entries_[next_];
    next_ = (next_ + 1) % entries_.size();
    EVP_PKEY_CTX_free(victim.ctx);
    victim = Entry{id, ctx};
    return ctx;
  }

 private:
  struct Entry {
    uint64_t id = 0;
    EVP_PKEY_CTX* ctx = nullptr;
  };
  std::array<Entry, 4> entries_{};
  size_t next_ = 0;
};

thread_local ContextCache t_sign_contexts;
thread_local ContextCache t_verify_contexts;

}  // namespace

// ---- Algorithm ----------------------------------------------------------------

std::string_view AlgorithmName(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::kES256:
      return "ES256";
    case Algorithm::kEdDSA:
      return "EdDSA";
    case Algorithm::kRS256:
      return "RS256";
    case Algorithm::kPS256:
      return "PS256";
  }
  return "unknown";
}

std::optional<Algorithm> ParseAlgorithm(std::string_view name) {
  if (name == "ES256") return Algorithm::kES256;
  if (name == "EdDSA") return Algorithm::kEdDSA;
  if (name == "RS256") return Algorithm::kRS256;
  if (name == "PS256") return Algorithm::kPS256;
  return std::nullopt;
}

// ---- PublicKey ----------------------------------------------------------------

struct PublicKey::Impl {
  PkeyPtr pkey;
  PublicKeyParams params;
  uint64_t id = 0;
};

namespace {

// Validates `pkey` (any origin) and wraps it. An RSA key serves `rsa_algorithm`.
Result<std::shared_ptr<const PublicKey::Impl>> MakePublicImpl(
    PkeyPtr pkey, Algorithm rsa_algorithm = Algorithm::kRS256) {
  std::optional<Algorithm> algorithm = AlgorithmOf(pkey.get());
  if (!algorithm) {
    return Fail(StatusCode::kInvalidArgument, "unsupported key type (want P-256, Ed25519 or RSA)");
  }
  if (IsRsa(*algorithm) && IsRsa(rsa_algorithm)) algorithm = rsa_algorithm;
  LG_RETURN_IF_ERROR(ValidatePublic(pkey.get(), *algorithm));
  LG_ASSIGN_OR_RETURN(PublicKeyParams params, ExtractParams(pkey.get(), *algorithm));
  auto impl = std::make_shared<PublicKey::Impl>();
  impl->pkey = std::move(pkey);
  impl->params = std::move(params);
  impl->id = g_next_key_id.fetch_add(1, std::memory_order_relaxed);
  return std::shared_ptr<const PublicKey::Impl>(std::move(impl));
}

Result<PkeyPtr> PkeyFromParams(const PublicKeyParams& p) {
  switch (p.algorithm) {
    case Algorithm::kES256: {
      if (p.x.size() != kP256Bytes || p.y.size() != kP256Bytes || !p.n.empty() || !p.e.empty()) {
        return Fail(StatusCode::kInvalidArgument, "EC P-256 key needs 32-byte x and y");
      }
      unsigned char point[1 + 2 * kP256Bytes];
      point[0] = 0x04;  // uncompressed
      std::memcpy(point + 1, p.x.data(), kP256Bytes);
      std::memcpy(point + 1 + kP256Bytes, p.y.data(), kP256Bytes);
      ParamBldPtr bld(OSSL_PARAM_BLD_new());
      if (!bld ||
          OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
              1 ||
          OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point,
                                           sizeof(point)) != 1) {
        return Fail(StatusCode::kInternal, "out of memory");
      }
      PkeyPtr pkey = FromData("EC", bld.get());
      if (!pkey) return Fail(StatusCode::kInvalidArgument, "invalid EC public key");
      return pkey;
    }
    case Algorithm::kEdDSA: {
      if (p.x.size() != kEd25519Bytes || !p.y.empty() || !p.n.empty() || !p.e.empty()) {
        return Fail(StatusCode::kInvalidArgument, "Ed25519 key needs a 32-byte x");
      }
      PkeyPtr pkey(EVP_PKEY_new_raw_public_key_ex(
          nullptr, "ED25519", nullptr, reinterpret_cast<const unsigned char*>(p.x.data()),
          p.x.size()));
      if (!pkey) return Fail(StatusCode::kInvalidArgument, "invalid Ed25519 public key");
      return pkey;
    }
    case Algorithm::kRS256:
    case Algorithm::kPS256: {
      // Upper bounds before any big-number work: 8192 bits (+ a stray zero
      // byte) for n, 64 bits for e.
      if (p.n.empty() || p.e.empty() || p.n.size() > kMaxRsaBits / 8 + 1 || p.e.size() > 8 ||
          !p.x.empty() || !p.y.empty()) {
        return Fail(StatusCode::kInvalidArgument, "invalid RSA public key");
      }
      BnPtr n(BN_bin2bn(reinterpret_cast<const unsigned char*>(p.n.data()),
                        static_cast<int>(p.n.size()), nullptr));
      BnPtr e(BN_bin2bn(reinterpret_cast<const unsigned char*>(p.e.data()),
                        static_cast<int>(p.e.size()), nullptr));
      ParamBldPtr bld(OSSL_PARAM_BLD_new());
      if (!n || !e || !bld ||
          OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
          OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
        return Fail(StatusCode::kInternal, "out of memory");
      }
      PkeyPtr pkey = FromData("RSA", bld.get());
      if (!pkey) return Fail(StatusCode::kInvalidArgument, "invalid RSA public key");
      return pkey;
    }
  }
  return Fail(StatusCode::kInvalidArgument, "unknown algorithm");
}

}  // namespace

Result<PublicKey> PublicKey::FromParams(const PublicKeyParams& params) {
  LG_ASSIGN_OR_RETURN(PkeyPtr pkey, PkeyFromParams(params));
  LG_ASSIGN_OR_RETURN(auto impl, MakePublicImpl(std::move(pkey), params.algorithm));
  if (impl->params.algorithm != params.algorithm) {
    return Fail(StatusCode::kInvalidArgument, "key type does not match algorithm");
  }
  return PublicKey(std::move(impl));
}

Result<PublicKey> PublicKey::FromPem(std::string_view spki_pem) {
  if (spki_pem.size() > kMaxPemBytes) return Fail(StatusCode::kInvalidArgument, "PEM too large");
  BioPtr bio = MemBio(spki_pem);
  if (!bio) return Fail(StatusCode::kInternal, "out of memory");
  PkeyPtr pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!pkey) return Fail(StatusCode::kInvalidArgument, "cannot parse public key PEM");
  LG_ASSIGN_OR_RETURN(auto impl, MakePublicImpl(std::move(pkey)));
  return PublicKey(std::move(impl));
}

PublicKeyParams PublicKey::Params() const { return impl_->params; }

Algorithm PublicKey::algorithm() const { return impl_->params.algorithm; }

bool operator==(const PublicKey& a, const PublicKey& b) {
  return a.impl_ == b.impl_ || a.impl_->params == b.impl_->params;
}

bool PublicKey::Verify(std::string_view signing_input, std::string_view signature) const noexcept {
  const Impl& k = *impl_;
  bool ok = false;
  switch (k.params.algorithm) {
    case Algorithm::kES256: {
      // JWS carries raw r||s; DER here would be a format confusion.
      if (signature.size() != 2 * kP256Bytes) return false;
      unsigned char der[MaxEcdsaDerSize(kP256Bytes)];
      size_t der_len = EcdsaRawToDer(signature, kP256Bytes, der);
      if (der_len == 0) return false;
      unsigned char digest[SHA256_DIGEST_LENGTH];
      SHA256(reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
             digest);
      EVP_PKEY_CTX* ctx = t_verify_contexts.Get(k.id, k.pkey.get(), Algorithm::kES256, Op::kVerify);
      ok = ctx != nullptr && EVP_PKEY_verify(ctx, der, der_len, digest, sizeof(digest)) == 1;
      break;
    }
    case Algorithm::kRS256:
    case Algorithm::kPS256: {
      if (signature.size() != static_cast<size_t>(EVP_PKEY_get_size(k.pkey.get()))) return false;
      unsigned char digest[SHA256_DIGEST_LENGTH];
      SHA256(reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
             digest);
      EVP_PKEY_CTX* ctx =
          t_verify_contexts.Get(k.id, k.pkey.get(), k.params.algorithm, Op::kVerify);
      ok = ctx != nullptr &&
           EVP_PKEY_verify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                           signature.size(), digest, sizeof(digest)) == 1;
      break;
    }
    case Algorithm::kEdDSA: {
      if (signature.size() != 64) return false;
      MdCtxPtr md(EVP_MD_CTX_new());
      ok = md &&
           EVP_DigestVerifyInit_ex(md.get(), nullptr, nullptr, nullptr, nullptr, k.pkey.get(),
                                   nullptr) == 1 &&
           EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(),
                            reinterpret_cast<const unsigned char*>(signing_input.data()),
                            signing_input.size()) == 1;
      break;
    }
  }
  if (!ok) ERR_clear_error();
  return ok;
}

std::string PublicKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), impl_->pkey.get()) != 1) {
    ERR_clear_error();
    return std::string();
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

// ---- PrivateKey ---------------------------------------------------------------

struct PrivateKey::Impl {
  PkeyPtr pkey;
  Algorithm algorithm = Algorithm::kES256;
  uint64_t id = 0;
  std::optional<PublicKey> public_key;  // always set after construction
};

namespace {

// Never prompt for a passphrase: an encrypted key simply fails to load.
int NoPassphrase(char*, int, int, void*) { return -1; }

Result<std::shared_ptr<const PrivateKey::Impl>> MakePrivateImpl(PkeyPtr pkey, Algorithm algorithm) {
  std::optional<Algorithm> actual = AlgorithmOf(pkey.get());
  if (!actual || (*actual != algorithm && !(IsRsa(*actual) && IsRsa(algorithm)))) {
    return Fail(StatusCode::kInvalidArgument, "key type does not match algorithm");
  }
  if (IsRsa(algorithm)) LG_RETURN_IF_ERROR(CheckRsaSize(pkey.get()));
  LG_ASSIGN_OR_RETURN(PublicKeyParams params, ExtractParams(pkey.get(), algorithm));
  LG_ASSIGN_OR_RETURN(PublicKey public_key, PublicKey::FromParams(params));
  auto impl = std::make_shared<PrivateKey::Impl>();
  impl->pkey = std::move(pkey);
  impl->algorithm = algorithm;
  impl->id = g_next_key_id.fetch_add(1, std::memory_order_relaxed);
  impl->public_key = std::move(public_key);
  return std::shared_ptr<const PrivateKey::Impl>(std::move(impl));
}

}  // namespace

Result<PrivateKey> PrivateKey::Generate(Algorithm algorithm) {
  EVP_PKEY* raw = nullptr;
  switch (algorithm) {
    case Algorithm::kES256:
      raw = EVP_EC_gen("P-256");
      break;
    case Algorithm::kEdDSA:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
    case Algorithm::kRS256:
    case Algorithm::kPS256:
      raw = EVP_RSA_gen(2048);
      break;
  }
  PkeyPtr pkey(raw);
  if (!pkey) return Fail(StatusCode::kInternal, "key generation failed");
  LG_ASSIGN_OR_RETURN(auto impl, MakePrivateImpl(std::move(pkey), algorithm));
  return PrivateKey(std::move(impl));
}

Result<PrivateKey> PrivateKey::FromPem(Algorithm algorithm, std::string_view pkcs8_pem) {
  if (pkcs8_pem.size() > kMaxPemBytes) return Fail(StatusCode::kInvalidArgument, "PEM too large");
  BioPtr bio = MemBio(pkcs8_pem);
  if (!bio) return Fail(StatusCode::kInternal, "out of memory");
  PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!pkey) return Fail(StatusCode::kInvalidArgument, "cannot parse private key PEM");
  LG_ASSIGN_OR_RETURN(auto impl, MakePrivateImpl(std::move(pkey), algorithm));
  return PrivateKey(std::move(impl));
}

SecretString PrivateKey::ToPem() const {
  // secmem BIOs wipe their buffer when freed.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), impl_->pkey.get(), nullptr, nullptr, 0,
                                            nullptr, nullptr) != 1) {
    ERR_clear_error();
    return SecretString();
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return SecretString(std::string(data, static_cast<size_t>(len)));
}

Algorithm PrivateKey::algorithm() const { return impl_->algorithm; }

PublicKey PrivateKey::Public() const { return *impl_->public_key; }

Result<std::string> PrivateKey::Sign(std::string_view signing_input) const {
  const Impl& k = *impl_;
  const auto* input = reinterpret_cast<const unsigned char*>(signing_input.data());
  switch (k.algorithm) {
    case Algorithm::kES256: {
      unsigned char digest[SHA256_DIGEST_LENGTH];
      SHA256(input, signing_input.size(), digest);
      EVP_PKEY_CTX* ctx = t_sign_contexts.Get(k.id, k.pkey.get(), Algorithm::kES256, Op::kSign);
      unsigned char der[MaxEcdsaDerSize(kP256Bytes)];
      size_t der_len = sizeof(der);
      if (ctx == nullptr || EVP_PKEY_sign(ctx, der, &der_len, digest, sizeof(digest)) != 1) {
        return Fail(StatusCode::kInternal, "ES256 signing failed");
      }
      std::string sig(2 * kP256Bytes, '\0');
      if (!EcdsaDerToRaw(std::string_view(reinterpret_cast<const char*>(der), der_len), kP256Bytes,
                         reinterpret_cast<uint8_t*>(sig.data()))) {
        return Fail(StatusCode::kInternal, "ES256 signing produced a malformed signature");
      }
      return sig;
    }
    case Algorithm::kRS256:
    case Algorithm::kPS256: {
      unsigned char digest[SHA256_DIGEST_LENGTH];
      SHA256(input, signing_input.size(), digest);
      EVP_PKEY_CTX* ctx = t_sign_contexts.Get(k.id, k.pkey.get(), k.algorithm, Op::kSign);
      std::string sig(static_cast<size_t>(EVP_PKEY_get_size(k.pkey.get())), '\0');
      size_t len = sig.size();
      if (ctx == nullptr || EVP_PKEY_sign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                                          digest, sizeof(digest)) != 1) {
        return Fail(StatusCode::kInternal, "RSA signing failed");
      }
      sig.resize(len);
      return sig;
    }
    case Algorithm::kEdDSA: {
      // Ed25519 hashes internally (no prehash), so it takes the one-shot
      // DigestSign API; the context cannot be reused across calls.
      MdCtxPtr md(EVP_MD_CTX_new());
      std::string sig(64, '\0');
      size_t len = sig.size();
      if (!md ||
          EVP_DigestSignInit_ex(md.get(), nullptr, nullptr, nullptr, nullptr, k.pkey.get(),
                                nullptr) != 1 ||
          EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, input,
                         signing_input.size()) != 1 ||
          len != sig.size()) {
        return Fail(StatusCode::kInternal, "EdDSA signing failed");
      }
      return sig;
    }
  }
  return Fail(StatusCode::kInternal, "unknown algorithm");
}

}  // namespace lakegate::crypto
