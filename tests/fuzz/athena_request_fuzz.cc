// Fuzzes what the Athena endpoint reads from a request before any operation
// runs (gateway/athena_api.h): the REST-JSON protocol's method, path, query
// and body turned into an operation and its JSON input, and the statement
// type Athena reports for a query string.
//
// Input: a selector byte (the method), the raw path and the raw query, one a
// line, then the body.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fuzz_target.h"
#include "gateway/athena_api.h"
#include "http/message.h"

namespace gateway = lakegate::gateway;
namespace http = lakegate::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lakegate::fuzz::Input input(data, size);
  static constexpr http::Method kMethods[] = {http::Method::kGet, http::Method::kPost,
                                              http::Method::kHead, http::Method::kDelete};
  const http::Method method = kMethods[input.TakeByte() % 4];
  const std::string_view path = input.TakeLine();
  const std::string_view query = input.TakeLine();
  const std::string_view body = input.rest();

  // An operation found carries its input as a JSON object: the body's
  // members with the path's and query's merged in.
  auto operation = gateway::ParseRestOperation(method, path, query, body);
  if (operation.ok()) {
    FUZZ_CHECK(!operation->operation.empty());
    const nlohmann::json parsed = nlohmann::json::parse(operation->input, nullptr, false);
    FUZZ_CHECK(parsed.is_object());
  }

  // The statement type is one of Athena's three.
  const std::string_view type = gateway::AthenaStatementType(body);
  FUZZ_CHECK(type == "DDL" || type == "DML" || type == "UTILITY");
  return 0;
}
