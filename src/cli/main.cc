// lakegate: one binary for the server, the administration and the client side.
#include <CLI/CLI.hpp>

#include "cli/admin_commands.h"
#include "cli/client_commands.h"
#include "cli/exit_codes.h"
#include "cli/load_command.h"
#include "cli/policy_commands.h"
#include "cli/server_commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "lakegate: a self-hosted OAuth 2.0 client-credentials server and governed SQL gateway.\n"
      "Start with `lakegate demo`; every command has --help."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lakegate 0.1.0");
  lakegate::cli::AddDemoCommand(app);
  lakegate::cli::AddServeCommand(app);
  lakegate::cli::AddApplyCommand(app);
  lakegate::cli::AddClientCommands(app);
  lakegate::cli::AddKeyCommands(app);
  lakegate::cli::AddTokenCommand(app);
  lakegate::cli::AddQueryCommand(app);
  lakegate::cli::AddLoadCommand(app);
  lakegate::cli::AddPolicyCommands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a subcommand failed and already said why
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return lakegate::cli::kExitUsage;
  }
  return 0;
}
