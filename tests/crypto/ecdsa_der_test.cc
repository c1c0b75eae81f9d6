#include "crypto/ecdsa_der.h"

#include <gtest/gtest.h>

#include <string>

#include "common/strings.h"

namespace lakegate::crypto {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int v : b) s.push_back(static_cast<char>(v));
  return s;
}

std::string ToDer(const std::string& raw, size_t n) {
  uint8_t buf[MaxEcdsaDerSize(60)];
  size_t len = EcdsaRawToDer(raw, n, buf);
  return std::string(reinterpret_cast<const char*>(buf), len);
}

std::optional<std::string> ToRaw(const std::string& der, size_t n) {
  std::string raw(2 * n, '\0');
  if (!EcdsaDerToRaw(der, n, reinterpret_cast<uint8_t*>(raw.data()))) return std::nullopt;
  return raw;
}

TEST(EcdsaDerTest, HighBitGetsSignByteAndLeadingZerosAreDropped) {
  // n = 2: r = 0x8001 (high bit), s = 0x0005 (leading zero).
  std::string raw = Bytes({0x80, 0x01, 0x00, 0x05});
  std::string der = ToDer(raw, 2);
  EXPECT_EQ(HexEncode(der), "30080203008001020105");
  EXPECT_EQ(ToRaw(der, 2), raw);
}

TEST(EcdsaDerTest, ZeroScalarEncodesAsIntegerZero) {
  std::string raw = Bytes({0x00, 0x00, 0x00, 0x07});
  std::string der = ToDer(raw, 2);
  EXPECT_EQ(HexEncode(der), "3006020100020107");
  EXPECT_EQ(ToRaw(der, 2), raw);
}

TEST(EcdsaDerTest, RoundTripsFullSizeScalars) {
  std::string raw(64, '\0');
  for (int i = 0; i < 64; ++i) raw[static_cast<size_t>(i)] = static_cast<char>(0xff - i);
  std::string der = ToDer(raw, 32);
  EXPECT_EQ(der.size(), MaxEcdsaDerSize(32));
  EXPECT_EQ(ToRaw(der, 32), raw);
}

TEST(EcdsaDerTest, RejectsWrongRawLength) {
  uint8_t buf[MaxEcdsaDerSize(32)];
  EXPECT_EQ(EcdsaRawToDer(std::string(63, '\1'), 32, buf), 0u);
  EXPECT_EQ(EcdsaRawToDer(std::string(65, '\1'), 32, buf), 0u);
  EXPECT_EQ(EcdsaRawToDer("", 0, buf), 0u);
}

TEST(EcdsaDerTest, RejectsMalformedDer) {
  const size_t n = 2;
  EXPECT_EQ(ToRaw(Bytes({0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02}), n),
            Bytes({0, 1, 0, 2}));  // the valid baseline
  EXPECT_FALSE(ToRaw("", n));
  EXPECT_FALSE(ToRaw(Bytes({0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02}), n));  // not SEQUENCE
  EXPECT_FALSE(ToRaw(Bytes({0x30, 0x07, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02}), n));  // bad length
  EXPECT_FALSE(
      ToRaw(Bytes({0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02}), n));  // long form
  EXPECT_FALSE(
      ToRaw(Bytes({0x30, 0x08, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x00, 0x00}), n));  // trailing
  EXPECT_FALSE(ToRaw(Bytes({0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x02}), n));     // negative r
  EXPECT_FALSE(
      ToRaw(Bytes({0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x02}), n));     // non-minimal
  EXPECT_FALSE(ToRaw(Bytes({0x30, 0x06, 0x02, 0x00, 0x02, 0x02, 0x01, 0x02}), n));  // empty integer
  EXPECT_FALSE(
      ToRaw(Bytes({0x30, 0x08, 0x02, 0x03, 0x01, 0x02, 0x03, 0x02, 0x01, 0x02}), n));  // too big
  EXPECT_FALSE(ToRaw(Bytes({0x30, 0x03, 0x02, 0x01, 0x01}), n));                       // missing s
  EXPECT_FALSE(ToRaw(Bytes({0x30, 0x06, 0x04, 0x01, 0x01, 0x02, 0x01, 0x02}), n));  // not INTEGER
  EXPECT_FALSE(ToRaw(Bytes({0x30, 0x06, 0x02, 0x05, 0x01, 0x02, 0x01, 0x02}), n));  // overruns
}

}  // namespace
}  // namespace lakegate::crypto
