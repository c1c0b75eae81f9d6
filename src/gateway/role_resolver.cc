#include "gateway/role_resolver.h"

#include <utility>

#include "common/strings.h"

namespace lakegate::gateway {

RoleResolver::RoleResolver(std::vector<ClientRule> client_rules, std::vector<ScopeRule> scope_rules,
                           ScopeNames scope_names)
    : client_rules_(std::move(client_rules)),
      scope_rules_(std::move(scope_rules)),
      scope_names_(std::move(scope_names)) {}

Result<RoleDecision> RoleResolver::Resolve(const Identity& identity) const {
  for (const ClientRule& rule : client_rules_) {
    // A client id is unique only within its issuer: a trusted external issuer
    // could hand out a token with our client's id.
    const bool issuer_matches = rule.issuer.empty() ? identity.own : rule.issuer == identity.issuer;
    if (!rule.client_id.empty() && issuer_matches && rule.client_id == identity.client_id) {
      return RoleDecision{rule.role, "client_id rule"};
    }
    // Names exist only in our own directory; an external token cannot claim one.
    if (!rule.client_name.empty() && identity.own && rule.client_name == identity.client_name) {
      return RoleDecision{rule.role, "client name rule"};
    }
  }
  for (const ScopeRule& rule : scope_rules_) {
    if (identity.HasScope(rule.scope)) return RoleDecision{rule.role, "scope rule " + rule.scope};
  }
  const std::string& who = identity.client_name.empty() ? identity.client_id : identity.client_name;
  return PermissionDeniedError("no role is mapped to client '" + who +
                               "' (scopes: " + Join(identity.scopes, " ") + "); add a role rule");
}

Result<engine::StatementClass> RoleResolver::MaxClass(const Identity& identity) const {
  if (!scope_names_.admin.empty() && identity.HasScope(scope_names_.admin)) {
    return engine::StatementClass::kAdmin;
  }
  if (!scope_names_.write.empty() && identity.HasScope(scope_names_.write)) {
    return engine::StatementClass::kWrite;
  }
  if (!scope_names_.read.empty() && identity.HasScope(scope_names_.read)) {
    return engine::StatementClass::kRead;
  }
  return PermissionDeniedError("the token has none of the query scopes (" + scope_names_.read +
                               ", " + scope_names_.write + ", " + scope_names_.admin + ")");
}

}  // namespace lakegate::gateway
