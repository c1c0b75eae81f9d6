#include "crypto/keys.h"

#include <gtest/gtest.h>

#include <atomic>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/base64url.h"
#include "crypto/ecdsa_der.h"

namespace lakegate::crypto {
namespace {

std::string B64u(std::string_view s) {
  std::optional<std::string> d = Base64UrlDecode(s);
  EXPECT_TRUE(d.has_value()) << s;
  return d.value_or("");
}

std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string Pem(std::string_view label, std::string_view der) {
  std::string b64 = Base64Encode(der);
  std::string out = "-----BEGIN " + std::string(label) + "-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  out += "-----END " + std::string(label) + "-----\n";
  return out;
}

// PKCS#8 wrappers around a raw private scalar (RFC 8410 for Ed25519; RFC 5915
// ECPrivateKey without the optional public key for P-256).
std::string Ed25519Pkcs8Pem(std::string_view d) {
  return Pem("PRIVATE KEY", FromHex("302e020100300506032b657004220420") + std::string(d));
}
std::string P256Pkcs8Pem(std::string_view d) {
  return Pem("PRIVATE KEY",
             FromHex("3041020100301306072a8648ce3d020106082a8648ce3d030107042730250201010420") +
                 std::string(d));
}

// RFC 7515 appendix A: the JWT payload shared by the examples.
constexpr std::string_view kRfc7515Payload =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlf"
    "Q";
// RFC 7515 appendix A.3 (ES256).
constexpr std::string_view kA3X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
constexpr std::string_view kA3Y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
constexpr std::string_view kA3D = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
constexpr std::string_view kA3Sig =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
// RFC 7515 appendix A.2 (RS256).
constexpr std::string_view kA2N =
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4"
    "QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdb"
    "BYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-D"
    "WNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
constexpr std::string_view kA2Sig =
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5ju"
    "jGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07"
    "Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipU"
    "TI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
// RFC 8037 appendix A.1-A.4 (Ed25519).
constexpr std::string_view kEdD = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
constexpr std::string_view kEdX = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
constexpr std::string_view kEdInput = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
constexpr std::string_view kEdSig =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

// Generated with `openssl` for these tests.
constexpr std::string_view kP384PublicPem = R"(-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAE4YamkighreaQDHlSOnvEGhKKSwSehU1c
xgPKoQm+VFRKe0rLVvw61s9DqCOvp/UiI5lv6/7eEARouOkS915A4hmUsvX5hYqt
Xi9bQ2VWKWPig5EPwXIyDf2F7rFyJSFe
-----END PUBLIC KEY-----
)";
constexpr std::string_view kX25519PublicPem = R"(-----BEGIN PUBLIC KEY-----
MCowBQYDK2VuAyEAJyTxEdB6L/mRxFsenJMMTHuilUt492R9wz1NxXw1RGk=
-----END PUBLIC KEY-----
)";
constexpr std::string_view kEncryptedP256Pem = R"(-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAjGz9EJ/qYuiwICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEH9JOlH5aC75KMesDieV+7kEgZCy
6aazUmOPXw5VQeKYJnZka29kMlGjeCFpe7m1NQpM96/uTgg1AJkY+p0jn3bhTbZM
susep7rEMwdbN5MiNXa+XNyL5Yd4lTszdkI3pHoMunlDoPuN0FkAG/A3jZM0Vv8y
rjpfuXz4duWSReaXpcKFnszfEwjhZRrL5JMrC+UIzVnAYpduOsXamHdgu0sRpc0=
-----END ENCRYPTED PRIVATE KEY-----
)";
constexpr std::string_view kRsa1024Pem = R"(-----BEGIN PRIVATE KEY-----
MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBAPQnc8UD+7Jl8ssh
c2lZIgM7RLpEM5bfwwP+xoM+iExMsw9tBAalZJ2oZgdWLcMnI1K1dc8RsJEoNrBN
N1NfHzA2b24taz9uWxpfrzl5rxOXh3rmV9ctP2nDnhfrRldT+sa1x+WiNnxfmCHa
iLD93RLQajshpqUQzT9HLMNuhyk9AgMBAAECgYEAmxBfd5ZDChezrw1MtnDUqEbB
LKfaOA1fVy89tudFO2hPJRHwx6PNlk/4lNpH8DTwOzxiWSP8BwUKTsiLxdiY/hFM
SKkNdaHc62Z+EThuTWj8v8n407RRYT/FDPSIc9u95WFPL5vtEZn44sPXfRaErhn6
DQEEe6qF7N5DY4qh7yUCQQD9VYBz5uA8ABWUj7e2cwpss2R/4EcLDemFI0d33lmh
1B1vl2TeKXoTAAaKkwcHRN8LitVgXrDywY5fgr5fpZLDAkEA9rk4IXV4pS/nCPmo
p61jtl5pkw9lGRcWY0g8FHvfe9Twg3Z+3Vl+IDjLezIZP9d0q6+FxIT0pXGwB8lN
WByT/wJAITxUa+BATt7b9e+c9IzHM1educEc0PB0UIk+WRWMwNRpQDimfRcH8vIv
6YI8i9GXSZZfRBNoN5D5MsKeY0H/rQJAOUleaB5vieNqgKH/cBeJbIHVf6j2b3H1
582Q7aypgoY55jxwTpMF/xNQ4+UJCdLMK0URCUVZzMRt/BDYnZndHwJBAL/XS9SZ
ckjkOb43n4/GdfMxdqLUk+i82cRadOi3JkAPjkYAmb1O1iaUCryd014LhV2SurQh
he1GaQb5LZOOICU=
-----END PRIVATE KEY-----
)";

const std::string kE65537("\x01\x00\x01", 3);

void ExpectInvalid(const Status& status, std::string_view message) {
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_EQ(status.message(), message);
}

// ---- Algorithm names ---------------------------------------------------------

TEST(AlgorithmTest, NamesRoundTrip) {
  for (Algorithm a : {Algorithm::kES256, Algorithm::kEdDSA, Algorithm::kRS256}) {
    EXPECT_EQ(ParseAlgorithm(AlgorithmName(a)), a);
  }
  EXPECT_EQ(AlgorithmName(Algorithm::kES256), "ES256");
  EXPECT_EQ(AlgorithmName(Algorithm::kEdDSA), "EdDSA");
  EXPECT_EQ(AlgorithmName(Algorithm::kRS256), "RS256");
}

TEST(AlgorithmTest, ParseIsExactAndRejectsEverythingElse) {
  for (std::string_view bad : {"none", "None", "HS256", "es256", "ES384", "RS512", "PS384",
                               "Ed25519", "EDDSA", "", " ES256", "ES256 "}) {
    EXPECT_FALSE(ParseAlgorithm(bad).has_value()) << bad;
  }
}

// ---- Round trips, for every algorithm ---------------------------------------

class KeyRoundTripTest : public ::testing::TestWithParam<Algorithm> {};

TEST_P(KeyRoundTripTest, SignVerify) {
  Result<PrivateKey> key = PrivateKey::Generate(GetParam());
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->algorithm(), GetParam());
  PublicKey pub = key->Public();
  EXPECT_EQ(pub.algorithm(), GetParam());

  const std::string input = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0";
  Result<std::string> sig = key->Sign(input);
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_EQ(sig->size(), IsRsa(GetParam()) ? 256u : 64u);
  EXPECT_TRUE(pub.Verify(input, *sig));

  EXPECT_FALSE(pub.Verify(input + "x", *sig));
  EXPECT_FALSE(pub.Verify(input.substr(1), *sig));
  std::string flipped = *sig;
  flipped[flipped.size() / 2] ^= 0x01;
  EXPECT_FALSE(pub.Verify(input, flipped));
  EXPECT_FALSE(pub.Verify(input, sig->substr(1)));
  EXPECT_FALSE(pub.Verify(input, *sig + '\0'));
  EXPECT_FALSE(pub.Verify(input, ""));

  // Another key of the same type does not verify it.
  Result<PrivateKey> other = PrivateKey::Generate(GetParam());
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->Public().Verify(input, *sig));
}

TEST_P(KeyRoundTripTest, PrivatePem) {
  Result<PrivateKey> key = PrivateKey::Generate(GetParam());
  ASSERT_TRUE(key.ok());
  SecretString pem = key->ToPem();
  EXPECT_EQ(pem.Reveal().substr(0, 27), "-----BEGIN PRIVATE KEY-----");
  Result<PrivateKey> loaded = PrivateKey::FromPem(GetParam(), pem.Reveal());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_TRUE(loaded->Public() == key->Public());
  Result<std::string> sig = loaded->Sign("payload");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(key->Public().Verify("payload", *sig));
}

TEST_P(KeyRoundTripTest, PublicPemAndParams) {
  Result<PrivateKey> key = PrivateKey::Generate(GetParam());
  ASSERT_TRUE(key.ok());
  PublicKey pub = key->Public();

  std::string pem = pub.ToPem();
  EXPECT_EQ(pem.substr(0, 26), "-----BEGIN PUBLIC KEY-----");
  Result<PublicKey> from_pem = PublicKey::FromPem(pem);
  ASSERT_TRUE(from_pem.ok()) << from_pem.status().ToString();
  // An SPKI PEM names no JWS algorithm: an RSA key read from one serves RS256.
  if (GetParam() == Algorithm::kPS256) {
    from_pem = PublicKey::FromParams(
        PublicKeyParams::Rs256(from_pem->Params().n, from_pem->Params().e, Algorithm::kPS256));
    ASSERT_TRUE(from_pem.ok());
  }
  EXPECT_TRUE(*from_pem == pub);

  PublicKeyParams params = pub.Params();
  EXPECT_EQ(params.algorithm, GetParam());
  switch (GetParam()) {
    case Algorithm::kES256:
      EXPECT_EQ(params.x.size(), 32u);
      EXPECT_EQ(params.y.size(), 32u);
      EXPECT_TRUE(params.n.empty() && params.e.empty());
      break;
    case Algorithm::kEdDSA:
      EXPECT_EQ(params.x.size(), 32u);
      EXPECT_TRUE(params.y.empty() && params.n.empty() && params.e.empty());
      break;
    case Algorithm::kRS256:
    case Algorithm::kPS256:
      EXPECT_EQ(params.n.size(), 256u);
      EXPECT_NE(params.n[0], '\0');
      EXPECT_EQ(params.e, std::string("\x01\x00\x01", 3));
      EXPECT_TRUE(params.x.empty() && params.y.empty());
      break;
  }
  Result<PublicKey> from_params = PublicKey::FromParams(params);
  ASSERT_TRUE(from_params.ok()) << from_params.status().ToString();
  EXPECT_TRUE(*from_params == pub);
  EXPECT_EQ(from_params->Params(), params);

  Result<std::string> sig = key->Sign("abc");
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(from_params->Verify("abc", *sig));
  EXPECT_TRUE(from_pem->Verify("abc", *sig));
}

TEST_P(KeyRoundTripTest, PrivatePemOfAnotherTypeIsRejected) {
  Result<PrivateKey> key = PrivateKey::Generate(GetParam());
  ASSERT_TRUE(key.ok());
  for (Algorithm other : {Algorithm::kES256, Algorithm::kEdDSA, Algorithm::kRS256}) {
    if (other == GetParam() || (IsRsa(other) && IsRsa(GetParam()))) continue;
    Result<PrivateKey> loaded = PrivateKey::FromPem(other, key->ToPem().Reveal());
    ExpectInvalid(loaded.status(), "key type does not match algorithm");
  }
}

INSTANTIATE_TEST_SUITE_P(AllAlgorithms, KeyRoundTripTest,
                         ::testing::Values(Algorithm::kES256, Algorithm::kEdDSA, Algorithm::kRS256,
                                           Algorithm::kPS256),
                         [](const auto& param_info) {
                           return std::string(AlgorithmName(param_info.param));
                         });

// ---- Known-answer vectors ------------------------------------------------------

TEST(KnownAnswerTest, Rfc7515A3Es256Verifies) {
  Result<PublicKey> key = PublicKey::FromParams(PublicKeyParams::Es256(B64u(kA3X), B64u(kA3Y)));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  std::string input = "eyJhbGciOiJFUzI1NiJ9." + std::string(kRfc7515Payload);
  EXPECT_TRUE(key->Verify(input, B64u(kA3Sig)));
  EXPECT_FALSE(key->Verify(input + ".", B64u(kA3Sig)));
}

TEST(KnownAnswerTest, Rfc7515A3PrivateKeyLoadsWithTheExamplePublicKey) {
  Result<PrivateKey> key = PrivateKey::FromPem(Algorithm::kES256, P256Pkcs8Pem(B64u(kA3D)));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(Base64UrlEncode(key->Public().Params().x), kA3X);
  EXPECT_EQ(Base64UrlEncode(key->Public().Params().y), kA3Y);
}

TEST(KnownAnswerTest, Rfc7515A3DerSignatureIsRejected) {
  Result<PublicKey> key = PublicKey::FromParams(PublicKeyParams::Es256(B64u(kA3X), B64u(kA3Y)));
  ASSERT_TRUE(key.ok());
  std::string input = "eyJhbGciOiJFUzI1NiJ9." + std::string(kRfc7515Payload);
  uint8_t der[MaxEcdsaDerSize(32)];
  size_t len = EcdsaRawToDer(B64u(kA3Sig), 32, der);
  ASSERT_GT(len, 0u);
  // The same signature, DER-encoded as OpenSSL and Java emit it: not a JWS signature.
  EXPECT_FALSE(key->Verify(input, std::string(reinterpret_cast<char*>(der), len)));
}

TEST(KnownAnswerTest, Rfc7515A2Rs256Verifies) {
  Result<PublicKey> key = PublicKey::FromParams(PublicKeyParams::Rs256(B64u(kA2N), B64u("AQAB")));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  std::string input = "eyJhbGciOiJSUzI1NiJ9." + std::string(kRfc7515Payload);
  EXPECT_TRUE(key->Verify(input, B64u(kA2Sig)));
  EXPECT_FALSE(key->Verify("eyJhbGciOiJFUzI1NiJ9." + std::string(kRfc7515Payload), B64u(kA2Sig)));
}

TEST(KnownAnswerTest, Rfc8037Ed25519SignsExactlyAndVerifies) {
  Result<PrivateKey> key = PrivateKey::FromPem(Algorithm::kEdDSA, Ed25519Pkcs8Pem(B64u(kEdD)));
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(Base64UrlEncode(key->Public().Params().x), kEdX);
  Result<std::string> sig = key->Sign(kEdInput);
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(Base64UrlEncode(*sig), kEdSig);  // Ed25519 is deterministic

  Result<PublicKey> pub = PublicKey::FromParams(PublicKeyParams::EdDsa(B64u(kEdX)));
  ASSERT_TRUE(pub.ok());
  EXPECT_TRUE(pub->Verify(kEdInput, B64u(kEdSig)));
  EXPECT_FALSE(pub->Verify(std::string(kEdInput) + "x", B64u(kEdSig)));
}

// ---- Rejections ------------------------------------------------------------------

TEST(PublicKeyTest, RejectsPointNotOnCurve) {
  std::string y = B64u(kA3Y);
  y.back() ^= 0x01;
  Result<PublicKey> key = PublicKey::FromParams(PublicKeyParams::Es256(B64u(kA3X), y));
  ExpectInvalid(key.status(), "invalid EC public key");
}

TEST(PublicKeyTest, RejectsWrongComponentSizes) {
  ExpectInvalid(
      PublicKey::FromParams(PublicKeyParams::Es256(B64u(kA3X).substr(1), B64u(kA3Y))).status(),
      "EC P-256 key needs 32-byte x and y");
  ExpectInvalid(PublicKey::FromParams(PublicKeyParams::Es256(B64u(kA3X), "")).status(),
                "EC P-256 key needs 32-byte x and y");
  ExpectInvalid(PublicKey::FromParams(PublicKeyParams::EdDsa(B64u(kEdX) + "x")).status(),
                "Ed25519 key needs a 32-byte x");
  ExpectInvalid(PublicKey::FromParams(PublicKeyParams::Rs256(B64u(kA2N), "")).status(),
                "invalid RSA public key");
}

TEST(PublicKeyTest, RejectsWeakOrOddRsaKeys) {
  std::string n = B64u(kA2N);
  ExpectInvalid(PublicKey::FromParams(PublicKeyParams::Rs256(n.substr(0, 128), kE65537)).status(),
                "RSA key must have 2048 to 8192 bits");
  ExpectInvalid(
      PublicKey::FromParams(PublicKeyParams::Rs256(n, std::string("\x01\x00\x00", 3))).status(),
      "invalid RSA public key");  // even exponent
  ExpectInvalid(PublicKey::FromParams(PublicKeyParams::Rs256(n, "\x01")).status(),
                "invalid RSA public key");  // e = 1
  std::string even_n = n;
  even_n.back() &= static_cast<char>(0xfe);
  ExpectInvalid(PublicKey::FromParams(PublicKeyParams::Rs256(even_n, kE65537)).status(),
                "invalid RSA public key");
  // A leading zero byte on n is tolerated and dropped.
  Result<PublicKey> padded =
      PublicKey::FromParams(PublicKeyParams::Rs256(std::string(1, '\0') + n, kE65537));
  ASSERT_TRUE(padded.ok()) << padded.status().ToString();
  EXPECT_EQ(padded->Params().n, n);
}

TEST(PublicKeyTest, RejectsUnsupportedPem) {
  ExpectInvalid(PublicKey::FromPem("not a pem").status(), "cannot parse public key PEM");
  ExpectInvalid(PublicKey::FromPem("").status(), "cannot parse public key PEM");
  ExpectInvalid(PublicKey::FromPem(kP384PublicPem).status(),
                "unsupported key type (want P-256, Ed25519 or RSA)");
  ExpectInvalid(PublicKey::FromPem(kX25519PublicPem).status(),
                "unsupported key type (want P-256, Ed25519 or RSA)");
  ExpectInvalid(PublicKey::FromPem(std::string(70 * 1024, 'A')).status(), "PEM too large");
}

TEST(PrivateKeyTest, RejectsBadPem) {
  ExpectInvalid(PrivateKey::FromPem(Algorithm::kES256, "garbage").status(),
                "cannot parse private key PEM");
  // Encrypted keys are refused without prompting for a passphrase.
  ExpectInvalid(PrivateKey::FromPem(Algorithm::kES256, kEncryptedP256Pem).status(),
                "cannot parse private key PEM");
  ExpectInvalid(PrivateKey::FromPem(Algorithm::kRS256, kRsa1024Pem).status(),
                "RSA key must have 2048 to 8192 bits");
  ExpectInvalid(PrivateKey::FromPem(Algorithm::kES256, kRsa1024Pem).status(),
                "key type does not match algorithm");
  // A public key is not a private key.
  Result<PrivateKey> key = PrivateKey::Generate(Algorithm::kES256);
  ASSERT_TRUE(key.ok());
  ExpectInvalid(PrivateKey::FromPem(Algorithm::kES256, key->Public().ToPem()).status(),
                "cannot parse private key PEM");
}

TEST(PrivateKeyTest, SecretPemIsRedactedWhenPrinted) {
  Result<PrivateKey> key = PrivateKey::Generate(Algorithm::kES256);
  ASSERT_TRUE(key.ok());
  std::ostringstream os;
  os << key->ToPem();
  EXPECT_EQ(os.str(), "[redacted]");
}

// ---- Signature encodings over many signatures ------------------------------------

TEST(Es256Test, ManySignaturesAreRaw64BytesAndVerify) {
  // ~1 in 128 signatures has a scalar shorter than 32 bytes or one with the high
  // bit set; 2,000 signatures exercise both DER shapes many times.
  Result<PrivateKey> key = PrivateKey::Generate(Algorithm::kES256);
  ASSERT_TRUE(key.ok());
  PublicKey pub = key->Public();
  int failures = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string input = "message-" + std::to_string(i);
    Result<std::string> sig = key->Sign(input);
    if (!sig.ok() || sig->size() != 64 || !pub.Verify(input, *sig)) ++failures;
  }
  EXPECT_EQ(failures, 0);
}

// ---- Per-thread context cache -------------------------------------------------------

TEST(SignContextCacheTest, FreshKeysNeverReuseAnotherKeysContext) {
  // Keys are created and destroyed in a loop, so allocations are recycled; a
  // cache keyed by address would sign with a dead key and fail to verify.
  for (int i = 0; i < 40; ++i) {
    // RSA key generation is slow; a few RSA keys among the P-256 ones suffice.
    Algorithm algorithm = (i < 6 && i % 2 == 0) ? Algorithm::kRS256 : Algorithm::kES256;
    Result<PrivateKey> key = PrivateKey::Generate(algorithm);
    ASSERT_TRUE(key.ok());
    Result<std::string> sig = key->Sign("x");
    ASSERT_TRUE(sig.ok());
    EXPECT_TRUE(key->Public().Verify("x", *sig)) << i;
  }
}

TEST(SignContextCacheTest, ConcurrentSigningWithMoreKeysThanCacheSlots) {
  std::vector<PrivateKey> keys;
  for (int i = 0; i < 6; ++i) {
    Result<PrivateKey> key = PrivateKey::Generate(Algorithm::kES256);
    ASSERT_TRUE(key.ok());
    keys.push_back(*key);
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        const PrivateKey& key = keys[static_cast<size_t>((i + t) % 6)];
        std::string input = std::to_string(t) + "/" + std::to_string(i);
        Result<std::string> sig = key.Sign(input);
        if (!sig.ok() || !key.Public().Verify(input, *sig)) failures.fetch_add(1);
        // The wrong key must never verify, even with a warm cache.
        const PrivateKey& other = keys[static_cast<size_t>((i + t + 1) % 6)];
        if (sig.ok() && other.Public().Verify(input, *sig)) failures.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace lakegate::crypto

namespace lakegate::crypto {
namespace {

// One RSA key, two algorithms: a PS256 signature never verifies as RS256 (or
// the other way round), and PS256 signatures are randomized yet verify.
TEST(Ps256Test, RsaKeyServesOnlyItsAlgorithm) {
  Result<PrivateKey> ps = PrivateKey::Generate(Algorithm::kPS256);
  ASSERT_TRUE(ps.ok());
  EXPECT_EQ(ps->algorithm(), Algorithm::kPS256);
  EXPECT_EQ(ps->Public().algorithm(), Algorithm::kPS256);
  Result<PrivateKey> rs = PrivateKey::FromPem(Algorithm::kRS256, ps->ToPem().Reveal());
  ASSERT_TRUE(rs.ok());
  Result<std::string> pss1 = ps->Sign("input");
  Result<std::string> pss2 = ps->Sign("input");
  Result<std::string> pkcs1 = rs->Sign("input");
  ASSERT_TRUE(pss1.ok() && pss2.ok() && pkcs1.ok());
  EXPECT_NE(*pss1, *pss2);
  EXPECT_TRUE(ps->Public().Verify("input", *pss1));
  EXPECT_TRUE(ps->Public().Verify("input", *pss2));
  EXPECT_FALSE(ps->Public().Verify("input", *pkcs1));
  EXPECT_FALSE(rs->Public().Verify("input", *pss1));
  EXPECT_TRUE(rs->Public().Verify("input", *pkcs1));
  EXPECT_FALSE(ps->Public().Verify("other", *pss1));
  EXPECT_EQ(ParseAlgorithm("PS256"), Algorithm::kPS256);
  EXPECT_EQ(AlgorithmName(Algorithm::kPS256), "PS256");
  EXPECT_EQ(ParseAlgorithm("PS384"), std::nullopt);
}

}  // namespace
}  // namespace lakegate::crypto
