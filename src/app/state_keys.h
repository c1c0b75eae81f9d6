// The two keys that stay outside the state store: the secret-hash key (client
// secrets are stored as HMACs under it) and the column-mask key (keyed-hash
// masks). A dump of the database alone therefore allows no offline check of a
// secret. Every node sharing a store must use the same keys; the store keeps a
// check value of each (an HMAC of a fixed label under the key, never the key)
// so that a node with another key refuses to start instead of failing every
// login.
//
// Thread-safe (no shared state).
#pragma once

#include <string>

#include "common/secret_string.h"
#include "common/status.h"
#include "config/stack_config.h"
#include "store/store.h"

namespace lakegate::app {

// Which key: where it comes from and what it is called in messages.
enum class StateKey { kSecretHash, kMask };

// Loads the key, from $LAKEGATE_HASH_KEY / $LAKEGATE_MASK_KEY (base64url of 32
// bytes) when set, else from its file (stack.state.hash_key_file /
// mask_key_file, default <state_dir>/hash.key / mask.key), creating the file
// (0600) when neither exists and the store has never seen a key; then checks
// it against the store's check value, recording it on first use.
// kFailedPrecondition, saying which key and how to fix it, when the key
// differs from the one the store was set up with or the file is missing
// while the store already has a key; kInvalidArgument when the key is
// malformed; the store's failures otherwise.
Result<SecretString> LoadStateKey(StateKey which, const config::StackConfig& stack,
                                  store::Store& store);

// The file `which` is read from for `stack` (for messages and docs).
std::string StateKeyFile(StateKey which, const config::StackConfig& stack);

}  // namespace lakegate::app
