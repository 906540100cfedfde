#include "policy/engine.h"

#include <set>

#include "policy/eval.h"
#include "policy/program.h"

namespace policy {

Engine::Engine() = default;
Engine::~Engine() = default;

base::Result<std::shared_ptr<const Engine>> Engine::compile(std::vector<Module> modules,
                                                            CompileOptions opts) {
  std::vector<ModuleAst> asts;
  asts.reserve(modules.size());
  for (const auto& m : modules) {
    EC_ASSIGN_OR_RETURN(ModuleAst ast, parse_module(m.filename, m.source, opts.syntax));
    asts.push_back(std::move(ast));
  }
  EC_ASSIGN_OR_RETURN(auto prog, compile_program(std::move(asts), BuiltinRegistry::standard()));
  if (!opts.data.is_object()) return base::invalid_argument("base data must be an object");
  prog->base_data = std::move(opts.data);
  build_rule_indexes(*prog);  // reads the base data: a base document hides a rule
  auto e = std::make_shared<Engine>();
  e->program_ = std::move(prog);
  return std::shared_ptr<const Engine>(std::move(e));
}

namespace {
BuiltinContext make_ctx(const EvalOptions& opts) {
  BuiltinContext ctx;
  ctx.clock = opts.clock ? opts.clock : &base::SystemClock::instance();
  ctx.random = opts.random ? opts.random : &base::SystemRandom::instance();
  ctx.now_ns = ctx.clock->now_unix_ms() * 1'000'000;
  ctx.print = opts.print;
  return ctx;
}
EvalLimits make_limits(const EvalOptions& opts) {
  EvalLimits l;
  l.strict_builtin_errors = opts.strict_builtin_errors;
  l.max_steps = opts.max_steps;
  l.rule_index = opts.rule_index;
  return l;
}
}  // namespace

base::Result<QueryResult> Engine::query(std::string_view q, const Value* input,
                                        const EvalOptions& opts) const {
  EC_ASSIGN_OR_RETURN(Body body, parse_query(q));
  int slots = 0;
  std::vector<std::pair<std::string, int>> names;
  EC_RETURN_IF_ERROR(compile_query(*program_, body, slots, names));
  BuiltinContext ctx = make_ctx(opts);
  Evaluator ev(*program_, input, ctx, make_limits(opts));
  Frame frame(slots);
  QueryResult result;
  base::Status st = ev.eval_body(body, frame, [&]() -> base::Status {
    std::map<std::string, Value> row;
    for (const auto& [name, slot] : names) {
      if (frame.bound[static_cast<size_t>(slot)])
        row[name] = frame.slots[static_cast<size_t>(slot)];
    }
    result.rows.push_back(std::move(row));
    return base::Status::ok();
  });
  if (!st.is_ok()) return st;
  return result;
}

base::Result<PreparedRef> Engine::prepare_ref(std::string_view ref) const {
  PreparedRef p;
  p.ref_ = std::string(ref);
  p.engine_ = this;
  size_t start = 0;
  while (start <= ref.size()) {
    auto d = ref.find('.', start);
    p.path_.emplace_back(
        ref.substr(start, d == std::string_view::npos ? std::string_view::npos : d - start));
    if (d == std::string_view::npos) break;
    start = d + 1;
  }
  if (p.path_.empty() || p.path_[0] != "data") {
    return base::invalid_argument("ref must start with data: " + p.ref_);
  }
  for (const auto& seg : p.path_) {
    if (seg.empty()) return base::invalid_argument("empty segment in ref " + p.ref_);
  }
  p.path_.erase(p.path_.begin());
  return p;
}

base::Result<std::optional<Value>> Engine::eval_ref(const PreparedRef& ref, const Value& input,
                                                    const EvalOptions& opts) const {
  if (ref.engine_ != this) return base::invalid_argument("ref prepared by another engine");
  BuiltinContext ctx = make_ctx(opts);
  Evaluator ev(*program_, &input, ctx, make_limits(opts));
  return ev.eval_data_path(ref.path_);
}

base::Result<std::optional<Value>> Engine::eval_ref(std::string_view ref, const Value& input,
                                                    const EvalOptions& opts) const {
  EC_ASSIGN_OR_RETURN(PreparedRef p, prepare_ref(ref));
  return eval_ref(p, input, opts);
}

std::string first_reason(const Value& why) {
  boost::json::value v = why.to_json_value();
  if (v.is_array() && !v.get_array().empty() && v.get_array()[0].is_string()) {
    return std::string(v.get_array()[0].get_string());
  }
  if (v.is_object() && !v.get_object().empty()) return std::string(v.get_object().begin()->key());
  if (v.is_string()) return std::string(v.get_string());
  return "";
}

}  // namespace policy
