// OPA capabilities: the builtins this engine offers, with OPA's declared types.
//
// OPA describes what an engine supports in a "capabilities" JSON document
// (`opa capabilities`): one entry per builtin with its name, its declared operand and result
// types, and flags (infix operator, deprecated, nondeterministic, relation). Tools read it to
// check that a policy uses only what the engine has. `capabilities_json` builds that document
// for this engine: every builtin the registry implements (plus the ones the evaluator
// implements itself, such as `walk` and `print`) that has a declaration here.
#pragma once

#include <boost/json/value.hpp>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "policy/builtin.h"

namespace policy {

// One builtin's declared interface, as OPA declares it.
// `signature` is a compact type notation:
//   "(T1, T2) => R"   operands and result; "(...T)" variadic; no "=> R" for no result.
//   T: any | number | string | boolean | null
//      | any<T|T...>            (a union: OPA's {"type": "any", "of": [...]})
//      | array[T] | array<T,T>  (dynamic element type | static, fixed-length)
//      | set[T]
//      | object[K:V] | object{key:T,...} | object{key:T,...}[K:V]  (dynamic, static, both)
struct BuiltinDecl {
  std::string_view name;
  std::string_view signature;
  std::string_view infix = {};  // e.g. "+" for plus; empty when not an operator
  bool deprecated = false;
  bool relation = false;  // may produce several results (walk)
};

// Every declaration this engine knows, sorted by name.
std::span<const BuiltinDecl> builtin_decls();
// The declaration of `name`, or nullptr.
const BuiltinDecl* find_decl(std::string_view name);

// OPA's JSON for one declaration's "decl" member ({"args": [...], "result": ..., "type":
// "function"}), or an error naming the position when the signature does not parse.
base::Result<boost::json::value> decl_json(const BuiltinDecl& decl);
// Number of operands the signature declares (-1 when variadic or malformed).
int decl_arity(const BuiltinDecl& decl);

// Builtins the evaluator implements itself (no registry entry): eq, assign, walk, print, ...
bool is_evaluator_builtin(std::string_view name);

// OPA's capabilities document for `registry`: {"builtins": [...], "future_keywords": [...],
// "wasm_abi_versions": [], "features": [...]}, builtins sorted by name. A registry builtin
// without a declaration here (an engine-only extra such as test.sleep) is left out.
boost::json::object capabilities_json(const BuiltinRegistry& registry);

// `v` as indented JSON (two spaces, keys in the object's order, as `opa capabilities` prints
// it), ending with a newline.
std::string pretty_json(const boost::json::value& v);

}  // namespace policy
