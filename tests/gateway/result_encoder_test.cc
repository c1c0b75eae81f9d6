// ResultEncoder and ParseQueryBody tests.
#include "gateway/result_encoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "fakes.h"
#include "gateway/query_service.h"

namespace lakegate::gateway {
namespace {

using testing::Value;
using testing::VectorRow;

ResultMeta Meta() {
  return ResultMeta{"cid", {"athena-api/query.read"}, "lf-dev-role", "analytics", "qid-1"};
}

std::string Encode(ResultFormat format, const std::vector<engine::ColumnInfo>& columns,
                   const std::vector<std::vector<Value>>& rows, bool truncated = false,
                   std::string_view warning = {}) {
  ResultEncoder encoder(format, Meta());
  std::string out;
  encoder.Begin(columns, out);
  for (const auto& values : rows) {
    VectorRow row(&values);
    encoder.Row(row, out);
  }
  encoder.End(static_cast<int64_t>(rows.size()), truncated, warning, out);
  return out;
}

TEST(ResultEncoderTest, JsonHasTheSeedShapeInOrder) {
  std::string out = Encode(ResultFormat::kJson, {{"id", "INTEGER"}, {"name", "TEXT"}},
                           {{int64_t{1}, std::string("Ann")}, {int64_t{2}, std::monostate{}}});
  EXPECT_EQ(
      out,
      "{\"success\":true,\"authMethod\":\"CLIENT_CREDENTIALS\",\"clientId\":\"cid\","
      "\"scopes\":[\"athena-api/query.read\"],\"lfRole\":\"lf-dev-role\","
      "\"database\":\"analytics\",\"queryId\":\"qid-1\","
      "\"columns\":[{\"name\":\"id\",\"type\":\"INTEGER\"},{\"name\":\"name\",\"type\":\"TEXT\"}],"
      "\"data\":[{\"id\":1,\"name\":\"Ann\"},{\"id\":2,\"name\":null}],"
      "\"rowCount\":2,\"truncated\":false}");
  EXPECT_TRUE(nlohmann::json::accept(out));
}

TEST(ResultEncoderTest, JsonValues) {
  const double inf = std::numeric_limits<double>::infinity();
  std::string out = Encode(
      ResultFormat::kJson, {{"a", ""}, {"b", ""}, {"c", ""}, {"d", ""}, {"e", ""}, {"f", ""}},
      {{2.5, std::nan(""), inf, std::string("q\"\\\n\x01 \xff"),
        engine::Blob{std::string("\x00\x01\xfe\xff", 4)}, int64_t{-9223372036854775807LL - 1}}});
  auto doc = nlohmann::json::parse(out);
  const auto& row = doc["data"][0];
  EXPECT_EQ(row["a"], 2.5);
  EXPECT_TRUE(row["b"].is_null());
  EXPECT_TRUE(row["c"].is_null());
  EXPECT_EQ(row["d"], "q\"\\\n\x01 \xEF\xBF\xBD");  // invalid UTF-8 became U+FFFD
  EXPECT_EQ(row["e"], "AAH+/w==");                  // standard base64
  EXPECT_EQ(row["f"], std::numeric_limits<int64_t>::min());
}

TEST(ResultEncoderTest, JsonWarningAndTruncation) {
  std::string out = Encode(ResultFormat::kJson, {{"x", ""}}, {{int64_t{1}}}, true, "cut \"off\"");
  auto doc = nlohmann::json::parse(out);
  EXPECT_EQ(doc["truncated"], true);
  EXPECT_EQ(doc["warning"], "cut \"off\"");
  EXPECT_EQ(doc["rowCount"], 1);
}

TEST(ResultEncoderTest, Csv) {
  std::string out = Encode(ResultFormat::kCsv, {{"id", ""}, {"note, \"quoted\"", ""}, {"v", ""}},
                           {{int64_t{1}, std::string("plain"), 1.5},
                            {int64_t{2}, std::string("a,b \"c\"\r\nd"), std::monostate{}},
                            {int64_t{3}, std::string("bad\xc3"), std::nan("")}});
  EXPECT_EQ(out,
            "id,\"note, \"\"quoted\"\"\",v\r\n"
            "1,plain,1.5\r\n"
            "2,\"a,b \"\"c\"\"\r\nd\",\r\n"
            "3,bad\xEF\xBF\xBD,\r\n");
  ResultEncoder e(ResultFormat::kCsv, Meta());
  EXPECT_EQ(e.content_type(), "text/csv; charset=utf-8; header=present");
}

TEST(ResultEncoderTest, Ndjson) {
  std::string out = Encode(ResultFormat::kNdjson, {{"id", ""}, {"s", ""}},
                           {{int64_t{1}, std::string("x")}, {int64_t{2}, std::string("y\n")}});
  EXPECT_EQ(out, "{\"id\":1,\"s\":\"x\"}\n{\"id\":2,\"s\":\"y\\n\"}\n");
  ResultEncoder e(ResultFormat::kNdjson, Meta());
  EXPECT_EQ(e.content_type(), "application/x-ndjson");
}

TEST(ResultEncoderTest, FormatNames) {
  EXPECT_EQ(*ParseResultFormat("csv"), ResultFormat::kCsv);
  EXPECT_EQ(ParseResultFormat("xml").status().message(),
            "\"format\" must be \"json\", \"csv\" or \"ndjson\"");
}

TEST(Utf8Test, SanitizerRejectsOverlongsAndSurrogates) {
  std::string out;
  AppendUtf8Sanitized(out, "ok \xc3\xa9 \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xf0\x9f\x98\x80");
  EXPECT_EQ(out,
            "ok \xc3\xa9 \xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD "
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD \xf0\x9f\x98\x80");
}

// ---------------------------------------------------------------------------

GatewayOptions Opts() {
  GatewayOptions o;
  o.max_rows = 100;
  o.max_query_bytes = 64;
  return o;
}

TEST(ParseQueryBodyTest, FullBody) {
  auto b = ParseQueryBody(
      R"({"query":"SELECT ?1, ?2","database":"sales","parameters":[1,"x",null,2.5,true,18446744073709551615],"maxRows":5,"format":"csv"})",
      Opts());
  ASSERT_FALSE(b.ok());  // 2^64-1 is out of range
  EXPECT_EQ(b.status().message(), "\"parameters\"[5] is out of the 64-bit integer range");
  b = ParseQueryBody(
      R"({"query":"SELECT ?1, ?2","database":"sales","parameters":[1,"x",null,2.5,true],"maxRows":5,"format":"csv"})",
      Opts());
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->sql, "SELECT ?1, ?2");
  EXPECT_EQ(b->database, "sales");
  ASSERT_EQ(b->params.size(), 5u);
  EXPECT_EQ(std::get<int64_t>(b->params[0]), 1);
  EXPECT_EQ(std::get<std::string>(b->params[1]), "x");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(b->params[2]));
  EXPECT_EQ(std::get<double>(b->params[3]), 2.5);
  EXPECT_EQ(std::get<int64_t>(b->params[4]), 1);
  EXPECT_EQ(b->max_rows, 5);
  EXPECT_EQ(b->format, ResultFormat::kCsv);
}

TEST(ParseQueryBodyTest, Defaults) {
  auto b = ParseQueryBody(R"({"query":"SELECT 1"})", Opts());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->database, "analytics");
  EXPECT_EQ(b->max_rows, 100);
  EXPECT_EQ(b->format, ResultFormat::kJson);
  EXPECT_EQ(ParseQueryBody(R"({"query":"SELECT 1","maxRows":100000})", Opts())->max_rows, 100);
}

struct BadBody {
  const char* body;
  const char* message;
};

TEST(ParseQueryBodyTest, Rejections) {
  const BadBody cases[] = {
      {"", "the request body is not valid JSON"},
      {"{\"query\":", "the request body is not valid JSON"},
      {"[1]", "the request body must be a JSON object"},
      {R"({"query":"SELECT 1","sql":"x"})",
       "unknown field \"sql\" (expected query, database, parameters, maxRows, format)"},
      {R"({"database":"x"})", "missing field \"query\""},
      {R"({"query":1})", "\"query\" must be a string"},
      {R"({"query":"   "})", "\"query\" is empty"},
      {R"({"query":"SELECT 1","query":"DROP TABLE t"})", "member \"query\" appears twice"},
      {R"({"query":"SELECT 1","database":7})", "\"database\" must be a string"},
      {R"({"query":"SELECT 1","database":""})", "\"database\" must be 1 to 128 bytes long"},
      {R"({"query":"SELECT 1","parameters":{}})", "\"parameters\" must be an array"},
      {R"({"query":"SELECT 1","parameters":[[1]]})",
       "\"parameters\"[0] must be a string, number, boolean or null"},
      {R"({"query":"SELECT 1","maxRows":0})", "\"maxRows\" must be a positive integer"},
      {R"({"query":"SELECT 1","maxRows":-3})", "\"maxRows\" must be a positive integer"},
      {R"({"query":"SELECT 1","maxRows":1.5})", "\"maxRows\" must be a positive integer"},
      {R"({"query":"SELECT 1","maxRows":"10"})", "\"maxRows\" must be a positive integer"},
      {R"({"query":"SELECT 1","format":"xml"})",
       "\"format\" must be \"json\", \"csv\" or \"ndjson\""},
      {R"({"query":"SELECT 1","format":1})", "\"format\" must be a string"},
  };
  for (const BadBody& c : cases) {
    auto b = ParseQueryBody(c.body, Opts());
    ASSERT_FALSE(b.ok()) << c.body;
    EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument) << c.body;
    EXPECT_EQ(b.status().message(), c.message) << c.body;
  }
}

TEST(ParseQueryBodyTest, NestedRepeatsAreNotTopLevelRepeats) {
  // Only top-level members are checked for repeats; none here.
  EXPECT_TRUE(
      ParseQueryBody(R"({"query":"SELECT 1","parameters":["query","query"]})", Opts()).ok());
}

TEST(ParseQueryBodyTest, QueryTooLong) {
  auto b = ParseQueryBody("{\"query\":\"" + std::string(65, 'x') + "\"}", Opts());
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(b.status().message(), "the query is longer than the limit of 64 bytes");
}

TEST(QueryIdTest, LooksLikeAUuidV4AndIsRandom) {
  std::string a = NewQueryId(), b = NewQueryId();
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[8], '-');
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace lakegate::gateway
