// Test helpers for Status: assert the code and a part of the message (Abseil
// status_matchers style: "not OK" is not an assertion).
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "common/status.h"

namespace lakegate::testing {

// EXPECT_TRUE(HasStatus(s, StatusCode::kInvalidArgument, "line 3"));
inline ::testing::AssertionResult HasStatus(const Status& status, StatusCode code,
                                            std::string_view substring) {
  if (status.code() != code) {
    return ::testing::AssertionFailure()
           << "expected code " << StatusCodeName(code) << ", got " << status.ToString();
  }
  if (status.message().find(substring) == std::string::npos) {
    return ::testing::AssertionFailure()
           << "message \"" << status.message() << "\" lacks \"" << substring << "\"";
  }
  return ::testing::AssertionSuccess();
}

// EXPECT_TRUE(HasReason(s, jose::TokenFailure::kExpired)).
template <StatusReason E>
::testing::AssertionResult HasReason(const Status& status, E reason) {
  if (status.Is(reason)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected reason " << ReasonDomainOf(reason).name() << "."
                                       << ReasonDomainOf(reason).Info(static_cast<int>(reason)).name
                                       << ", got " << status.ToString();
}

}  // namespace lakegate::testing
