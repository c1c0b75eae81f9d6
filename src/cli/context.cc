#include "cli/context.h"

#include <cstdlib>

#include "app/stores.h"
#include "cli/exit_codes.h"
#include "common/files.h"

namespace lakegate::cli {
namespace {

std::string DefaultConfigPath() {
  if (const char* env = std::getenv("LAKEGATE_CONFIG"); env && *env) return env;
  return "./lakegate-demo/stack.yaml";
}

}  // namespace

void AddConfigOption(CLI::App* cmd, std::string& path) {
  path = DefaultConfigPath();
  cmd->add_option("--config,-c", path,
                  "Stack file whose state store to use (default $LAKEGATE_CONFIG or "
                  "./lakegate-demo/stack.yaml)");
}

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
  auto store = app::OpenStore(app::DefaultStoreUrl(ctx.stack.state_dir));
  if (!store.ok()) Exit(Fail(store.status()));
  ctx.store = std::move(*store);
  auto key = oauth::LoadOrCreateHashKey(ctx.stack.state_dir + "/hash.key");
  if (!key.ok()) Exit(Fail(key.status()));
  ctx.hasher = std::make_unique<oauth::SecretHasher>(std::move(*key));
  return ctx;
}

}  // namespace lakegate::cli
