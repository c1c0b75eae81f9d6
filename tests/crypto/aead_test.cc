#include "crypto/aead.h"

#include <gtest/gtest.h>

#include "common/strings.h"

namespace lakegate::crypto {
namespace {

const std::string kKey(32, '\x42');

std::string Hex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(Aes256GcmTest, RoundTripsAndEachSealIsFresh) {
  const std::string a = Aes256GcmSeal(kKey, "secret access key", "LGAK1\nclient");
  const std::string b = Aes256GcmSeal(kKey, "secret access key", "LGAK1\nclient");
  EXPECT_EQ(a.size(), kGcmNonceBytes + 17 + kGcmTagBytes);
  EXPECT_NE(a, b) << "two seals of one plaintext must not be equal (fresh nonce)";
  EXPECT_EQ(Aes256GcmOpen(kKey, a, "LGAK1\nclient"), "secret access key");
  EXPECT_EQ(Aes256GcmOpen(kKey, b, "LGAK1\nclient"), "secret access key");
  EXPECT_EQ(Aes256GcmOpen(kKey, Aes256GcmSeal(kKey, "", ""), ""), "");
}

TEST(Aes256GcmTest, RefusesAnotherKeyAadOrAlteredBytes) {
  const std::string sealed = Aes256GcmSeal(kKey, "secret access key", "LGAK1\nclient");
  EXPECT_EQ(Aes256GcmOpen(std::string(32, '\x43'), sealed, "LGAK1\nclient"), std::nullopt);
  EXPECT_EQ(Aes256GcmOpen(kKey, sealed, "LGAK2\nclient"), std::nullopt);
  EXPECT_EQ(Aes256GcmOpen(kKey, sealed, ""), std::nullopt);
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string altered = sealed;
    altered[i] = static_cast<char>(altered[i] ^ 0x01);
    EXPECT_EQ(Aes256GcmOpen(kKey, altered, "LGAK1\nclient"), std::nullopt) << "byte " << i;
  }
  EXPECT_EQ(Aes256GcmOpen(kKey, sealed.substr(0, 27), "LGAK1\nclient"), std::nullopt);
  EXPECT_EQ(Aes256GcmOpen(std::string(16, 'k'), sealed, "LGAK1\nclient"), std::nullopt);
}

TEST(Aes256GcmTest, DecryptsAKnownAnswer) {
  // NIST GCM test vector (gcmEncryptExtIV256.rsp, Count 0 of
  // Keylen=256 IVlen=96 PTlen=128 AADlen=0 Taglen=128).
  const std::string key = Hex("31bdadd96698c204aa9ce1448ea94ae1fb4a9a0b3c9d773b51bb1822666b8f22");
  const std::string iv = Hex("0d18e06c7c725ac9e362e1ce");
  const std::string ct = Hex("fa4362189661d163fcd6a56d8bf0405a");
  const std::string tag = Hex("d636ac1bbedd5cc3ee727dc2ab4a9489");
  auto pt = Aes256GcmOpen(key, iv + ct + tag, "");
  ASSERT_TRUE(pt.has_value());
  EXPECT_EQ(HexEncode(*pt), "2db5168e932556f8089a0622981d017d");
}

TEST(HkdfSha256Test, Rfc5869Vectors) {
  // RFC 5869 A.1.
  EXPECT_EQ(HexEncode(HkdfSha256(std::string(22, '\x0b'), Hex("000102030405060708090a0b0c"),
                                 Hex("f0f1f2f3f4f5f6f7f8f9"), 42)),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
            "34007208d5b887185865");
  // RFC 5869 A.3: no salt, no info.
  EXPECT_EQ(HexEncode(HkdfSha256(std::string(22, '\x0b'), "", "", 42)),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
            "9d201395faa4b61a96c8");
}

}  // namespace
}  // namespace lakegate::crypto
