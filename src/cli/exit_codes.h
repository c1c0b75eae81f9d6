// Exit codes and the error printer shared by every subcommand.
#pragma once

#include <CLI/CLI.hpp>
#include <iostream>
#include <string_view>

#include "common/status.h"

namespace lakegate::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Ends the running subcommand with `code` (main() returns it).
[[noreturn]] inline void Exit(int code) { throw CLI::RuntimeError(code); }

// Prints "lakegate: <message>" to stderr and returns kExitFailure.
inline int Fail(const Status& status) {
  std::cerr << "lakegate: " << status.message() << "\n";
  return kExitFailure;
}
inline int Fail(std::string_view message) {
  std::cerr << "lakegate: " << message << "\n";
  return kExitFailure;
}

}  // namespace lakegate::cli
