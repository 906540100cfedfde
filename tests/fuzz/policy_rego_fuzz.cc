// Fuzzes Rego source through parse, compile and a bounded evaluation. Properties:
//  - nothing crashes, hangs (the step budget bounds evaluation) or throws;
//  - every failure is a Status with an OPA error code as reason();
//  - a value produced by evaluation serializes to valid JSON (Boost.JSON 1.81 does not round
//    doubles exactly, so only validity is checked).
#include <cstdlib>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>

#include "policy/engine.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view src(reinterpret_cast<const char*>(data), size);
  auto engine = policy::Engine::compile({{"fuzz.rego", std::string(src)}});
  if (!engine.is_ok()) {
    if (engine.status().reason().empty()) std::abort();
    return 0;
  }
  policy::EvalOptions opts;
  opts.max_steps = 20000;
  policy::Value input = policy::Value::parse_json(R"({"a": [1, "x", {"b": null}], "n": 3})").value();
  auto r = (*engine)->query("x = data", &input, opts);
  if (!r.is_ok()) return 0;
  for (const auto& row : r->rows) {
    for (const auto& [k, v] : row) {
      std::string j = v.to_json();
      // Validity only: a deep package path legitimately nests deeper than parse_json's depth
      // limit for untrusted input, so check with a parser allowed to go deep.
      boost::json::parse_options po;
      po.max_depth = 100000;
      boost::json::error_code ec;
      (void)boost::json::parse(j, ec, {}, po);
      if (ec) std::abort();
    }
  }
  return 0;
}
