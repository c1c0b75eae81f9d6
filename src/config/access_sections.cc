// Who may use the query API and as which role: role_rules (clients and
// scopes to roles) and trusted_issuers (external token issuers); then every
// role a rule names is checked against the declared roles, and every issuer
// against the trusted ones.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "config/stack_sections.h"

namespace lakegate::config {

Status ParseRoleRules(StackParse& parse, const YAML::Node& node, const std::string& path) {
  const YamlReader& yaml = parse.yaml;
  StackConfig& out = parse.config;
  auto rule_list = [&](std::vector<RoleRuleSpec>& rules, bool by_client) -> YamlReader::Handler {
    return [&, by_client](const YAML::Node& v, const std::string& p) -> Status {
      return yaml.ParseList(
          v, p, [&](const YAML::Node& item, size_t, const std::string& ip) -> Status {
            RoleRuleSpec rule;
            std::vector<YamlReader::Field> fields = {
                {"role", yaml.SetString(rule.role), /*required=*/true}};
            if (by_client) {
              fields.push_back({"client", yaml.SetString(rule.client_name)});
              fields.push_back({"client_id", yaml.SetString(rule.client_id)});
              fields.push_back({"issuer", yaml.SetString(rule.issuer)});
            } else {
              fields.push_back({"scope", yaml.SetString(rule.scope), /*required=*/true});
            }
            LG_RETURN_IF_ERROR(yaml.ParseMap(item, ip, ip, fields));
            if (by_client && rule.client_name.empty() == rule.client_id.empty()) {
              return yaml.Error(item, ip,
                                "give exactly one of client (a client name) or client_id");
            }
            if (by_client && !rule.issuer.empty()) {
              if (!rule.client_name.empty()) {
                return yaml.Error(item, ip + ".issuer",
                                  "a client name matches lakegate's own clients only; drop issuer "
                                  "(or use client_id with the external issuer)");
              }
              parse.issuer_references.push_back(
                  {rule.issuer, item["issuer"].Mark(), ip + ".issuer"});
            }
            parse.role_references.push_back({rule.role, item.Mark(), ip});
            rules.push_back(std::move(rule));
            return Status::Ok();
          });
    };
  };
  return yaml.ParseMap(node, path, path,
                       {{"clients", rule_list(out.client_rules, true), false, true},
                        {"scopes", rule_list(out.scope_rules, false), false, true}});
}

Status ParseTrustedIssuers(StackParse& parse, const YAML::Node& node, const std::string& path) {
  const YamlReader& yaml = parse.yaml;
  StackConfig& out = parse.config;
  return yaml.ParseList(
      node, path, [&](const YAML::Node& item, size_t, const std::string& ip) -> Status {
        TrustedIssuerSpec spec;
        LG_RETURN_IF_ERROR(yaml.ParseMap(
            item, ip + YamlReader::NameSuffix(item, "issuer"), ip,
            {
                {"issuer", yaml.SetString(spec.issuer), /*required=*/true},
                {"jwks_uri", yaml.SetString(spec.jwks_uri), /*required=*/true},
                {"audience", yaml.Set(spec.audience, &YamlReader::ReadNonEmptyString)},
                {"token_use", yaml.Set(spec.token_use, &YamlReader::ReadNonEmptyString)},
                {"require_at_jwt_typ", yaml.SetBool(spec.require_at_jwt_typ)},
                {"require_client_id", yaml.SetBool(spec.require_client_id)},
                {"refresh_min_interval",
                 [&](const YAML::Node& v, const std::string& p) -> Status {
                   LG_ASSIGN_OR_RETURN(spec.refresh_min_interval_seconds,
                                       yaml.ReadDuration(v, p, 1, 86400, "1s..1d"));
                   return Status::Ok();
                 }},
            }));
        for (const char* scheme : {"https://", "http://"}) {
          if (spec.jwks_uri.rfind(scheme, 0) == 0) {
            out.trusted_issuers.push_back(std::move(spec));
            return Status::Ok();
          }
        }
        return yaml.Error(item, ip + ".jwks_uri", "must be an https:// (or loopback http://) URL");
      });
}

Status CheckIssuerReferences(const StackParse& parse) {
  std::vector<std::string> known;
  if (!parse.config.issuer.empty()) known.push_back(parse.config.issuer);
  for (const auto& trusted : parse.config.trusted_issuers) known.push_back(trusted.issuer);
  for (const NameReference& ref : parse.issuer_references) {
    if (std::find(known.begin(), known.end(), ref.name) != known.end()) continue;
    return parse.yaml.ErrorAt(
        ref.mark, ref.path,
        "issuer " + Quoted(ref.name) + " is neither `issuer` nor listed under trusted_issuers" +
            DidYouMean(ref.name, known) + "; omit it to match lakegate's own tokens");
  }
  return Status::Ok();
}

Status CheckRoleReferences(const StackParse& parse) {
  std::vector<std::string> declared;
  for (const auto& role : parse.config.roles) declared.push_back(role.name);
  for (const NameReference& ref : parse.role_references) {
    if (std::find(declared.begin(), declared.end(), ref.name) != declared.end()) continue;
    return parse.yaml.ErrorAt(ref.mark, ref.path,
                              "role " + Quoted(ref.name) + " is not declared under roles" +
                                  DidYouMean(ref.name, declared));
  }
  return Status::Ok();
}

}  // namespace lakegate::config
