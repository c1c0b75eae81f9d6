#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <limits>
#include <sstream>

#include "common/base64url.h"
#include "common/files.h"
#include "common/percent_encoding.h"
#include "common/random.h"
#include "common/secret_string.h"
#include "common/sql_quote.h"
#include "common/status.h"
#include "common/strings.h"

namespace lakegate {
namespace {

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = InvalidArgumentError("bad");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.ToString(), "INVALID_ARGUMENT: bad");
  EXPECT_EQ(s.WithPrefix("x").message(), "x: bad");
}

Result<int> Half(int v) {
  if (v % 2) return InvalidArgumentError("odd");
  return v / 2;
}
Result<int> Quarter(int v) {
  LG_ASSIGN_OR_RETURN(int h, Half(v));
  LG_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

namespace reason_test {
enum class Failure { kFirst, kSecond };
constexpr ReasonInfo kFailureInfos[] = {
    {.name = "first", .public_code = "first_code"},
    {.name = "second", .public_message = "shown", .http_status = 418},
};
constexpr ReasonDomain kFailureDomain("test", kFailureInfos, 2);
const ReasonDomain& ReasonDomainOf(Failure) { return kFailureDomain; }
enum class Other { kFirst };
constexpr ReasonInfo kOtherInfos[] = {{.name = "other"}};
constexpr ReasonDomain kOtherDomain("other", kOtherInfos, 1);
const ReasonDomain& ReasonDomainOf(Other) { return kOtherDomain; }
}  // namespace reason_test

TEST(StatusTest, TypedReasonsAreComparedByValueAndDomainNotText) {
  using reason_test::Failure;
  using reason_test::Other;
  Status s(StatusCode::kUnauthenticated, Failure::kSecond, "detail for the log");
  EXPECT_TRUE(s.Is(Failure::kSecond));
  EXPECT_FALSE(s.Is(Failure::kFirst));
  // Same numeric value, another domain: not the same reason.
  Status other(StatusCode::kUnauthenticated, Other::kFirst, "x");
  EXPECT_FALSE(other.Is(Failure::kFirst));
  EXPECT_EQ(other.reason<Failure>(), std::nullopt);
  EXPECT_EQ(s.reason<Failure>(), Failure::kSecond);
  EXPECT_EQ(s.reason_info().http_status, 418);
  EXPECT_EQ(s.reason_info().public_message, "shown");
  EXPECT_EQ(s.ReasonName(), "test.second");
  EXPECT_EQ(s.ToString(), "UNAUTHENTICATED [test.second]: detail for the log");
  // A prefix keeps the reason; a plain status has none.
  Status prefixed = s.WithPrefix("while verifying");
  EXPECT_TRUE(prefixed.Is(Failure::kSecond));
  EXPECT_EQ(prefixed.message(), "while verifying: detail for the log");
  Status plain = UnauthenticatedError("detail for the log");
  EXPECT_FALSE(plain.Is(Failure::kFirst));
  EXPECT_EQ(plain.ReasonName(), "");
  EXPECT_EQ(plain.reason_info().name, "");
  EXPECT_FALSE(plain == s);
  Result<int> r = s;
  EXPECT_TRUE(r.status().Is(Failure::kSecond));
}

TEST(ResultTest, AssignOrReturnPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), StatusCode::kInvalidArgument);
}

TEST(Base64UrlTest, RoundTripsAllLengths) {
  std::string data;
  for (int i = 0; i < 70; ++i) {
    auto decoded = Base64UrlDecode(Base64UrlEncode(data));
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(*decoded, data);
    data.push_back(static_cast<char>(i * 37));
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(Base64UrlTest, RejectsPaddingBadCharsAndNonCanonical) {
  EXPECT_FALSE(Base64UrlDecode("QQ==").has_value());
  EXPECT_FALSE(Base64UrlDecode("Q+A").has_value());
  EXPECT_FALSE(Base64UrlDecode("Q").has_value());
  EXPECT_FALSE(Base64UrlDecode("QR").has_value());  // trailing bits set
  EXPECT_EQ(*Base64UrlDecode("QQ"), "A");
}

TEST(Base64Test, StandardWithPadding) {
  EXPECT_EQ(Base64Encode("ab"), "YWI=");
  EXPECT_EQ(*Base64Decode("YWI="), "ab");
  EXPECT_FALSE(Base64Decode("YWI").has_value() && false);
  EXPECT_FALSE(Base64Decode("YW=I").has_value());
}

TEST(RandomTest, TokensAreUrlSafeAndDistinct) {
  std::string a = RandomToken(32), b = RandomToken(32);
  EXPECT_EQ(a.size(), 43u);
  EXPECT_NE(a, b);
  for (char c : a) EXPECT_TRUE(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
  EXPECT_EQ(RandomHex(8).size(), 16u);
}

TEST(SecretStringTest, NeverPrints) {
  SecretString s("hunter2");
  std::ostringstream os;
  os << s;
  EXPECT_EQ(os.str(), "[redacted]");
  EXPECT_EQ(s.Reveal(), "hunter2");
}

TEST(StringsTest, Durations) {
  EXPECT_EQ(*ParseDurationSeconds("3600"), 3600);
  EXPECT_EQ(*ParseDurationSeconds("90s"), 90);
  EXPECT_EQ(*ParseDurationSeconds("60m"), 3600);
  EXPECT_EQ(*ParseDurationSeconds(" 1h "), 3600);
  EXPECT_EQ(*ParseDurationSeconds("1d"), 86400);
  EXPECT_EQ(*ParseDurationSeconds("999999999999999999d"), std::numeric_limits<int64_t>::max());
  for (const char* bad : {"", "h", "1w", "-5m", "1.5h", "1 h", "0x10"}) {
    EXPECT_EQ(ParseDurationSeconds(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(FormatDuration(3600), "1h");
  EXPECT_EQ(FormatDuration(5400), "90m");
  EXPECT_EQ(FormatDuration(86400), "1d");
  EXPECT_EQ(FormatDuration(61), "61s");
}

TEST(StringsTest, JsonEscaping) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
  EXPECT_EQ(JsonQuote("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
  EXPECT_EQ(JsonQuote("bad\xff"), "\"bad\\ufffd\"");
  EXPECT_EQ(JsonQuote("\xc0\xaf"), "\"\\ufffd\\ufffd\"");  // overlong '/'
}

TEST(FilesTest, AtomicWriteHasMode0600) {
  auto dir = std::filesystem::temp_directory_path() / ("lg-files-" + RandomHex(6));
  ASSERT_TRUE(MakeDirectories(dir.string()).ok());
  std::string path = (dir / "secret.json").string();
  ASSERT_TRUE(WriteFileAtomic(path, "{}").ok());
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*ReadFile(path), "{}");
  EXPECT_EQ(WriteFileExclusive(path, "x").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*ReadFile(path), "{}");
  EXPECT_EQ(ReadFile((dir / "missing").string()).status().code(), StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

TEST(PercentEncodingTest, DecodesEscapesAndKeepsEverythingElse) {
  EXPECT_EQ(HexDigitValue('0'), 0);
  EXPECT_EQ(HexDigitValue('f'), 15);
  EXPECT_EQ(HexDigitValue('F'), 15);
  EXPECT_EQ(HexDigitValue('g'), -1);
  EXPECT_EQ(PercentDecodeLenient("pass%77ord"), "password");
  EXPECT_EQ(PercentDecodeLenient("%E1%88%b4"), "\xE1\x88\xB4");
  EXPECT_EQ(PercentDecodeLenient("a+b"), "a+b");
  EXPECT_EQ(PercentDecodeLenient("100%"), "100%");
  EXPECT_EQ(PercentDecodeLenient("%zz%4"), "%zz%4");
  EXPECT_EQ(PercentDecodeLenient("%2525"), "%25");
}

TEST(PercentEncodingTest, StrictDecodingRefusesBadEscapes) {
  EXPECT_EQ(PercentDecodeStrict("a+b%2B%e2%82%ac", true), "a b+\xE2\x82\xAC");
  EXPECT_EQ(PercentDecodeStrict("a+b", false), "a+b");
  EXPECT_EQ(PercentDecodeStrict("%FF", false), "\xFF");
  EXPECT_EQ(PercentDecodeStrict("100%", true), std::nullopt);
  EXPECT_EQ(PercentDecodeStrict("%4", true), std::nullopt);
  EXPECT_EQ(PercentDecodeStrict("%zz", false), std::nullopt);
}

TEST(StringsTest, Utf8Validity) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));          // cut short
}

TEST(SqlQuoteTest, DoublesTheQuoteCharacterOnly) {
  EXPECT_EQ(QuoteIdent("members"), "\"members\"");
  EXPECT_EQ(QuoteIdent("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(QuoteIdent("it's"), "\"it's\"");
  EXPECT_EQ(QuoteIdent(""), "\"\"");
  EXPECT_EQ(QuoteString("it's"), "'it''s'");
  EXPECT_EQ(QuoteString("a\"b\\n"), "'a\"b\\n'");  // backslashes stay plain
  EXPECT_EQ(QuoteString("''"), "''''''");
  EXPECT_EQ(QuoteString(std::string_view("a\0b", 3)), std::string("'a\0b'", 5));
}

}  // namespace
}  // namespace lakegate
