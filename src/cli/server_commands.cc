#include "cli/server_commands.h"

#include <csignal>
#include <filesystem>
#include <iostream>
#include <memory>

#include "app/apply.h"
#include "app/demo.h"
#include "app/server_app.h"
#include "app/stores.h"
#include "app/trino_link.h"
#include "cli/context.h"
#include "cli/exit_codes.h"
#include "common/files.h"
#include "common/strings.h"
#include "config/stack_config.h"

namespace lakegate::cli {
namespace {

struct ServeFlags {
  std::string config_path;
  int port = -1;
  std::string listen;
  std::string components = "auth,query";
  std::string node_name;   // --node, else $LAKEGATE_NODE_NAME
  std::string engine_url;  // --engine, else the stack file's engine.url
  int tls_port = -1;       // demo --tls-port
};

// --engine URL on a serving command.
void AddEngineOption(CLI::App* cmd, std::string& engine_url) {
  cmd->add_option("--engine", engine_url,
                  "The query engine's URL, e.g. postgresql://USER:PW@HOST:5432/DB (the lake lives "
                  "in that PostgreSQL database, one schema per catalog database); overrides "
                  "engine.url in the stack file (default: SQLite over query.lake_dir)");
}

// --node NAME on a serving command; $LAKEGATE_NODE_NAME when the flag is absent.
void AddNodeOption(CLI::App* cmd, std::string& node_name) {
  cmd->add_option("--node", node_name,
                  "This node's name in audit lines and metrics (default: $LAKEGATE_NODE_NAME, "
                  "else HOST:PORT)")
      ->envname("LAKEGATE_NODE_NAME");
}

// Serves until SIGINT/SIGTERM. `banner` prints what to do once listening.
int Serve(app::ServeOptions options, const std::function<void(const app::ServerApp&)>& banner) {
  app::BlockTerminationSignals();  // before any thread starts
  app::ServerApp server(std::move(options));
  Status started = server.Start();
  if (!started.ok()) return Fail(started);
  banner(server);
  int sig = app::WaitForTerminationSignal();
  std::cerr << "lakegate: received " << (sig == SIGINT ? "SIGINT" : "SIGTERM")
            << ", finishing in-flight requests\n";
  server.Stop();
  return kExitOk;
}

void PrintServeBanner(const app::ServerApp& server, bool auth, bool query) {
  std::cout << "lakegate listening on " << server.base_url() << "\n";
  if (auth) {
    std::cout << "  token endpoint: " << server.base_url() << "/oauth2/token\n"
              << "  JWKS:           " << server.base_url() << "/.well-known/jwks.json\n";
  }
  if (query) std::cout << "  query API:      " << server.base_url() << "/v1/query\n";
  if (server.issuer() != server.base_url()) {
    std::cout << "  issuer (iss):   " << server.issuer() << "\n";
  }
  std::cout << std::flush;
}

}  // namespace

void AddServeCommand(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "Apply a stack file to the state store and serve it until SIGINT/SIGTERM");
  cmd->add_option("--config,-c", flags->config_path, "Stack file (YAML)")->required();
  cmd->add_option("--port,-p", flags->port,
                  "Port to listen on (overrides listen.port; 0 = any free port)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--listen", flags->listen, "Address to listen on (overrides listen.address)");
  cmd->add_option("--components", flags->components,
                  "What this process serves: auth (token, introspection, revocation, JWKS, "
                  "metadata), query (query API, catalog, admin API) or both")
      ->capture_default_str();
  AddNodeOption(cmd, flags->node_name);
  AddStateOption(cmd);
  AddEngineOption(cmd, flags->engine_url);
  cmd->footer(
      "Examples:\n"
      "  lakegate serve --config stack.yaml --engine postgresql://lakegate@db:5432/lake\n"
      "  lakegate serve --config stack.yaml --port 8443\n"
      "  lakegate serve --config stack.yaml --state postgresql://lakegate@db:5432/lakegate\n"
      "  lakegate serve --config stack.yaml --components auth --port 8080\n"
      "  lakegate serve --config stack.yaml --components query --port 8081\n"
      "Separate processes share the state store (state_dir, or --state / state.url for "
      "PostgreSQL shared by many nodes) and need `issuer:` in the stack file.");
  cmd->callback([flags] {
    bool auth = false, query = false;
    for (std::string_view part : SplitNonEmpty(flags->components, ',')) {
      std::string_view name = TrimWhitespace(part);
      if (name == "auth") {
        auth = true;
      } else if (name == "query") {
        query = true;
      } else {
        Exit(Fail("--components: unknown component '" + std::string(name) +
                  "'; use auth, query or auth,query"));
      }
    }
    auto stack = config::LoadStackFile(flags->config_path);
    if (!stack.ok()) Exit(Fail(stack.status()));
    if (!flags->engine_url.empty()) stack->query.engine_url = flags->engine_url;
    app::ServeOptions options{std::move(*stack), flags->port, flags->listen, false};
    options.serve_auth = auth;
    options.serve_query = query;
    options.node_name = flags->node_name;
    options.state_url = StateUrlFlag();
    int code = Serve(std::move(options), [auth, query](const app::ServerApp& server) {
      PrintServeBanner(server, auth, query);
    });
    if (code != kExitOk) Exit(code);
  });
}

void AddDemoCommand(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  flags->config_path = "./lakegate-demo";
  flags->port = 8080;
  CLI::App* cmd = app.add_subcommand(
      "demo",
      "Create (first run) or reuse the demo stack in DIR and serve it: clients etl-service, "
      "reporting-service, monitoring-service with the athena-api scopes, and analytics-service "
      "(a row filter, a mask and a tag grant)");
  cmd->add_option("--dir,-d", flags->config_path, "Demo directory")->capture_default_str();
  cmd->add_option("--port,-p", flags->port, "Port (0 = any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--listen", flags->listen, "Address to listen on (default 127.0.0.1)");
  cmd->add_option("--tls-port", flags->tls_port,
                  "Also serve every endpoint over HTTPS on this port (0 = any free port): a "
                  "self-signed CA made on first run, DIR/tls/ca.pem; client certificates are "
                  "optional, and a token requested with one is bound to it (RFC 8705)")
      ->check(CLI::Range(0, 65535));
  AddNodeOption(cmd, flags->node_name);
  AddStateOption(cmd);
  AddEngineOption(cmd, flags->engine_url);
  cmd->footer(
      "Examples:\n"
      "  lakegate demo --dir /tmp/demo --port 9090\n"
      "  lakegate demo --dir /tmp/demo --port 9090 --engine postgresql://USER:PW@HOST:5432/DB\n"
      "  bash scripts/trino.sh start && "
      "lakegate demo --dir /tmp/demo --port 8080 --engine trino://127.0.0.1:PORT\n"
      "  lakegate demo --dir /tmp/demo --port 9090 --state postgresql://USER:PW@HOST:5432/DB\n"
      "  lakegate demo --dir /tmp/demo --port 9091 --state <the same URL>   # a second node\n"
      "  lakegate demo --dir /tmp/demo --port 9090 --tls-port 9443        # HTTPS and mTLS too\n"
      "With --state the stack lives in that database: the first node creates it, later nodes\n"
      "(same DIR, same URL) join it, and DIR/stack.yaml records the URL for admin commands.");
  cmd->callback([flags] {
    std::string dir = std::filesystem::absolute(flags->config_path).lexically_normal().string();
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    // A new stack records the state store it was created in (the flag, else
    // $LAKEGATE_STATE_URL), so admin commands with --config find it.
    auto path = app::PrepareDemoDir(dir, flags->port, app::ExplicitStoreUrl(StateUrlFlag()),
                                    flags->engine_url);
    if (!path.ok()) Exit(Fail(path.status()));
    auto stack = config::LoadStackFile(*path);
    if (!stack.ok()) Exit(Fail(stack.status()));
    if (!flags->engine_url.empty()) stack->query.engine_url = flags->engine_url;
    // A Trino lake is loaded once the server runs: Trino authenticates the
    // load with the server's own token.
    const bool on_trino = app::IsTrinoEngineUrl(stack->query.engine());
    if (!on_trino) {
      if (Status s = app::PrepareDemoData(stack->query.engine()); !s.ok()) Exit(Fail(s));
    }
    std::string secrets = app::SecretsDir(*stack);
    std::string ca_file;
    if (flags->tls_port >= 0) {
      auto tls = app::PrepareDemoTls(dir);
      if (!tls.ok()) Exit(Fail(tls.status()));
      app::EnableDemoTls(*stack, *tls, flags->tls_port);
      ca_file = tls->ca_file;
    }
    app::ServeOptions options{*stack, flags->port, flags->listen, false};
    options.node_name = flags->node_name;
    options.state_url = StateUrlFlag();
    options.demo_access_keys = true;
    options.load_demo_data = on_trino;
    int code = Serve(std::move(options), [&](const app::ServerApp& server) {
      std::string url = server.base_url();
      std::cout << "\nlakegate demo is running at " << url << "\n";
      if (!server.tls_base_url().empty()) {
        std::cout << "and over HTTPS at " << server.tls_base_url() << " (CA: " << ca_file
                  << "; a client certificate is optional and binds the token to it)\n";
      }
      std::cout << "\n"
                << "Stack file:   " << *path << "\n"
                << "Secrets:      " << secrets
                << "/<client>.json, AWS access keys in <client>-aws.json (mode 0600)\n"
                << "Clients:\n";
      for (const auto& c : stack->clients) {
        auto text = ReadFile(secrets + "/" + c.name + ".json");
        std::string id = "(secret file missing: run `lakegate client rotate-secret " + c.name +
                         " --config " + *path + "`)";
        if (text.ok()) {
          auto pos = text->find("\"client_id\": \"");
          if (pos != std::string::npos) {
            pos += 14;
            id = text->substr(pos, text->find('"', pos) - pos);
          }
        }
        std::cout << "  " << c.name << std::string(20 - std::min<size_t>(19, c.name.size()), ' ')
                  << "client_id " << id << "  scopes: ";
        for (size_t i = 0; i < c.scopes.size(); ++i) std::cout << (i ? " " : "") << c.scopes[i];
        std::cout << "\n";
      }
      std::string f = secrets + "/reporting-service.json";
      std::cout
          << "\nGet a token, then query (needs curl and jq):\n"
          << "  TOKEN=$(curl -s -u \"$(jq -r .client_id " << f << "):$(jq -r .client_secret " << f
          << ")\" \\\n      -d grant_type=client_credentials " << url
          << "/oauth2/token | jq -r .access_token)\n"
          << "  curl -s -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' "
             "\\\n      -d '{\"query\": \"SELECT * FROM members LIMIT 10\"}' "
          << url << "/query-client-creds\n\n"
          << "Or with the CLI:  LAKEGATE_ENDPOINT=" << url << " LAKEGATE_SECRETS_FILE=" << f
          << " lakegate query 'SELECT region, count(*) FROM members GROUP BY region'\n\n"
          << "Keys: " << url << "/.well-known/jwks.json   Discovery: " << url
          << "/.well-known/openid-configuration\n"
          << "Stop with Ctrl-C.\n"
          << std::flush;
    });
    if (code != kExitOk) Exit(code);
  });
}

}  // namespace lakegate::cli
