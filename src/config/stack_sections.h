// The sections of the stack file, one parser each, and the checks that need
// the whole document. Internal to config/: stack_config.cc drives them over
// one document, in the order its table lists them.
//
//   server_sections.cc      version, issuer, state_dir, state, listen, tokens, limits,
//                           audit, metrics, query
//   client_sections.cc      resource_servers, clients; scope references
//   access_sections.cc      role_rules, trusted_issuers; role references
//   governance_sections.cc  roles, tags, filters: YAML into the policy model;
//                           policy rule violations mapped back to positions
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <string>
#include <vector>

#include "common/status.h"
#include "config/stack_config.h"
#include "config/yaml_reader.h"

namespace lakegate::config {

// A name used in one section and declared in another, checked once every
// section is read (the sections may come in any order).
struct NameReference {
  std::string name;
  YAML::Mark mark;
  std::string path;
};

// One stack document being parsed: the reader, the document, the config the
// sections fill, and what they leave for the checks after the last section.
struct StackParse {
  const YamlReader& yaml;
  const YAML::Node& root;
  StackConfig& config;
  std::vector<NameReference> scope_references = {};   // client scopes and query.scopes
  std::vector<NameReference> role_references = {};    // roles named by role_rules
  std::vector<NameReference> issuer_references = {};  // issuers named by client rules
  std::vector<size_t> clients_without_ttl = {};       // they take tokens.default_ttl
};

// A token lifetime: a duration from 5 minutes to 1 day (Cognito's range).
Result<int64_t> ReadTtl(const YamlReader& yaml, const YAML::Node& node, const std::string& path);

// A section parser reads the value of one top-level key (at `path`).
using SectionParser = Status (*)(StackParse& parse, const YAML::Node& value,
                                 const std::string& path);

Status ParseVersion(StackParse& parse, const YAML::Node& value, const std::string& path);
Status ParseIssuer(StackParse& parse, const YAML::Node& value, const std::string& path);
Status ParseStateDir(StackParse& parse, const YAML::Node& value, const std::string& path);
Status ParseState(StackParse& parse, const YAML::Node& value, const std::string& path);
Status ParseListen(StackParse& parse, const YAML::Node& value, const std::string& path);
Status ParseMtls(StackParse& parse, const YAML::Node& value, const std::string& path);
Status ParseTokens(StackParse& parse, const YAML::Node& value, const std::string& path);
Status ParseLimits(StackParse& parse, const YAML::Node& value, const std::string& path);
Status ParseAudit(StackParse& parse, const YAML::Node& value, const std::string& path);
Status ParseMetrics(StackParse& parse, const YAML::Node& value, const std::string& path);
Status ParseQuery(StackParse& parse, const YAML::Node& value, const std::string& path);
// engine: {url: URL} -- the query engine (app/engines.h); a plain path is a
// lake directory relative to the stack file.
Status ParseEngine(StackParse& parse, const YAML::Node& value, const std::string& path);

Status ParseResourceServers(StackParse& parse, const YAML::Node& value, const std::string& path);
Status ParseClients(StackParse& parse, const YAML::Node& value, const std::string& path);

Status ParseRoleRules(StackParse& parse, const YAML::Node& value, const std::string& path);
Status ParseTrustedIssuers(StackParse& parse, const YAML::Node& value, const std::string& path);

Status ParseRoles(StackParse& parse, const YAML::Node& value, const std::string& path);
Status ParseTags(StackParse& parse, const YAML::Node& value, const std::string& path);
Status ParseFilters(StackParse& parse, const YAML::Node& value, const std::string& path);

// After the last section. Gives clients without token_ttl tokens.default_ttl
// and checks that every scope a client or query.scopes names is declared by
// a resource server.
Status CheckScopeReferences(StackParse& parse);
// Every role a role rule names is declared under roles.
Status CheckRoleReferences(const StackParse& parse);
// Every issuer a client rule names is `issuer` or a trusted issuer.
Status CheckIssuerReferences(const StackParse& parse);
// The governance the file declares (PolicyOf) keeps every policy rule
// (policy/validate.h); a violation is reported at the YAML position of the
// object that breaks it.
Status CheckGovernance(const StackParse& parse);

}  // namespace lakegate::config
