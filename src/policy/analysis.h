// Compiler analyses shared by the resolver: which variables an expression needs bound and
// which it may bind, body ordering, and the recursion check. Internal to src/policy.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "policy/ast.h"
#include "policy/program.h"

namespace policy {

// "file:line:col: code: msg" with `code` as the reason.
inline base::Status compile_error(const std::string& file, Location loc, std::string_view code,
                                  std::string msg) {
  return base::invalid_argument(file + ":" + std::to_string(loc.line) + ":" +
                                    std::to_string(loc.col) + ": " + std::string(code) + ": " +
                                    msg,
                                std::string(code));
}

// Slots of the vars of `t` (not inside comprehensions).
void collect_vars(const Term& t, std::set<int>& out);
// Slots of every var in `t` / `b`, nested bodies included.
void collect_all_vars(const Term& t, std::set<int>& out);
void collect_body_vars(const Body& b, std::set<int>& out);

// Vars a term needs bound (`in`) and may bind (`out`) when evaluated as a value / matched as a
// pattern; expr_io for a whole expression. `closures`: count the outer vars a comprehension
// uses as inputs (for ordering; the safety check does not require them).
void value_io(const Term& t, std::set<int>& in, std::set<int>& out, bool closures = true);
void pattern_io(const Term& t, std::set<int>& in, std::set<int>& out, bool closures = true);
void expr_io(const Expr& e, std::set<int>& in, std::set<int>& out, bool closures = true);

// Stable reordering of a body so that each expression's inputs are bound by earlier ones
// (`bound`: vars bound on entry). Inputs no expression binds are ignored.
void reorder(Body& b, std::set<int> bound, bool nested = false);

// Marks every array, set and object term built only of constants `ground` and stores its
// value in `value` (Term's contract), so evaluation hands out one value instead of building
// it again each time (e.g. `teacher_actions := {"update_course", ...}`, a set of 16 strings,
// sorted per decision before). Terms inside bodies, heads, arguments and `with` values.
void fold_ground_terms(Rule& r);
void fold_ground_terms(Body& b);

// Fails with rego_recursion_error when a rule or function depends on itself.
base::Status check_recursion(const Program& prog);

}  // namespace policy
