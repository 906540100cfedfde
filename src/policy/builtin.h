// Builtin functions: how Rego calls native code (count, sprintf, regex.match, ...).
//
// A builtin receives its evaluated arguments and returns a value, "undefined" (std::nullopt)
// or an error. Errors are base::Status values whose reason() is one of OPA's topdown codes:
//   - kTypeError    ("eval_type_error"):    an operand has the wrong type, e.g.
//                   "count: operand 1 must be one of {array, object, set, string} but got number"
//   - kBuiltinError ("eval_builtin_error"): the operands have the right types but the call
//                   fails, e.g. "base64.decode: illegal base64 data at input byte 0"
// Messages start with the builtin's name and a colon, as OPA's do. Use the helpers below to
// build them. The evaluator decides what an error means: with strict builtin errors it fails
// the query; otherwise (OPA's default) either kind makes the calling expression undefined.
//
// Builtins must be pure functions of their arguments and the context (no globals, no I/O,
// no threads). They may be called from several threads at once with different contexts.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"
#include "policy/value.h"

namespace policy {

inline constexpr std::string_view kTypeError = "eval_type_error";
inline constexpr std::string_view kBuiltinError = "eval_builtin_error";

// Per-query state given to every builtin call. One context lives for one query evaluation
// and is used by one thread.
struct BuiltinContext {
  // Never null during evaluation. time.now_ns must use `now_ns` (fixed for the query).
  const base::Clock* clock = nullptr;
  base::Random* random = nullptr;
  // Wall time at query start in nanoseconds since the Unix epoch (OPA fixes "now" per query).
  int64_t now_ns = 0;
  // Memo for values that must stay the same within one query (e.g. rand.intn, uuid.rfc4122
  // with the same arguments), keyed by the builtin's choice of string.
  std::map<std::string, Value, std::less<>> memo;
  // Cache for expensive compiled objects (regexes, globs, parsed keys), keyed by the
  // builtin's choice of string (e.g. "re:" + pattern). Owned by the context; freed at the end
  // of the query.
  std::unordered_map<std::string, std::shared_ptr<void>> cache;
  // Output of print(); null when printing is discarded.
  std::function<void(std::string_view)> print;
};

// A builtin returns a value, "undefined" (std::nullopt), or an error (see above).
using BuiltinResult = base::Result<std::optional<Value>>;
using BuiltinFn = BuiltinResult (*)(BuiltinContext& ctx, std::span<const Value> args);

struct Builtin {
  std::string name;  // e.g. "strings.replace_n"
  int arity = 0;     // number of operands (without the output)
  BuiltinFn fn = nullptr;
  // Non-deterministic builtins (rand.intn, time.now_ns, http.send...) are never evaluated at
  // compile time.
  bool deterministic = true;
};

// Name -> builtin. Filled once at start-up; read-only afterwards (safe to share across
// threads).
class BuiltinRegistry {
 public:
  // Registers (or replaces) `name`.
  void add(std::string name, int arity, BuiltinFn fn, bool deterministic = true);
  // The builtin called `name`, or nullptr.
  const Builtin* find(std::string_view name) const;
  // All registered names, sorted.
  std::vector<std::string_view> names() const;

  // A registry with every builtin this engine supports (operators and the library).
  // Built once; shared.
  static const BuiltinRegistry& standard();

 private:
  std::map<std::string, Builtin, std::less<>> builtins_;
};

// Registers the operator and aggregate builtins of the core language (eq, plus, count, ...).
void register_core_builtins(BuiltinRegistry& registry);
// Registers the library builtins (strings, regex, crypto, time, ...). Implemented in
// src/policy/builtins/.
void register_library_builtins(BuiltinRegistry& registry);

// --- Errors -------------------------------------------------------------------------------

// "<name>: <message>" with reason eval_type_error.
base::Status type_error(std::string_view name, std::string_view message);
// "<name>: <message>" with reason eval_builtin_error.
base::Status builtin_error(std::string_view name, std::string_view message);
bool is_type_error(const base::Status& s);
bool is_builtin_error(const base::Status& s);

// --- Argument checks (OPA's messages) -------------------------------------------------------

// "<name>: operand <pos> must be <want> but got <type of got>", reason eval_type_error.
// `pos` is 1-based. `want` is e.g. "string" or "one of {array, object, set, string}".
base::Status operand_error(std::string_view name, int pos, std::string_view want,
                           const Value& got);

// Checks that args[pos-1] has type `t`; returns the operand_error otherwise.
base::Status check_type(std::string_view name, std::span<const Value> args, int pos, Type t);
// Checks that args[pos-1] has one of `types`; the message lists them in the order given, as
// OPA does (e.g. count: "one of {array, object, set, string}").
base::Status check_types(std::string_view name, std::span<const Value> args, int pos,
                         std::initializer_list<Type> types);

// Typed getters: return the operand or the operand_error.
base::Result<std::string_view> arg_string(std::string_view name, std::span<const Value> args,
                                          int pos);
base::Result<double> arg_number(std::string_view name, std::span<const Value> args, int pos);
// Integral numbers only: a non-integral number gives "operand <pos> must be integer but got
// floating-point number" (eval_type_error, as OPA).
base::Result<int64_t> arg_int(std::string_view name, std::span<const Value> args, int pos);
base::Result<bool> arg_bool(std::string_view name, std::span<const Value> args, int pos);

// Convenience constructors for results.
inline BuiltinResult ok(Value v) { return std::optional<Value>(std::move(v)); }
inline BuiltinResult undefined() { return std::optional<Value>(); }

}  // namespace policy
