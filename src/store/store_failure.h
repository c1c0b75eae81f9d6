// Typed reasons of state-store failures that callers outside the store act
// on (http/ renders them): today only "the store cannot be reached".
#pragma once

#include "common/status.h"

namespace lakegate::store {

enum class StoreFailure {
  // The database behind the store does not answer (down, restarting, network
  // partition): kUnavailable, rendered as 503 with Retry-After. The write was
  // not made; retrying once the database is back may succeed.
  kUnreachable,
};
const ReasonDomain& ReasonDomainOf(StoreFailure);

}  // namespace lakegate::store
