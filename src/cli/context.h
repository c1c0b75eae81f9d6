// What every store-backed subcommand needs: the stack file, its state store
// and the secret hasher, opened from --config (default $LAKEGATE_CONFIG or
// ./lakegate-demo/stack.yaml). On failure these print the reason and end the
// subcommand (cli::Exit).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "config/stack_config.h"
#include "oauth/client_secret.h"
#include "store/store.h"

namespace lakegate::cli {

struct Context {
  config::StackConfig stack;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<oauth::SecretHasher> hasher;
};

// Adds --config,-c to `cmd`, storing into `path` (initialized to the default).
void AddConfigOption(CLI::App* cmd, std::string& path);

// Loads the stack file and opens its store; exits the subcommand on failure.
Context OpenContext(const std::string& config_path);

}  // namespace lakegate::cli
