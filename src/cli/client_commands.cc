#include "cli/client_commands.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/exit_codes.h"
#include "client/api_failure.h"
#include "client/client_auth.h"
#include "client/credentials.h"
#include "client/display.h"
#include "client/query_client.h"
#include "client/token_client.h"
#include "common/base64url.h"
#include "common/clock.h"
#include "common/files.h"
#include "common/secret_string.h"
#include "crypto/keys.h"
#include "http/client.h"

namespace lakegate::cli {
namespace {

using nlohmann::json;

constexpr size_t kMaxCellWidth = 40;  // table output: longer values are cut with "..."

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

// ---------------------------------------------------------------------------
// Endpoint and credentials, from flags else the environment.

struct ClientFlags {
  std::string endpoint;
  std::string client_id;
  std::string client_secret;
  std::string secrets_file;
  std::string key_file;
  std::string scope;
  bool no_cache = false;
  std::string cert_file, cert_key_file, ca_file;  // TLS (mutual TLS: RFC 8705)
  bool dpop = false;
  std::string dpop_key_file;
};

void AddClientFlags(CLI::App* cmd, ClientFlags& f) {
  cmd->add_option("--endpoint,-e", f.endpoint,
                  "Server URL, e.g. http://127.0.0.1:8080 (default $LAKEGATE_ENDPOINT)");
  cmd->add_option("--client-id", f.client_id,
                  "Client id (default $LAKEGATE_CLIENT_ID, else the secrets file's)");
  auto* secret = cmd->add_option(
      "--client-secret", f.client_secret,
      "Client secret (default $LAKEGATE_CLIENT_SECRET; prefer --secrets-file: command lines "
      "are visible to other users)");
  auto* file = cmd->add_option("--secrets-file", f.secrets_file,
                               "JSON file {\"client_id\",\"client_secret\"} as written by "
                               "`lakegate demo` (default $LAKEGATE_SECRETS_FILE)");
  auto* key = cmd->add_option("--key", f.key_file,
                              "private_key_jwt: JSON key file {\"client_id\",\"kid\","
                              "\"private_key_pem\"} as written by `lakegate demo` for "
                              "keyjwt-service; the client signs an assertion instead of sending "
                              "a secret (default $LAKEGATE_KEY_FILE)");
  secret->excludes(file);
  key->excludes(secret);
  key->excludes(file);
  auto* cert = cmd->add_option(
      "--cert", f.cert_file,
      "TLS client certificate (PEM) to present: tls_client_auth / self_signed_tls_client_auth "
      "without a secret, or with any credentials to get a certificate-bound token (RFC 8705); "
      "needs --cert-key (default $LAKEGATE_CERT)");
  auto* cert_key = cmd->add_option("--cert-key", f.cert_key_file,
                                   "Private key (PEM) of --cert (default $LAKEGATE_CERT_KEY)");
  cert->needs(cert_key);
  cert_key->needs(cert);
  cmd->add_option("--cacert", f.ca_file,
                  "PEM CA bundle to verify the server with instead of the system's, e.g. "
                  "DIR/tls/ca.pem of `lakegate demo --tls-port` (default $LAKEGATE_CACERT)");
  cmd->add_option("--scope", f.scope, "Space-separated scopes to request (default: all allowed)");
  cmd->add_flag("--no-cache", f.no_cache, "Neither read nor write the token cache");
  cmd->add_flag("--dpop", f.dpop,
                "Ask for a DPoP-bound token (RFC 9449) and prove possession of its key with a "
                "DPoP proof on every request; the key is made for the token and cached with it "
                "unless --dpop-key names one");
  cmd->add_option("--dpop-key", f.dpop_key_file,
                  "DPoP: PKCS#8 PEM file with the private key to bind tokens to (EC P-256, "
                  "Ed25519 or RSA); implies --dpop");
}

// A DPoP key file: an unencrypted PKCS#8 PEM of any key type we sign with.
Result<std::shared_ptr<const crypto::PrivateKey>> ReadDpopKey(const std::string& path) {
  LG_ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  for (crypto::Algorithm alg :
       {crypto::Algorithm::kES256, crypto::Algorithm::kEdDSA, crypto::Algorithm::kRS256}) {
    Result<crypto::PrivateKey> key = crypto::PrivateKey::FromPem(alg, pem);
    if (key.ok()) return std::make_shared<const crypto::PrivateKey>(std::move(*key));
  }
  return InvalidArgumentError("--dpop-key " + path +
                              ": not an unencrypted PKCS#8 PEM private key (BEGIN PRIVATE KEY) "
                              "of type EC P-256, Ed25519 or RSA");
}

struct Credentials {
  client::TokenClientOptions token;    // endpoint, client id, scope, certificate
  http::ClientOptions http;            // TLS files
  SecretString secret;                 // empty when none was given (a cached token may still do)
  std::optional<client::KeyFile> key;  // private_key_jwt instead of a secret
  bool use_cache = true;
};

Result<Credentials> ResolveCredentials(const ClientFlags& f) {
  Credentials c;
  const std::string endpoint = !f.endpoint.empty() ? f.endpoint : Env("LAKEGATE_ENDPOINT");
  if (endpoint.find_first_not_of('/') == std::string::npos) {
    return InvalidArgumentError(
        "no endpoint: pass --endpoint URL or set LAKEGATE_ENDPOINT (the URL `lakegate demo` "
        "prints)");
  }
  LG_ASSIGN_OR_RETURN(c.token.endpoint, client::NormalizeEndpoint(endpoint));
  c.token.client_id = !f.client_id.empty() ? f.client_id : Env("LAKEGATE_CLIENT_ID");
  c.http.user_agent = "lakegate-cli/0.1";
  c.http.cert_file = !f.cert_file.empty() ? f.cert_file : Env("LAKEGATE_CERT");
  c.http.key_file = !f.cert_key_file.empty() ? f.cert_key_file : Env("LAKEGATE_CERT_KEY");
  c.http.ca_file = !f.ca_file.empty() ? f.ca_file : Env("LAKEGATE_CACERT");
  if (c.http.cert_file.empty() != c.http.key_file.empty()) {
    return InvalidArgumentError(
        "a TLS client certificate needs its key: pass --cert and --cert-key (or set "
        "LAKEGATE_CERT and LAKEGATE_CERT_KEY) together");
  }
  if (!c.http.cert_file.empty()) {
    c.token.certificate = std::filesystem::absolute(c.http.cert_file).lexically_normal().string();
  }
  std::string secrets_file = f.secrets_file;
  std::string key_file = f.key_file;
  if (key_file.empty() && f.client_secret.empty() && secrets_file.empty() &&
      Env("LAKEGATE_CLIENT_SECRET").empty()) {
    key_file = Env("LAKEGATE_KEY_FILE");
  }
  if (!key_file.empty()) {
    LG_ASSIGN_OR_RETURN(client::KeyFile file, client::ReadKeyFile(key_file));
    if (c.token.client_id.empty()) c.token.client_id = file.client_id;
    c.key = std::move(file);
  } else if (!f.client_secret.empty()) {
    c.secret = SecretString(f.client_secret);
  } else if (secrets_file.empty()) {
    if (std::string env = Env("LAKEGATE_CLIENT_SECRET"); !env.empty()) {
      c.secret = SecretString(std::move(env));
    } else {
      secrets_file = Env("LAKEGATE_SECRETS_FILE");
    }
  }
  if (!secrets_file.empty()) {
    LG_ASSIGN_OR_RETURN(client::SecretsFile file, client::ReadSecretsFile(secrets_file));
    c.secret = std::move(file.client_secret);
    if (c.token.client_id.empty()) c.token.client_id = std::move(file.client_id);
  }
  if (c.token.client_id.empty()) {
    return InvalidArgumentError(
        "no client id: pass --client-id or --secrets-file, or set LAKEGATE_CLIENT_ID or "
        "LAKEGATE_SECRETS_FILE");
  }
  c.token.scope = f.scope;
  c.use_cache = !f.no_cache;
  c.token.dpop = f.dpop || !f.dpop_key_file.empty();
  if (!f.dpop_key_file.empty()) {
    LG_ASSIGN_OR_RETURN(c.token.dpop_key, ReadDpopKey(f.dpop_key_file));
  }
  return c;
}

// How the client authenticates: its key, else its secret, else its TLS
// client certificate, else nothing (a cached token may still do).
Result<std::unique_ptr<const client::ClientAuthenticator>> AuthenticatorOf(Credentials& c) {
  if (c.key) {
    LG_ASSIGN_OR_RETURN(std::unique_ptr<client::ClientAuthenticator> signer,
                        client::MakePrivateKeyJwt(*c.key, SystemClock::Get()));
    return std::unique_ptr<const client::ClientAuthenticator>(std::move(signer));
  }
  if (c.secret.empty() && !c.http.cert_file.empty()) {
    return std::unique_ptr<const client::ClientAuthenticator>(
        std::make_unique<client::ClientTlsAuth>());
  }
  if (c.secret.empty()) return std::unique_ptr<const client::ClientAuthenticator>();
  return std::unique_ptr<const client::ClientAuthenticator>(
      std::make_unique<client::ClientSecretBasic>(std::move(c.secret)));
}

// The client library's objects for one command.
class Session {
 public:
  Session(Credentials c, std::unique_ptr<const client::ClientAuthenticator> authenticator)
      : http_(std::move(c.http)),
        tokens_(std::move(c.token), http_, std::move(authenticator),
                client::TokenCache(c.use_cache ? client::TokenCache::DefaultDir() : "",
                                   SystemClock::Get()),
                SystemClock::Get()),
        queries_(http_, tokens_) {}

  const client::TokenClient& tokens() const { return tokens_; }
  const client::QueryClient& queries() const { return queries_; }

 private:
  const http::Client http_;
  const client::TokenClient tokens_;
  const client::QueryClient queries_;
};

// Prints a failure of the client library and returns the exit code.
int FailCall(const Status& status) {
  if (status.Is(client::ApiFailure::kNoCredentials)) {
    return Fail(
        "no client secret: pass --secrets-file or --client-secret (--key for a private_key_jwt "
        "client, --client-id with --cert and --cert-key for a tls_client_auth one), or set "
        "LAKEGATE_SECRETS_FILE, LAKEGATE_CLIENT_SECRET or LAKEGATE_KEY_FILE");
  }
  return Fail(status);
}

// ---------------------------------------------------------------------------
// Query output.

// The text of one cell for table/CSV output; nullopt for null.
std::optional<std::string> CellText(const client::Cell& cell) {
  if (cell.kind == client::Cell::Kind::kNull) return std::nullopt;
  return cell.text;
}

std::string FitCell(std::string_view s) { return client::FitToWidth(s, kMaxCellWidth); }

void PrintTable(const client::ResultSet& result) {
  const std::vector<std::string>& names = result.columns;
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> widths;
  for (const std::string& n : names) widths.push_back(client::DisplayWidth(FitCell(n)));
  for (const std::vector<client::Cell>& row : result.rows) {
    std::vector<std::string> line;
    for (size_t i = 0; i < names.size(); ++i) {
      const std::optional<std::string> text = CellText(row[i]);
      line.push_back(text ? FitCell(*text) : "NULL");
      widths[i] = std::max(widths[i], client::DisplayWidth(line.back()));
    }
    cells.push_back(std::move(line));
  }
  auto pad = [](const std::string& s, size_t width, bool right_align) {
    std::string fill(width - std::min(width, client::DisplayWidth(s)), ' ');
    return right_align ? fill + s : s + fill;
  };
  std::string out;
  if (!names.empty()) {
    for (size_t i = 0; i < names.size(); ++i) {
      out += (i == 0 ? "" : " | ") + pad(FitCell(names[i]), widths[i], false);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\n";
    for (size_t i = 0; i < names.size(); ++i) {
      out += (i == 0 ? "" : "-+-") + std::string(widths[i], '-');
    }
    out += "\n";
    for (size_t r = 0; r < cells.size(); ++r) {
      std::string line;
      for (size_t i = 0; i < names.size(); ++i) {
        const bool numeric = result.rows[r][i].kind == client::Cell::Kind::kNumber;
        line += (i == 0 ? "" : " | ") + pad(cells[r][i], widths[i], numeric);
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
    }
  }
  const int64_t count = result.row_count;
  out += "(" + std::to_string(count) + (count == 1 ? " row)" : " rows)") + "\n";
  if (result.truncated) {
    out += "(truncated: the result has more rows; raise --max-rows to see them)\n";
  }
  std::cout << out;
}

void AppendCsvField(std::string& out, const std::optional<std::string>& value) {
  if (!value) return;  // NULL is an empty field
  const std::string& s = *value;
  if (!s.empty() && s.find_first_of(",\"\r\n") == std::string::npos) {
    out += s;
    return;
  }
  out += '"';  // "" (quoted empty) is an empty string, not NULL
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void PrintCsv(const client::ResultSet& result) {
  std::string out;
  for (size_t i = 0; i < result.columns.size(); ++i) {
    if (i > 0) out += ',';
    AppendCsvField(out, result.columns[i]);
  }
  out += "\n";
  for (const std::vector<client::Cell>& row : result.rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) out += ',';
      AppendCsvField(out, CellText(row[i]));
    }
    out += "\n";
  }
  std::cout << out;
}

// A --param value: a JSON scalar when it parses as one (42, 1.5, true, null,
// "quoted text"), else the text itself.
client::QueryParameter ParamValue(const std::string& text) {
  const json v = json::parse(text, nullptr, /*allow_exceptions=*/false);
  switch (v.type()) {
    case json::value_t::null:
      return nullptr;
    case json::value_t::boolean:
      return v.get<bool>();
    case json::value_t::number_integer:
      return v.get<int64_t>();
    case json::value_t::number_unsigned: {
      const uint64_t u = v.get<uint64_t>();
      if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return static_cast<int64_t>(u);
      }
      return u;
    }
    case json::value_t::number_float:
      return v.get<double>();
    case json::value_t::string:
      return v.get<std::string>();
    default:  // not JSON, or an array or object
      return text;
  }
}

struct QueryFlags {
  ClientFlags client;
  std::string sql;
  std::string database;
  std::string format = "table";
  int64_t max_rows = 0;  // 0 = the server's default
  std::vector<std::string> params;
  long timeout = 120;
  bool async = false;
};

// The progress of an asynchronous query on stderr: one line rewritten in
// place on a terminal, else one line per state change.
class ProgressLine {
 public:
  ProgressLine() : tty_(isatty(STDERR_FILENO) == 1) {}
  void Show(const client::AsyncProgress& p) {
    char elapsed[32];
    std::snprintf(elapsed, sizeof elapsed, "%.1f s", static_cast<double>(p.elapsed_ms) / 1000.0);
    std::string line = "lakegate: query " + p.query_id + " " + p.state + " " + elapsed;
    if (p.state == "SUCCEEDED") line += ", " + std::to_string(p.rows) + " rows";
    const bool finished = p.state == "SUCCEEDED" || p.state == "FAILED" || p.state == "CANCELLED";
    if (tty_) {
      std::cerr << "\r" << line << "\x1b[K" << (finished ? "\n" : "") << std::flush;
    } else if (p.state != last_state_) {
      std::cerr << line << "\n" << std::flush;
    }
    last_state_ = p.state;
  }

 private:
  const bool tty_;
  std::string last_state_;
};

void RunQuery(const QueryFlags& flags) {
  auto creds = ResolveCredentials(flags.client);
  if (!creds.ok()) Exit(Fail(creds.status()));
  client::QueryRequest request;
  request.sql = flags.sql;
  request.database = flags.database;
  for (const std::string& p : flags.params) request.parameters.push_back(ParamValue(p));
  request.max_rows = flags.max_rows;
  request.format = flags.format == "csv" ? client::ResultFormat::kCsv : client::ResultFormat::kJson;
  // Capped so that the milliseconds stay in range; 68 years is waiting forever.
  request.timeout =
      std::chrono::seconds(std::min<long>(flags.timeout, std::numeric_limits<int32_t>::max()));

  auto authenticator = AuthenticatorOf(*creds);
  if (!authenticator.ok()) Exit(Fail(authenticator.status()));
  const Session session(std::move(*creds), std::move(*authenticator));
  ProgressLine progress;
  Result<client::QueryResponse> response =
      flags.async ? session.queries().RunAsync(
                        request, [&progress](const client::AsyncProgress& p) { progress.Show(p); })
                  : session.queries().Run(request);
  if (!response.ok()) Exit(FailCall(response.status()));
  if (flags.format == "json" || (flags.format == "csv" && !response->IsJson())) {
    std::cout << response->body;
    if (!response->body.empty() && response->body.back() != '\n') std::cout << "\n";
    if (flags.format == "csv" && response->truncated) {
      std::cerr << "lakegate: warning: the result was truncated; raise --max-rows to see more\n";
    }
    return;
  }
  Result<client::ResultSet> result = client::ParseResultSet(*response);
  if (!result.ok()) Exit(Fail(result.status()));
  if (flags.format == "csv") {
    PrintCsv(*result);
  } else {
    PrintTable(*result);
  }
  // The server ran into an error after it had started streaming rows.
  if (!result->warning.empty()) {
    std::cout << std::flush;
    std::cerr << "lakegate: warning: " << result->warning << "\n";
  }
}

}  // namespace

void AddTokenCommand(CLI::App& app) {
  struct Flags {
    ClientFlags client;
    bool print_claims = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "token",
      "Get an access token (client-credentials grant) and print it; cached until "
      "60 s before it expires");
  AddClientFlags(cmd, flags->client);
  cmd->add_flag("--print-claims", flags->print_claims,
                "Print the token's decoded header and claims (JSON) instead of the token");
  cmd->footer(
      "Environment: LAKEGATE_ENDPOINT, LAKEGATE_CLIENT_ID, LAKEGATE_CLIENT_SECRET,\n"
      "LAKEGATE_SECRETS_FILE. Cache: $XDG_CACHE_HOME/lakegate (else ~/.cache/lakegate).\n\n"
      "Examples:\n"
      "  export LAKEGATE_ENDPOINT=http://127.0.0.1:8080\n"
      "  TOKEN=$(lakegate token --secrets-file lakegate-demo/secrets/etl-service.json)\n"
      "  curl -H \"Authorization: Bearer $TOKEN\" $LAKEGATE_ENDPOINT/v1/query ...\n"
      "  lakegate token --secrets-file s.json --scope athena-api/query.read --print-claims\n"
      "  lakegate token --key lakegate-demo/secrets/keyjwt-service.json   # private_key_jwt\n"
      "  lakegate token --secrets-file s.json --dpop-key dpop.pem   # a DPoP-bound token");
  cmd->callback([flags] {
    auto creds = ResolveCredentials(flags->client);
    if (!creds.ok()) Exit(Fail(creds.status()));
    auto authenticator = AuthenticatorOf(*creds);
    if (!authenticator.ok()) Exit(Fail(authenticator.status()));
    const Session session(std::move(*creds), std::move(*authenticator));
    Result<client::AccessToken> token = session.tokens().Get();
    if (!token.ok()) Exit(FailCall(token.status()));
    if (!flags->print_claims) {
      std::cout << token->value.Reveal() << "\n";
      return;
    }
    json out = json::object();
    std::vector<std::string_view> parts;
    std::string_view rest = token->value.Reveal();
    for (size_t dot; (dot = rest.find('.')) != std::string_view::npos;
         rest.remove_prefix(dot + 1)) {
      parts.push_back(rest.substr(0, dot));
    }
    parts.push_back(rest);
    const char* names[] = {"header", "claims"};
    for (size_t i = 0; i < 2 && i < parts.size(); ++i) {
      auto decoded = Base64UrlDecode(parts[i]);
      json part = decoded ? json::parse(*decoded, nullptr, false) : json();
      if (part.is_discarded()) part = nullptr;
      out[names[i]] = part;
    }
    std::cout << out.dump(2) << "\n";
  });
}

void AddQueryCommand(CLI::App& app) {
  auto flags = std::make_shared<QueryFlags>();
  CLI::App* cmd = app.add_subcommand(
      "query", "Run one SQL statement through the query API and print the result");
  cmd->add_option("sql", flags->sql, "The SQL statement (one)")->required();
  cmd->add_option("--database,-d", flags->database,
                  "Default database for unqualified table names, e.g. analytics");
  cmd->add_option("--format,-f", flags->format, "Output: an aligned table, the raw JSON, or CSV")
      ->check(CLI::IsMember({"table", "json", "csv"}))
      ->capture_default_str();
  cmd->add_option("--max-rows", flags->max_rows, "Return at most N rows (default: the server's)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--param,-p", flags->params,
                  "Value for ?1, ?2, ... in order (repeatable): a JSON scalar (42, 1.5, true, "
                  "null, \"text\") or plain text");
  cmd->add_option("--timeout", flags->timeout, "Seconds to wait for the result")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--async", flags->async,
                "Run it as an asynchronous query (POST /v1/queries): the server's longer "
                "asynchronous timeout applies, progress goes to stderr, and every result page "
                "is fetched; past --timeout the query is cancelled");
  AddClientFlags(cmd, flags->client);
  cmd->footer(
      "Gets (or reuses a cached) token like `lakegate token`; on a 401 with a cached token it\n"
      "fetches a fresh one and retries once.\n\n"
      "Examples:\n"
      "  export LAKEGATE_ENDPOINT=http://127.0.0.1:8080\n"
      "  export LAKEGATE_SECRETS_FILE=lakegate-demo/secrets/reporting-service.json\n"
      "  lakegate query \"SELECT region, count(*) FROM members GROUP BY region\" -d analytics\n"
      "  lakegate query \"SELECT * FROM analytics.members WHERE tier = ?1\" -p gold --format csv\n"
      "  lakegate query --async --timeout 3600 \"SELECT region, count(*) FROM members GROUP BY "
      "1\"\n"
      "  lakegate query \"SELECT count(*) FROM members\" --dpop   # a DPoP-bound token and proofs");
  cmd->callback([flags] { RunQuery(*flags); });
}

}  // namespace lakegate::cli
