// A decision's input document as the Rego engine's value, built straight from the typed
// classroom::DecisionInput: no JSON document in between, no sorting (the members are added in
// key order), and no copies of strings (the value refers to the input's strings and to
// constant keys and words of static storage, Value::string_ref).
#pragma once

#include <span>
#include <string>

#include "classroom/authz.h"
#include "policy/value.h"

namespace classroom {

// Equal, member for member and number kind for number kind, to
// policy::Value::from_json(input.to_json()). The result refers to the strings `input` refers
// to: it must not outlive them (evaluate it and drop it, as RegoAuthorizer::decide does).
// Portable (the wasm32-wasi server decides through it too).
policy::Value policy_input(const DecisionInput& input);

// The words the value takes from static storage instead of copying: the documents' keys,
// the actions, roles and statuses of docs/policy.md. Others are copied.
std::span<const std::string> input_words();

}  // namespace classroom
