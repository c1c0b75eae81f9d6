#include "engine/engine.h"

#include <cstddef>
#include <iterator>

namespace lakegate::engine {
namespace {

// The query API's public codes (architecture §3): what a client sees for each
// reason. Load reasons have no HTTP route; their codes say what a future one
// would answer.
constexpr std::string_view kInternalMessage = "internal error; the server log has the details";
constexpr ReasonInfo kEngineFailureInfos[] = {
    {.name = "invalid_query", .public_code = "invalid_query", .http_status = 400},
    {.name = "unknown_database", .public_code = "invalid_query", .http_status = 400},
    {.name = "statement_not_allowed", .public_code = "access_denied", .http_status = 403},
    {.name = "permission_denied", .public_code = "access_denied", .http_status = 403},
    {.name = "timeout", .public_code = "query_timeout", .http_status = 408},
    {.name = "cancelled",
     .public_code = "query_timeout",
     .public_message = "the query was cancelled",
     .http_status = 408},
    {.name = "value_too_large", .public_code = "result_too_large", .http_status = 413},
    {.name = "out_of_memory", .public_code = "result_too_large", .http_status = 413},
    {.name = "memory_limit_exceeded", .public_code = "memory_limit_exceeded", .http_status = 413},
    {.name = "unavailable",
     .public_code = "unavailable",
     .public_message = "the query engine is unavailable; retry later",
     .http_status = 503},
    {.name = "invalid_name", .public_code = "invalid_query", .http_status = 400},
    {.name = "not_found", .public_code = "not_found", .http_status = 404},
    {.name = "invalid_data", .public_code = "invalid_data", .http_status = 400},
    {.name = "source_unreadable", .public_code = "invalid_data", .http_status = 400},
    {.name = "conflict", .public_code = "conflict", .http_status = 409},
    {.name = "misconfigured",
     .public_code = "internal_error",
     .public_message = kInternalMessage,
     .http_status = 500},
    {.name = "internal",
     .public_code = "internal_error",
     .public_message = kInternalMessage,
     .http_status = 500},
};
constexpr size_t kEngineFailureCount = std::size(kEngineFailureInfos);
static_assert(kEngineFailureCount == static_cast<size_t>(EngineFailure::kInternal) + 1,
              "every EngineFailure needs its ReasonInfo, in order");
constexpr ReasonDomain kEngineFailureDomain("engine", kEngineFailureInfos,
                                            static_cast<int>(kEngineFailureCount));

}  // namespace

const ReasonDomain& ReasonDomainOf(EngineFailure) { return kEngineFailureDomain; }

std::string_view StatementClassName(StatementClass c) {
  switch (c) {
    case StatementClass::kRead:
      return "read";
    case StatementClass::kWrite:
      return "write";
    case StatementClass::kAdmin:
      return "admin";
  }
  return "unknown";
}

bool IsValidDatabaseName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!alpha(name[0])) return false;
  for (char c : name) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace lakegate::engine
