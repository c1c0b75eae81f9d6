#include "store/record_checks.h"

#include <set>
#include <string>
#include <string_view>

namespace lakegate::store {
namespace {

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

Status CheckClientRecord(const ClientRecord& client) {
  if (client.client_id.empty()) return InvalidArgumentError("client id is empty");
  if (client.name.empty()) return InvalidArgumentError("client name is empty");
  return Status::Ok();
}

Status CheckAccessKeyRecord(const AccessKeyRecord& key) {
  if (key.access_key_id.empty()) return InvalidArgumentError("access key id is empty");
  if (key.client_id.empty()) return InvalidArgumentError("access key's client id is empty");
  if (key.secret_ciphertext.empty()) {
    return InvalidArgumentError("access key " + Quoted(key.access_key_id) + " has no secret");
  }
  return Status::Ok();
}

Status CheckResourceServerRecord(const ResourceServerRecord& server) {
  if (server.identifier.empty()) return InvalidArgumentError("resource server identifier is empty");
  std::set<std::string_view> seen;
  for (const ScopeRecord& scope : server.scopes) {
    if (scope.name.empty()) {
      return InvalidArgumentError("resource server " + Quoted(server.identifier) +
                                  " has a scope with an empty name");
    }
    if (!seen.insert(scope.name).second) {
      return InvalidArgumentError("resource server " + Quoted(server.identifier) +
                                  " declares scope " + Quoted(scope.name) + " twice");
    }
  }
  return Status::Ok();
}

}  // namespace lakegate::store
