// Creating clients' SigV4 access keys (oauth/access_key.h) in the state store
// and the files that hand them out: `lakegate client access-key create` and
// the demo's DIR/secrets/<client>-aws.json. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/secret_string.h"
#include "common/status.h"
#include "config/stack_config.h"
#include "oauth/access_key.h"
#include "store/store.h"

namespace lakegate::app {

struct NewAccessKey {
  store::AccessKeyRecord record;
  SecretString secret;  // shown once; the store has only the sealed copy
};

// Creates an access key for `client_id` at `now`: `access_key_id` when given
// (it must satisfy oauth::IsValidAccessKeyId), else a generated one, with
// `secret` when given (the demo re-registering its file), else a generated
// one. In one transaction with the count, so a client never gets more than
// oauth::kMaxAccessKeysPerClient keys. kFailedPrecondition (saying to delete
// one) when it has that many; kInvalidArgument for a malformed id;
// kAlreadyExists when the id is taken; kNotFound when the client is gone.
Result<NewAccessKey> CreateAccessKey(store::Store& store, const oauth::AccessKeySealer& sealer,
                                     const std::string& client_id, int64_t now,
                                     std::string access_key_id = {},
                                     std::optional<SecretString> secret = std::nullopt);

// <secrets_dir>/<client name>-aws.json
std::string AwsSecretFile(const std::string& secrets_dir, const std::string& client_name);

// Writes {"aws_access_key_id": ..., "aws_secret_access_key": ...} to
// AwsSecretFile(), atomically with mode 0600. Returns the path.
Result<std::string> WriteAwsSecretFile(const std::string& secrets_dir,
                                       const std::string& client_name,
                                       const std::string& access_key_id,
                                       const SecretString& secret);

// The demo: every client of `stack` gets an access key and its -aws.json file
// once; later runs keep both (a file whose key is missing from the store, e.g.
// a fresh state store, is registered again with the same id and secret).
// A client that already has its maximum of keys but no file is skipped.
Status EnsureDemoAccessKeys(const config::StackConfig& stack, store::Store& store,
                            const oauth::AccessKeySealer& sealer, const std::string& secrets_dir,
                            int64_t now);

}  // namespace lakegate::app
