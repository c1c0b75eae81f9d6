#include "app/state_keys.h"

#include <cstdlib>
#include <optional>
#include <utility>

#include "common/files.h"
#include "oauth/client_secret.h"

namespace lakegate::app {
namespace {

struct KeyKind {
  const char* env;        // environment variable holding the key itself
  const char* setting;    // store setting with the check value
  const char* label;      // HMAC label of the check value
  const char* file_name;  // default file in state_dir
  const char* what;       // in messages
};

const KeyKind& KindOf(StateKey which) {
  static constexpr KeyKind kHash{"LAKEGATE_HASH_KEY", "hash_key_check", "secret-hash key",
                                 "hash.key", "secret-hash key"};
  static constexpr KeyKind kMask{"LAKEGATE_MASK_KEY", "mask_key_check", "column-mask key",
                                 "mask.key", "column-mask key"};
  return which == StateKey::kSecretHash ? kHash : kMask;
}

// Where the key came from, for messages.
struct LoadedKey {
  SecretString key;
  std::string source;
};

Result<std::optional<LoadedKey>> ReadKey(const KeyKind& kind, const std::string& file) {
  if (const char* env = std::getenv(kind.env); env != nullptr && *env != '\0') {
    std::optional<SecretString> key = oauth::DecodeHashKey(env);
    if (!key) {
      return InvalidArgumentError(std::string("$") + kind.env + " is not a " + kind.what +
                                  ": it must be 32 bytes written as base64url (43 characters), "
                                  "like the key files lakegate creates");
    }
    return std::optional<LoadedKey>(LoadedKey{std::move(*key), std::string("$") + kind.env});
  }
  Result<std::string> text = ReadFile(file);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return std::optional<LoadedKey>();
    return text.status();
  }
  std::optional<SecretString> key = oauth::DecodeHashKey(*text);
  if (!key) {
    return InvalidArgumentError(std::string(kind.what) + " file " + file +
                                " is corrupt; restore it from a backup or copy it from another "
                                "node of this stack");
  }
  return std::optional<LoadedKey>(LoadedKey{std::move(*key), file});
}

}  // namespace

std::string StateKeyFile(StateKey which, const config::StackConfig& stack) {
  const std::string& configured =
      which == StateKey::kSecretHash ? stack.state.hash_key_file : stack.state.mask_key_file;
  return configured.empty() ? stack.state_dir + "/" + KindOf(which).file_name : configured;
}

Result<SecretString> LoadStateKey(StateKey which, const config::StackConfig& stack,
                                  store::Store& store) {
  const KeyKind& kind = KindOf(which);
  const std::string file = StateKeyFile(which, stack);
  LG_ASSIGN_OR_RETURN(std::optional<LoadedKey> loaded, ReadKey(kind, file));
  if (!loaded) {
    LG_ASSIGN_OR_RETURN(std::optional<std::string> check, store.GetSetting(kind.setting));
    if (check) {
      return FailedPreconditionError(
          std::string("the state store already has a ") + kind.what + ", but " + file +
          " does not exist: copy that file (mode 0600) from a node of this stack, or set $" +
          kind.env + "; a new key would make every stored " +
          (which == StateKey::kSecretHash ? "client secret fail to verify"
                                          : "masked value change") +
          " (docs/high-availability.md)");
    }
    LG_ASSIGN_OR_RETURN(SecretString created, oauth::LoadOrCreateHashKey(file));
    loaded = LoadedKey{std::move(created), file};
  }
  const std::string expected = oauth::KeyCheckValue(loaded->key, kind.label);
  bool matches = true;
  LG_RETURN_IF_ERROR(store.RunInTransaction([&](store::Store& tx) -> Status {
    LG_ASSIGN_OR_RETURN(std::optional<std::string> check, tx.GetSetting(kind.setting));
    if (!check) return tx.PutSetting(kind.setting, expected);
    matches = *check == expected;
    return Status::Ok();
  }));
  if (!matches) {
    return FailedPreconditionError(
        std::string("the ") + kind.what + " from " + loaded->source +
        " is not the one this state store was set up with, so " +
        (which == StateKey::kSecretHash ? "no stored client secret would verify"
                                        : "masked values would differ from the other nodes'") +
        "; give this node the same key as the others (copy the key file, mode 0600, or set $" +
        kind.env + "; see docs/high-availability.md)");
  }
  return std::move(loaded->key);
}

}  // namespace lakegate::app
