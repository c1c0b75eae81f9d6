#include "oauth/authorization_server.h"

#include <algorithm>
#include <set>

#include "audit/events.h"
#include "common/log.h"
#include "common/random.h"
#include "common/strings.h"
#include "jose/claims.h"
#include "jose/jws.h"
#include "oauth/client_secret_auth.h"
#include "oauth/oauth_error.h"

namespace lakegate::oauth {
namespace {

void AddNoStore(EndpointResponse& r) {
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Pragma", "no-cache");
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::vector<std::unique_ptr<ClientAuthMethod>> ClientAuthMethods(const SecretHasher& hasher,
                                                                 const AuthServerOptions& options,
                                                                 store::Store& store) {
  std::vector<std::unique_ptr<ClientAuthMethod>> methods;
  methods.push_back(MakeClientSecretBasic(hasher));
  methods.push_back(MakeClientSecretPost(hasher));
  methods.push_back(MakePrivateKeyJwt({.issuer = options.issuer,
                                       .token_endpoint = options.issuer + "/oauth2/token",
                                       .jwks_uri_keys = options.client_jwks_uri_keys},
                                      store));
  // Offered (and in the metadata) only where a TLS listener asks for
  // client certificates.
  if (options.mtls.enabled) {
    methods.push_back(MakeMutualTls({.trust_anchors = options.mtls.trust_anchors}));
  }
  return methods;
}

// The typed token request (RFC 6749 §4.4.2), read once from the form.
struct TokenRequest {
  std::string grant_type;
  std::optional<std::string> scope;  // nullopt: the parameter was not sent
};

// The token endpoint's answer to a failed DPoP check (RFC 9449 §5, §8).
Status DpopOAuthFailure(const Status& failure, const store::ClientRecord& client) {
  if (failure.Is(DpopFailure::kUseNonce)) {
    return OAuthFailure(OAuthError::kUseDpopNonce, failure.message());
  }
  if (failure.Is(DpopFailure::kReplayCheckUnavailable)) {
    return OAuthFailure(OAuthError::kUnavailable, "the DPoP proof could not be checked; retry");
  }
  if (failure.Is(DpopFailure::kMissing)) {
    return OAuthFailure(OAuthError::kInvalidDpopProof,
                        "client '" + client.name +
                            "' is registered with dpop_bound_access_tokens: send a DPoP proof "
                            "with every token request");
  }
  return OAuthFailure(OAuthError::kInvalidDpopProof, failure.message());
}

Result<TokenRequest> ReadTokenRequest(const FormRequest& form) {
  TokenRequest request;
  LG_ASSIGN_OR_RETURN(std::optional<std::string> grant_type, form.Single("grant_type"));
  LG_ASSIGN_OR_RETURN(request.scope, form.Single("scope"));
  request.grant_type = grant_type.value_or("");
  return request;
}

}  // namespace

AuthorizationServer::AuthorizationServer(AuthServerOptions options, store::Store& store,
                                         store::StateCache& state, SecretHasher hasher,
                                         const Clock& clock, audit::AuditLog* audit,
                                         audit::Metrics* metrics)
    : options_(std::move(options)),
      store_(store),
      state_(state),
      hasher_(std::move(hasher)),
      clock_(clock),
      audit_(audit),
      client_auth_(ClientAuthMethods(hasher_, options_, store),
                   options_.failed_auth != nullptr
                       ? options_.failed_auth
                       : std::make_shared<FailedAuthLimits>(options_.client_auth),
                   clock),
      keys_(clock),
      dpop_(
          [&] {
            DpopOptions dpop = options_.dpop;
            dpop.base_urls.insert(dpop.base_urls.begin(), options_.issuer);
            return dpop;
          }(),
          store, clock),
      directory_(std::make_shared<const Directory>()) {
  if (metrics && options_.metrics_client_labels) {
    tokens_counter_ = &metrics->AddCounter(
        "lakegate_token_requests_total",
        "Token endpoint requests by client (\"unknown\" when not identified) and outcome",
        {"client", "outcome"});
  } else if (metrics) {
    tokens_counter_ = &metrics->AddCounter("lakegate_token_requests_total",
                                           "Token endpoint requests by outcome", {"outcome"});
  }
  state_.Subscribe([this](const std::shared_ptr<const store::StateSnapshot>& s) { Rebuild(s); });
}

void AuthorizationServer::Rebuild(const std::shared_ptr<const store::StateSnapshot>& state) {
  if (Status s = keys_.Rebuild(*state); !s.ok()) {
    log::Error("signing keys not reloaded, the previous ones stay in use: " + s.ToString());
  }
  auto dir = std::make_shared<Directory>();
  dir->state = state;
  for (const auto& rs : state->resource_servers) {
    for (const auto& scope : rs.scopes) {
      std::string full = rs.identifier + "/" + scope.name;
      dir->resource_server_of_scope[full] = rs.identifier;
      dir->scopes_supported.push_back(std::move(full));
    }
  }
  std::atomic_store(&directory_, std::shared_ptr<const Directory>(std::move(dir)));
}

Status AuthorizationServer::Maintain(bool at_startup) {
  LG_RETURN_IF_ERROR(KeyManager::Maintain(store_, clock_, options_.algorithm, at_startup));
  if (!at_startup) LG_RETURN_IF_ERROR(store_.PurgeExpiredRevocations(clock_.NowSeconds()));
  return state_.Refresh();
}

void AuthorizationServer::AuditToken(const audit::TokenEvent& event) {
  if (tokens_counter_ && options_.metrics_client_labels) {
    tokens_counter_->Inc(
        {event.client_name.empty() ? std::string_view("unknown") : event.client_id, event.outcome});
  } else if (tokens_counter_) {
    tokens_counter_->Inc({event.outcome});
  }
  if (audit_) audit_->Record(audit::EncodeEvent(event, clock_.NowMillis()));
}

Status AuthorizationServer::RecordTokenFailure(const Status& failure, std::string_view client_id,
                                               std::string_view client_name,
                                               std::string_view requested_scope,
                                               std::string_view remote) {
  audit::TokenEvent event;
  event.client_id = client_id;
  event.client_name = client_name;
  event.requested_scope = requested_scope;
  std::string outcome(failure.reason_info().name);
  event.outcome = outcome.empty() ? std::string_view("server_error") : outcome;
  event.reason = failure.message();
  event.remote = remote;
  AuditToken(event);
  return failure;
}

EndpointResult AuthorizationServer::Token(const EndpointRequest& request) {
  std::string client_id;
  std::string requested_scope;
  auto fail = [&](const Status& failure, std::string_view client_name = {}) {
    return RecordTokenFailure(failure, client_id, client_name, requested_scope,
                              request.remote_address);
  };

  Result<FormRequest> form = ParseFormRequest(request);
  if (!form.ok()) return fail(form.status());
  Result<TokenRequest> token_request = ReadTokenRequest(*form);
  if (!token_request.ok()) return fail(token_request.status());
  requested_scope = token_request->scope.value_or("");

  std::shared_ptr<const Directory> dir = directory();
  auto auth = client_auth_.Authenticate(*form, *dir->state, client_id);
  if (!auth.ok()) return fail(auth.status());
  const store::ClientRecord& record = *auth->client;
  // RFC 8705 §3: the token is bound to the certificate the client presented
  // when the server or the client's registration asks for it.
  const std::vector<std::string>* certificates = form->client_certificates;
  const bool has_certificate = certificates != nullptr && !certificates->empty();
  if (record.tls_client_certificate_bound_access_tokens && !has_certificate) {
    return fail(OAuthFailure(OAuthError::kInvalidRequest,
                             "client '" + record.name +
                                 "' gets certificate-bound tokens only "
                                 "(tls_client_certificate_bound_access_tokens): request the token "
                                 "over HTTPS with its TLS client certificate"),
                record.name);
  }

  const std::string& grant_type = token_request->grant_type;
  if (grant_type.empty()) {
    return fail(OAuthFailure(OAuthError::kInvalidRequest,
                             "missing grant_type; use grant_type=client_credentials"),
                record.name);
  }
  if (grant_type != "client_credentials") {
    return fail(OAuthFailure(OAuthError::kUnsupportedGrantType,
                             "grant_type '" + grant_type.substr(0, 64) +
                                 "' is not supported; lakegate issues tokens with "
                                 "client_credentials only"),
                record.name);
  }
  if (!record.enabled) {
    return fail(OAuthFailure(OAuthError::kUnauthorizedClient,
                             "client '" + record.name +
                                 "' is disabled; enable it with `lakegate client enable`"),
                record.name);
  }

  // RFC 9449 §5: a valid proof binds the token to its key; a bad one fails
  // the request even when the client authenticated.
  std::string jkt;
  if (request.dpop_proofs > 0 || record.dpop_bound_access_tokens) {
    Result<std::string> bound = dpop_.Verify({.method = "POST",
                                              .path = "/oauth2/token",
                                              .proof_headers = request.dpop_proofs,
                                              .proof = request.dpop_proof});
    if (!bound.ok()) return fail(DpopOAuthFailure(bound.status(), record), record.name);
    jkt = std::move(*bound);
  }

  // RFC 6749 §3.3: space-delimited scope tokens. Omitted: every allowed scope.
  std::vector<std::string> granted;
  if (!token_request->scope || TrimWhitespace(requested_scope).empty()) {
    if (!options_.scope_omitted_grants_all) {
      return fail(OAuthFailure(OAuthError::kInvalidScope, "a scope parameter is required"),
                  record.name);
    }
    granted = record.scopes;
  } else {
    for (std::string_view s : SplitNonEmpty(requested_scope, ' ')) {
      if (!Contains(record.scopes, s)) {
        return fail(OAuthFailure(OAuthError::kInvalidScope,
                                 "scope '" + std::string(s.substr(0, 128)) +
                                     "' is not allowed for client '" + record.name + "'"),
                    record.name);
      }
      if (!Contains(granted, s)) granted.emplace_back(s);
    }
  }
  if (granted.empty()) {
    return fail(
        OAuthFailure(OAuthError::kInvalidScope, "client '" + record.name + "' has no scopes"),
        record.name);
  }

  std::shared_ptr<const KeySnapshot> keys = keys_.Current();
  if (!keys->signer) {
    log::Error("token request while no signing key is loaded");
    return fail(OAuthFailure(OAuthError::kUnavailable, "no signing key is loaded yet; retry"),
                record.name);
  }
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
      auto it = dir->resource_server_of_scope.find(s);
      if (it != dir->resource_server_of_scope.end()) aud.insert(it->second);
    }
    claims.aud.assign(aud.begin(), aud.end());
  }
  claims.scope = Join(granted, " ");
  claims.token_use = "access";
  claims.iat = now;
  claims.exp = now + record.token_ttl_seconds;
  claims.jti = RandomToken(16);
  claims.version = 2;
  claims.cnf_jkt = jkt;
  if (has_certificate &&
      (options_.mtls.bind_all_tokens || record.tls_client_certificate_bound_access_tokens)) {
    claims.cnf_x5t_s256 = CertificateThumbprint((*certificates)[0]);
  }
  auto token = keys->signer->SignCompact(jose::EncodeAccessTokenClaims(claims));
  if (!token.ok()) {
    log::Error("token signing failed: " + token.status().ToString());
    return fail(OAuthFailure(OAuthError::kServerError, "the token could not be signed"),
                record.name);
  }

  EndpointResponse r;
  r.body.reserve(token->size() + 128);
  r.body += "{\"access_token\":\"";
  r.body += *token;
  r.body += "\",\"expires_in\":";
  r.body += std::to_string(record.token_ttl_seconds);
  r.body +=
      jkt.empty() ? ",\"token_type\":\"Bearer\",\"scope\":" : ",\"token_type\":\"DPoP\",\"scope\":";
  r.body += JsonQuote(claims.scope);
  r.body += '}';
  AddNoStore(r);
  AuditToken({.client_id = record.client_id,
              .client_name = record.name,
              .requested_scope = requested_scope,
              .granted_scope = claims.scope,
              .outcome = "issued",
              .remote = request.remote_address,
              .jti = claims.jti});
  return r;
}

bool AuthorizationServer::MayBlock(const EndpointRequest& request) {
  // A DPoP proof's jti is recorded in the store.
  return request.dpop_proofs > 0 || request.body.find("client_assertion") != std::string_view::npos;
}

Result<AuthorizationServer::OwnToken> AuthorizationServer::VerifyOwnToken(
    std::string_view token) const {
  std::shared_ptr<const KeySnapshot> keys = keys_.Current();
  jose::VerifyOptions options;
  options.issuer = options_.issuer;
  options.token_use = "access";
  options.require_at_jwt_typ = true;
  options.require_client_id = true;
  options.leeway_seconds = options_.leeway_seconds;
  LG_ASSIGN_OR_RETURN(jose::VerifiedToken verified,
                      jose::Verify(token, keys->verification_keys, options, clock_.NowSeconds()));
  const store::StateSnapshot& state = *directory()->state;
  // Revoked tokens, and those of disabled or deleted clients, are not active.
  if (state.IsRevoked(verified.claims.jti)) {
    return jose::TokenError(jose::TokenFailure::kRevoked, "token revoked");
  }
  const store::ClientRecord* client = state.FindClient(verified.claims.client_id);
  if (client == nullptr) {
    return jose::TokenError(jose::TokenFailure::kClientUnknown, "client no longer exists");
  }
  if (!client->enabled) {
    return jose::TokenError(jose::TokenFailure::kClientDisabled, "client disabled");
  }
  return OwnToken{std::move(verified.claims)};
}

Result<AuthorizationServer::TokenArgument> AuthorizationServer::ParseTokenArgument(
    const EndpointRequest& request) {
  LG_ASSIGN_OR_RETURN(FormRequest form, ParseFormRequest(request));
  LG_ASSIGN_OR_RETURN(std::optional<std::string> token, form.Single("token"));
  std::string client_id;
  std::shared_ptr<const Directory> dir = directory();
  LG_ASSIGN_OR_RETURN(auto auth, client_auth_.Authenticate(form, *dir->state, client_id));
  if (!token || token->empty()) {
    return OAuthFailure(OAuthError::kInvalidRequest, "missing token parameter");
  }
  return TokenArgument{std::move(*token), auth.client->client_id};
}

EndpointResult AuthorizationServer::Introspect(const EndpointRequest& request) {
  LG_ASSIGN_OR_RETURN(TokenArgument argument, ParseTokenArgument(request));
  EndpointResponse r;
  AddNoStore(r);
  Result<OwnToken> verified = VerifyOwnToken(argument.token);
  // RFC 7662 §2.2: anything not active (or not the caller's) is just inactive.
  if (!verified.ok() || verified->claims.client_id != argument.caller_client_id) {
    r.body = "{\"active\":false}";
    return r;
  }
  const jose::AccessTokenClaims& c = verified->claims;
  r.body = "{\"active\":true,\"scope\":" + JsonQuote(c.scope) +
           ",\"client_id\":" + JsonQuote(c.client_id) +
           (c.cnf_jkt.empty() ? ",\"token_type\":\"Bearer\"" : ",\"token_type\":\"DPoP\"") +
           ",\"exp\":" + std::to_string(c.exp) + ",\"iat\":" + std::to_string(c.iat) +
           ",\"sub\":" + JsonQuote(c.sub) + ",\"iss\":" + JsonQuote(c.iss) +
           ",\"jti\":" + JsonQuote(c.jti) + ",\"token_use\":" + JsonQuote(c.token_use);
  // RFC 8705 §3.2, RFC 9449 §6.2: the certificate or key a bound token is
  // bound to, so that a resource server can check it.
  if (!c.cnf_x5t_s256.empty() || !c.cnf_jkt.empty()) {
    r.body += ",\"cnf\":{";
    if (!c.cnf_x5t_s256.empty()) r.body += "\"x5t#S256\":" + JsonQuote(c.cnf_x5t_s256);
    if (!c.cnf_x5t_s256.empty() && !c.cnf_jkt.empty()) r.body += ',';
    if (!c.cnf_jkt.empty()) r.body += "\"jkt\":" + JsonQuote(c.cnf_jkt);
    r.body += '}';
  }
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

EndpointResult AuthorizationServer::Revoke(const EndpointRequest& request) {
  LG_ASSIGN_OR_RETURN(TokenArgument argument, ParseTokenArgument(request));
  EndpointResponse ok;
  AddNoStore(ok);
  ok.body = "{}";
  Result<OwnToken> verified = VerifyOwnToken(argument.token);
  // RFC 7009 §2.2: invalid, expired or already revoked tokens also get 200.
  if (!verified.ok()) return ok;
  const jose::AccessTokenClaims& claims = verified->claims;
  if (claims.client_id != argument.caller_client_id) {
    return OAuthFailure(OAuthError::kUnauthorizedClient, "the token was not issued to this client");
  }
  Status stored = store_.AddRevocation(claims.jti, claims.exp);
  if (!stored.ok()) {
    log::Error("cannot store revocation: " + stored.ToString());
    return OAuthFailure(OAuthError::kUnavailable, "the revocation could not be stored; retry");
  }
  // In effect on this node before the response; other nodes and processes
  // see it with their next refresh.
  if (Status refreshed = state_.Refresh(); !refreshed.ok()) {
    log::Error("revocation stored, but the state cache did not refresh: " + refreshed.ToString());
  }
  if (audit_) {
    audit_->Record(audit::EncodeEvent(
        audit::RevocationEvent{claims.client_id, claims.jti, request.remote_address},
        clock_.NowMillis()));
  }
  return ok;
}

std::string AuthorizationServer::JwksJson() const { return keys_.Current()->jwks_json; }

// RFC 8705 §3.3 and §5.
std::string AuthorizationServer::MutualTlsMetadata() const {
  const MutualTlsServerOptions& mtls = options_.mtls;
  if (!mtls.enabled) return {};
  std::string out = ",\"tls_client_certificate_bound_access_tokens\":true";
  if (!mtls.endpoint_base.empty()) {
    const std::string& base = mtls.endpoint_base;
    out += ",\"mtls_endpoint_aliases\":{\"token_endpoint\":" + JsonQuote(base + "/oauth2/token") +
           ",\"introspection_endpoint\":" + JsonQuote(base + "/oauth2/introspect") +
           ",\"revocation_endpoint\":" + JsonQuote(base + "/oauth2/revoke") + "}";
  }
  return out;
}

std::string AuthorizationServer::MetadataJson() const {
  const std::string& iss = options_.issuer;
  auto dir = directory();
  std::string scopes;
  for (size_t i = 0; i < dir->scopes_supported.size(); ++i) {
    if (i) scopes += ',';
    scopes += JsonQuote(dir->scopes_supported[i]);
  }
  std::string alg = JsonQuote(crypto::AlgorithmName(options_.algorithm));
  std::string auth_methods = "[";
  for (const std::string& method : client_auth_.method_names()) {
    if (auth_methods.size() > 1) auth_methods += ',';
    auth_methods += JsonQuote(method);
  }
  auth_methods += "]";
  std::string assertion_algs = "[";
  for (std::string_view a : kAssertionAlgorithms) {
    if (assertion_algs.size() > 1) assertion_algs += ',';
    assertion_algs += JsonQuote(a);
  }
  assertion_algs += "]";
  std::string dpop_algs = "[";
  for (std::string_view a : kDpopAlgorithms) {
    if (dpop_algs.size() > 1) dpop_algs += ',';
    dpop_algs += JsonQuote(a);
  }
  dpop_algs += "]";
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
         ",\"token_endpoint_auth_signing_alg_values_supported\":" + assertion_algs +
         ",\"introspection_endpoint_auth_signing_alg_values_supported\":" + assertion_algs +
         ",\"revocation_endpoint_auth_signing_alg_values_supported\":" + assertion_algs +
         ",\"dpop_signing_alg_values_supported\":" + dpop_algs + ",\"scopes_supported\":[" +
         scopes + "]" + ",\"access_token_signing_alg_values_supported\":[" + alg + "]" +
         ",\"subject_types_supported\":[\"public\"]" +
         ",\"id_token_signing_alg_values_supported\":[" + alg + "]" + MutualTlsMetadata() + "}";
}

}  // namespace lakegate::oauth
