#include "app/trino_link.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "common/clock.h"
#include "common/files.h"
#include "common/log.h"
#include "common/random.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "engine/trino/trino_engine.h"
#include "trino/file_metastore.h"

namespace lakegate::app {
namespace {

constexpr int64_t kEngineTokenSeconds = 300;

std::string DefaultDir() {
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/lakegate-trino";
}

// The value of `name` in a raw query string (no decoding: the values
// lakegate reads are URL-safe).
std::string QueryValue(std::string_view query, std::string_view name) {
  for (std::string_view pair : SplitNonEmpty(query, '&')) {
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name && eq != std::string_view::npos) {
      return std::string(pair.substr(eq + 1));
    }
  }
  return "";
}

// The signer of the current (newest unretired) key among `keys`; nullptr
// when there is none.
std::shared_ptr<const jose::Signer> CurrentSigner(
    const std::vector<store::SigningKeyRecord>& keys) {
  for (const store::SigningKeyRecord& key : keys) {
    if (key.retired_at != 0) continue;
    auto alg = crypto::ParseAlgorithm(key.algorithm);
    if (!alg) continue;
    Result<crypto::PrivateKey> private_key =
        crypto::PrivateKey::FromPem(*alg, key.private_pem.Reveal());
    if (!private_key.ok()) continue;
    return std::make_shared<const jose::Signer>(key.kid, std::move(*private_key));
  }
  return nullptr;
}

// An access token whose subject is the engine principal `principal`.
Result<SecretString> MintEngineToken(const jose::Signer& signer, const std::string& issuer,
                                     std::string_view principal) {
  const int64_t now = SystemClock::Get().NowSeconds();
  nlohmann::json claims = {
      {"iss", issuer},         {"sub", principal}, {"client_id", principal},
      {"token_use", "access"}, {"iat", now},       {"exp", now + kEngineTokenSeconds},
      {"jti", RandomToken(16)}};
  LG_ASSIGN_OR_RETURN(std::string token, signer.SignCompact(claims.dump()));
  return SecretString(std::move(token));
}

}  // namespace

Result<std::function<Result<SecretString>(std::string_view principal)>> TrinoLoadTokenSource(
    store::Store& store, std::string issuer) {
  LG_ASSIGN_OR_RETURN(std::vector<store::SigningKeyRecord> keys, store.ListSigningKeys());
  std::shared_ptr<const jose::Signer> signer = CurrentSigner(keys);
  if (!signer) {
    return Status(StatusCode::kFailedPrecondition,
                  "the state store holds no signing key yet: start lakegate (the node that "
                  "serves the Trino cluster's decisions) once before loading");
  }
  std::function<Result<SecretString>(std::string_view)> source =
      [signer, issuer = std::move(issuer)](std::string_view principal) -> Result<SecretString> {
    if (principal != engine::kTrinoLoadPrincipal) {
      return Status(StatusCode::kPermissionDenied,
                    "a load mints tokens for the load principal only");
    }
    return MintEngineToken(*signer, issuer, principal);
  };
  return source;
}

bool IsTrinoEngineUrl(std::string_view url) {
  return url.size() >= 8 && EqualsIgnoreCase(url.substr(0, 8), "trino://");
}

TrinoLink::TrinoLink(std::string dir, std::string issuer, const gateway::GatewayOptions& options,
                     SecretString key)
    : dir_(std::move(dir)),
      issuer_(std::move(issuer)),
      resolver_(options.client_rules, options.scope_rules, options.scopes),
      key_(std::move(key)) {}

Result<std::unique_ptr<TrinoLink>> TrinoLink::Open(std::string_view url, std::string issuer,
                                                   const gateway::GatewayOptions& options,
                                                   trino::OpaDecider::PolicyFn policy,
                                                   SecretString mask_hash_key,
                                                   audit::Metrics* metrics) {
  std::string_view query = url.substr(std::min(url.size(), url.find('?')));
  if (!query.empty()) query.remove_prefix(1);
  std::string dir = QueryValue(query, "dir");
  if (dir.empty()) dir = DefaultDir();
  std::string catalog = QueryValue(query, "catalog");
  if (catalog.empty()) catalog = "lake";
  const std::string secret_file = dir + "/opa-secret";
  std::ifstream in(secret_file);
  std::string secret;
  std::getline(in, secret);
  if (secret.size() < 16) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot read the Trino cluster's shared key " + secret_file +
                      ": start Trino first (bash scripts/trino.sh start " + dir +
                      "), or name its directory in the engine URL (trino://HOST:PORT?dir=DIR)");
  }
  std::unique_ptr<TrinoLink> link(
      new TrinoLink(dir, std::move(issuer), options, SecretString(std::move(secret))));
  trino::OpaDecider::Options decider_options;
  decider_options.catalog = catalog;
  decider_options.mask_hash_key = std::move(mask_hash_key);
  if (metrics != nullptr) {
    decider_options.answers = &metrics->AddCounter(
        "lakegate_trino_decisions_total",
        "Decisions answered to Trino's OPA access-control plugin, from the cache or computed",
        {"answer"});
  }
  TrinoLink* self = link.get();
  const std::string metastore = dir + "/lake/metastore";
  link->decider_ = std::make_unique<trino::OpaDecider>(
      std::move(decider_options), std::move(policy),
      [self](std::string_view user) { return self->Resolve(user); },
      [self] { return self->generation_.load(); },
      [metastore](std::string_view schema, std::string_view table) {
        return trino::FileMetastoreColumns(metastore, schema, table);
      });
  if (Status s = MakeDirectories(dir + "/jwt-keys", 0700); !s.ok()) return s;
  return link;
}

bool TrinoLink::Authorized(std::string_view query) const {
  // Constant time: the key is the only thing between Trino's questions and
  // anyone who can reach this port.
  return crypto::ConstantTimeEquals(QueryValue(query, "key"), key_.Reveal());
}

Result<trino::TrinoPrincipal> TrinoLink::Resolve(std::string_view user) const {
  if (user == engine::kTrinoLoadPrincipal) {
    return trino::TrinoPrincipal{
        .role = "", .max_class = engine::StatementClass::kAdmin, .superuser = true};
  }
  std::shared_ptr<const store::StateSnapshot> state;
  {
    MutexLock lock(mu_);
    state = state_;
  }
  const store::ClientRecord* client = state ? state->FindClient(user) : nullptr;
  if (client == nullptr || !client->enabled) {
    return Status(StatusCode::kPermissionDenied, "no enabled client " + std::string(user));
  }
  gateway::Identity identity;
  identity.issuer = issuer_;
  identity.client_id = client->client_id;
  identity.client_name = client->name;
  identity.scopes = client->scopes;
  identity.own = true;
  LG_ASSIGN_OR_RETURN(gateway::RoleDecision decision, resolver_.Resolve(identity));
  LG_ASSIGN_OR_RETURN(engine::StatementClass max_class, resolver_.MaxClass(identity));
  return trino::TrinoPrincipal{.role = decision.role, .max_class = max_class, .superuser = false};
}

void TrinoLink::OnState(const std::shared_ptr<const store::StateSnapshot>& state) {
  std::shared_ptr<const jose::Signer> signer = CurrentSigner(state->signing_keys);
  bool clients_changed = true;
  {
    MutexLock lock(mu_);
    clients_changed = state_ == nullptr || state_->clients != state->clients;
    state_ = state;
    if (signer) signer_ = std::move(signer);
  }
  // Decisions depend on the clients (who is whom, enabled, scopes), not on
  // the tokens, revocations and keys that make up most new snapshots: the
  // decision cache starts over only when the clients changed.
  if (clients_changed) generation_.fetch_add(1);
  WriteKeys(*state);
}

void TrinoLink::WriteKeys(const store::StateSnapshot& state) {
  const std::string keys_dir = dir_ + "/jwt-keys";
  const int64_t now = SystemClock::Get().NowSeconds();
  std::set<std::string> wanted;
  for (const store::SigningKeyRecord& key : state.signing_keys) {
    if (!store::IsPublished(key, now)) continue;
    // A kid becomes a file name: base64url and hex kids only.
    bool plain = !key.kid.empty() && key.kid.size() <= 128;
    for (char c : key.kid) {
      plain = plain && (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_');
    }
    auto alg = crypto::ParseAlgorithm(key.algorithm);
    if (!plain || !alg) continue;
    Result<crypto::PrivateKey> private_key =
        crypto::PrivateKey::FromPem(*alg, key.private_pem.Reveal());
    if (!private_key.ok()) continue;
    const std::string path = keys_dir + "/" + key.kid + ".pem";
    wanted.insert(key.kid + ".pem");
    std::ifstream existing(path);
    if (existing) continue;  // a kid's key never changes
    if (Status s = WriteFileAtomic(path, private_key->Public().ToPem(), 0644); !s.ok()) {
      log::Error("cannot write Trino's copy of signing key " + key.kid + ": " + s.ToString());
    }
  }
  // Keys no longer published stop verifying on Trino too.
  if (DIR* d = opendir(keys_dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name.size() > 4 && name.ends_with(".pem") && !wanted.contains(name)) {
        unlink((keys_dir + "/" + name).c_str());
      }
    }
    closedir(d);
  }
}

Result<SecretString> TrinoLink::Mint(std::string_view principal) const {
  std::shared_ptr<const jose::Signer> signer;
  {
    MutexLock lock(mu_);
    signer = signer_;
  }
  if (!signer) return Status(StatusCode::kUnavailable, "no signing key yet");
  return MintEngineToken(*signer, issuer_, principal);
}

}  // namespace lakegate::app
