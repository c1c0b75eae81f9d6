// Fuzzes the stack file (config::ParseStack: yaml-cpp and every section
// parser), then derives the policy it declares (config::PolicyOf). Input: the
// YAML text.
#include <cstdint>
#include <string_view>

#include "config/stack_config.h"
#include "fuzz_target.h"
#include "policy/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto stack = lakegate::config::ParseStack(text, "stack.yaml", "/fuzz");
  if (!stack.ok()) {
    FUZZ_CHECK(stack.status().code() == lakegate::StatusCode::kInvalidArgument);
    return 0;
  }
  const lakegate::policy::PolicySnapshot policy = lakegate::config::PolicyOf(*stack);
  FUZZ_CHECK(lakegate::policy::ValidatePolicy(policy).ok());
  return 0;
}
