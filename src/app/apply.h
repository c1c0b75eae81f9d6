// Apply: reconciles the state store with a stack file, like a CloudFormation
// change set. Resource servers are made to match the file exactly; clients are
// matched by name: missing ones are created (with a new secret written once,
// 0600, to <secrets_dir>/<name>.json), changed ones updated, and clients that
// an earlier apply created but the file no longer lists are deleted. Clients
// created by hand with `lakegate client create` are left alone unless the file
// names them. The governance sections (roles, filters, tags) are merged into
// the latest policy version (catalog/declared_policy.h: objects the file
// declares replace those of the same name; objects made with the CLI stay)
// and saved as a new version when the result differs. All store writes happen in one
// transaction; running it twice changes nothing the second time.
#pragma once

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "config/stack_config.h"
#include "oauth/client_secret.h"
#include "store/store.h"

namespace lakegate::app {

struct Change {
  enum class Kind { kCreate, kUpdate, kDelete };
  Kind kind;
  std::string object;  // "resource-server" | "client" | "policy"
  std::string name;
  std::string detail;  // human-readable: what changes
};

struct ApplyResult {
  std::vector<Change> changes;
  size_t unchanged = 0;
  std::vector<std::string> secret_files;  // written by this apply
};

// With `dry_run` nothing is written and no secret is generated.
Result<ApplyResult> ApplyStack(const config::StackConfig& stack, store::Store& store,
                               const oauth::SecretHasher& hasher, const Clock& clock,
                               const std::string& secrets_dir, bool dry_run);

// Where new client secrets are written: <directory of the stack file>/secrets.
std::string SecretsDir(const config::StackConfig& stack);

// Prints the change set, one line a change ("+ create client etl-service ...").
std::string FormatChanges(const ApplyResult& result, bool dry_run);

// Writes {"client_id": ..., "client_secret": ...} to <secrets_dir>/<name>.json,
// atomically with mode 0600. Returns the path.
Result<std::string> WriteSecretFile(const std::string& secrets_dir, const std::string& name,
                                    const std::string& client_id, const SecretString& secret);

}  // namespace lakegate::app
