#include "store/store_failure.h"

namespace lakegate::store {
namespace {

constexpr ReasonInfo kStoreFailureInfos[] = {
    // The message names the database host; clients only learn that it is away.
    {"unreachable", "", "the state store is unreachable; the change was not made, retry later"},
};
constexpr ReasonDomain kStoreFailureDomain("store", kStoreFailureInfos,
                                           static_cast<int>(sizeof(kStoreFailureInfos) /
                                                            sizeof(kStoreFailureInfos[0])));

}  // namespace

const ReasonDomain& ReasonDomainOf(StoreFailure) { return kStoreFailureDomain; }

}  // namespace lakegate::store
