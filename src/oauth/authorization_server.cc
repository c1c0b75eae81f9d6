#include "oauth/authorization_server.h"

#include <algorithm>
#include <set>

#include "common/log.h"
#include "common/random.h"
#include "common/strings.h"
#include "oauth/client_auth.h"

namespace lakegate::oauth {
namespace {

constexpr std::string_view kFormContentType = "application/x-www-form-urlencoded";

bool IsFormContentType(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  return EqualsIgnoreCase(TrimWhitespace(media), kFormContentType);
}

void AddNoStore(EndpointResponse& r) {
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Pragma", "no-cache");
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

AuthorizationServer::AuthorizationServer(AuthServerOptions options, store::Store& store,
                                         SecretHasher hasher, const Clock& clock,
                                         audit::AuditLog* audit, audit::Metrics* metrics)
    : options_(std::move(options)),
      store_(store),
      hasher_(std::move(hasher)),
      clock_(clock),
      audit_(audit),
      keys_(store, clock),
      client_limiter_(options_.failed_auth_per_minute_per_client, options_.limiter_max_keys),
      address_limiter_(options_.failed_auth_per_minute_per_address, options_.limiter_max_keys),
      directory_(std::make_shared<const Directory>()) {
  if (metrics) {
    tokens_counter_ = &metrics->AddCounter(
        "lakegate_token_requests_total",
        "Token endpoint requests by client (\"unknown\" when not identified) and outcome",
        {"client", "outcome"});
  }
}

Status AuthorizationServer::Reload() {
  LG_RETURN_IF_ERROR(keys_.Load(options_.algorithm, /*enforce_algorithm=*/!loaded_once_));
  loaded_once_ = true;
  LG_ASSIGN_OR_RETURN(auto clients, store_.ListClients());
  LG_ASSIGN_OR_RETURN(auto servers, store_.ListResourceServers());
  int64_t now = clock_.NowSeconds();
  LG_ASSIGN_OR_RETURN(auto revocations, store_.ListRevocations(now));

  auto dir = std::make_shared<Directory>();
  for (const auto& rs : servers) {
    for (const auto& scope : rs.scopes) {
      std::string full = rs.identifier + "/" + scope.name;
      dir->resource_server_of_scope[full] = rs.identifier;
      dir->scopes_supported.push_back(full);
    }
  }
  for (auto& record : clients) {
    Client client;
    std::set<std::string> audience;
    for (const auto& scope : record.scopes) {
      auto it = dir->resource_server_of_scope.find(scope);
      if (it != dir->resource_server_of_scope.end()) audience.insert(it->second);
    }
    client.audience.assign(audience.begin(), audience.end());
    std::string id = record.client_id;
    client.record = std::move(record);
    dir->by_id.emplace(std::move(id), std::move(client));
  }
  std::atomic_store(&directory_, std::shared_ptr<const Directory>(std::move(dir)));

  std::unordered_map<std::string, int64_t> revoked;
  for (auto& [jti, exp] : revocations) revoked.emplace(std::move(jti), exp);
  std::unique_lock<std::shared_mutex> lock(revoked_mutex_);
  revoked_.swap(revoked);
  return Status::Ok();
}

EndpointResponse AuthorizationServer::Error(int status, std::string_view error,
                                            std::string_view description) const {
  EndpointResponse r;
  r.status = status;
  r.body = "{\"error\":" + JsonQuote(error) + ",\"error_description\":" + JsonQuote(description) + "}";
  AddNoStore(r);
  return r;
}

EndpointResponse AuthorizationServer::ClientAuthError(const Status& status,
                                                      int64_t retry_after) const {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return Error(400, "invalid_request", status.message());
    case StatusCode::kResourceExhausted: {
      EndpointResponse r = Error(429, "temporarily_unavailable", status.message());
      r.headers.emplace_back("Retry-After", std::to_string(retry_after));
      return r;
    }
    default: {
      // RFC 6749 §5.2: 401 with a challenge for the scheme the client can use.
      EndpointResponse r = Error(401, "invalid_client", status.message());
      r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"lakegate\", charset=\"UTF-8\"");
      return r;
    }
  }
}

Result<AuthorizationServer::Authenticated> AuthorizationServer::AuthenticateClient(
    const EndpointRequest& request, const FormFields& form, std::string& client_id_out,
    int64_t& retry_after) {
  LG_ASSIGN_OR_RETURN(ClientCredentials creds,
                      ExtractClientCredentials(request.authorization, form));
  client_id_out = creds.client_id;
  if (creds.method == AuthMethod::kNone) {
    return UnauthenticatedError(
        "client authentication required: send client_id and client_secret with HTTP Basic "
        "(client_secret_basic) or in the form body (client_secret_post)");
  }
  if (creds.client_id.empty() || creds.client_id.size() > 256 || creds.secret.size() > 1024) {
    return UnauthenticatedError("invalid client credentials");
  }
  // Refuse before checking the secret: a locked-out key learns nothing more.
  int64_t now_ms = clock_.NowMillis();
  std::string client_key = "c:" + creds.client_id;
  std::string address_key = "a:" + std::string(request.remote_address);
  retry_after = std::max(client_limiter_.RetryAfter(client_key, now_ms),
                         address_limiter_.RetryAfter(address_key, now_ms));
  if (retry_after > 0) {
    return ResourceExhaustedError("too many failed client authentications; retry after " +
                                  std::to_string(retry_after) + " s");
  }

  Authenticated out;
  out.directory = directory();
  auto it = out.directory->by_id.find(creds.client_id);
  bool ok = false;
  if (it == out.directory->by_id.end()) {
    hasher_.DummyVerify(creds.secret.Reveal());
  } else {
    const store::ClientRecord& r = it->second.record;
    ok = hasher_.Verify(creds.secret.Reveal(), r.secret_hash);
    if (!ok && !r.previous_secret_hash.empty() &&
        clock_.NowSeconds() < r.previous_secret_expires_at) {
      ok = hasher_.Verify(creds.secret.Reveal(), r.previous_secret_hash);
    }
  }
  if (!ok) {
    client_limiter_.RecordFailure(client_key, now_ms);
    address_limiter_.RecordFailure(address_key, now_ms);
    return UnauthenticatedError("invalid client credentials");
  }
  out.client = &it->second;
  return out;
}

void AuthorizationServer::AuditToken(std::string_view client_id, std::string_view client_name,
                                     std::string_view requested, std::string_view granted,
                                     std::string_view outcome, std::string_view reason,
                                     std::string_view remote, std::string_view jti) {
  if (tokens_counter_) {
    tokens_counter_->Inc({client_name.empty() ? std::string_view("unknown") : client_id, outcome});
  }
  if (!audit_) return;
  std::string line;
  line.reserve(320);
  line += "{\"time\":\"";
  line += audit::FormatTimestamp(clock_.NowMillis());
  line += "\",\"event\":\"token\",\"client_id\":";
  // An unknown client id is attacker-chosen text: quoted and length-capped.
  line += JsonQuote(client_id.substr(0, 128));
  line += ",\"client_name\":";
  line += JsonQuote(client_name);
  line += ",\"requested_scope\":";
  line += JsonQuote(requested.substr(0, 1024));
  line += ",\"granted_scope\":";
  line += JsonQuote(granted);
  line += ",\"outcome\":";
  line += JsonQuote(outcome);
  line += ",\"reason\":";
  line += JsonQuote(reason);
  line += ",\"remote\":";
  line += JsonQuote(remote);
  if (!jti.empty()) {
    line += ",\"jti\":";
    line += JsonQuote(jti);
  }
  line += '}';
  audit_->Record(line);
}

EndpointResponse AuthorizationServer::Token(const EndpointRequest& request) {
  std::string client_id;
  std::string requested_scope;
  auto fail = [&](int status, std::string_view error, std::string_view description,
                  std::string_view client_name = {}) {
    AuditToken(client_id, client_name, requested_scope, "", error, description,
               request.remote_address, "");
    return Error(status, error, description);
  };

  if (!IsFormContentType(request.content_type)) {
    return fail(400, "invalid_request",
                "the token request body must be application/x-www-form-urlencoded");
  }
  auto form = ParseForm(request.body);
  if (!form.ok()) return fail(400, "invalid_request", form.status().message());
  for (std::string_view name : {"grant_type", "scope"}) {
    if (auto v = SingleFormValue(*form, name); !v.ok()) {
      return fail(400, "invalid_request", v.status().message());
    }
  }
  requested_scope = *SingleFormValue(*form, "scope");
  bool scope_present = false;
  for (const auto& field : *form) scope_present |= field.first == "scope";

  int64_t retry_after = 0;
  auto auth = AuthenticateClient(request, *form, client_id, retry_after);
  if (!auth.ok()) {
    EndpointResponse r = ClientAuthError(auth.status(), retry_after);
    std::string_view error = auth.status().code() == StatusCode::kInvalidArgument
                                 ? "invalid_request"
                                 : auth.status().code() == StatusCode::kResourceExhausted
                                       ? "rate_limited"
                                       : "invalid_client";
    AuditToken(client_id, "", requested_scope, "", error, auth.status().message(),
               request.remote_address, "");
    return r;
  }
  const Client& client = *auth->client;
  const store::ClientRecord& record = client.record;

  std::string grant_type = *SingleFormValue(*form, "grant_type");
  if (grant_type.empty()) {
    return fail(400, "invalid_request", "missing grant_type; use grant_type=client_credentials",
                record.name);
  }
  if (grant_type != "client_credentials") {
    return fail(400, "unsupported_grant_type",
                "grant_type '" + grant_type.substr(0, 64) +
                    "' is not supported; lakegate issues tokens with client_credentials only",
                record.name);
  }
  if (!record.enabled) {
    return fail(400, "unauthorized_client",
                "client '" + record.name + "' is disabled; enable it with `lakegate client enable`",
                record.name);
  }

  // RFC 6749 §3.3: space-delimited scope tokens. Omitted: every allowed scope.
  std::vector<std::string> granted;
  if (!scope_present || TrimWhitespace(requested_scope).empty()) {
    if (!options_.scope_omitted_grants_all) {
      return fail(400, "invalid_scope", "a scope parameter is required", record.name);
    }
    granted = record.scopes;
  } else {
    for (std::string_view s : SplitNonEmpty(requested_scope, ' ')) {
      if (!Contains(record.scopes, s)) {
        return fail(400, "invalid_scope",
                    "scope '" + std::string(s.substr(0, 128)) + "' is not allowed for client '" +
                        record.name + "'",
                    record.name);
      }
      if (!Contains(granted, s)) granted.emplace_back(s);
    }
  }
  if (granted.empty()) {
    return fail(400, "invalid_scope", "client '" + record.name + "' has no scopes", record.name);
  }

  auto keys = keys_.Current();
  int64_t now = clock_.NowSeconds();
  jose::AccessTokenClaims claims;
  claims.iss = options_.issuer;
  claims.sub = record.client_id;
  claims.client_id = record.client_id;
  if (!options_.audience.empty()) {
    claims.aud = options_.audience;
  } else {
    std::set<std::string> aud;
    for (const auto& s : granted) {
      auto it = auth->directory->resource_server_of_scope.find(s);
      if (it != auth->directory->resource_server_of_scope.end()) aud.insert(it->second);
    }
    claims.aud.assign(aud.begin(), aud.end());
  }
  claims.scope = Join(granted, " ");
  claims.token_use = "access";
  claims.iat = now;
  claims.exp = now + record.token_ttl_seconds;
  claims.jti = RandomToken(16);
  claims.version = 2;
  auto token = keys->signer->SignCompact(jose::EncodeAccessTokenClaims(claims));
  if (!token.ok()) {
    log::Error("token signing failed: " + token.status().ToString());
    return fail(500, "server_error", "the token could not be signed", record.name);
  }

  EndpointResponse r;
  r.body.reserve(token->size() + 128);
  r.body += "{\"access_token\":\"";
  r.body += *token;
  r.body += "\",\"expires_in\":";
  r.body += std::to_string(record.token_ttl_seconds);
  r.body += ",\"token_type\":\"Bearer\",\"scope\":";
  r.body += JsonQuote(claims.scope);
  r.body += '}';
  AddNoStore(r);
  AuditToken(record.client_id, record.name, requested_scope, claims.scope, "issued", "",
             request.remote_address, claims.jti);
  return r;
}

bool AuthorizationServer::IsRevoked(std::string_view jti) const {
  std::shared_lock<std::shared_mutex> lock(revoked_mutex_);
  return revoked_.find(std::string(jti)) != revoked_.end();
}

Result<TokenIdentity> AuthorizationServer::VerifyOwnToken(std::string_view token) const {
  auto keys = keys_.Current();
  jose::VerifyOptions options;
  options.issuer = options_.issuer;
  options.token_use = "access";
  options.require_at_jwt_typ = true;
  options.require_client_id = true;
  options.leeway_seconds = options_.leeway_seconds;
  LG_ASSIGN_OR_RETURN(jose::VerifiedToken verified,
                      jose::Verify(token, keys->verification_keys, options, clock_.NowSeconds()));
  if (IsRevoked(verified.claims.jti)) return UnauthenticatedError("token revoked");
  auto dir = directory();
  auto it = dir->by_id.find(verified.claims.client_id);
  // Disabling or deleting a client cuts off its live tokens too.
  if (it == dir->by_id.end()) return UnauthenticatedError("client no longer exists");
  if (!it->second.record.enabled) return UnauthenticatedError("client disabled");
  return TokenIdentity{std::move(verified.claims), it->second.record.name};
}

std::optional<EndpointResponse> AuthorizationServer::ParseTokenRequest(
    const EndpointRequest& request, std::string& token, std::string& caller_client_id) {
  if (!IsFormContentType(request.content_type)) {
    return Error(400, "invalid_request", "the body must be application/x-www-form-urlencoded");
  }
  auto form = ParseForm(request.body);
  if (!form.ok()) return Error(400, "invalid_request", form.status().message());
  auto value = SingleFormValue(*form, "token");
  if (!value.ok()) return Error(400, "invalid_request", value.status().message());
  std::string client_id;
  int64_t retry_after = 0;
  auto auth = AuthenticateClient(request, *form, client_id, retry_after);
  if (!auth.ok()) return ClientAuthError(auth.status(), retry_after);
  if (value->empty()) return Error(400, "invalid_request", "missing token parameter");
  token = std::move(*value);
  caller_client_id = auth->client->record.client_id;
  return std::nullopt;
}

EndpointResponse AuthorizationServer::Introspect(const EndpointRequest& request) {
  std::string token, caller;
  if (auto error = ParseTokenRequest(request, token, caller)) return *error;

  EndpointResponse r;
  AddNoStore(r);
  auto identity = VerifyOwnToken(token);
  // RFC 7662 §2.2: anything not active (or not the caller's) is just inactive.
  if (!identity.ok() || identity->claims.client_id != caller) {
    r.body = "{\"active\":false}";
    return r;
  }
  const auto& c = identity->claims;
  r.body = "{\"active\":true,\"scope\":" + JsonQuote(c.scope) +
           ",\"client_id\":" + JsonQuote(c.client_id) + ",\"token_type\":\"Bearer\"" +
           ",\"exp\":" + std::to_string(c.exp) + ",\"iat\":" + std::to_string(c.iat) +
           ",\"sub\":" + JsonQuote(c.sub) + ",\"iss\":" + JsonQuote(c.iss) +
           ",\"jti\":" + JsonQuote(c.jti) + ",\"token_use\":" + JsonQuote(c.token_use);
  if (!c.aud.empty()) {
    r.body += ",\"aud\":[";
    for (size_t i = 0; i < c.aud.size(); ++i) {
      if (i) r.body += ',';
      r.body += JsonQuote(c.aud[i]);
    }
    r.body += ']';
  }
  r.body += '}';
  return r;
}

EndpointResponse AuthorizationServer::Revoke(const EndpointRequest& request) {
  std::string token, caller;
  if (auto error = ParseTokenRequest(request, token, caller)) return *error;

  EndpointResponse ok;
  AddNoStore(ok);
  ok.body = "{}";
  auto identity = VerifyOwnToken(token);
  // RFC 7009 §2.2: invalid, expired or already revoked tokens also get 200.
  if (!identity.ok()) return ok;
  if (identity->claims.client_id != caller) {
    return Error(400, "unauthorized_client", "the token was not issued to this client");
  }
  Status stored = store_.AddRevocation(identity->claims.jti, identity->claims.exp);
  if (!stored.ok()) {
    log::Error("cannot store revocation: " + stored.ToString());
    return Error(503, "temporarily_unavailable", "the revocation could not be stored; retry");
  }
  {
    std::unique_lock<std::shared_mutex> lock(revoked_mutex_);
    revoked_[identity->claims.jti] = identity->claims.exp;
  }
  if (audit_) {
    audit_->Record("{\"time\":\"" + audit::FormatTimestamp(clock_.NowMillis()) +
                   "\",\"event\":\"revoke\",\"client_id\":" + JsonQuote(identity->claims.client_id) +
                   ",\"jti\":" + JsonQuote(identity->claims.jti) +
                   ",\"remote\":" + JsonQuote(request.remote_address) + "}");
  }
  return ok;
}

std::string AuthorizationServer::JwksJson() const { return keys_.Current()->jwks_json; }

std::string AuthorizationServer::MetadataJson() const {
  const std::string& iss = options_.issuer;
  auto dir = directory();
  std::string scopes;
  for (size_t i = 0; i < dir->scopes_supported.size(); ++i) {
    if (i) scopes += ',';
    scopes += JsonQuote(dir->scopes_supported[i]);
  }
  std::string alg = JsonQuote(crypto::AlgorithmName(options_.algorithm));
  std::string auth_methods = "[\"client_secret_basic\",\"client_secret_post\"]";
  return "{\"issuer\":" + JsonQuote(iss) +
         ",\"token_endpoint\":" + JsonQuote(iss + "/oauth2/token") +
         ",\"jwks_uri\":" + JsonQuote(iss + "/.well-known/jwks.json") +
         ",\"introspection_endpoint\":" + JsonQuote(iss + "/oauth2/introspect") +
         ",\"revocation_endpoint\":" + JsonQuote(iss + "/oauth2/revoke") +
         ",\"grant_types_supported\":[\"client_credentials\"]" +
         ",\"response_types_supported\":[]" +
         ",\"token_endpoint_auth_methods_supported\":" + auth_methods +
         ",\"introspection_endpoint_auth_methods_supported\":" + auth_methods +
         ",\"revocation_endpoint_auth_methods_supported\":" + auth_methods +
         ",\"scopes_supported\":[" + scopes + "]" +
         ",\"access_token_signing_alg_values_supported\":[" + alg + "]" +
         ",\"subject_types_supported\":[\"public\"]" +
         ",\"id_token_signing_alg_values_supported\":[" + alg + "]" + "}";
}

}  // namespace lakegate::oauth
