// What every store-backed subcommand needs: the stack file, its state store
// and the secret hasher (and access-key sealer), opened from --config (default $LAKEGATE_CONFIG or
// ./lakegate-demo/stack.yaml) and --state. On failure these print the reason and end the
// subcommand (cli::Exit).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "config/stack_config.h"
#include "oauth/access_key.h"
#include "oauth/client_secret.h"
#include "store/store.h"

namespace lakegate::cli {

struct Context {
  config::StackConfig stack;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<oauth::SecretHasher> hasher;
  std::unique_ptr<oauth::AccessKeySealer> sealer;  // under a sub-key of the hasher's key
};

// Adds --config,-c to `cmd`, storing into `path` (initialized to the default),
// and --state (AddStateOption).
void AddConfigOption(CLI::App* cmd, std::string& path);

// Adds --state URL to `cmd`: the state store to act on, overriding
// $LAKEGATE_STATE_URL and the stack file's state.url. One process runs one
// subcommand, so the value is kept for OpenContext rather than in each
// command's flags.
void AddStateOption(CLI::App* cmd);

// The --state value given on the command line ("" when absent).
const std::string& StateUrlFlag();

// Loads the stack file and opens its store (--state, else $LAKEGATE_STATE_URL,
// else state.url, else SQLite in state_dir) with the secret-hash key checked
// against it; exits the subcommand on failure.
Context OpenContext(const std::string& config_path);

}  // namespace lakegate::cli
