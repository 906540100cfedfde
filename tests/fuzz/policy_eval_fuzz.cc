// Fuzzes the evaluator with fuzzed *inputs* against fixed, realistic policies: the default
// education policy's decisions and a Gatekeeper-style violation set that walks the input and
// calls string, regex, glob and sprintf builtins on whatever it finds. Properties:
//  - nothing crashes, hangs (step budget) or throws, whatever shape the input has;
//  - data.education.allow is always a boolean (it has a default), so a decision never comes
//    back undefined or as another type;
//  - every error carries an OPA error code.
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include "policy/engine.h"

namespace {

constexpr const char* kViolations = R"(package fuzz.gk
import rego.v1

violation contains {"msg": msg} if {
  some c in input.review.object.spec.containers
  not startswith(c.image, "registry.edu.example/")
  msg := sprintf("container <%v> has an invalid image <%v>", [c.name, c.image])
}

violation contains {"msg": msg} if {
  some k, v in input.review.object.metadata.labels
  not regex.match(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, v)
  msg := sprintf("label %v=%v is not a DNS label", [k, v])
}

violation contains {"msg": msg} if {
  walk(input, [path, value])
  is_string(value)
  glob.match("*secret*", [], value)
  msg := concat("/", [format_int(count(path), 10), upper(value)])
}
)";

std::string read_policy() {
  std::ifstream f(std::string(EDGECLASS_SOURCE_DIR) + "/policies/education.rego");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const policy::Engine& engine() {
  static std::shared_ptr<const policy::Engine> e = [] {
    auto r = policy::Engine::compile({{"education.rego", read_policy()}, {"gk.rego", kViolations}});
    if (!r.is_ok()) std::abort();
    return r.value();
  }();
  return *e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto input = policy::Value::parse_json(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!input.is_ok()) return 0;
  policy::EvalOptions opts;
  opts.max_steps = 50000;
  auto allow = engine().eval_ref("data.education.allow", *input, opts);
  if (allow.is_ok()) {
    if (!allow->has_value() || !(*allow)->is_boolean()) std::abort();
  } else if (allow.status().reason().empty()) {
    std::abort();
  }
  auto why = engine().eval_ref("data.education.deny_reason", *input, opts);
  if (!why.is_ok() && why.status().reason().empty()) std::abort();
  auto v = engine().eval_ref("data.fuzz.gk.violation", *input, opts);
  if (!v.is_ok() && v.status().reason().empty()) std::abort();
  if (v.is_ok() && v->has_value()) {
    auto back = policy::Value::parse_json((*v)->to_json());
    if (!back.is_ok()) std::abort();
  }
  return 0;
}
