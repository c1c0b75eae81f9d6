#include "crypto/x509.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "common/base64url.h"
#include "common/strings.h"
#include "crypto/hash.h"

namespace lakegate::crypto {
namespace {

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct StoreFree {
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
};
struct StackFree {
  void operator()(STACK_OF(X509) * p) const { sk_X509_pop_free(p, X509_free); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};
struct ObjFree {
  void operator()(ASN1_OBJECT* p) const { ASN1_OBJECT_free(p); }
};
struct ExtFree {
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};

using X509Ptr = std::unique_ptr<X509, X509Free>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using StorePtr = std::unique_ptr<X509_STORE, StoreFree>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, StoreCtxFree>;
using StackPtr = std::unique_ptr<STACK_OF(X509), StackFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, GeneralNamesFree>;
using ObjPtr = std::unique_ptr<ASN1_OBJECT, ObjFree>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, ExtFree>;

constexpr size_t kMaxCertificateBytes = 64 * 1024;
constexpr size_t kMaxPemBytes = 1 << 20;
constexpr size_t kMaxChainLength = 10;

std::string OpenSslReason() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

// ---- RFC 4514 distinguished names -----------------------------------------

struct Ava {
  std::string type;   // as written
  std::string value;  // unescaped
};
using Rdn = std::vector<Ava>;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Parses an RFC 4514 string into its RDNs, in the order written (the
// reverse of the certificate's encoding order). nullopt when malformed or
// when a value is given as #hexstring (BER, which we do not decode).
std::optional<std::vector<Rdn>> ParseDn(std::string_view text) {
  std::vector<Rdn> rdns;
  if (TrimSpaces(text).empty() || text.size() > 4096) return std::nullopt;
  Rdn rdn;
  size_t i = 0;
  while (i <= text.size()) {
    // attributeType
    size_t eq = text.find('=', i);
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view type = TrimSpaces(text.substr(i, eq - i));
    if (type.empty()) return std::nullopt;
    i = eq + 1;
    while (i < text.size() && text[i] == ' ') ++i;
    if (i < text.size() && text[i] == '#') return std::nullopt;
    std::string value;
    size_t trailing_spaces = 0;  // unescaped spaces at the end are not part of it
    char separator = '\0';
    while (i < text.size()) {
      char c = text[i];
      if (c == ',' || c == '+' || c == ';') {
        separator = c;
        ++i;
        break;
      }
      if (c == '\\') {
        if (i + 1 >= text.size()) return std::nullopt;
        int hi = HexValue(text[i + 1]);
        int lo = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
        if (hi >= 0 && lo >= 0) {
          value += static_cast<char>(hi * 16 + lo);
          i += 3;
        } else {
          value += text[i + 1];
          i += 2;
        }
        trailing_spaces = 0;
        continue;
      }
      if (c == '"') return std::nullopt;  // RFC 2253 quoting is not RFC 4514
      value += c;
      trailing_spaces = c == ' ' ? trailing_spaces + 1 : 0;
      ++i;
    }
    value.resize(value.size() - trailing_spaces);
    rdn.push_back(Ava{std::string(type), std::move(value)});
    if (separator != '+') {
      rdns.push_back(std::move(rdn));
      rdn.clear();
    }
    if (separator == '\0') break;
  }
  if (!rdn.empty()) return std::nullopt;
  return rdns;
}

ObjPtr TypeObject(const std::string& type) {
  ObjPtr obj(OBJ_txt2obj(type.c_str(), 0));
  if (!obj) {
    std::string upper = type;
    for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    obj.reset(OBJ_txt2obj(upper.c_str(), 0));
  }
  ERR_clear_error();
  return obj;
}

std::string EntryValue(const X509_NAME_ENTRY* entry) {
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
  if (n < 0) {
    ERR_clear_error();
    return {};
  }
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

bool ValuesMatch(std::string_view a, std::string_view b) {
  return EqualsIgnoreCase(TrimSpaces(a), TrimSpaces(b));
}

std::string IpText(const ASN1_OCTET_STRING* ip) {
  const int len = ASN1_STRING_length(ip);
  const unsigned char* data = ASN1_STRING_get0_data(ip);
  char buf[INET6_ADDRSTRLEN] = {};
  if (len == 4 && inet_ntop(AF_INET, data, buf, sizeof buf)) return buf;
  if (len == 16 && inet_ntop(AF_INET6, data, buf, sizeof buf)) return buf;
  return {};
}

PkeyPtr GenerateP256() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  return key;
}

Result<std::string> KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return InternalError("crypto: cannot encode a private key: " + OpenSslReason());
  return BioText(bio.get());
}

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return InvalidArgumentError("crypto: cannot add certificate extension " + value + ": " +
                                OpenSslReason());
  }
  return Status::Ok();
}

// A new certificate for `key` named CN=`common_name`, valid from an hour ago
// (clock skew) for `days`, with a random 128-bit serial.
Result<X509Ptr> NewCertificate(EVP_PKEY* key, std::string_view common_name, int days) {
  X509Ptr cert(X509_new());
  if (!cert) return InternalError("crypto: out of memory");
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return InternalError("crypto: no randomness");
  serial[0] &= 0x7f;  // positive
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(BN_bin2bn(serial, sizeof serial, nullptr),
                                                 &BN_free);
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) ||
      X509_set_version(cert.get(), 2) != 1 ||
      !X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) ||
      !X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400) ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return InternalError("crypto: cannot build a certificate: " + OpenSslReason());
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string cn(common_name);
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1) {
    return InternalError("crypto: cannot name a certificate: " + OpenSslReason());
  }
  return cert;
}

Result<std::string> CertificatePem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1)
    return InternalError("crypto: cannot encode a certificate: " + OpenSslReason());
  return BioText(bio.get());
}

}  // namespace

// ---- Certificate ---------------------------------------------------------------

struct Certificate::Impl {
  X509Ptr x509;
  std::string der;
};

Certificate::Certificate(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Certificate::~Certificate() = default;

Result<Certificate> Certificate::FromDer(std::string_view der) {
  if (der.empty() || der.size() > kMaxCertificateBytes) {
    return InvalidArgumentError("not a DER certificate (empty or larger than 64 KiB)");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr x509(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x509 || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    ERR_clear_error();
    return InvalidArgumentError("not a DER certificate");
  }
  auto impl = std::make_shared<Impl>();
  impl->x509 = std::move(x509);
  impl->der = std::string(der);
  return Certificate(std::move(impl));
}

Result<std::vector<Certificate>> Certificate::ListFromPem(std::string_view pem) {
  if (pem.size() > kMaxPemBytes) return InvalidArgumentError("PEM text larger than 1 MiB");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return InternalError("crypto: out of memory");
  std::vector<Certificate> out;
  while (true) {
    X509Ptr x509(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!x509) break;
    unsigned char* der = nullptr;
    int n = i2d_X509(x509.get(), &der);
    if (n <= 0) break;
    auto impl = std::make_shared<Impl>();
    impl->der.assign(reinterpret_cast<char*>(der), static_cast<size_t>(n));
    OPENSSL_free(der);
    impl->x509 = std::move(x509);
    out.push_back(Certificate(std::move(impl)));
  }
  unsigned long err = ERR_peek_last_error();
  ERR_clear_error();
  // Reading stops with "no start line" after the last certificate; anything
  // else is a broken one.
  if (err != 0 &&
      !(ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE)) {
    return InvalidArgumentError("a PEM certificate is malformed");
  }
  if (out.empty()) return InvalidArgumentError("no PEM certificate (BEGIN CERTIFICATE) found");
  return out;
}

const std::string& Certificate::der() const { return impl_->der; }

std::string Certificate::Thumbprint() const { return Base64UrlEncode(Sha256(impl_->der)); }

std::string Certificate::SubjectDn() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return {};
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(impl_->x509.get()), 0,
                     XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return BioText(bio.get());
}

bool Certificate::SubjectDnMatches(std::string_view dn) const {
  std::optional<std::vector<Rdn>> wanted = ParseDn(dn);
  if (!wanted) return false;
  // The certificate's RDNs, last first (RFC 4514 order).
  const X509_NAME* name = X509_get_subject_name(impl_->x509.get());
  const int count = X509_NAME_entry_count(name);
  std::vector<std::vector<const X509_NAME_ENTRY*>> rdns;
  int last_set = -1;
  for (int i = 0; i < count; ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, i);
    const int set = X509_NAME_ENTRY_set(entry);
    if (rdns.empty() || set != last_set) rdns.emplace_back();
    rdns.back().push_back(entry);
    last_set = set;
  }
  std::reverse(rdns.begin(), rdns.end());
  if (rdns.size() != wanted->size()) return false;
  for (size_t r = 0; r < rdns.size(); ++r) {
    const Rdn& want = (*wanted)[r];
    if (want.size() != rdns[r].size()) return false;
    std::vector<bool> used(rdns[r].size(), false);
    for (const Ava& ava : want) {
      ObjPtr type = TypeObject(ava.type);
      if (!type) return false;
      bool found = false;
      for (size_t e = 0; e < rdns[r].size() && !found; ++e) {
        if (used[e]) continue;
        const X509_NAME_ENTRY* entry = rdns[r][e];
        if (OBJ_cmp(X509_NAME_ENTRY_get_object(entry), type.get()) != 0) continue;
        if (!ValuesMatch(EntryValue(entry), ava.value)) continue;
        used[e] = found = true;
      }
      if (!found) return false;
    }
  }
  return true;
}

std::vector<std::string> Certificate::SubjectAltNames(SanType type) const {
  std::vector<std::string> out;
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(impl_->x509.get(), NID_subject_alt_name, nullptr, nullptr)));
  ERR_clear_error();
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    const ASN1_STRING* text = nullptr;
    switch (type) {
      case SanType::kDns:
        if (name->type == GEN_DNS) text = name->d.dNSName;
        break;
      case SanType::kUri:
        if (name->type == GEN_URI) text = name->d.uniformResourceIdentifier;
        break;
      case SanType::kEmail:
        if (name->type == GEN_EMAIL) text = name->d.rfc822Name;
        break;
      case SanType::kIp:
        if (name->type == GEN_IPADD) {
          std::string ip = IpText(name->d.iPAddress);
          if (!ip.empty()) out.push_back(std::move(ip));
        }
        break;
    }
    if (text != nullptr) {
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                       static_cast<size_t>(ASN1_STRING_length(text)));
    }
  }
  return out;
}

std::string Certificate::KeyType() const {
  const EVP_PKEY* key = X509_get0_pubkey(impl_->x509.get());
  if (key == nullptr) return {};
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC:
      return "EC";
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
      return "RSA";
    case EVP_PKEY_ED25519:
    case EVP_PKEY_ED448:
      return "OKP";
    default:
      return {};
  }
}

std::string Certificate::ToPem() const {
  Result<std::string> pem = CertificatePem(impl_->x509.get());
  return pem.ok() ? *pem : std::string();
}

bool IsDistinguishedName(std::string_view dn) {
  std::optional<std::vector<Rdn>> parsed = ParseDn(dn);
  if (!parsed) return false;
  for (const Rdn& rdn : *parsed) {
    for (const Ava& ava : rdn) {
      if (!TypeObject(ava.type)) return false;
    }
  }
  return true;
}

std::string IpAddressBytes(std::string_view text) {
  std::string s(text);
  unsigned char buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) return std::string(reinterpret_cast<char*>(buf), 4);
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1)
    return std::string(reinterpret_cast<char*>(buf), 16);
  return {};
}

// ---- TrustAnchors ----------------------------------------------------------------

struct TrustAnchors::Impl {
  StorePtr store;
};

TrustAnchors::TrustAnchors(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TrustAnchors::TrustAnchors(TrustAnchors&&) noexcept = default;
TrustAnchors& TrustAnchors::operator=(TrustAnchors&&) noexcept = default;
TrustAnchors::~TrustAnchors() = default;

Result<TrustAnchors> TrustAnchors::FromPem(std::string_view pem) {
  LG_ASSIGN_OR_RETURN(std::vector<Certificate> certs, Certificate::ListFromPem(pem));
  auto impl = std::make_unique<Impl>();
  impl->store.reset(X509_STORE_new());
  if (!impl->store) return InternalError("crypto: out of memory");
  for (const Certificate& cert : certs) {
    if (X509_STORE_add_cert(impl->store.get(), cert.impl_->x509.get()) != 1) {
      ERR_clear_error();  // a duplicate is fine
    }
  }
  return TrustAnchors(std::move(impl));
}

Status TrustAnchors::VerifyClientChain(const std::vector<std::string>& chain, int64_t now) const {
  if (chain.empty()) return PermissionDeniedError("no client certificate");
  if (chain.size() > kMaxChainLength) {
    return PermissionDeniedError("the client sent more than " + std::to_string(kMaxChainLength) +
                                 " certificates");
  }
  LG_ASSIGN_OR_RETURN(Certificate leaf, Certificate::FromDer(chain[0]));
  StackPtr untrusted(sk_X509_new_null());
  if (!untrusted) return InternalError("crypto: out of memory");
  for (size_t i = 1; i < chain.size(); ++i) {
    Result<Certificate> cert = Certificate::FromDer(chain[i]);
    if (!cert.ok()) return PermissionDeniedError("an intermediate certificate does not parse");
    X509* copy = X509_dup(cert->impl_->x509.get());
    if (copy == nullptr || sk_X509_push(untrusted.get(), copy) <= 0) {
      X509_free(copy);
      return InternalError("crypto: out of memory");
    }
  }
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), impl_->store.get(), leaf.impl_->x509.get(),
                                  untrusted.get()) != 1) {
    return InternalError("crypto: cannot set up certificate verification: " + OpenSslReason());
  }
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(now));
  const int verified = X509_verify_cert(ctx.get());
  ERR_clear_error();
  if (verified != 1) {
    return PermissionDeniedError(
        std::string("the client certificate does not chain to a trusted certificate authority (") +
        X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())) + ")");
  }
  return Status::Ok();
}

// ---- the demo's certificate authority ------------------------------------------------

Result<IssuedCertificate> MakeCertificateAuthority(std::string_view common_name, int days) {
  PkeyPtr key = GenerateP256();
  if (!key) return InternalError("crypto: cannot generate a P-256 key: " + OpenSslReason());
  LG_ASSIGN_OR_RETURN(X509Ptr cert, NewCertificate(key.get(), common_name, days));
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  LG_RETURN_IF_ERROR(
      AddExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE"));
  LG_RETURN_IF_ERROR(
      AddExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  LG_RETURN_IF_ERROR(AddExtension(cert.get(), cert.get(), NID_subject_key_identifier, "hash"));
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) {
    return InternalError("crypto: cannot sign a certificate: " + OpenSslReason());
  }
  IssuedCertificate out;
  LG_ASSIGN_OR_RETURN(out.certificate_pem, CertificatePem(cert.get()));
  LG_ASSIGN_OR_RETURN(std::string key_pem, KeyPem(key.get()));
  out.key_pem = SecretString(std::move(key_pem));
  return out;
}

Result<IssuedCertificate> IssueCertificate(const IssuedCertificate* ca,
                                           const CertificateRequest& request) {
  X509Ptr ca_cert;
  PkeyPtr ca_key;
  if (ca != nullptr) {
    BioPtr cert_bio(
        BIO_new_mem_buf(ca->certificate_pem.data(), static_cast<int>(ca->certificate_pem.size())));
    ca_cert.reset(cert_bio ? PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)
                           : nullptr);
    const std::string_view ca_key_pem = ca->key_pem.Reveal();
    BioPtr key_bio(BIO_new_mem_buf(ca_key_pem.data(), static_cast<int>(ca_key_pem.size())));
    ca_key.reset(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr)
                         : nullptr);
    if (!ca_cert || !ca_key) {
      ERR_clear_error();
      return InvalidArgumentError("the certificate authority's certificate or key does not load");
    }
  }
  std::string san;
  auto add_san = [&san](const char* type, const std::string& value) {
    san += (san.empty() ? "" : ",") + std::string(type) + ":" + value;
  };
  for (const std::string& dns : request.dns_names) add_san("DNS", dns);
  for (const std::string& ip : request.ip_addresses) {
    if (IpAddressBytes(ip).empty()) return InvalidArgumentError("not an IP address: " + ip);
    add_san("IP", ip);
  }
  for (const std::string& uri : request.uris) add_san("URI", uri);
  for (const std::string& email : request.emails) add_san("email", email);
  PkeyPtr key = GenerateP256();
  if (!key) return InternalError("crypto: cannot generate a P-256 key: " + OpenSslReason());
  // NewCertificate names it CN=...; the request's subject replaces that.
  LG_ASSIGN_OR_RETURN(X509Ptr cert, NewCertificate(key.get(), "lakegate", request.days));
  {
    X509_NAME* name = X509_NAME_new();
    if (name == nullptr) return InternalError("crypto: out of memory");
    for (const auto& [type, value] : request.subject) {
      if (X509_NAME_add_entry_by_txt(name, type.c_str(), MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1,
                                     0) != 1) {
        X509_NAME_free(name);
        ERR_clear_error();
        return InvalidArgumentError("not a subject attribute: " + type);
      }
    }
    const int set = X509_set_subject_name(cert.get(), name);
    X509_NAME_free(name);
    if (set != 1) return InternalError("crypto: cannot name a certificate: " + OpenSslReason());
  }
  X509* issuer = ca_cert ? ca_cert.get() : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer));
  LG_RETURN_IF_ERROR(AddExtension(cert.get(), issuer, NID_basic_constraints, "CA:FALSE"));
  LG_RETURN_IF_ERROR(AddExtension(cert.get(), issuer, NID_key_usage, "critical,digitalSignature"));
  LG_RETURN_IF_ERROR(AddExtension(cert.get(), issuer, NID_ext_key_usage,
                                  request.server ? "serverAuth" : "clientAuth"));
  if (ca_cert) {
    LG_RETURN_IF_ERROR(
        AddExtension(cert.get(), issuer, NID_authority_key_identifier, "keyid:always"));
  }
  if (!san.empty()) {
    LG_RETURN_IF_ERROR(AddExtension(cert.get(), issuer, NID_subject_alt_name, san));
  }
  if (X509_sign(cert.get(), ca_key ? ca_key.get() : key.get(), EVP_sha256()) <= 0) {
    return InternalError("crypto: cannot sign a certificate: " + OpenSslReason());
  }
  IssuedCertificate out;
  LG_ASSIGN_OR_RETURN(out.certificate_pem, CertificatePem(cert.get()));
  LG_ASSIGN_OR_RETURN(std::string key_pem, KeyPem(key.get()));
  out.key_pem = SecretString(std::move(key_pem));
  return out;
}

Result<IssuedCertificate> IssueServerCertificate(const IssuedCertificate& ca,
                                                 const std::vector<std::string>& dns_names,
                                                 const std::vector<std::string>& ip_addresses,
                                                 int days) {
  CertificateRequest request;
  const std::string cn = !dns_names.empty()      ? dns_names[0]
                         : !ip_addresses.empty() ? ip_addresses[0]
                                                 : "lakegate";
  request.subject = {{"CN", cn}};
  request.dns_names = dns_names;
  request.ip_addresses = ip_addresses;
  request.server = true;
  request.days = days;
  return IssueCertificate(&ca, request);
}

}  // namespace lakegate::crypto
