#include "config/stack_config.h"

#include <sys/stat.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "common/files.h"
#include "common/strings.h"
#include "policy/policy_json.h"

namespace lakegate::config {
namespace {

constexpr int64_t kMinTtlSeconds = 300;      // Cognito: 5 minutes
constexpr int64_t kMaxTtlSeconds = 86400;    // Cognito: 1 day
constexpr int kMinFailedAuthPerMinute = 10;  // never lock out a handful of honest mistakes
constexpr int kMaxFailedAuthPerMinute = 1'000'000;
constexpr size_t kMaxStackFileBytes = 4 << 20;
constexpr size_t kMaxIdentifierLength = 256;

std::string Quoted(std::string_view s) {
  std::string out = "\"";
  out += s;
  out += '"';
  return out;
}

std::string Child(std::string_view prefix, std::string_view key) {
  std::string out(prefix);
  if (!out.empty()) out += '.';
  out += key;
  return out;
}

std::string Index(std::string_view prefix, size_t i) {
  return std::string(prefix) + "[" + std::to_string(i) + "]";
}

std::string_view KindOf(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "nothing";
  }
}

// Levenshtein distance, for did-you-mean hints.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The closest candidate when it is close enough to be a plausible typo.
std::optional<std::string> ClosestMatch(std::string_view word,
                                        const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_distance = 0;
  for (const std::string& candidate : candidates) {
    size_t d = EditDistance(AsciiLower(word), AsciiLower(candidate));
    if (!best || d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  if (best && (best_distance <= 2 || best_distance <= word.size() / 3)) return best;
  // An abbreviation: "desc" for "description".
  if (word.size() >= 3) {
    for (const std::string& candidate : candidates) {
      if (candidate.rfind(word, 0) == 0) return candidate;
    }
  }
  return std::nullopt;
}

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

bool HasWhitespaceOrControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
}

class Parser {
 public:
  Parser(std::string_view file_name, std::string_view base_dir)
      : file_(file_name), base_dir_(base_dir) {}

  Result<StackConfig> Parse(std::string_view text) {
    try {
      return ParseDocuments(text);
    } catch (const YAML::DeepRecursion& e) {
      return InvalidArgumentError(Location(e.mark) + "invalid YAML: nested too deeply");
    } catch (const YAML::Exception& e) {
      return InvalidArgumentError(Location(e.mark) + "invalid YAML: " + e.msg);
    } catch (const std::exception& e) {
      return InvalidArgumentError(file_ + ": cannot parse: " + e.what());
    }
  }

 private:
  // A handler parses one value found under a known key.
  using Handler = std::function<Status(const YAML::Node& value, const std::string& path)>;
  struct Field {
    std::string key;
    Handler handle;
    bool required = false;
    bool allow_null = false;  // e.g. "clients:" with nothing under it = an empty list
  };
  // One top-level section of the stack file. To add a section: add a member
  // of StackConfig, a ParseXxx method and one row to Sections().
  struct Section {
    const char* key;
    Status (Parser::*parse)(const YAML::Node& value, const std::string& path, StackConfig& out);
    bool allow_null;
  };
  static const std::vector<Section>& Sections() {
    static const std::vector<Section> sections = {
        {"version", &Parser::ParseVersion, false},
        {"issuer", &Parser::ParseIssuer, false},
        {"state_dir", &Parser::ParseStateDir, false},
        {"listen", &Parser::ParseListen, false},
        {"tokens", &Parser::ParseTokens, false},
        {"limits", &Parser::ParseLimits, false},
        {"audit", &Parser::ParseAudit, false},
        {"resource_servers", &Parser::ParseResourceServers, true},
        {"clients", &Parser::ParseClients, true},
        {"query", &Parser::ParseQuery, false},
        {"roles", &Parser::ParseRoles, true},
        {"role_rules", &Parser::ParseRoleRules, false},
        {"trusted_issuers", &Parser::ParseTrustedIssuers, true},
        {"tags", &Parser::ParseTags, false},
        {"filters", &Parser::ParseFilters, true},
    };
    return sections;
  }

  // A client scope, checked against the resource servers once all are read
  // (the sections may come in any order).
  struct ScopeReference {
    std::string scope;
    YAML::Mark mark;
    std::string path;
  };

  Result<StackConfig> ParseDocuments(std::string_view text) {
    text_ = text;
    std::vector<YAML::Node> documents = YAML::LoadAll(std::string(text));
    if (documents.empty() || documents[0].IsNull()) {
      return InvalidArgumentError(file_ +
                                  ":1:1: the stack file is empty; declare at least "
                                  "resource_servers and clients");
    }
    if (documents.size() > 1) {
      return Error(documents[1], "", "a stack file holds one YAML document; remove the \"---\"");
    }
    const YAML::Node& root = documents[0];
    StackConfig config;
    config.source_path = file_;
    config.state_dir = ResolvePath("state");
    config.query.lake_dir = ResolvePath("lake");

    std::vector<Field> fields;
    for (const Section& section : Sections()) {
      Field field;
      field.key = section.key;
      field.allow_null = section.allow_null;
      auto parse = section.parse;
      field.handle = [this, parse, &config](const YAML::Node& value, const std::string& path) {
        return (this->*parse)(value, path, config);
      };
      fields.push_back(std::move(field));
    }
    LG_RETURN_IF_ERROR(ParseMap(root, "", "", fields));
    LG_RETURN_IF_ERROR(CheckScopeReferences(config));
    LG_RETURN_IF_ERROR(CheckRoleReferences(config));
    LG_RETURN_IF_ERROR(CheckGovernanceReferences(config));
    return config;
  }

  // ---- error helpers ----

  std::string Location(const YAML::Mark& mark) const {
    if (mark.is_null()) return file_ + ": ";
    return file_ + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) +
           ": ";
  }

  Status ErrorAt(const YAML::Mark& mark, std::string_view path, std::string_view message) const {
    std::string text = Location(mark);
    if (!path.empty()) {
      text += path;
      text += ": ";
    }
    text += message;
    return InvalidArgumentError(std::move(text));
  }

  Status Error(const YAML::Node& node, std::string_view path, std::string_view message) const {
    return ErrorAt(node.Mark(), path, message);
  }

  // ---- generic readers ----

  // Walks a mapping: rejects non-mappings, non-string and duplicate keys,
  // unknown keys (with a did-you-mean) and missing required keys, and hands
  // every known key's value to its handler. `label` names the mapping in
  // messages about the mapping itself; `prefix` starts the children's paths.
  Status ParseMap(const YAML::Node& node, const std::string& label, const std::string& prefix,
                  const std::vector<Field>& fields) {
    if (!node.IsMap()) {
      return Error(node, label,
                   "expected a mapping (key: value lines), got " + std::string(KindOf(node)));
    }
    std::map<std::string, int> seen;  // key -> line (1-based)
    for (auto it = node.begin(); it != node.end(); ++it) {
      // Copies: the iterator's proxy does not outlive this statement.
      const YAML::Node key_node = it->first;
      const YAML::Node value = it->second;
      if (!key_node.IsScalar()) {
        return Error(key_node, label,
                     "keys must be plain names, got " + std::string(KindOf(key_node)));
      }
      const std::string& key = key_node.Scalar();
      auto [previous, inserted] = seen.emplace(key, key_node.Mark().line + 1);
      if (!inserted) {
        return Error(key_node, label,
                     "duplicate key " + Quoted(key) + " (first at line " +
                         std::to_string(previous->second) + "); remove one of them");
      }
      auto field =
          std::find_if(fields.begin(), fields.end(), [&](const Field& f) { return f.key == key; });
      if (field == fields.end()) {
        std::vector<std::string> known;
        for (const Field& f : fields) known.push_back(f.key);
        std::string message = "unknown key " + Quoted(key);
        if (auto match = ClosestMatch(key, known)) {
          message += "; did you mean " + Quoted(*match) + "?";
        } else {
          message += "; valid keys are " + Join(known, ", ");
        }
        return Error(key_node, label, message);
      }
      std::string path = Child(prefix, key);
      if (value.IsNull()) {
        if (field->allow_null) continue;
        // yaml-cpp places an empty value on the next line; point at the key.
        return Error(key_node, path, "has no value; give it one or remove the key");
      }
      LG_RETURN_IF_ERROR(field->handle(value, path));
    }
    for (const Field& field : fields) {
      if (field.required && seen.count(field.key) == 0) {
        return Error(node, label, "missing required key " + Quoted(field.key));
      }
    }
    return Status::Ok();
  }

  // Calls `each(item, index, path)` for every item of a list.
  Status ParseList(
      const YAML::Node& node, const std::string& path,
      const std::function<Status(const YAML::Node&, size_t, const std::string&)>& each) {
    if (!node.IsSequence()) {
      return Error(
          node, path,
          "expected a list (\"- item\" lines or [a, b]), got " + std::string(KindOf(node)));
    }
    for (size_t i = 0; i < node.size(); ++i) {
      const YAML::Node item = node[i];
      if (item.IsNull()) {
        return ErrorAt(MarkOfEmptyItem(item.Mark()), Index(path, i),
                       "is empty; give the item a value or remove the \"-\"");
      }
      LG_RETURN_IF_ERROR(each(item, i, Index(path, i)));
    }
    return Status::Ok();
  }

  Result<std::string> ReadString(const YAML::Node& node, const std::string& path) {
    if (!node.IsScalar()) {
      return Error(node, path, "expected a string, got " + std::string(KindOf(node)));
    }
    return node.Scalar();
  }

  Result<std::string> ReadNonEmptyString(const YAML::Node& node, const std::string& path) {
    LG_ASSIGN_OR_RETURN(std::string value, ReadString(node, path));
    if (value.empty()) return Error(node, path, "must not be empty");
    return value;
  }

  Result<std::vector<std::string>> ReadStringList(const YAML::Node& node, const std::string& path) {
    std::vector<std::string> out;
    LG_RETURN_IF_ERROR(ParseList(
        node, path, [&](const YAML::Node& item, size_t, const std::string& item_path) -> Status {
          LG_ASSIGN_OR_RETURN(std::string value, ReadNonEmptyString(item, item_path));
          out.push_back(std::move(value));
          return Status::Ok();
        }));
    return out;
  }

  // A plain (unquoted) decimal integer in [min, max].
  Result<int64_t> ReadInt(const YAML::Node& node, const std::string& path, int64_t min,
                          int64_t max) {
    if (!node.IsScalar()) {
      return Error(node, path, "expected an integer, got " + std::string(KindOf(node)));
    }
    const std::string& text = node.Scalar();
    if (node.Tag() == "!") {
      return Error(node, path,
                   "expected an integer, got the string " + Quoted(text) + "; remove the quotes");
    }
    std::optional<int64_t> value = ParseDecimal(text);
    if (!value) return Error(node, path, "expected an integer, got " + Quoted(text));
    if (*value < min || *value > max) {
      return Error(
          node, path,
          text + " is out of range; use " + std::to_string(min) + ".." + std::to_string(max));
    }
    return *value;
  }

  Result<bool> ReadBool(const YAML::Node& node, const std::string& path) {
    if (node.IsScalar() && node.Tag() != "!") {
      const std::string& text = node.Scalar();
      if (text == "true" || text == "True" || text == "TRUE") return true;
      if (text == "false" || text == "False" || text == "FALSE") return false;
    }
    std::string got = node.IsScalar() ? Quoted(node.Scalar()) : std::string(KindOf(node));
    return Error(node, path, "expected true or false, got " + got);
  }

  // A duration: seconds (3600) or a number with s, m, h or d ("60m", "1h"),
  // within [min, max]; `range` names the range in messages ("5m..1d").
  Result<int64_t> ReadDuration(const YAML::Node& node, const std::string& path, int64_t min,
                               int64_t max, std::string_view range) {
    if (!node.IsScalar()) {
      return Error(node, path,
                   "expected a duration such as 3600, \"60m\", \"1h\" or \"1d\", got " +
                       std::string(KindOf(node)));
    }
    const std::string& text = node.Scalar();
    auto seconds = ParseDurationSeconds(text);
    if (!seconds.ok()) {
      return Error(node, path,
                   Quoted(text) +
                       " is not a duration; use seconds (3600) or a number "
                       "with s, m, h or d (\"60m\", \"1h\", \"1d\")");
    }
    if (*seconds < min || *seconds > max) {
      return Error(node, path, Quoted(text) + " is out of range; use " + std::string(range));
    }
    return *seconds;
  }

  // A token lifetime: 5 minutes to 1 day (Cognito's range).
  Result<int64_t> ReadTtl(const YAML::Node& node, const std::string& path) {
    return ReadDuration(node, path, kMinTtlSeconds, kMaxTtlSeconds, "5m..1d");
  }

  // Decimal digits with an optional leading '-', at most 18 digits.
  static std::optional<int64_t> ParseDecimal(std::string_view text) {
    bool negative = false;
    if (!text.empty() && text[0] == '-') {
      negative = true;
      text.remove_prefix(1);
    }
    if (text.empty() || text.size() > 18) return std::nullopt;
    int64_t value = 0;
    for (char c : text) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + (c - '0');
    }
    return negative ? -value : value;
  }

  std::string ResolvePath(const std::string& path) const {
    std::filesystem::path p(path);
    if (p.is_relative() && !base_dir_.empty()) p = std::filesystem::path(base_dir_) / p;
    return p.lexically_normal().string();
  }

  // ---- top-level sections ----

  Status ParseVersion(const YAML::Node& node, const std::string& path, StackConfig&) {
    LG_ASSIGN_OR_RETURN(int64_t version, ReadInt(node, path, std::numeric_limits<int64_t>::min(),
                                                 std::numeric_limits<int64_t>::max()));
    if (version != 1) {
      return Error(node, path,
                   "version " + std::to_string(version) +
                       " is not supported by this lakegate; use version: 1 or "
                       "upgrade lakegate");
    }
    return Status::Ok();
  }

  Status ParseIssuer(const YAML::Node& node, const std::string& path, StackConfig& out) {
    LG_ASSIGN_OR_RETURN(std::string issuer, ReadString(node, path));
    if (!issuer.empty()) {
      // RFC 8414 §2: an http(s) URL with no query or fragment; it is compared
      // byte for byte with the "iss" claim.
      bool scheme_ok = issuer.rfind("https://", 0) == 0 || issuer.rfind("http://", 0) == 0;
      size_t host_start = issuer.find("://") + 3;
      if (!scheme_ok || host_start >= issuer.size() || issuer[host_start] == '/' ||
          issuer.find_first_of("?#") != std::string::npos || HasWhitespaceOrControl(issuer)) {
        return Error(node, path,
                     Quoted(issuer) +
                         " is not a valid issuer; use an https:// URL "
                         "without query or fragment, e.g. "
                         "\"https://auth.example.com\"");
      }
    }
    out.issuer = std::move(issuer);
    return Status::Ok();
  }

  Status ParseStateDir(const YAML::Node& node, const std::string& path, StackConfig& out) {
    LG_ASSIGN_OR_RETURN(std::string dir, ReadNonEmptyString(node, path));
    out.state_dir = ResolvePath(dir);
    return Status::Ok();
  }

  Status ParseListen(const YAML::Node& node, const std::string& path, StackConfig& out) {
    ListenSpec& listen = out.listen;
    LG_RETURN_IF_ERROR(
        ParseMap(node, path, path,
                 {
                     {"address",
                      [&](const YAML::Node& v, const std::string& p) -> Status {
                        LG_ASSIGN_OR_RETURN(listen.address, ReadNonEmptyString(v, p));
                        if (HasWhitespaceOrControl(listen.address)) {
                          return Error(v, p,
                                       Quoted(listen.address) +
                                           " is not an address; use an IP "
                                           "address or host name such as "
                                           "127.0.0.1");
                        }
                        return Status::Ok();
                      }},
                     {"port",
                      [&](const YAML::Node& v, const std::string& p) -> Status {
                        LG_ASSIGN_OR_RETURN(int64_t port, ReadInt(v, p, 0, 65535));
                        listen.port = static_cast<int>(port);
                        return Status::Ok();
                      }},
                     {"threads",
                      [&](const YAML::Node& v, const std::string& p) -> Status {
                        LG_ASSIGN_OR_RETURN(int64_t threads, ReadInt(v, p, 0, 1024));
                        listen.threads = static_cast<int>(threads);
                        return Status::Ok();
                      }},
                     {"tls_cert",
                      [&](const YAML::Node& v, const std::string& p) -> Status {
                        LG_ASSIGN_OR_RETURN(std::string file, ReadNonEmptyString(v, p));
                        listen.tls_cert = ResolvePath(file);
                        return Status::Ok();
                      }},
                     {"tls_key",
                      [&](const YAML::Node& v, const std::string& p) -> Status {
                        LG_ASSIGN_OR_RETURN(std::string file, ReadNonEmptyString(v, p));
                        listen.tls_key = ResolvePath(file);
                        return Status::Ok();
                      }},
                 }));
    if (listen.tls_cert.empty() != listen.tls_key.empty()) {
      return Error(node, path, "tls_cert and tls_key go together; set both or neither");
    }
    return Status::Ok();
  }

  Status ParseTokens(const YAML::Node& node, const std::string& path, StackConfig& out) {
    TokenSpec& tokens = out.tokens;
    return ParseMap(
        node, path, path,
        {
            {"algorithm",
             [&](const YAML::Node& v, const std::string& p) -> Status {
               LG_ASSIGN_OR_RETURN(std::string algorithm, ReadString(v, p));
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
               return Error(v, p, message + "; use ES256, EdDSA or RS256");
             }},
            {"audience",
             [&](const YAML::Node& v, const std::string& p) -> Status {
               if (v.IsScalar()) {
                 LG_ASSIGN_OR_RETURN(std::string audience, ReadNonEmptyString(v, p));
                 tokens.audience = {std::move(audience)};
                 return Status::Ok();
               }
               LG_ASSIGN_OR_RETURN(tokens.audience, ReadStringList(v, p));
               return Status::Ok();
             }},
            {"default_ttl",
             [&](const YAML::Node& v, const std::string& p) -> Status {
               LG_ASSIGN_OR_RETURN(tokens.default_ttl_seconds, ReadTtl(v, p));
               return Status::Ok();
             }},
            {"scope_omitted_grants_all",
             [&](const YAML::Node& v, const std::string& p) -> Status {
               LG_ASSIGN_OR_RETURN(tokens.scope_omitted_grants_all, ReadBool(v, p));
               return Status::Ok();
             }},
        });
  }

  Status ParseLimits(const YAML::Node& node, const std::string& path, StackConfig& out) {
    auto limit = [&](int& target) {
      return [&](const YAML::Node& v, const std::string& p) -> Status {
        LG_ASSIGN_OR_RETURN(int64_t value,
                            ReadInt(v, p, kMinFailedAuthPerMinute, kMaxFailedAuthPerMinute));
        target = static_cast<int>(value);
        return Status::Ok();
      };
    };
    return ParseMap(node, path, path,
                    {
                        {"failed_auth_per_minute_per_client",
                         limit(out.limits.failed_auth_per_minute_per_client)},
                        {"failed_auth_per_minute_per_address",
                         limit(out.limits.failed_auth_per_minute_per_address)},
                    });
  }

  Status ParseAudit(const YAML::Node& node, const std::string& path, StackConfig& out) {
    return ParseMap(node, path, path,
                    {
                        {"path",
                         [&](const YAML::Node& v, const std::string& p) -> Status {
                           LG_ASSIGN_OR_RETURN(std::string file, ReadString(v, p));
                           out.audit.path =
                               (file.empty() || file == "-") ? file : ResolvePath(file);
                           return Status::Ok();
                         }},
                    });
  }

  Status ParseResourceServers(const YAML::Node& node, const std::string& path, StackConfig& out) {
    std::map<std::string, int> identifiers;  // identifier -> line
    return ParseList(
        node, path, [&](const YAML::Node& item, size_t, const std::string& item_path) -> Status {
          ResourceServerSpec server;
          std::string label = item_path + NameSuffix(item, "identifier");
          std::map<std::string, int> scope_lines;
          LG_RETURN_IF_ERROR(ParseMap(
              item, label, item_path,
              {
                  {"identifier",
                   [&](const YAML::Node& v, const std::string& p) -> Status {
                     LG_ASSIGN_OR_RETURN(server.identifier, ReadNonEmptyString(v, p));
                     if (!IsScopeToken(server.identifier, /*allow_slash=*/true)) {
                       return Error(v, p,
                                    Quoted(server.identifier) +
                                        " is not a valid identifier; use up to 256 printable "
                                        "ASCII characters without spaces, quotes or "
                                        "backslashes, e.g. \"athena-api\"");
                     }
                     auto [previous, inserted] = identifiers.emplace(server.identifier, Line(v));
                     if (!inserted) {
                       return Error(v, p,
                                    "duplicate resource server " + Quoted(server.identifier) +
                                        " (first declared at line " +
                                        std::to_string(previous->second) +
                                        "); identifiers must be unique");
                     }
                     return Status::Ok();
                   },
                   /*required=*/true},
                  {"name",
                   [&](const YAML::Node& v, const std::string& p) -> Status {
                     LG_ASSIGN_OR_RETURN(server.name, ReadString(v, p));
                     return Status::Ok();
                   }},
                  {"scopes",
                   [&](const YAML::Node& v, const std::string& p) -> Status {
                     return ParseList(v, p,
                                      [&](const YAML::Node& scope_node, size_t,
                                          const std::string& scope_path) -> Status {
                                        LG_ASSIGN_OR_RETURN(ScopeSpec scope,
                                                            ReadScopeSpec(scope_node, scope_path));
                                        auto [previous, inserted] =
                                            scope_lines.emplace(scope.name, Line(scope_node));
                                        if (!inserted) {
                                          return Error(scope_node, scope_path,
                                                       "duplicate scope " + Quoted(scope.name) +
                                                           " (first declared at line " +
                                                           std::to_string(previous->second) + ")");
                                        }
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

  // A scope is {name: x, description: y} or the shorthand "x".
  Result<ScopeSpec> ReadScopeSpec(const YAML::Node& node, const std::string& path) {
    ScopeSpec scope;
    YAML::Mark name_mark = node.Mark();
    if (node.IsScalar()) {
      scope.name = node.Scalar();
    } else {
      LG_RETURN_IF_ERROR(ParseMap(node, path + NameSuffix(node, "name"), path,
                                  {
                                      {"name",
                                       [&](const YAML::Node& v, const std::string& p) -> Status {
                                         LG_ASSIGN_OR_RETURN(scope.name, ReadString(v, p));
                                         name_mark = v.Mark();
                                         return Status::Ok();
                                       },
                                       /*required=*/true},
                                      {"description",
                                       [&](const YAML::Node& v, const std::string& p) -> Status {
                                         LG_ASSIGN_OR_RETURN(scope.description, ReadString(v, p));
                                         return Status::Ok();
                                       }},
                                  }));
    }
    if (!IsScopeToken(scope.name, /*allow_slash=*/false)) {
      return ErrorAt(name_mark, node.IsScalar() ? path : Child(path, "name"),
                     Quoted(scope.name) +
                         " is not a valid scope name; use up to 256 printable "
                         "ASCII characters without spaces, quotes, \"/\" or "
                         "backslashes, e.g. \"query.read\"");
    }
    return scope;
  }

  Status ParseClients(const YAML::Node& node, const std::string& path, StackConfig& out) {
    std::map<std::string, int> names;       // name -> line
    std::map<std::string, int> client_ids;  // client_id -> line
    return ParseList(
        node, path, [&](const YAML::Node& item, size_t, const std::string& item_path) -> Status {
          ClientSpec client;
          client.token_ttl_seconds = out.tokens.default_ttl_seconds;
          bool ttl_set = false;
          LG_RETURN_IF_ERROR(ParseMap(
              item, item_path + NameSuffix(item, "name"), item_path,
              {
                  {"name",
                   [&](const YAML::Node& v, const std::string& p) -> Status {
                     LG_ASSIGN_OR_RETURN(client.name, ReadString(v, p));
                     if (!IsClientName(client.name)) {
                       return Error(v, p,
                                    Quoted(client.name) +
                                        " is not a valid client name; use 1 to 64 lowercase "
                                        "letters, digits, '.', '_' or '-', starting with a "
                                        "letter or digit");
                     }
                     auto [previous, inserted] = names.emplace(client.name, Line(v));
                     if (!inserted) {
                       return Error(
                           v, p,
                           "duplicate client " + Quoted(client.name) + " (first declared at line " +
                               std::to_string(previous->second) + "); client names must be unique");
                     }
                     return Status::Ok();
                   },
                   /*required=*/true},
                  {"client_id",
                   [&](const YAML::Node& v, const std::string& p) -> Status {
                     LG_ASSIGN_OR_RETURN(std::string id, ReadString(v, p));
                     if (!IsUrlSafeId(id)) {
                       return Error(v, p,
                                    Quoted(id) +
                                        " is not a valid client_id; use 1 to 128 "
                                        "letters, digits, '-', '.', '_' or '~', or "
                                        "leave it out to have one generated");
                     }
                     auto [previous, inserted] = client_ids.emplace(id, Line(v));
                     if (!inserted) {
                       return Error(v, p,
                                    "duplicate client_id " + Quoted(id) +
                                        " (first declared at line " +
                                        std::to_string(previous->second) + ")");
                     }
                     client.client_id = std::move(id);
                     return Status::Ok();
                   }},
                  {"scopes",
                   [&](const YAML::Node& v, const std::string& p) -> Status {
                     std::set<std::string> seen;
                     return ParseList(
                         v, p,
                         [&](const YAML::Node& scope_node, size_t,
                             const std::string& scope_path) -> Status {
                           LG_ASSIGN_OR_RETURN(std::string scope,
                                               ReadNonEmptyString(scope_node, scope_path));
                           if (!seen.insert(scope).second) {
                             return Error(
                                 scope_node, scope_path,
                                 "scope " + Quoted(scope) + " is listed twice; remove one");
                           }
                           scope_references_.push_back({scope, scope_node.Mark(), scope_path});
                           client.scopes.push_back(std::move(scope));
                           return Status::Ok();
                         });
                   },
                   /*required=*/false, /*allow_null=*/true},
                  {"token_ttl",
                   [&](const YAML::Node& v, const std::string& p) -> Status {
                     LG_ASSIGN_OR_RETURN(client.token_ttl_seconds, ReadTtl(v, p));
                     ttl_set = true;
                     return Status::Ok();
                   }},
                  {"enabled",
                   [&](const YAML::Node& v, const std::string& p) -> Status {
                     LG_ASSIGN_OR_RETURN(client.enabled, ReadBool(v, p));
                     return Status::Ok();
                   }},
                  {"description",
                   [&](const YAML::Node& v, const std::string& p) -> Status {
                     LG_ASSIGN_OR_RETURN(client.description, ReadString(v, p));
                     return Status::Ok();
                   }},
              }));
          if (!ttl_set) unset_ttl_clients_.push_back(out.clients.size());
          out.clients.push_back(std::move(client));
          return Status::Ok();
        });
  }


  // ---- the query API: query, roles, role_rules, trusted_issuers ----

  // A setter for a string field, for the common case.
  Handler SetString(std::string& target, bool non_empty = true) {
    return [this, &target, non_empty](const YAML::Node& v, const std::string& p) -> Status {
      LG_ASSIGN_OR_RETURN(target, non_empty ? ReadNonEmptyString(v, p) : ReadString(v, p));
      return Status::Ok();
    };
  }
  Handler SetInt(int64_t& target, int64_t min, int64_t max) {
    return [this, &target, min, max](const YAML::Node& v, const std::string& p) -> Status {
      LG_ASSIGN_OR_RETURN(target, ReadInt(v, p, min, max));
      return Status::Ok();
    };
  }
  Handler SetBool(bool& target) {
    return [this, &target](const YAML::Node& v, const std::string& p) -> Status {
      LG_ASSIGN_OR_RETURN(target, ReadBool(v, p));
      return Status::Ok();
    };
  }

  Status ParseQuery(const YAML::Node& node, const std::string& path, StackConfig& out) {
    QuerySpec& q = out.query;
    return ParseMap(
        node, path, path,
        {
            {"lake_dir",
             [&](const YAML::Node& v, const std::string& p) -> Status {
               LG_ASSIGN_OR_RETURN(std::string dir, ReadNonEmptyString(v, p));
               q.lake_dir = ResolvePath(dir);
               return Status::Ok();
             }},
            {"default_database", SetString(q.default_database)},
            {"scopes",
             [&](const YAML::Node& v, const std::string& p) -> Status {
               for (std::string* scope : {&q.read_scope, &q.write_scope, &q.admin_scope}) {
                 scope->clear();
               }
               LG_RETURN_IF_ERROR(ParseMap(v, p, p,
                                           {{"read", SetString(q.read_scope)},
                                            {"write", SetString(q.write_scope)},
                                            {"admin", SetString(q.admin_scope)}}));
               for (std::string* scope : {&q.read_scope, &q.write_scope, &q.admin_scope}) {
                 if (!scope->empty()) scope_references_.push_back({*scope, v.Mark(), p});
               }
               return Status::Ok();
             }},
            {"timeout",
             [&](const YAML::Node& v, const std::string& p) -> Status {
               LG_ASSIGN_OR_RETURN(q.timeout_seconds, ReadDuration(v, p, 1, 3600, "1s..1h"));
               return Status::Ok();
             }},
            {"max_rows", SetInt(q.max_rows, 1, 10'000'000)},
            {"max_result_bytes", SetInt(q.max_result_bytes, 1024, 4ll << 30)},
            {"max_concurrent_per_client", SetInt(q.max_concurrent_per_client, 1, 1000)},
            {"max_queued_per_client", SetInt(q.max_queued_per_client, 0, 100000)},
            {"audit_sql", SetBool(q.audit_sql)},
        });
  }

  Result<policy::PermissionSet> ReadPermissions(const YAML::Node& node, const std::string& path) {
    policy::PermissionSet set = 0;
    LG_RETURN_IF_ERROR(ParseList(
        node, path, [&](const YAML::Node& item, size_t, const std::string& item_path) -> Status {
          LG_ASSIGN_OR_RETURN(std::string name, ReadNonEmptyString(item, item_path));
          auto bits = policy::ParsePermission(name);
          if (!bits) {
            return Error(item, item_path,
                         "unknown permission " + Quoted(name) +
                             "; use DESCRIBE, SELECT, INSERT, UPDATE, DELETE, ALTER, DROP, "
                             "CREATE_TABLE or ALL");
          }
          set |= *bits;
          return Status::Ok();
        }));
    if (set == 0) return Error(node, path, "lists no permission");
    return set;
  }

  // {include: [a, b]} or {exclude: [c]}.
  Result<policy::ColumnSpec> ReadColumnSpec(const YAML::Node& v, const std::string& p) {
    policy::ColumnSpec spec;
    bool include = false, exclude = false;
    LG_RETURN_IF_ERROR(ParseMap(
        v, p, p,
        {{"include",
          [&](const YAML::Node& l, const std::string& lp) -> Status {
            include = true;
            LG_ASSIGN_OR_RETURN(spec.columns, ReadStringList(l, lp));
            spec.kind = policy::ColumnSpec::Kind::kInclude;
            return Status::Ok();
          }},
         {"exclude",
          [&](const YAML::Node& l, const std::string& lp) -> Status {
            exclude = true;
            LG_ASSIGN_OR_RETURN(spec.columns, ReadStringList(l, lp));
            spec.kind = policy::ColumnSpec::Kind::kExclude;
            return Status::Ok();
          }}}));
    if (include == exclude) return Error(v, p, "give exactly one of include or exclude");
    return spec;
  }

  Status ParseGrant(const YAML::Node& node, const std::string& path, policy::Grant& grant) {
    bool has_columns = false;
    LG_RETURN_IF_ERROR(ParseMap(
        node, path, path,
        {
            {"database", SetString(grant.database), /*required=*/true},
            {"table", SetString(grant.table)},
            {"permissions",
             [&](const YAML::Node& v, const std::string& p) -> Status {
               LG_ASSIGN_OR_RETURN(grant.permissions, ReadPermissions(v, p));
               return Status::Ok();
             },
             /*required=*/true},
            {"columns",
             [&](const YAML::Node& v, const std::string& p) -> Status {
               has_columns = true;
               LG_ASSIGN_OR_RETURN(grant.columns, ReadColumnSpec(v, p));
               return Status::Ok();
             }},
            {"grant_option",
             [&](const YAML::Node& v, const std::string& p) -> Status {
               LG_ASSIGN_OR_RETURN(grant.grant_option, ReadPermissions(v, p));
               return Status::Ok();
             }},
        }));
    if (has_columns && (grant.table.empty() || grant.table == "*")) {
      return Error(node, path,
                   "columns need a single table; name it with table: or drop columns:");
    }
    if (Status s = policy::ValidateGrant(grant); !s.ok()) return Error(node, path, s.message());
    return Status::Ok();
  }

  Status ParseRoles(const YAML::Node& node, const std::string& path, StackConfig& out) {
    std::map<std::string, int> names;
    return ParseList(
        node, path, [&](const YAML::Node& item, size_t, const std::string& item_path) -> Status {
          policy::Role role;
          LG_RETURN_IF_ERROR(ParseMap(
              item, item_path + NameSuffix(item, "name"), item_path,
              {
                  {"name",
                   [&](const YAML::Node& v, const std::string& p) -> Status {
                     LG_ASSIGN_OR_RETURN(role.name, ReadNonEmptyString(v, p));
                     auto [previous, inserted] = names.emplace(role.name, Line(v));
                     if (!inserted) {
                       return Error(v, p,
                                    "duplicate role " + Quoted(role.name) +
                                        " (first declared at line " +
                                        std::to_string(previous->second) + ")");
                     }
                     return Status::Ok();
                   },
                   /*required=*/true},
                  {"description", SetString(role.description, false)},
                  {"grants",
                   [&](const YAML::Node& v, const std::string& p) -> Status {
                     return ParseList(v, p,
                                      [&](const YAML::Node& g, size_t, const std::string& gp) {
                                        policy::Grant grant;
                                        LG_RETURN_IF_ERROR(ParseGrant(g, gp, grant));
                                        role.grants.push_back(std::move(grant));
                                        return Status::Ok();
                                      });
                   },
                   /*required=*/false, /*allow_null=*/true},
                  {"filters",
                   [&](const YAML::Node& v, const std::string& p) -> Status {
                     return ParseList(
                         v, p, [&](const YAML::Node& f, size_t, const std::string& fp) -> Status {
                           LG_ASSIGN_OR_RETURN(std::string name, ReadNonEmptyString(f, fp));
                           if (std::find(role.filters.begin(), role.filters.end(), name) !=
                               role.filters.end()) {
                             return Error(f, fp,
                                          "filter " + Quoted(name) + " is listed twice; remove one");
                           }
                           filter_references_.push_back({name, f.Mark(), fp});
                           role.filters.push_back(std::move(name));
                           return Status::Ok();
                         });
                   },
                   /*required=*/false, /*allow_null=*/true},
                  {"masks",
                   [&](const YAML::Node& v, const std::string& p) -> Status {
                     return ParseList(
                         v, p, [&](const YAML::Node& m, size_t, const std::string& mp) -> Status {
                           LG_ASSIGN_OR_RETURN(policy::ColumnMask mask, ReadMask(m, mp));
                           for (const policy::ColumnMask& other : role.masks) {
                             if (EqualsIgnoreCase(policy::ResourceName(other.database, other.table,
                                                                       other.column),
                                                  policy::ResourceName(mask.database, mask.table,
                                                                       mask.column))) {
                               return Error(m, mp,
                                            policy::ResourceName(mask.database, mask.table,
                                                                 mask.column) +
                                                " is masked twice; keep one mask per column");
                             }
                           }
                           role.masks.push_back(std::move(mask));
                           return Status::Ok();
                         });
                   },
                   /*required=*/false, /*allow_null=*/true},
                  {"tag_grants",
                   [&](const YAML::Node& v, const std::string& p) -> Status {
                     return ParseList(
                         v, p, [&](const YAML::Node& t, size_t, const std::string& tp) -> Status {
                           policy::TagGrant grant;
                           LG_RETURN_IF_ERROR(ParseMap(
                               t, tp, tp,
                               {{"expression",
                                 [&](const YAML::Node& e, const std::string& ep) -> Status {
                                   LG_ASSIGN_OR_RETURN(grant.expression, ReadTagExpression(e, ep));
                                   return Status::Ok();
                                 },
                                 /*required=*/true},
                                {"permissions",
                                 [&](const YAML::Node& e, const std::string& ep) -> Status {
                                   LG_ASSIGN_OR_RETURN(grant.permissions, ReadPermissions(e, ep));
                                   return Status::Ok();
                                 },
                                 /*required=*/true}}));
                           role.tag_grants.push_back(std::move(grant));
                           return Status::Ok();
                         });
                   },
                   /*required=*/false, /*allow_null=*/true},
              }));
          out.roles.push_back(std::move(role));
          return Status::Ok();
        });
  }

  Status ParseRoleRules(const YAML::Node& node, const std::string& path, StackConfig& out) {
    auto rule_list = [&](std::vector<RoleRuleSpec>& rules, bool by_client) -> Handler {
      return [&, by_client](const YAML::Node& v, const std::string& p) -> Status {
        return ParseList(
            v, p, [&](const YAML::Node& item, size_t, const std::string& ip) -> Status {
              RoleRuleSpec rule;
              std::vector<Field> fields = {{"role", SetString(rule.role), /*required=*/true}};
              if (by_client) {
                fields.push_back({"client", SetString(rule.client_name)});
                fields.push_back({"client_id", SetString(rule.client_id)});
              } else {
                fields.push_back({"scope", SetString(rule.scope), /*required=*/true});
              }
              LG_RETURN_IF_ERROR(ParseMap(item, ip, ip, fields));
              if (by_client && rule.client_name.empty() == rule.client_id.empty()) {
                return Error(item, ip,
                             "give exactly one of client (a client name) or client_id");
              }
              role_references_.push_back({rule.role, item.Mark(), ip});
              rules.push_back(std::move(rule));
              return Status::Ok();
            });
      };
    };
    return ParseMap(node, path, path,
                    {{"clients", rule_list(out.client_rules, true), false, true},
                     {"scopes", rule_list(out.scope_rules, false), false, true}});
  }

  Status ParseTrustedIssuers(const YAML::Node& node, const std::string& path, StackConfig& out) {
    return ParseList(
        node, path, [&](const YAML::Node& item, size_t, const std::string& ip) -> Status {
          TrustedIssuerSpec spec;
          LG_RETURN_IF_ERROR(ParseMap(
              item, ip + NameSuffix(item, "issuer"), ip,
              {
                  {"issuer", SetString(spec.issuer), /*required=*/true},
                  {"jwks_uri", SetString(spec.jwks_uri), /*required=*/true},
                  {"audience",
                   [&](const YAML::Node& v, const std::string& p) -> Status {
                     LG_ASSIGN_OR_RETURN(spec.audience, ReadNonEmptyString(v, p));
                     return Status::Ok();
                   }},
                  {"token_use",
                   [&](const YAML::Node& v, const std::string& p) -> Status {
                     LG_ASSIGN_OR_RETURN(spec.token_use, ReadNonEmptyString(v, p));
                     return Status::Ok();
                   }},
                  {"require_at_jwt_typ", SetBool(spec.require_at_jwt_typ)},
                  {"require_client_id", SetBool(spec.require_client_id)},
                  {"refresh_min_interval",
                   [&](const YAML::Node& v, const std::string& p) -> Status {
                     LG_ASSIGN_OR_RETURN(spec.refresh_min_interval_seconds,
                                         ReadDuration(v, p, 1, 86400, "1s..1d"));
                     return Status::Ok();
                   }},
              }));
          for (const char* scheme : {"https://", "http://"}) {
            if (spec.jwks_uri.rfind(scheme, 0) == 0) {
              out.trusted_issuers.push_back(std::move(spec));
              return Status::Ok();
            }
          }
          return Error(item, ip + ".jwks_uri", "must be an https:// (or loopback http://) URL");
        });
  }

  // ---- governance: masks, tag expressions, tags and filters ----

  Result<policy::ColumnMask> ReadMask(const YAML::Node& node, const std::string& path) {
    policy::ColumnMask mask;
    bool has_n = false, has_expression = false;
    YAML::Mark kind_mark = node.Mark();
    LG_RETURN_IF_ERROR(ParseMap(
        node, path, path,
        {
            {"database", SetString(mask.database), /*required=*/true},
            {"table", SetString(mask.table), /*required=*/true},
            {"column", SetString(mask.column), /*required=*/true},
            {"mask",
             [&](const YAML::Node& v, const std::string& p) -> Status {
               LG_ASSIGN_OR_RETURN(std::string kind, ReadNonEmptyString(v, p));
               auto parsed = policy::ParseMaskKind(kind);
               if (!parsed) {
                 return Error(v, p,
                              "unknown mask " + Quoted(kind) +
                                  "; use null, redact, hash, show_last_n, year_only or expression");
               }
               mask.kind = *parsed;
               kind_mark = v.Mark();
               return Status::Ok();
             },
             /*required=*/true},
            {"n",
             [&](const YAML::Node& v, const std::string& p) -> Status {
               has_n = true;
               LG_ASSIGN_OR_RETURN(mask.n, ReadInt(v, p, 0, 1000));
               return Status::Ok();
             }},
            {"expression",
             [&](const YAML::Node& v, const std::string& p) -> Status {
               has_expression = true;
               LG_ASSIGN_OR_RETURN(mask.expression, ReadNonEmptyString(v, p));
               return Status::Ok();
             }},
        }));
    if (has_n && mask.kind != policy::MaskKind::kShowLastN) {
      return ErrorAt(kind_mark, path, "n applies to mask: show_last_n only; remove n");
    }
    if (has_expression != (mask.kind == policy::MaskKind::kExpression)) {
      return ErrorAt(kind_mark, path,
                     has_expression ? "expression applies to mask: expression only"
                                    : "mask: expression needs an expression: key");
    }
    if (Status s = policy::ValidateColumnMask(mask); !s.ok()) {
      return ErrorAt(kind_mark, path, s.message());
    }
    return mask;
  }

  // {key: [v1, v2], key2: v3}: AND across keys, OR across one key's values.
  Result<policy::TagExpression> ReadTagExpression(const YAML::Node& node, const std::string& path) {
    if (!node.IsMap() || node.size() == 0) {
      return Error(node, path,
                   "expected a mapping of tag key to values, e.g. {domain: [sales]}");
    }
    policy::TagExpression expression;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node key_node = it->first;
      const YAML::Node value = it->second;
      LG_ASSIGN_OR_RETURN(std::string key, ReadNonEmptyString(key_node, path));
      std::string key_path = Child(path, key);
      if (expression.clauses.count(key) != 0) {
        return Error(key_node, path, "duplicate tag key " + Quoted(key));
      }
      std::vector<std::string> values;
      if (value.IsScalar()) {
        LG_ASSIGN_OR_RETURN(std::string single, ReadNonEmptyString(value, key_path));
        values.push_back(std::move(single));
      } else {
        LG_ASSIGN_OR_RETURN(values, ReadStringList(value, key_path));
        if (values.empty()) return Error(value, key_path, "lists no value");
      }
      for (const std::string& v : values) tag_references_.push_back({key, v, value.Mark(), key_path});
      expression.clauses[key] = std::move(values);
    }
    return expression;
  }

  Status ParseTags(const YAML::Node& node, const std::string& path, StackConfig& out) {
    return ParseMap(
        node, path, path,
        {
            {"keys",
             [&](const YAML::Node& v, const std::string& p) -> Status {
               std::map<std::string, int> lines;
               return ParseList(
                   v, p, [&](const YAML::Node& item, size_t, const std::string& ip) -> Status {
                     policy::TagKey key;
                     bool has_values = false;
                     LG_RETURN_IF_ERROR(ParseMap(
                         item, ip + NameSuffix(item, "key"), ip,
                         {{"key",
                           [&](const YAML::Node& k, const std::string& kp) -> Status {
                             LG_ASSIGN_OR_RETURN(key.key, ReadNonEmptyString(k, kp));
                             auto [previous, inserted] = lines.emplace(key.key, Line(k));
                             if (!inserted) {
                               return Error(k, kp,
                                            "duplicate tag key " + Quoted(key.key) +
                                                " (first declared at line " +
                                                std::to_string(previous->second) + ")");
                             }
                             return Status::Ok();
                           },
                           /*required=*/true},
                          {"values",
                           [&](const YAML::Node& l, const std::string& lp) -> Status {
                             has_values = true;
                             LG_ASSIGN_OR_RETURN(key.values, ReadStringList(l, lp));
                             std::set<std::string> seen;
                             for (size_t i = 0; i < key.values.size(); ++i) {
                               if (!seen.insert(key.values[i]).second) {
                                 return Error(l[i], Index(lp, i),
                                              "value " + Quoted(key.values[i]) +
                                                  " is listed twice");
                               }
                             }
                             if (key.values.empty()) return Error(l, lp, "lists no value");
                             return Status::Ok();
                           },
                           /*required=*/true}}));
                     out.tag_keys.push_back(std::move(key));
                     return Status::Ok();
                   });
             },
             /*required=*/false, /*allow_null=*/true},
            {"assign",
             [&](const YAML::Node& v, const std::string& p) -> Status {
               std::map<std::string, int> lines;  // resource + key -> line
               return ParseList(
                   v, p, [&](const YAML::Node& item, size_t, const std::string& ip) -> Status {
                     policy::TagAssignment a;
                     YAML::Mark value_mark = item.Mark();
                     LG_RETURN_IF_ERROR(ParseMap(
                         item, ip, ip,
                         {{"database", SetString(a.database), /*required=*/true},
                          {"table", SetString(a.table)},
                          {"column", SetString(a.column)},
                          {"key", SetString(a.key), /*required=*/true},
                          {"value",
                           [&](const YAML::Node& x, const std::string& xp) -> Status {
                             value_mark = x.Mark();
                             LG_ASSIGN_OR_RETURN(a.value, ReadNonEmptyString(x, xp));
                             return Status::Ok();
                           },
                           /*required=*/true}}));
                     if (!a.column.empty() && a.table.empty()) {
                       return Error(item, ip, "a column needs its table; add table:");
                     }
                     std::string resource = policy::ResourceName(a.database, a.table, a.column);
                     auto [previous, inserted] =
                         lines.emplace(AsciiLower(resource) + '\0' + a.key, Line(item));
                     if (!inserted) {
                       return Error(item, ip,
                                    resource + " already has a value for tag key " +
                                        Quoted(a.key) + " (line " +
                                        std::to_string(previous->second) +
                                        "); a resource carries one value per key");
                     }
                     tag_references_.push_back({a.key, a.value, value_mark, ip});
                     out.tag_assignments.push_back(std::move(a));
                     return Status::Ok();
                   });
             },
             /*required=*/false, /*allow_null=*/true},
        });
  }

  Status ParseFilters(const YAML::Node& node, const std::string& path, StackConfig& out) {
    std::map<std::string, int> names;
    return ParseList(
        node, path, [&](const YAML::Node& item, size_t, const std::string& ip) -> Status {
          policy::DataCellFilter filter;
          LG_RETURN_IF_ERROR(ParseMap(
              item, ip + NameSuffix(item, "name"), ip,
              {
                  {"name",
                   [&](const YAML::Node& v, const std::string& p) -> Status {
                     LG_ASSIGN_OR_RETURN(filter.name, ReadNonEmptyString(v, p));
                     auto [previous, inserted] = names.emplace(filter.name, Line(v));
                     if (!inserted) {
                       return Error(v, p,
                                    "duplicate filter " + Quoted(filter.name) +
                                        " (first declared at line " +
                                        std::to_string(previous->second) + ")");
                     }
                     return Status::Ok();
                   },
                   /*required=*/true},
                  {"database", SetString(filter.database), /*required=*/true},
                  {"table", SetString(filter.table), /*required=*/true},
                  {"rows",
                   [&](const YAML::Node& v, const std::string& p) -> Status {
                     LG_ASSIGN_OR_RETURN(std::string text, ReadString(v, p));
                     if (TrimWhitespace(text).empty()) return Status::Ok();  // all rows
                     Result<policy::RowFilter> rows = policy::ParseRowFilter(text);
                     if (!rows.ok()) {
                       return Error(v, p,
                                    "invalid row filter: " + rows.status().message() +
                                        "; e.g. \"region IN ('eu-west', 'eu-central')\"");
                     }
                     filter.rows = std::move(*rows);
                     return Status::Ok();
                   }},
                  {"columns",
                   [&](const YAML::Node& v, const std::string& p) -> Status {
                     LG_ASSIGN_OR_RETURN(filter.columns, ReadColumnSpec(v, p));
                     return Status::Ok();
                   }},
              }));
          if (filter.table == "*" || filter.database == "*") {
            return Error(item, ip, "a filter applies to one table; name it without \"*\"");
          }
          out.filters.push_back(std::move(filter));
          return Status::Ok();
        });
  }

  Status CheckGovernanceReferences(const StackConfig& config) {
    std::vector<std::string> filters;
    for (const auto& f : config.filters) filters.push_back(f.name);
    for (const ScopeReference& ref : filter_references_) {
      if (std::find(filters.begin(), filters.end(), ref.scope) != filters.end()) continue;
      std::string message = "filter " + Quoted(ref.scope) + " is not declared under filters";
      if (auto match = ClosestMatch(ref.scope, filters)) {
        message += "; did you mean " + Quoted(*match) + "?";
      }
      return ErrorAt(ref.mark, ref.path, message);
    }
    std::vector<std::string> keys;
    for (const auto& k : config.tag_keys) keys.push_back(k.key);
    for (const TagReference& ref : tag_references_) {
      auto key = std::find_if(config.tag_keys.begin(), config.tag_keys.end(),
                              [&](const policy::TagKey& k) { return k.key == ref.key; });
      if (key == config.tag_keys.end()) {
        std::string message = "tag key " + Quoted(ref.key) + " is not declared under tags.keys";
        if (auto match = ClosestMatch(ref.key, keys)) {
          message += "; did you mean " + Quoted(*match) + "?";
        }
        return ErrorAt(ref.mark, ref.path, message);
      }
      if (std::find(key->values.begin(), key->values.end(), ref.value) == key->values.end()) {
        std::string message = Quoted(ref.value) + " is not a value of tag key " + Quoted(ref.key);
        if (auto match = ClosestMatch(ref.value, key->values)) {
          message += "; did you mean " + Quoted(*match) + "?";
        }
        message += " Allowed: " + Join(key->values, ", ");
        return ErrorAt(ref.mark, ref.path, message);
      }
    }
    // A last net for anything the checks above do not cover.
    if (Status s = policy::ValidatePolicy(PolicyOf(config)); !s.ok()) {
      return InvalidArgumentError(file_ + ": " + s.message());
    }
    return Status::Ok();
  }

  Status CheckRoleReferences(const StackConfig& config) {
    std::vector<std::string> declared;
    for (const auto& role : config.roles) declared.push_back(role.name);
    for (const ScopeReference& ref : role_references_) {
      if (std::find(declared.begin(), declared.end(), ref.scope) != declared.end()) continue;
      std::string message = "role " + Quoted(ref.scope) + " is not declared under roles";
      if (auto match = ClosestMatch(ref.scope, declared)) {
        message += "; did you mean " + Quoted(*match) + "?";
      }
      return ErrorAt(ref.mark, ref.path, message);
    }
    return Status::Ok();
  }

  Status CheckScopeReferences(StackConfig& config) {
    // Clients without token_ttl take tokens.default_ttl, whichever section came first.
    for (size_t i : unset_ttl_clients_) {
      config.clients[i].token_ttl_seconds = config.tokens.default_ttl_seconds;
    }
    std::vector<std::string> declared;
    for (const ResourceServerSpec& server : config.resource_servers) {
      for (const ScopeSpec& scope : server.scopes) {
        declared.push_back(server.identifier + "/" + scope.name);
      }
    }
    std::set<std::string_view> declared_set(declared.begin(), declared.end());
    for (const ScopeReference& ref : scope_references_) {
      if (declared_set.count(ref.scope) != 0) continue;
      std::string message =
          "scope " + Quoted(ref.scope) + " is not declared by any resource server";
      if (declared.empty()) {
        message +=
            "; no scopes are declared: add the resource server and its scopes under "
            "resource_servers";
      } else {
        if (auto match = ClosestMatch(ref.scope, declared)) {
          message += "; did you mean " + Quoted(*match) + "?";
        }
        message += " Declared scopes: " + Join(declared, ", ");
      }
      return ErrorAt(ref.mark, ref.path, message);
    }
    return Status::Ok();
  }

  // ` ("value")` when the mapping has a scalar `key`, for messages about it.
  static std::string NameSuffix(const YAML::Node& node, const char* key) {
    if (!node.IsMap()) return "";
    const YAML::Node name = node[key];
    if (!name || !name.IsScalar()) return "";
    return " (" + Quoted(name.Scalar()) + ")";
  }

  static int Line(const YAML::Node& node) { return node.Mark().line + 1; }

  // yaml-cpp marks an empty list item ("-" alone) at the next token; point at
  // the "-" itself when it is the previous non-blank character.
  YAML::Mark MarkOfEmptyItem(const YAML::Mark& mark) const {
    if (mark.is_null() || mark.pos <= 0 || static_cast<size_t>(mark.pos) > text_.size()) {
      return mark;
    }
    size_t i = static_cast<size_t>(mark.pos);
    while (i > 0 && (text_[i - 1] == ' ' || text_[i - 1] == '\t' || text_[i - 1] == '\n' ||
                     text_[i - 1] == '\r')) {
      --i;
    }
    if (i == 0 || text_[i - 1] != '-') return mark;
    size_t dash = i - 1;
    size_t line_start = text_.rfind('\n', dash);
    line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
    YAML::Mark result;
    result.pos = static_cast<int>(dash);
    result.line = static_cast<int>(
        std::count(text_.begin(), text_.begin() + static_cast<std::ptrdiff_t>(dash), '\n'));
    result.column = static_cast<int>(dash - line_start);
    return result;
  }

  std::string file_;
  std::string base_dir_;
  std::string_view text_;  // the document being parsed, for MarkOfEmptyItem
  std::vector<ScopeReference> scope_references_;
  std::vector<ScopeReference> role_references_;  // role names used by role_rules
  std::vector<ScopeReference> filter_references_;  // filter names used by roles
  struct TagReference {
    std::string key, value;
    YAML::Mark mark;
    std::string path;
  };
  std::vector<TagReference> tag_references_;  // by assignments and tag grants
  std::vector<size_t> unset_ttl_clients_;
};

}  // namespace

policy::PolicySnapshot PolicyOf(const StackConfig& stack) {
  policy::PolicySnapshot snapshot;
  for (const auto& role : stack.roles) snapshot.roles.emplace(role.name, role);
  for (const auto& filter : stack.filters) snapshot.filters.emplace(filter.name, filter);
  snapshot.tag_keys = stack.tag_keys;
  snapshot.tag_assignments = stack.tag_assignments;
  return snapshot;
}

Result<StackConfig> ParseStack(std::string_view yaml_text, std::string_view file_name,
                               std::string_view base_dir) {
  Parser parser(file_name, base_dir);
  return parser.Parse(yaml_text);
}

Result<StackConfig> LoadStackFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return NotFoundError("stack file " + path + " does not exist; check the path");
    }
    return FailedPreconditionError("cannot read stack file " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return FailedPreconditionError("stack file " + path + " is not a regular file");
  }
  if (static_cast<size_t>(st.st_size) > kMaxStackFileBytes) {
    return FailedPreconditionError("stack file " + path +
                                   " is larger than 4 MiB; is it the "
                                   "right file?");
  }
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound) return text.status();
    return FailedPreconditionError("cannot read stack file " + path + ": " +
                                   text.status().message());
  }
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  if (ec) {
    return FailedPreconditionError("cannot resolve the directory of stack file " + path + ": " +
                                   ec.message());
  }
  std::string base_dir = absolute.lexically_normal().parent_path().string();
  return ParseStack(*text, path, base_dir);
}

}  // namespace lakegate::config
