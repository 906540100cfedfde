// Status and Result<T>: how modules report errors to each other without exceptions.
//
// A Status carries a canonical Code (which maps to an HTTP status or a WebSocket close code at
// the edge), a machine-readable `reason` (e.g. "course_full", shown to API clients as the error
// code) and a message a person can act on. Result<T> is either a value or a non-OK Status.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace base {

enum class Code {
  kOk = 0,
  kInvalidArgument,     // the caller sent something malformed (HTTP 400)
  kUnauthenticated,     // missing, forged or expired credentials (401)
  kPermissionDenied,    // authenticated but not allowed (403)
  kNotFound,            // 404
  kConflict,            // state conflict, e.g. answering twice differently (409)
  kFailedPrecondition,  // the object is not in a state that allows this (409/422)
  kPayloadTooLarge,     // 413
  kResourceExhausted,   // rate limited or full (429)
  kUnavailable,         // a dependency is down or we are shutting down (503)
  kInternal,            // a bug or an I/O failure (500)
};

// Canonical lower_snake name of a code, e.g. "not_found".
std::string_view code_name(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message, std::string reason = {})
      : code_(code), message_(std::move(message)), reason_(std::move(reason)) {}

  static Status ok() { return Status(); }

  bool is_ok() const { return code_ == Code::kOk; }
  explicit operator bool() const { return is_ok(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // The specific reason if one was given, else the canonical code name.
  std::string_view reason() const {
    return reason_.empty() ? code_name(code_) : std::string_view(reason_);
  }
  std::string to_string() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::string reason_;
};

inline Status invalid_argument(std::string msg, std::string reason = {}) {
  return Status(Code::kInvalidArgument, std::move(msg), std::move(reason));
}
inline Status not_found(std::string msg, std::string reason = {}) {
  return Status(Code::kNotFound, std::move(msg), std::move(reason));
}
inline Status permission_denied(std::string msg, std::string reason = {}) {
  return Status(Code::kPermissionDenied, std::move(msg), std::move(reason));
}
inline Status unauthenticated(std::string msg, std::string reason = {}) {
  return Status(Code::kUnauthenticated, std::move(msg), std::move(reason));
}
inline Status conflict(std::string msg, std::string reason = {}) {
  return Status(Code::kConflict, std::move(msg), std::move(reason));
}
inline Status failed_precondition(std::string msg, std::string reason = {}) {
  return Status(Code::kFailedPrecondition, std::move(msg), std::move(reason));
}
inline Status internal_error(std::string msg, std::string reason = {}) {
  return Status(Code::kInternal, std::move(msg), std::move(reason));
}
inline Status unavailable(std::string msg, std::string reason = {}) {
  return Status(Code::kUnavailable, std::move(msg), std::move(reason));
}

// Either a T or a non-OK Status. Accessing value() of an error is a programming error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).is_ok() && "Result built from an OK status");
  }

  bool is_ok() const { return v_.index() == 0; }
  explicit operator bool() const { return is_ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // The error; OK when this holds a value.
  Status status() const { return is_ok() ? Status() : std::get<1>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace base

// Returns early from the enclosing function when `expr` (a Status) is not OK.
#define EC_RETURN_IF_ERROR(expr)              \
  do {                                        \
    ::base::Status ec_status_ = (expr);       \
    if (!ec_status_.is_ok()) return ec_status_; \
  } while (0)

#define EC_CONCAT_INNER(a, b) a##b
#define EC_CONCAT(a, b) EC_CONCAT_INNER(a, b)
// Declares `lhs` from a Result, returning its Status early on error.
#define EC_ASSIGN_OR_RETURN(lhs, expr) \
  EC_ASSIGN_OR_RETURN_IMPL(EC_CONCAT(ec_result_, __LINE__), lhs, expr)
#define EC_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.is_ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
