#include "client/api_failure.h"

#include <iterator>

namespace lakegate::client {
namespace {

constexpr ReasonInfo kApiFailureInfos[] = {
    {.name = "no_credentials"},     {.name = "token_refused"}, {.name = "token_endpoint_error"},
    {.name = "malformed_response"}, {.name = "query_failed"},
};
constexpr ReasonDomain kApiFailureDomain("client", kApiFailureInfos,
                                         static_cast<int>(std::size(kApiFailureInfos)));

}  // namespace

const ReasonDomain& ReasonDomainOf(ApiFailure) { return kApiFailureDomain; }

}  // namespace lakegate::client
