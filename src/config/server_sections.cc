// The server's own sections: version, issuer, state_dir, state, listen, tokens,
// limits, audit, metrics and query.
#include <algorithm>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "config/stack_sections.h"

namespace lakegate::config {
namespace {

constexpr int64_t kMinTtlSeconds = 300;      // Cognito: 5 minutes
constexpr int64_t kMaxTtlSeconds = 86400;    // Cognito: 1 day
constexpr int kMinFailedAuthPerMinute = 10;  // never lock out a handful of honest mistakes
constexpr int kMaxFailedAuthPerMinute = 1'000'000;

bool HasWhitespaceOrControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
}

}  // namespace

Result<int64_t> ReadTtl(const YamlReader& yaml, const YAML::Node& node, const std::string& path) {
  return yaml.ReadDuration(node, path, kMinTtlSeconds, kMaxTtlSeconds, "5m..1d");
}

Status ParseVersion(StackParse& parse, const YAML::Node& node, const std::string& path) {
  const YamlReader& yaml = parse.yaml;
  LG_ASSIGN_OR_RETURN(int64_t version, yaml.ReadInt(node, path, std::numeric_limits<int64_t>::min(),
                                                    std::numeric_limits<int64_t>::max()));
  if (version != 1) {
    return yaml.Error(node, path,
                      "version " + std::to_string(version) +
                          " is not supported by this lakegate; use version: 1 or "
                          "upgrade lakegate");
  }
  return Status::Ok();
}

Status ParseIssuer(StackParse& parse, const YAML::Node& node, const std::string& path) {
  const YamlReader& yaml = parse.yaml;
  StackConfig& out = parse.config;
  Result<std::string> read = yaml.ReadString(node, path);
  if (!read.ok()) return read.status();
  const std::string& issuer = *read;
  if (!issuer.empty()) {
    // RFC 8414 §2: an http(s) URL with no query or fragment; it is compared
    // byte for byte with the "iss" claim.
    bool scheme_ok = issuer.starts_with("https://") || issuer.starts_with("http://");
    size_t host_start = issuer.find("://") + 3;
    if (!scheme_ok || host_start >= issuer.size() || issuer[host_start] == '/' ||
        issuer.find_first_of("?#") != std::string::npos || HasWhitespaceOrControl(issuer)) {
      return yaml.Error(node, path,
                        Quoted(issuer) +
                            " is not a valid issuer; use an https:// URL "
                            "without query or fragment, e.g. "
                            "\"https://auth.example.com\"");
    }
  }
  out.issuer = issuer;
  return Status::Ok();
}

Status ParseStateDir(StackParse& parse, const YAML::Node& node, const std::string& path) {
  const YamlReader& yaml = parse.yaml;
  StackConfig& out = parse.config;
  LG_ASSIGN_OR_RETURN(std::string dir, yaml.ReadNonEmptyString(node, path));
  out.state_dir = yaml.ResolvePath(dir);
  return Status::Ok();
}

Status ParseState(StackParse& parse, const YAML::Node& node, const std::string& path) {
  const YamlReader& yaml = parse.yaml;
  StateSpec& state = parse.config.state;
  return yaml.ParseMap(node, path, path,
                       {
                           {"url",
                            [&](const YAML::Node& v, const std::string& p) -> Status {
                              // Never quoted back in messages: it may hold a password.
                              LG_ASSIGN_OR_RETURN(state.url, yaml.ReadNonEmptyString(v, p));
                              if (HasWhitespaceOrControl(state.url)) {
                                return yaml.Error(
                                    v, p,
                                    "the state store URL contains whitespace; write it as a URL, "
                                    "e.g. postgresql://USER@HOST:5432/DB?sslmode=verify-full");
                              }
                              // An SQLite file given relative to the stack file, like state_dir.
                              if (state.url.starts_with("sqlite:")) {
                                std::string file = state.url.substr(7);
                                if (!file.empty() && file.front() != '/' && file != ":memory:") {
                                  state.url = "sqlite:" + yaml.ResolvePath(file);
                                }
                              } else if (state.url.find(':') == std::string::npos) {
                                state.url = yaml.ResolvePath(state.url);
                              }
                              return Status::Ok();
                            }},
                           {"hash_key_file",
                            [&](const YAML::Node& v, const std::string& p) -> Status {
                              LG_ASSIGN_OR_RETURN(std::string file, yaml.ReadNonEmptyString(v, p));
                              state.hash_key_file = yaml.ResolvePath(file);
                              return Status::Ok();
                            }},
                           {"mask_key_file",
                            [&](const YAML::Node& v, const std::string& p) -> Status {
                              LG_ASSIGN_OR_RETURN(std::string file, yaml.ReadNonEmptyString(v, p));
                              state.mask_key_file = yaml.ResolvePath(file);
                              return Status::Ok();
                            }},
                       });
}

Status ParseListen(StackParse& parse, const YAML::Node& node, const std::string& path) {
  const YamlReader& yaml = parse.yaml;
  StackConfig& out = parse.config;
  ListenSpec& listen = out.listen;
  LG_RETURN_IF_ERROR(
      yaml.ParseMap(node, path, path,
                    {
                        {"address",
                         [&](const YAML::Node& v, const std::string& p) -> Status {
                           LG_ASSIGN_OR_RETURN(listen.address, yaml.ReadNonEmptyString(v, p));
                           if (HasWhitespaceOrControl(listen.address)) {
                             return yaml.Error(v, p,
                                               Quoted(listen.address) +
                                                   " is not an address; use an IP "
                                                   "address or host name such as "
                                                   "127.0.0.1");
                           }
                           return Status::Ok();
                         }},
                        {"port",
                         [&](const YAML::Node& v, const std::string& p) -> Status {
                           LG_ASSIGN_OR_RETURN(int64_t port, yaml.ReadInt(v, p, 0, 65535));
                           listen.port = static_cast<int>(port);
                           return Status::Ok();
                         }},
                        {"threads",
                         [&](const YAML::Node& v, const std::string& p) -> Status {
                           LG_ASSIGN_OR_RETURN(int64_t threads, yaml.ReadInt(v, p, 0, 1024));
                           listen.threads = static_cast<int>(threads);
                           return Status::Ok();
                         }},
                        {"tls_cert",
                         [&](const YAML::Node& v, const std::string& p) -> Status {
                           LG_ASSIGN_OR_RETURN(std::string file, yaml.ReadNonEmptyString(v, p));
                           listen.tls_cert = yaml.ResolvePath(file);
                           return Status::Ok();
                         }},
                        {"tls_key",
                         [&](const YAML::Node& v, const std::string& p) -> Status {
                           LG_ASSIGN_OR_RETURN(std::string file, yaml.ReadNonEmptyString(v, p));
                           listen.tls_key = yaml.ResolvePath(file);
                           return Status::Ok();
                         }},
                        {"tls_port",
                         [&](const YAML::Node& v, const std::string& p) -> Status {
                           LG_ASSIGN_OR_RETURN(int64_t port, yaml.ReadInt(v, p, 0, 65535));
                           listen.tls_port = static_cast<int>(port);
                           return Status::Ok();
                         }},
                    }));
  if (listen.tls_cert.empty() != listen.tls_key.empty()) {
    return yaml.Error(node, path, "tls_cert and tls_key go together; set both or neither");
  }
  if (listen.tls_port >= 0 && listen.tls_cert.empty()) {
    return yaml.Error(node, path, "tls_port needs tls_cert and tls_key (the HTTPS certificate)");
  }
  return Status::Ok();
}

Status ParseMtls(StackParse& parse, const YAML::Node& node, const std::string& path) {
  const YamlReader& yaml = parse.yaml;
  MtlsSpec& mtls = parse.config.mtls;
  mtls.enabled = true;
  return yaml.ParseMap(node, path, path,
                       {
                           {"ca_file",
                            [&](const YAML::Node& v, const std::string& p) -> Status {
                              LG_ASSIGN_OR_RETURN(std::string file, yaml.ReadNonEmptyString(v, p));
                              mtls.ca_file = yaml.ResolvePath(file);
                              return Status::Ok();
                            }},
                           {"bind_all_tokens", yaml.SetBool(mtls.bind_all_tokens)},
                       });
}

Status ParseTokens(StackParse& parse, const YAML::Node& node, const std::string& path) {
  const YamlReader& yaml = parse.yaml;
  StackConfig& out = parse.config;
  TokenSpec& tokens = out.tokens;
  return yaml.ParseMap(
      node, path, path,
      {
          {"algorithm",
           [&](const YAML::Node& v, const std::string& p) -> Status {
             LG_ASSIGN_OR_RETURN(std::string algorithm, yaml.ReadString(v, p));
             static const std::vector<std::string> kAlgorithms = {"ES256", "EdDSA", "RS256"};
             for (const std::string& known : kAlgorithms) {
               if (algorithm == known) {
                 tokens.algorithm = algorithm;
                 return Status::Ok();
               }
             }
             std::string message = "unsupported algorithm " + Quoted(algorithm);
             for (const std::string& known : kAlgorithms) {
               if (EqualsIgnoreCase(algorithm, known))
                 message += "; did you mean " + Quoted(known) + "?";
             }
             return yaml.Error(v, p, message + "; use ES256, EdDSA or RS256");
           }},
          {"audience",
           [&](const YAML::Node& v, const std::string& p) -> Status {
             if (v.IsScalar()) {
               LG_ASSIGN_OR_RETURN(std::string audience, yaml.ReadNonEmptyString(v, p));
               tokens.audience = {std::move(audience)};
               return Status::Ok();
             }
             LG_ASSIGN_OR_RETURN(tokens.audience, yaml.ReadStringList(v, p));
             return Status::Ok();
           }},
          {"default_ttl",
           [&](const YAML::Node& v, const std::string& p) -> Status {
             LG_ASSIGN_OR_RETURN(tokens.default_ttl_seconds, ReadTtl(yaml, v, p));
             return Status::Ok();
           }},
          {"scope_omitted_grants_all", yaml.SetBool(tokens.scope_omitted_grants_all)},
          {"dpop_nonce", yaml.SetBool(tokens.dpop_nonce)},
      });
}

Status ParseLimits(StackParse& parse, const YAML::Node& node, const std::string& path) {
  const YamlReader& yaml = parse.yaml;
  StackConfig& out = parse.config;
  auto limit = [&](int& target) {
    return [&](const YAML::Node& v, const std::string& p) -> Status {
      LG_ASSIGN_OR_RETURN(int64_t value,
                          yaml.ReadInt(v, p, kMinFailedAuthPerMinute, kMaxFailedAuthPerMinute));
      target = static_cast<int>(value);
      return Status::Ok();
    };
  };
  return yaml.ParseMap(node, path, path,
                       {
                           {"failed_auth_per_minute_per_client",
                            limit(out.limits.failed_auth_per_minute_per_client)},
                           {"failed_auth_per_minute_per_client_address",
                            limit(out.limits.failed_auth_per_minute_per_client_address)},
                           {"failed_auth_per_minute_per_address",
                            limit(out.limits.failed_auth_per_minute_per_address)},
                       });
}

Status ParseAudit(StackParse& parse, const YAML::Node& node, const std::string& path) {
  const YamlReader& yaml = parse.yaml;
  StackConfig& out = parse.config;
  return yaml.ParseMap(node, path, path,
                       {
                           {"path",
                            [&](const YAML::Node& v, const std::string& p) -> Status {
                              LG_ASSIGN_OR_RETURN(std::string file, yaml.ReadString(v, p));
                              out.audit.path =
                                  (file.empty() || file == "-") ? file : yaml.ResolvePath(file);
                              return Status::Ok();
                            }},
                       });
}

Status ParseMetrics(StackParse& parse, const YAML::Node& node, const std::string& path) {
  return parse.yaml.ParseMap(
      node, path, path,
      {{"client_labels", parse.yaml.SetBool(parse.config.metrics.client_labels)}});
}

namespace {

// A catalog database name: [A-Za-z_][A-Za-z0-9_]{0,63} (the engines' rule).
bool IsDatabaseName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!letter(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return letter(c) || (c >= '0' && c <= '9'); });
}

// engine.databases: {NAME: URL, ...}
Status ParseEngineDatabases(const YamlReader& yaml, const YAML::Node& node, const std::string& path,
                            std::map<std::string, std::string>& out) {
  if (!node.IsMap()) {
    return yaml.Error(node, path,
                      "expected a map of catalog database names to engine URLs, e.g. "
                      "{sales: postgresql://lakegate@db/sales}");
  }
  for (const auto& entry : node) {
    const std::string name = entry.first.as<std::string>("");
    const std::string at = path + "." + name;
    if (!IsDatabaseName(name)) {
      return yaml.Error(entry.first, at,
                        "'" + name + "' is no catalog database name ([A-Za-z_][A-Za-z0-9_]*)");
    }
    for (const auto& [known, url] : out) {
      if (EqualsIgnoreCase(known, name)) {
        return yaml.Error(entry.first, at, "database " + name + " is listed twice");
      }
    }
    LG_ASSIGN_OR_RETURN(std::string url, yaml.ReadNonEmptyString(entry.second, at));
    if (HasWhitespaceOrControl(url)) {
      return yaml.Error(entry.second, at,
                        "the engine URL contains whitespace; write it as a URL, e.g. "
                        "postgresql://user@host/db");
    }
    if (url.find("://") == std::string::npos) url = yaml.ResolvePath(url);
    out.emplace(name, std::move(url));
  }
  return Status::Ok();
}

}  // namespace

Status ParseEngine(StackParse& parse, const YAML::Node& node, const std::string& path) {
  const YamlReader& yaml = parse.yaml;
  QuerySpec& q = parse.config.query;
  return yaml.ParseMap(node, path, path,
                       {{"url",
                         [&](const YAML::Node& v, const std::string& p) -> Status {
                           LG_ASSIGN_OR_RETURN(q.engine_url, yaml.ReadNonEmptyString(v, p));
                           if (HasWhitespaceOrControl(q.engine_url)) {
                             return yaml.Error(v, p,
                                               "the engine URL contains whitespace; write it as "
                                               "a URL, e.g. postgresql://user@host/db");
                           }
                           if (q.engine_url.find("://") == std::string::npos) {
                             q.engine_url = yaml.ResolvePath(q.engine_url);
                           }
                           return Status::Ok();
                         }},
                        {"databases", [&](const YAML::Node& v, const std::string& p) -> Status {
                           return ParseEngineDatabases(yaml, v, p, q.engine_databases);
                         }}});
}

Status ParseQuery(StackParse& parse, const YAML::Node& node, const std::string& path) {
  const YamlReader& yaml = parse.yaml;
  StackConfig& out = parse.config;
  QuerySpec& q = out.query;
  return yaml.ParseMap(
      node, path, path,
      {
          {"lake_dir",
           [&](const YAML::Node& v, const std::string& p) -> Status {
             LG_ASSIGN_OR_RETURN(std::string dir, yaml.ReadNonEmptyString(v, p));
             q.lake_dir = yaml.ResolvePath(dir);
             return Status::Ok();
           }},
          {"default_database", yaml.SetString(q.default_database)},
          {"scopes",
           [&](const YAML::Node& v, const std::string& p) -> Status {
             for (std::string* scope : {&q.read_scope, &q.write_scope, &q.admin_scope}) {
               scope->clear();
             }
             LG_RETURN_IF_ERROR(yaml.ParseMap(v, p, p,
                                              {{"read", yaml.SetString(q.read_scope)},
                                               {"write", yaml.SetString(q.write_scope)},
                                               {"admin", yaml.SetString(q.admin_scope)}}));
             for (std::string* scope : {&q.read_scope, &q.write_scope, &q.admin_scope}) {
               if (!scope->empty()) parse.scope_references.push_back({*scope, v.Mark(), p});
             }
             return Status::Ok();
           }},
          {"timeout",
           [&](const YAML::Node& v, const std::string& p) -> Status {
             LG_ASSIGN_OR_RETURN(q.timeout_seconds, yaml.ReadDuration(v, p, 1, 3600, "1s..1h"));
             return Status::Ok();
           }},
          {"max_rows", yaml.SetInt(q.max_rows, 1, 10'000'000)},
          {"max_result_bytes", yaml.SetInt(q.max_result_bytes, 1024, 4ll << 30)},
          {"max_memory", yaml.SetInt(q.max_memory_bytes, 1ll << 20, 64ll << 30)},
          {"max_concurrent_per_client", yaml.SetInt(q.max_concurrent_per_client, 1, 1000)},
          {"max_queued_per_client", yaml.SetInt(q.max_queued_per_client, 0, 100000)},
          {"workers", yaml.SetInt(q.workers, 1, 1024)},
          {"max_backlog", yaml.SetInt(q.max_backlog, 1, 100000)},
          {"audit_sql", yaml.SetBool(q.audit_sql)},
          {"async_timeout",
           [&](const YAML::Node& v, const std::string& p) -> Status {
             LG_ASSIGN_OR_RETURN(q.async_timeout_seconds,
                                 yaml.ReadDuration(v, p, 1, 7 * 24 * 3600, "1s..7d"));
             return Status::Ok();
           }},
          {"async_max_rows", yaml.SetInt(q.async_max_rows, 1, 1'000'000'000)},
          {"async_max_result_bytes", yaml.SetInt(q.async_max_result_bytes, 1024, 1ll << 40)},
          {"async_retention",
           [&](const YAML::Node& v, const std::string& p) -> Status {
             LG_ASSIGN_OR_RETURN(q.async_retention_seconds,
                                 yaml.ReadDuration(v, p, 1, 90 * 24 * 3600, "1s..90d"));
             return Status::Ok();
           }},
          {"async_spool_dir",
           [&](const YAML::Node& v, const std::string& p) -> Status {
             LG_ASSIGN_OR_RETURN(std::string dir, yaml.ReadNonEmptyString(v, p));
             q.async_spool_dir = yaml.ResolvePath(dir);
             return Status::Ok();
           }},
      });
}

}  // namespace lakegate::config
