#include "app/apply.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "catalog/declared_policy.h"
#include "common/files.h"
#include "common/strings.h"
#include "gateway/jwks_fetcher.h"
#include "oauth/private_key_jwt.h"
#include "oauth/tls_client_auth.h"
#include "policy/validate.h"

namespace lakegate::app {
namespace {

std::string ScopeList(const std::vector<std::string>& scopes) {
  return scopes.empty() ? "(none)" : Join(scopes, " ");
}

bool SameScopes(const std::vector<store::ScopeRecord>& a, const std::vector<config::ScopeSpec>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].description != b[i].description) return false;
  }
  return true;
}

// The governance part of apply: the file's roles, filters and tags merged
// into the latest policy version (catalog/declared_policy.h), as one change.
Status PlanPolicy(const config::StackConfig& stack, store::Store& tx, bool dry_run,
                  ApplyResult& result) {
  Result<catalog::PolicyUpdate> update = catalog::ApplyDeclaredPolicy(
      tx, config::PolicyOf(stack), "apply " + stack.source_path, dry_run);
  if (!update.ok()) {
    std::optional<policy::PolicyFailure> rule = update.status().reason<policy::PolicyFailure>();
    if (!rule) return update.status();
    return Status(update.status().code(), *rule,
                  update.status().message() + " (after merging " + stack.source_path +
                      " with the policy changes made with the CLI; fix the file or the "
                      "CLI-made object)");
  }
  if (!update->changed()) {
    ++result.unchanged;
    return Status::Ok();
  }
  const bool existed = update->old_version != 0;
  std::string versions = existed ? "version " + std::to_string(update->old_version) + " -> " +
                                       std::to_string(update->new_version)
                                 : "version " + std::to_string(update->new_version);
  result.changes.push_back({existed ? Change::Kind::kUpdate : Change::Kind::kCreate, "policy",
                            std::move(versions), Join(update->changes, ", ")});
  return Status::Ok();
}

// The public keys of a private_key_jwt client, checked before anything is
// written: a JWK Set that holds no usable key would lock the client out.
Status CheckClientKeys(const config::ClientSpec& spec) {
  Status keys = Status::Ok();
  if (spec.auth == oauth::kTlsClientAuth) {
    keys = oauth::ValidateTlsClientAuth(spec.tls_client_auth_field, spec.tls_client_auth_value);
  } else if (spec.auth == oauth::kSelfSignedTlsClientAuth) {
    keys = oauth::ValidateSelfSignedJwks(spec.jwks);
  }
  if (!keys.ok()) return keys.WithPrefix("client '" + spec.name + "'");
  if (spec.auth != oauth::kPrivateKeyJwt) return Status::Ok();
  keys = oauth::ValidateClientKeys(spec.jwks, spec.jwks_uri);
  if (keys.ok() && !spec.jwks_uri.empty()) {
    keys = gateway::CheckJwksUrl(spec.jwks_uri, /*allow_insecure_http=*/false);
  }
  if (!keys.ok()) return keys.WithPrefix("client '" + spec.name + "'");
  return Status::Ok();
}

}  // namespace

std::string SecretsDir(const config::StackConfig& stack) {
  std::filesystem::path dir = std::filesystem::path(stack.source_path).parent_path();
  if (dir.empty()) dir = ".";
  return (dir / "secrets").string();
}

Result<std::string> WriteSecretFile(const std::string& secrets_dir, const std::string& name,
                                    const std::string& client_id, const SecretString& secret) {
  LG_RETURN_IF_ERROR(MakeDirectories(secrets_dir, 0700));
  std::string path = secrets_dir + "/" + name + ".json";
  std::string body = "{\"client_id\": " + JsonQuote(client_id) +
                     ", \"client_secret\": " + JsonQuote(secret.Reveal()) + "}\n";
  LG_RETURN_IF_ERROR(WriteFileAtomic(path, body, 0600));
  return path;
}

Result<ApplyResult> ApplyStack(const config::StackConfig& stack, store::Store& store,
                               const oauth::SecretHasher& hasher, const Clock& clock,
                               const std::string& secrets_dir, bool dry_run) {
  ApplyResult result;
  struct NewSecret {
    std::string name, client_id;
    SecretString secret;
  };
  std::vector<NewSecret> new_secrets;
  int64_t now = clock.NowSeconds();

  auto plan = [&](store::Store& tx) -> Status {
    // Resource servers: exactly what the file declares.
    LG_ASSIGN_OR_RETURN(auto servers, tx.ListResourceServers());
    std::map<std::string, store::ResourceServerRecord> existing_servers;
    for (auto& s : servers) existing_servers.emplace(s.identifier, s);
    for (const auto& spec : stack.resource_servers) {
      auto it = existing_servers.find(spec.identifier);
      store::ResourceServerRecord record{spec.identifier, spec.name, {}};
      for (const auto& scope : spec.scopes)
        record.scopes.push_back({scope.name, scope.description});
      if (it == existing_servers.end()) {
        result.changes.push_back({Change::Kind::kCreate, "resource-server", spec.identifier,
                                  std::to_string(spec.scopes.size()) + " scopes"});
      } else if (it->second.name != spec.name || !SameScopes(it->second.scopes, spec.scopes)) {
        result.changes.push_back(
            {Change::Kind::kUpdate, "resource-server", spec.identifier, "name or scopes changed"});
      } else {
        ++result.unchanged;
        existing_servers.erase(it);
        continue;
      }
      if (it != existing_servers.end()) existing_servers.erase(it);
      if (!dry_run) LG_RETURN_IF_ERROR(tx.PutResourceServer(record));
    }
    for (const auto& [identifier, unused] : existing_servers) {
      result.changes.push_back({Change::Kind::kDelete, "resource-server", identifier, ""});
      if (!dry_run) LG_RETURN_IF_ERROR(tx.DeleteResourceServer(identifier));
    }

    // Clients, matched by name.
    LG_ASSIGN_OR_RETURN(auto clients, tx.ListClients());
    std::map<std::string, store::ClientRecord> by_name;
    for (auto& c : clients) by_name.emplace(c.name, c);
    std::set<std::string> declared;
    for (const auto& spec : stack.clients) {
      declared.insert(spec.name);
      LG_RETURN_IF_ERROR(CheckClientKeys(spec));
      // Clients that authenticate with keys or certificates have no secret.
      const bool key_client = spec.auth != "client_secret_basic";
      auto it = by_name.find(spec.name);
      if (it == by_name.end()) {
        store::ClientRecord record;
        record.client_id =
            spec.client_id.value_or(dry_run ? "(generated)" : oauth::GenerateClientId());
        record.name = spec.name;
        record.scopes = spec.scopes;
        record.token_ttl_seconds = spec.token_ttl_seconds;
        record.enabled = spec.enabled;
        record.created_at = record.updated_at = now;
        record.managed = true;
        record.auth_method = spec.auth;
        record.jwks = spec.jwks;
        record.jwks_uri = spec.jwks_uri;
        record.tls_client_auth_field = spec.tls_client_auth_field;
        record.tls_client_auth_value = spec.tls_client_auth_value;
        record.tls_client_certificate_bound_access_tokens =
            spec.tls_client_certificate_bound_access_tokens;
        record.dpop_bound_access_tokens = spec.dpop_bound_access_tokens;
        result.changes.push_back(
            {Change::Kind::kCreate, "client", spec.name,
             "scopes: " + ScopeList(spec.scopes) + (key_client ? "; auth: " + spec.auth : "")});
        if (!dry_run) {
          // A key client has no secret; its private key stays with the client.
          SecretString secret;
          if (!key_client) {
            secret = oauth::GenerateClientSecret();
            record.secret_hash = hasher.Hash(secret.Reveal());
          }
          LG_RETURN_IF_ERROR(tx.InsertClient(record));
          if (!key_client) new_secrets.push_back({spec.name, record.client_id, std::move(secret)});
        }
        continue;
      }
      store::ClientRecord record = it->second;
      if (spec.client_id && *spec.client_id != record.client_id) {
        return InvalidArgumentError("client '" + spec.name + "' exists with client_id " +
                                    record.client_id + " but " + stack.source_path + " asks for " +
                                    *spec.client_id +
                                    "; a client id cannot change: delete the client first");
      }
      std::vector<std::string> details;
      if (record.scopes != spec.scopes) {
        details.push_back("scopes: " + ScopeList(record.scopes) + " -> " + ScopeList(spec.scopes));
      }
      if (record.token_ttl_seconds != spec.token_ttl_seconds) {
        details.push_back("token_ttl: " + std::to_string(record.token_ttl_seconds) + "s -> " +
                          std::to_string(spec.token_ttl_seconds) + "s");
      }
      if (record.enabled != spec.enabled) {
        details.push_back(std::string("enabled: ") + (record.enabled ? "true" : "false") + " -> " +
                          (spec.enabled ? "true" : "false"));
      }
      if (record.auth_method != spec.auth) {
        details.push_back("auth: " + record.auth_method + " -> " + spec.auth);
      }
      if (record.jwks != spec.jwks || record.jwks_uri != spec.jwks_uri) {
        details.push_back("public keys changed");
      }
      if (record.tls_client_auth_field != spec.tls_client_auth_field ||
          record.tls_client_auth_value != spec.tls_client_auth_value) {
        details.push_back("tls_client_auth certificate name changed");
      }
      if (record.tls_client_certificate_bound_access_tokens !=
          spec.tls_client_certificate_bound_access_tokens) {
        details.push_back(std::string("tls_client_certificate_bound_access_tokens: ") +
                          (spec.tls_client_certificate_bound_access_tokens ? "true" : "false"));
      }
      if (record.dpop_bound_access_tokens != spec.dpop_bound_access_tokens) {
        details.push_back(std::string("dpop_bound_access_tokens: ") +
                          (record.dpop_bound_access_tokens ? "true" : "false") + " -> " +
                          (spec.dpop_bound_access_tokens ? "true" : "false"));
      }
      if (!record.managed) details.push_back("now managed by " + stack.source_path);
      if (details.empty()) {
        ++result.unchanged;
        continue;
      }
      result.changes.push_back({Change::Kind::kUpdate, "client", spec.name, Join(details, "; ")});
      const bool becomes_secret_client = record.auth_method != spec.auth && !key_client;
      record.scopes = spec.scopes;
      record.token_ttl_seconds = spec.token_ttl_seconds;
      record.enabled = spec.enabled;
      record.managed = true;
      record.updated_at = now;
      record.auth_method = spec.auth;
      record.jwks = spec.jwks;
      record.jwks_uri = spec.jwks_uri;
      record.tls_client_auth_field = spec.tls_client_auth_field;
      record.tls_client_auth_value = spec.tls_client_auth_value;
      record.tls_client_certificate_bound_access_tokens =
          spec.tls_client_certificate_bound_access_tokens;
      record.dpop_bound_access_tokens = spec.dpop_bound_access_tokens;
      if (key_client) {
        // Keys only from now on: no secret may still open the door.
        record.secret_hash.clear();
        record.previous_secret_hash.clear();
        record.previous_secret_expires_at = 0;
      }
      if (!dry_run) {
        SecretString secret;
        if (becomes_secret_client) {
          secret = oauth::GenerateClientSecret();
          record.secret_hash = hasher.Hash(secret.Reveal());
        }
        LG_RETURN_IF_ERROR(tx.UpdateClient(record));
        if (becomes_secret_client) {
          new_secrets.push_back({spec.name, record.client_id, std::move(secret)});
        }
      }
    }
    for (const auto& [name, record] : by_name) {
      if (!record.managed || declared.count(name)) continue;
      result.changes.push_back({Change::Kind::kDelete, "client", name, "id " + record.client_id});
      if (!dry_run) LG_RETURN_IF_ERROR(tx.DeleteClient(record.client_id));
    }
    return PlanPolicy(stack, tx, dry_run, result);
  };

  if (dry_run) {
    LG_RETURN_IF_ERROR(plan(store));
    return result;
  }
  LG_RETURN_IF_ERROR(store.RunInTransaction(plan));
  // Secrets are written after the commit: a secret file always belongs to a
  // client that exists.
  for (const auto& s : new_secrets) {
    auto path = WriteSecretFile(secrets_dir, s.name, s.client_id, s.secret);
    if (!path.ok()) {
      return path.status().WithPrefix("client '" + s.name +
                                      "' was created but its secret could not be saved; run "
                                      "`lakegate client rotate-secret " +
                                      s.name + "` to issue a new one");
    }
    result.secret_files.push_back(*path);
  }
  return result;
}

std::string FormatChanges(const ApplyResult& result, bool dry_run) {
  std::string out;
  for (const auto& c : result.changes) {
    const char* verb = c.kind == Change::Kind::kCreate   ? "+ create"
                       : c.kind == Change::Kind::kUpdate ? "~ update"
                                                         : "- delete";
    out += verb;
    out += "  ";
    out += c.object;
    out += std::string(16 - std::min<size_t>(15, c.object.size()), ' ');
    out += c.name;
    if (!c.detail.empty()) {
      out += "  (";
      out += c.detail;
      out += ")";
    }
    out += '\n';
  }
  for (const auto& f : result.secret_files) out += "  secret written to " + f + " (mode 0600)\n";
  out += std::to_string(result.changes.size()) +
         (dry_run ? " change(s) would be made, " : " change(s), ") +
         std::to_string(result.unchanged) + " unchanged\n";
  return out;
}

}  // namespace lakegate::app
