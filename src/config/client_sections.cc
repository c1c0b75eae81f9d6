// The sections of the authorization server's objects: resource_servers with
// their scopes, and clients; then every scope a client or query.scopes names
// is checked against the declared ones.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "config/stack_sections.h"

namespace lakegate::config {
namespace {

constexpr size_t kMaxIdentifierLength = 256;

bool IsClientName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(s[0])) return false;
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return lower_or_digit(c) || c == '.' || c == '_' || c == '-'; });
}

// RFC 3986 unreserved characters: safe in URLs, forms and Basic credentials.
bool IsUrlSafeId(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
  });
}

// RFC 6749 §3.3 scope-token characters; `allow_slash` is false for the short
// scope name because "/" separates it from the resource server identifier.
bool IsScopeToken(std::string_view s, bool allow_slash) {
  if (s.empty() || s.size() > kMaxIdentifierLength) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e || c == '"' || c == '\\') return false;
    return allow_slash || c != '/';
  });
}

// A scope is {name: x, description: y} or the shorthand "x".
Result<ScopeSpec> ReadScopeSpec(const YamlReader& yaml, const YAML::Node& node,
                                const std::string& path) {
  ScopeSpec scope;
  YAML::Mark name_mark = node.Mark();
  if (node.IsScalar()) {
    scope.name = node.Scalar();
  } else {
    LG_RETURN_IF_ERROR(yaml.ParseMap(node, path + YamlReader::NameSuffix(node, "name"), path,
                                     {
                                         {"name",
                                          [&](const YAML::Node& v, const std::string& p) -> Status {
                                            LG_ASSIGN_OR_RETURN(scope.name, yaml.ReadString(v, p));
                                            name_mark = v.Mark();
                                            return Status::Ok();
                                          },
                                          /*required=*/true},
                                         {"description",
                                          [&](const YAML::Node& v, const std::string& p) -> Status {
                                            LG_ASSIGN_OR_RETURN(scope.description,
                                                                yaml.ReadString(v, p));
                                            return Status::Ok();
                                          }},
                                     }));
  }
  if (!IsScopeToken(scope.name, /*allow_slash=*/false)) {
    return yaml.ErrorAt(name_mark, node.IsScalar() ? path : Child(path, "name"),
                        Quoted(scope.name) +
                            " is not a valid scope name; use up to 256 printable "
                            "ASCII characters without spaces, quotes, \"/\" or "
                            "backslashes, e.g. \"query.read\"");
  }
  return scope;
}

// A YAML node as JSON text: mappings become objects, sequences arrays and
// every scalar a string (what a JWK Set holds).
std::string NodeToJson(const YAML::Node& node) {
  if (node.IsMap()) {
    std::string out = "{";
    for (const auto& item : node) {
      if (out.size() > 1) out += ',';
      out += JsonQuote(item.first.Scalar()) + ":" + NodeToJson(item.second);
    }
    return out + "}";
  }
  if (node.IsSequence()) {
    std::string out = "[";
    for (const auto& item : node) {
      if (out.size() > 1) out += ',';
      out += NodeToJson(item);
    }
    return out + "]";
  }
  if (node.IsScalar()) return JsonQuote(node.Scalar());
  return "null";
}

}  // namespace

Status ParseResourceServers(StackParse& parse, const YAML::Node& node, const std::string& path) {
  const YamlReader& yaml = parse.yaml;
  StackConfig& out = parse.config;
  YamlReader::NameLines identifiers;
  return yaml.ParseList(
      node, path, [&](const YAML::Node& item, size_t, const std::string& item_path) -> Status {
        ResourceServerSpec server;
        std::string label = item_path + YamlReader::NameSuffix(item, "identifier");
        YamlReader::NameLines scope_lines;
        LG_RETURN_IF_ERROR(yaml.ParseMap(
            item, label, item_path,
            {
                {"identifier",
                 [&](const YAML::Node& v, const std::string& p) -> Status {
                   LG_ASSIGN_OR_RETURN(server.identifier, yaml.ReadNonEmptyString(v, p));
                   if (!IsScopeToken(server.identifier, /*allow_slash=*/true)) {
                     return yaml.Error(v, p,
                                       Quoted(server.identifier) +
                                           " is not a valid identifier; use up to 256 printable "
                                           "ASCII characters without spaces, quotes or "
                                           "backslashes, e.g. \"athena-api\"");
                   }
                   return yaml.CheckUnique(identifiers, server.identifier, v, p, "resource server",
                                           "; identifiers must be unique");
                 },
                 /*required=*/true},
                {"name", yaml.SetString(server.name, false)},
                {"scopes",
                 [&](const YAML::Node& v, const std::string& p) -> Status {
                   return yaml.ParseList(
                       v, p,
                       [&](const YAML::Node& scope_node, size_t,
                           const std::string& scope_path) -> Status {
                         LG_ASSIGN_OR_RETURN(ScopeSpec scope,
                                             ReadScopeSpec(yaml, scope_node, scope_path));
                         LG_RETURN_IF_ERROR(yaml.CheckUnique(scope_lines, scope.name, scope_node,
                                                             scope_path, "scope"));
                         server.scopes.push_back(std::move(scope));
                         return Status::Ok();
                       });
                 },
                 /*required=*/false, /*allow_null=*/true},
            }));
        if (server.name.empty()) server.name = server.identifier;
        out.resource_servers.push_back(std::move(server));
        return Status::Ok();
      });
}

Status ParseClients(StackParse& parse, const YAML::Node& node, const std::string& path) {
  const YamlReader& yaml = parse.yaml;
  StackConfig& out = parse.config;
  YamlReader::NameLines names;
  YamlReader::NameLines client_ids;
  return yaml.ParseList(
      node, path, [&](const YAML::Node& item, size_t, const std::string& item_path) -> Status {
        ClientSpec client;
        client.token_ttl_seconds = out.tokens.default_ttl_seconds;
        bool ttl_set = false;
        // Where auth and the keys were given, for errors found after the map.
        // (Marks, not nodes: assigning a YAML::Node writes into the document.)
        YAML::Mark auth_mark = item.Mark(), keys_mark = item.Mark(), tls_mark = item.Mark();
        std::string auth_path = item_path, keys_path = item_path, tls_path = item_path;
        // The one certificate field a tls_client_auth client registers.
        auto tls_field = [&](const YAML::Node& v, const std::string& p) -> Status {
          const std::string field = p.substr(p.rfind('.') + 1);
          if (!client.tls_client_auth_field.empty()) {
            return yaml.Error(v, p,
                              "register one certificate field, not both " +
                                  client.tls_client_auth_field + " and " + field);
          }
          LG_ASSIGN_OR_RETURN(client.tls_client_auth_value, yaml.ReadNonEmptyString(v, p));
          client.tls_client_auth_field = field;
          tls_mark = v.Mark();
          tls_path = p;
          return Status::Ok();
        };
        LG_RETURN_IF_ERROR(yaml.ParseMap(
            item, item_path + YamlReader::NameSuffix(item, "name"), item_path,
            {
                {"name",
                 [&](const YAML::Node& v, const std::string& p) -> Status {
                   LG_ASSIGN_OR_RETURN(client.name, yaml.ReadString(v, p));
                   if (!IsClientName(client.name)) {
                     return yaml.Error(v, p,
                                       Quoted(client.name) +
                                           " is not a valid client name; use 1 to 64 lowercase "
                                           "letters, digits, '.', '_' or '-', starting with a "
                                           "letter or digit");
                   }
                   return yaml.CheckUnique(names, client.name, v, p, "client",
                                           "; client names must be unique");
                 },
                 /*required=*/true},
                {"client_id",
                 [&](const YAML::Node& v, const std::string& p) -> Status {
                   LG_ASSIGN_OR_RETURN(std::string id, yaml.ReadString(v, p));
                   if (!IsUrlSafeId(id)) {
                     return yaml.Error(v, p,
                                       Quoted(id) +
                                           " is not a valid client_id; use 1 to 128 "
                                           "letters, digits, '-', '.', '_' or '~', or "
                                           "leave it out to have one generated");
                   }
                   LG_RETURN_IF_ERROR(yaml.CheckUnique(client_ids, id, v, p, "client_id"));
                   client.client_id = std::move(id);
                   return Status::Ok();
                 }},
                {"scopes",
                 [&](const YAML::Node& v, const std::string& p) -> Status {
                   std::set<std::string> seen;
                   return yaml.ParseList(
                       v, p,
                       [&](const YAML::Node& scope_node, size_t,
                           const std::string& scope_path) -> Status {
                         LG_ASSIGN_OR_RETURN(std::string scope,
                                             yaml.ReadNonEmptyString(scope_node, scope_path));
                         if (!seen.insert(scope).second) {
                           return yaml.Error(
                               scope_node, scope_path,
                               "scope " + Quoted(scope) + " is listed twice; remove one");
                         }
                         parse.scope_references.push_back({scope, scope_node.Mark(), scope_path});
                         client.scopes.push_back(std::move(scope));
                         return Status::Ok();
                       });
                 },
                 /*required=*/false, /*allow_null=*/true},
                {"token_ttl",
                 [&](const YAML::Node& v, const std::string& p) -> Status {
                   LG_ASSIGN_OR_RETURN(client.token_ttl_seconds, ReadTtl(yaml, v, p));
                   ttl_set = true;
                   return Status::Ok();
                 }},
                {"enabled", yaml.SetBool(client.enabled)},
                {"description", yaml.SetString(client.description, false)},
                {"dpop_bound_access_tokens", yaml.SetBool(client.dpop_bound_access_tokens)},
                {"auth",
                 [&](const YAML::Node& v, const std::string& p) -> Status {
                   LG_ASSIGN_OR_RETURN(client.auth, yaml.ReadString(v, p));
                   if (client.auth == "client_secret_post") client.auth = "client_secret_basic";
                   if (client.auth != "client_secret_basic" && client.auth != "private_key_jwt" &&
                       client.auth != "tls_client_auth" &&
                       client.auth != "self_signed_tls_client_auth") {
                     return yaml.Error(v, p,
                                       Quoted(client.auth) +
                                           " is not a client authentication method; use "
                                           "client_secret_basic (the default), "
                                           "private_key_jwt, tls_client_auth or "
                                           "self_signed_tls_client_auth");
                   }
                   auth_mark = v.Mark();
                   auth_path = p;
                   return Status::Ok();
                 }},
                {"jwks",
                 [&](const YAML::Node& v, const std::string& p) -> Status {
                   if (v.IsScalar()) {
                     LG_ASSIGN_OR_RETURN(client.jwks, yaml.ReadNonEmptyString(v, p));
                   } else if (v.IsMap()) {
                     client.jwks = NodeToJson(v);
                   } else {
                     return yaml.Error(v, p,
                                       "expected a JWK Set: a mapping {keys: [...]} or a string "
                                       "holding its JSON");
                   }
                   keys_mark = v.Mark();
                   keys_path = p;
                   return Status::Ok();
                 }},
                {"jwks_uri",
                 [&](const YAML::Node& v, const std::string& p) -> Status {
                   LG_ASSIGN_OR_RETURN(client.jwks_uri, yaml.ReadNonEmptyString(v, p));
                   if (client.jwks_uri.rfind("https://", 0) != 0 &&
                       client.jwks_uri.rfind("http://", 0) != 0) {
                     return yaml.Error(v, p, "jwks_uri must be an https:// URL");
                   }
                   keys_mark = v.Mark();
                   keys_path = p;
                   return Status::Ok();
                 }},
                {"tls_client_auth_subject_dn", tls_field},
                {"tls_client_auth_san_dns", tls_field},
                {"tls_client_auth_san_uri", tls_field},
                {"tls_client_auth_san_ip", tls_field},
                {"tls_client_auth_san_email", tls_field},
                {"tls_client_certificate_bound_access_tokens",
                 yaml.SetBool(client.tls_client_certificate_bound_access_tokens)},
            }));
        const bool tls_client = client.auth == "tls_client_auth";
        if (tls_client && client.tls_client_auth_field.empty()) {
          return yaml.ErrorAt(auth_mark, auth_path,
                              "a tls_client_auth client names its certificate: add one of "
                              "tls_client_auth_subject_dn, tls_client_auth_san_dns, "
                              "tls_client_auth_san_uri, tls_client_auth_san_ip or "
                              "tls_client_auth_san_email");
        }
        if (!tls_client && !client.tls_client_auth_field.empty()) {
          return yaml.ErrorAt(tls_mark, tls_path,
                              client.tls_client_auth_field +
                                  " is used only by tls_client_auth clients; add auth: "
                                  "tls_client_auth or remove it");
        }
        if (client.auth == "self_signed_tls_client_auth") {
          if (client.jwks.empty()) {
            return yaml.ErrorAt(auth_mark, auth_path,
                                "a self_signed_tls_client_auth client needs its certificate: add "
                                "jwks whose keys carry it in x5c");
          }
          if (!client.jwks_uri.empty()) {
            return yaml.ErrorAt(keys_mark, keys_path,
                                "a self_signed_tls_client_auth client registers its certificate "
                                "inline (jwks with x5c), not by jwks_uri");
          }
          if (!ttl_set) parse.clients_without_ttl.push_back(out.clients.size());
          out.clients.push_back(std::move(client));
          return Status::Ok();
        }
        const bool key_client = client.auth == "private_key_jwt";
        if (!client.jwks.empty() && !client.jwks_uri.empty()) {
          return yaml.ErrorAt(keys_mark, keys_path,
                              "give the client's keys once: jwks or jwks_uri, not both");
        }
        if (key_client && client.jwks.empty() && client.jwks_uri.empty()) {
          return yaml.ErrorAt(auth_mark, auth_path,
                              "a private_key_jwt client needs its public keys: add jwks (an inline "
                              "JWK Set) or jwks_uri");
        }
        if (!key_client && (!client.jwks.empty() || !client.jwks_uri.empty())) {
          return yaml.ErrorAt(keys_mark, keys_path,
                              "public keys are used only by private_key_jwt clients; add "
                              "auth: private_key_jwt or remove them");
        }
        if (!ttl_set) parse.clients_without_ttl.push_back(out.clients.size());
        out.clients.push_back(std::move(client));
        return Status::Ok();
      });
}

Status CheckScopeReferences(StackParse& parse) {
  StackConfig& config = parse.config;
  // Clients without token_ttl take tokens.default_ttl, whichever section came first.
  for (size_t i : parse.clients_without_ttl) {
    config.clients[i].token_ttl_seconds = config.tokens.default_ttl_seconds;
  }
  std::vector<std::string> declared;
  for (const ResourceServerSpec& server : config.resource_servers) {
    for (const ScopeSpec& scope : server.scopes) {
      declared.push_back(server.identifier + "/" + scope.name);
    }
  }
  std::set<std::string_view> declared_set(declared.begin(), declared.end());
  for (const NameReference& ref : parse.scope_references) {
    if (declared_set.count(ref.name) != 0) continue;
    std::string message = "scope " + Quoted(ref.name) + " is not declared by any resource server";
    if (declared.empty()) {
      message +=
          "; no scopes are declared: add the resource server and its scopes under "
          "resource_servers";
    } else {
      message += DidYouMean(ref.name, declared) + " Declared scopes: " + Join(declared, ", ");
    }
    return parse.yaml.ErrorAt(ref.mark, ref.path, message);
  }
  return Status::Ok();
}

}  // namespace lakegate::config
