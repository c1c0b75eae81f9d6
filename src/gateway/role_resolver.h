// RoleResolver: maps a caller to a role ("client to role mapping"). Ordered client rules
// (by issuer and client id, or by client name for our own clients) come first, then
// ordered scope rules (the first rule whose scope the token has wins), else
// the request is denied. Also decides which statement class the token's
// scopes allow. Pure and immutable: thread-safe.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "engine/engine.h"
#include "gateway/bearer_authenticator.h"
#include "gateway/gateway_options.h"

namespace lakegate::gateway {

struct RoleDecision {
  std::string role;
  std::string matched_by;  // "client_id rule", "client name rule" or "scope rule <scope>"
};

class RoleResolver {
 public:
  RoleResolver(std::vector<ClientRule> client_rules, std::vector<ScopeRule> scope_rules,
               ScopeNames scope_names);

  // The role for `identity`. PermissionDenied
  // "no role is mapped to client '<name or id>' (scopes: a b); add a role rule"
  // when nothing matches.
  Result<RoleDecision> Resolve(const Identity& identity) const;

  // The highest statement class the scopes allow (admin > write > read).
  // PermissionDenied naming the three scopes when the token has none of them.
  Result<engine::StatementClass> MaxClass(const Identity& identity) const;

 private:
  const std::vector<ClientRule> client_rules_;
  const std::vector<ScopeRule> scope_rules_;
  const ScopeNames scope_names_;
};

}  // namespace lakegate::gateway
