#include "gateway/pipeline.h"

#include "audit/events.h"
#include "common/log.h"
#include "common/random.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "gateway/gateway_failure.h"
#include "http/error_response.h"
#include "jose/token_failure.h"

namespace lakegate::gateway {

void Pipeline::AddDpopNonce(std::vector<http::Header>& headers) const {
  const oauth::DpopVerifier* dpop = authenticator_.dpop();
  if (dpop == nullptr || !dpop->nonces()) return;
  headers.push_back({std::string(oauth::kDpopNonceHeader), dpop->CurrentNonce()});
}

std::string NewQueryId() {
  std::string b = RandomBytes(16);
  b[6] = static_cast<char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  std::string hex = HexEncode(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

// ---------------------------------------------------------------------------
// Call

Call::Call(Pipeline& pipeline, std::shared_ptr<http::Exchange> exchange, std::string id,
           const RouteSpec& spec, int64_t start_ms)
    : pipeline_(pipeline),
      exchange_(std::move(exchange)),
      id_(std::move(id)),
      spec_(spec),
      start_ms_(start_ms) {}

std::vector<http::Header> Call::BaseHeaders() const {
  std::vector<http::Header> headers = {{"X-Query-Id", id_}, {"Cache-Control", "no-store"}};
  pipeline_.AddDpopNonce(headers);
  return headers;
}

void Call::Respond(http::Response response) {
  response.headers.insert(response.headers.begin(), {"X-Query-Id", id_});
  pipeline_.AddDpopNonce(response.headers);
  bool has_cache_control = false;
  for (const http::Header& h : response.headers) {
    has_cache_control |= EqualsIgnoreCase(h.name, "cache-control");
  }
  if (!has_cache_control) response.headers.push_back({"Cache-Control", "no-store"});
  record_.bytes = static_cast<int64_t>(response.body.size());
  exchange_->Respond(std::move(response));
  Finish();
}

void Call::Fail(const Status& failure) {
  std::vector<http::Header> headers = {{"X-Query-Id", id_}};
  pipeline_.AddDpopNonce(headers);
  const oauth::DpopVerifier* dpop = pipeline_.authenticator_.dpop();
  const std::string_view authorization = TrimWhitespace(request().GetHeader("authorization"));
  http::Response response = http::ErrorResponse(
      failure, spec_.errors,
      {.request_id = id_,
       .required_scope = required_scope_,
       .headers = std::move(headers),
       .dpop_algs = dpop != nullptr && spec_.errors == http::ErrorFamily::kApi
                        ? std::string_view(pipeline_.dpop_algs_)
                        : std::string_view(),
       .dpop_error =
           oauth::IsDpopFailure(failure) ||
           (authorization.size() > 5 && EqualsIgnoreCase(authorization.substr(0, 5), "DPoP "))});
  record_.outcome = http::PublicErrorCode(failure, http::ErrorFamily::kApi);
  failure_reason_ = failure.ReasonName();
  failure_message_ = failure.message();
  if (failure.code() == StatusCode::kInternal) {
    log::Error("request " + id_ + " failed: " + failure.ToString());
  }
  record_.bytes = static_cast<int64_t>(response.body.size());
  exchange_->Respond(std::move(response));
  Finish();
}

void Call::Finished() { Finish(); }

void Call::Finish() {
  if (finished_.exchange(true)) return;
  pipeline_.Record(*this);
  exchange_.reset();  // an abandoned stream is cut off now, not later
}

// ---------------------------------------------------------------------------
// Pipeline

Pipeline::Pipeline(GatewayOptions options, BearerAuthenticator& authenticator,
                   PolicyProvider policy, ThreadPool& pool, const Clock& clock, AuditSink audit,
                   audit::Metrics* metrics)
    : options_(std::move(options)),
      authenticator_(authenticator),
      resolver_(options_.client_rules, options_.scope_rules, options_.scopes),
      policy_(std::move(policy)),
      pool_(pool),
      clock_(clock),
      audit_(std::move(audit)),
      dpop_algs_(oauth::DpopVerifier::AlgorithmList()) {
  if (metrics != nullptr) {
    queries_total_ = &metrics->AddCounter(
        "lakegate_queries_total", "Query API requests by role and outcome", {"role", "outcome"});
    query_seconds_ = &metrics->AddHistogram("lakegate_query_duration_seconds",
                                            "Query API request latency by role", {"role"},
                                            audit::Histogram::LatencyBuckets());
  }
}

http::Handler Pipeline::Route(RouteSpec spec, Handler route_handler) {
  auto handler = std::make_shared<const Handler>(std::move(route_handler));
  return [this, spec, handler](std::shared_ptr<http::Exchange> exchange) {
    auto call = std::shared_ptr<Call>(
        new Call(*this, std::move(exchange), NewQueryId(), spec, clock_.NowMillis()));
    const http::Request& request = call->request();
    // Cheap rejections stay on the network thread.
    if (request.CountHeader("authorization") == 0) {
      return call->Fail(jose::TokenError(jose::TokenFailure::kMissing, "no bearer credentials"));
    }
    if (spec.json_body && !http::IsJsonContentType(request.GetHeader("content-type"))) {
      return call->Fail(GatewayError(GatewayFailure::kUnsupportedMediaType,
                                     "Content-Type must be application/json"));
    }
    // Admission: while every worker is busy (slow queries) and enough
    // requests already wait for one, more would only wait longer and pile up
    // connections; tell the client to come back instead (503 + Retry-After).
    // Token issue and /healthz run on the network threads and are not held up.
    if (options_.max_pool_backlog > 0 && pool_.queued() >= options_.max_pool_backlog) {
      return call->Fail(
          GatewayError(GatewayFailure::kBusy, std::to_string(options_.max_pool_backlog) +
                                                  " requests already wait for a worker")
              .WithRetryAfter(1));
    }
    if (!pool_.Submit([this, call, handler] { Run(call, *handler); })) {
      call->Fail(
          GatewayError(GatewayFailure::kBusy, "the worker pool's queue is full").WithRetryAfter(1));
    }
  };
}

void Pipeline::Run(const std::shared_ptr<Call>& call, const Handler& handler) {
  // A handler that throws is a bug; it costs its own request (500), never the
  // process or the worker.
  try {
    if (Status admitted = Admit(*call); !admitted.ok()) return call->Fail(admitted);
    handler(call);
  } catch (const std::exception& e) {
    log::Error("request " + call->id() + ": the handler threw: " + e.what());
    if (!call->finished_.load()) {
      call->Fail(http::HttpError(http::HttpFailure::kHandlerFailed, "internal error"));
    }
  }
}

Status Pipeline::Admit(Call& call) {
  const http::Request& request = call.request();
  Result<std::shared_ptr<const Identity>> identity = call.spec_.authenticate
                                                         ? call.spec_.authenticate(request)
                                                         : authenticator_.Authenticate(request);
  if (!identity.ok()) {
    log::Info("request " + call.id_ + " from " + request.remote_address +
              ": credentials rejected: " + identity.status().ToString());
    return identity.status();
  }
  call.identity_ = std::move(*identity);
  const Identity& who = *call.identity_;

  Result<engine::StatementClass> max_class = resolver_.MaxClass(who);
  if (max_class.ok()) {
    call.max_class_ = *max_class;
    call.has_class_ = true;
  }
  switch (call.spec_.access) {
    case Access::kAdmin:
      // The admin scope is what the query API calls the admin statement class.
      if (!max_class.ok() || *max_class != engine::StatementClass::kAdmin) {
        call.required_scope_ = options_.scopes.admin;
        return GatewayError(GatewayFailure::kInsufficientScope,
                            "the admin API needs the scope " + options_.scopes.admin);
      }
      return Status::Ok();
    case Access::kDelegated:
      if (Result<RoleDecision> role = resolver_.Resolve(who); role.ok()) {
        call.role_name_ = std::move(role->role);
      }
      return Status::Ok();
    case Access::kQuery:
      break;
  }
  Result<RoleDecision> role = resolver_.Resolve(who);
  if (!role.ok()) return GatewayError(GatewayFailure::kNoRole, role.status().message());
  call.role_name_ = std::move(role->role);
  if (!max_class.ok()) {
    // RFC 6750 §3.1: the token lacks the scope; name the least one that helps.
    call.required_scope_ = options_.scopes.read;
    return GatewayError(GatewayFailure::kInsufficientScope, max_class.status().message());
  }
  call.policy_ = policy_ ? policy_() : nullptr;
  if (call.policy_) call.role_ = call.policy_->FindRole(call.role_name_);
  if (call.role_ == nullptr) {
    log::Error("request " + call.id_ + ": role '" + call.role_name_ + "' (mapped to client '" +
               who.client_id + "') is not defined in the policy" +
               (call.policy_ ? "" : " (no policy loaded)"));
    return GatewayError(GatewayFailure::kRoleNotConfigured,
                        "role '" + call.role_name_ + "' is not in the policy");
  }
  return Status::Ok();
}

void Pipeline::Record(Call& call) {
  const int64_t now = clock_.NowMillis();
  const int64_t duration_ms = now - call.start_ms_;
  const CallRecord& r = call.record_;
  const AuditKind kind = call.spec_.audit;
  if (kind == AuditKind::kQuery || kind == AuditKind::kCatalog) {
    const std::string_view role_label =
        call.role_name_.empty() ? std::string_view("none") : std::string_view(call.role_name_);
    if (queries_total_) queries_total_->Inc({role_label, r.outcome});
    if (query_seconds_) {
      query_seconds_->Observe({role_label}, static_cast<double>(duration_ms) / 1000.0);
    }
  }
  if (!audit_) return;

  audit::Caller caller;
  if (const Identity* id = call.identity_.get()) {
    caller = {id->client_id, id->client_name, id->issuer, &id->scopes};
  }
  const std::string_view remote = call.request().remote_address;
  switch (kind) {
    case AuditKind::kQuery:
    case AuditKind::kCatalog: {
      const std::string sha = r.sql.empty() ? std::string() : HexEncode(crypto::Sha256(r.sql));
      audit::QueryEvent event;
      event.catalog = kind == AuditKind::kCatalog;
      event.query_id = call.id_;
      event.caller = caller;
      event.role = call.role_name_;
      event.database = r.database;
      event.statement_class = r.statement_class;
      event.statement_type = r.statement_type;
      event.sql_sha256 = sha;
      if (options_.audit_sql) event.sql = r.sql;
      event.rows = r.rows;
      event.bytes = r.bytes;
      event.duration_ms = duration_ms;
      event.outcome = r.outcome;
      event.reason = call.failure_reason_;
      event.remote = remote;
      audit_(audit::EncodeEvent(event, now));
      return;
    }
    case AuditKind::kPolicyRead: {
      audit::PolicyReadEvent event;
      event.request_id = call.id_;
      event.caller = caller;
      event.resource = r.resource;
      event.outcome = r.outcome;
      event.remote = remote;
      audit_(audit::EncodeEvent(event, now));
      return;
    }
    case AuditKind::kPolicyChange: {
      audit::PolicyChangeEvent event;
      event.request_id = call.id_;
      event.action = r.action;
      event.caller = caller;
      event.caller_role = call.role_name_;
      event.authority = call.has_class_ && call.max_class_ == engine::StatementClass::kAdmin
                            ? "admin scope"
                            : "grant option";
      event.has_request = r.has_change;
      event.role = r.target_role;
      event.resource = r.resource;
      event.permissions = r.permissions;
      event.grant_option = r.grant_option;
      event.grant_option_only = r.grant_option_only;
      event.ok = r.outcome == "ok";
      event.version = r.version;
      event.reason = call.failure_message_;
      event.remote = remote;
      audit_(audit::EncodeEvent(event, now));
      return;
    }
  }
}

}  // namespace lakegate::gateway
