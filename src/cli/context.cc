#include "cli/context.h"

#include <cstdlib>

#include "app/state_keys.h"
#include "app/stores.h"
#include "cli/exit_codes.h"
#include "common/files.h"

namespace lakegate::cli {
namespace {

std::string DefaultConfigPath() {
  if (const char* env = std::getenv("LAKEGATE_CONFIG"); env && *env) return env;
  return "./lakegate-demo/stack.yaml";
}

std::string& MutableStateUrlFlag() {
  static std::string url;
  return url;
}

}  // namespace

void AddConfigOption(CLI::App* cmd, std::string& path) {
  path = DefaultConfigPath();
  cmd->add_option("--config,-c", path,
                  "Stack file whose state store to use (default $LAKEGATE_CONFIG or "
                  "./lakegate-demo/stack.yaml)");
  AddStateOption(cmd);
}

void AddStateOption(CLI::App* cmd) {
  cmd->add_option("--state", MutableStateUrlFlag(),
                  "State store URL, e.g. postgresql://USER@HOST:5432/DB?sslmode=verify-full "
                  "(default $LAKEGATE_STATE_URL, else the stack file's state.url, else SQLite in "
                  "state_dir)");
}

const std::string& StateUrlFlag() { return MutableStateUrlFlag(); }

Context OpenContext(const std::string& config_path) {
  Context ctx;
  auto stack = config::LoadStackFile(config_path);
  if (!stack.ok()) {
    if (stack.status().code() == StatusCode::kNotFound) {
      Exit(Fail("no stack file at " + config_path +
                "; pass --config FILE, set LAKEGATE_CONFIG, or run `lakegate demo` first"));
    }
    Exit(Fail(stack.status()));
  }
  ctx.stack = std::move(*stack);
  if (Status s = MakeDirectories(ctx.stack.state_dir, 0700); !s.ok()) Exit(Fail(s));
  auto store = app::OpenStore(app::ChooseStoreUrl(StateUrlFlag(), ctx.stack));
  if (!store.ok()) Exit(Fail(store.status()));
  ctx.store = std::move(*store);
  auto key = app::LoadStateKey(app::StateKey::kSecretHash, ctx.stack, *ctx.store);
  if (!key.ok()) Exit(Fail(key.status()));
  ctx.sealer = std::make_unique<oauth::AccessKeySealer>(*key);
  ctx.hasher = std::make_unique<oauth::SecretHasher>(std::move(*key));
  return ctx;
}

}  // namespace lakegate::cli
