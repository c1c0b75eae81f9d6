// Status and Result<T>: the error model of every request path in lakegate.
//
// Code on the request path returns Status / Result<T> and never throws.
// Codes follow Abseil's meanings. A status may also carry a typed reason (an
// enum value of the module that failed, like Envoy's Status::JwtExpired), so
// callers branch on `status.Is(jose::TokenFailure::kExpired)` and never on
// message text. Only http/ turns a status into a response (http/error_response.h)
// and only oauth/ names RFC 6749 errors. Thread-compatible value types.
#pragma once

#include <cassert>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace lakegate {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // 400: the caller sent something malformed
  kUnauthenticated,     // 401: the caller is not identified
  kPermissionDenied,    // 403: identified, but not allowed
  kNotFound,            // 404
  kAlreadyExists,       // 409
  kFailedPrecondition,  // 409/400: state does not allow the operation
  kResourceExhausted,   // 413/429: a limit was hit
  kDeadlineExceeded,    // 408
  kUnavailable,         // 503
  kInternal,            // 500: a bug or an environment failure; never leaks details
};

std::string_view StatusCodeName(StatusCode code);

// What a client may learn about one reason, and how it is logged. The module
// that owns a reason enum describes each value once, in its ReasonDomain.
struct ReasonInfo {
  std::string_view name = {};  // stable, for logs, audit and metrics: "expired"
  std::string_view public_code =
      {};  // the error code clients see; "" = the default for the status code
  std::string_view public_message =
      {};               // what clients see; "" = the status message (safe by contract)
  int http_status = 0;  // 0 = the default for the status code
  // RFC 6750 §3.1 error of the WWW-Authenticate challenge ("invalid_token",
  // "insufficient_scope"), "" = none.
  std::string_view challenge_error = {};
};

// The reasons of one module: an enum class whose values index `infos`.
class ReasonDomain {
 public:
  // `infos` must outlive the domain (a static array) and list every value of
  // the enum in order.
  constexpr ReasonDomain(std::string_view name, const ReasonInfo* infos, int count)
      : name_(name), infos_(infos), count_(count) {}
  std::string_view name() const { return name_; }  // e.g. "token"
  // The description of `value`; an empty ReasonInfo for a value out of range.
  const ReasonInfo& Info(int value) const;

 private:
  std::string_view name_;
  const ReasonInfo* infos_;
  int count_;
};

// An enum class E is a reason when `const ReasonDomain& ReasonDomainOf(E)` is
// declared next to it (found by argument-dependent lookup).
template <typename E>
concept StatusReason = std::is_enum_v<E> && requires(E e) {
  { ReasonDomainOf(e) } -> std::same_as<const ReasonDomain&>;
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  // A status with a typed reason.
  template <StatusReason E>
  Status(StatusCode code, E reason, std::string message)
      : code_(code),
        message_(std::move(message)),
        domain_(&ReasonDomainOf(reason)),
        reason_(static_cast<int>(reason)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: message", for logs and test failures.
  std::string ToString() const;

  // Returns a copy whose message is "<prefix>: <message>" (the reason stays).
  Status WithPrefix(std::string_view prefix) const;

  // True when the status carries exactly this reason.
  template <StatusReason E>
  bool Is(E reason) const {
    return domain_ == &ReasonDomainOf(reason) && reason_ == static_cast<int>(reason);
  }
  // The reason, when it is one of E's.
  template <StatusReason E>
  std::optional<E> reason() const {
    if (domain_ != &ReasonDomainOf(E{})) return std::nullopt;
    return static_cast<E>(reason_);
  }
  // How long the caller should wait before retrying (gRPC's RetryInfo): a
  // copy carrying `seconds` (> 0), and the value; 0 = no advice.
  Status WithRetryAfter(int64_t seconds) const;
  int64_t retry_after() const { return retry_after_; }

  // The reason's description; an empty ReasonInfo when there is none.
  const ReasonInfo& reason_info() const;
  // "<domain>.<name>" (e.g. "token.expired"), or "" without a reason.
  std::string ReasonName() const;

  // Explicitly ignores a status (best-effort operations).
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_ && a.domain_ == b.domain_ &&
           a.reason_ == b.reason_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  const ReasonDomain* domain_ = nullptr;  // null: no reason
  int reason_ = 0;
  int64_t retry_after_ = 0;
};

Status InvalidArgumentError(std::string message);
Status UnauthenticatedError(std::string message);
Status PermissionDeniedError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status FailedPreconditionError(std::string message);
Status ResourceExhaustedError(std::string message);
Status DeadlineExceededError(std::string message);
Status UnavailableError(std::string message);
Status InternalError(std::string message);

// Result<T> holds either a T or a non-OK Status (shaped like std::expected).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : value_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(value_).ok() && "Result built from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(value_); }
  // OK when a value is present.
  Status status() const { return ok() ? Status() : std::get<Status>(value_); }

  T& value() & { return std::get<T>(value_); }
  const T& value() const& { return std::get<T>(value_); }
  T&& value() && { return std::get<T>(std::move(value_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> value_;
};

}  // namespace lakegate

#define LG_STATUS_CONCAT_INNER_(a, b) a##b
#define LG_STATUS_CONCAT_(a, b) LG_STATUS_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define LG_RETURN_IF_ERROR(expr) \
  LG_RETURN_IF_ERROR_IMPL_(LG_STATUS_CONCAT_(lg_status_, __COUNTER__), expr)
#define LG_RETURN_IF_ERROR_IMPL_(status, expr) \
  do {                                         \
    ::lakegate::Status status = (expr);        \
    if (!status.ok()) return status;           \
  } while (0)

// `LG_ASSIGN_OR_RETURN(auto x, MakeX());` declares x from the Result's value, or
// returns its status from the enclosing function.
#define LG_ASSIGN_OR_RETURN(lhs, expr) \
  LG_ASSIGN_OR_RETURN_IMPL_(LG_STATUS_CONCAT_(lg_result_, __COUNTER__), lhs, expr)
#define LG_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr);                              \
  if (!result.ok()) return result.status();          \
  lhs = std::move(result).value()
