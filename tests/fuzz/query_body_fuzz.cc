// Fuzzes the JSON body of the query API (POST /query-client-creds, /v1/query):
// gateway::ParseQueryBody with the server's default limits, plus small ones so
// the limit paths are reached.
//
// Input: a selector byte (default or small limits), then the body.
#include <cstdint>
#include <string_view>

#include "fuzz_target.h"
#include "gateway/gateway_options.h"
#include "gateway/query_service.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lakegate::fuzz::Input input(data, size);
  lakegate::gateway::GatewayOptions options;
  if (input.TakeByte() % 2 == 1) {
    options.max_rows = 5;
    options.max_query_bytes = 16;
    options.max_parameters = 2;
  }
  const std::string_view body = input.rest();
  auto parsed = lakegate::gateway::ParseQueryBody(body, options);
  if (!parsed.ok()) return 0;
  FUZZ_CHECK(!parsed->sql.empty());
  FUZZ_CHECK(parsed->sql.size() <= options.max_query_bytes);
  FUZZ_CHECK(!parsed->database.empty());
  FUZZ_CHECK(parsed->params.size() <= options.max_parameters);
  FUZZ_CHECK(parsed->max_rows >= 1 && parsed->max_rows <= options.max_rows);
  return 0;
}
