#include "app/policies.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/policy_input.h"
#include "app/web_assets.h"
#include "base/log.h"

namespace app {

namespace json = boost::json;

base::Result<std::shared_ptr<const RegoAuthorizer>> RegoAuthorizer::make(
    std::shared_ptr<const policy::Engine> engine, std::string_view query, std::string revision,
    std::shared_ptr<const DecisionLog> log) {
  // "data.a.b": identifiers only, so the deny_reason path beside it is well formed.
  bool ok = query.starts_with("data.") && query.size() > 5;
  size_t last_dot = 4;
  for (size_t i = 5; ok && i < query.size(); ++i) {
    char c = query[i];
    if (c == '.') {
      ok = query[i - 1] != '.' && i + 1 < query.size();
      last_dot = i;
    } else {
      ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_';
      if (ok && query[i - 1] == '.') ok = !(c >= '0' && c <= '9');
    }
  }
  if (!ok) {
    return base::invalid_argument("policy query '" + std::string(query) +
                                      "' is not a data reference such as data.education.allow",
                                  "invalid_policy_query");
  }
  std::string deny = std::string(query.substr(0, last_dot)) + ".deny_reason";
  EC_ASSIGN_OR_RETURN(policy::PreparedRef allow_ref, engine->prepare_ref(query));
  EC_ASSIGN_OR_RETURN(policy::PreparedRef deny_ref, engine->prepare_ref(deny));
  return std::make_shared<const RegoAuthorizer>(std::move(engine), std::move(allow_ref),
                                                std::move(deny_ref), std::move(revision),
                                                std::move(log));
}

std::shared_ptr<const RegoAuthorizer> RegoAuthorizer::refusing() {
  return std::make_shared<const RegoAuthorizer>(nullptr, policy::PreparedRef{},
                                                policy::PreparedRef{});
}

classroom::Decision RegoAuthorizer::decide(const json::object& input) const {
  if (!engine_) return refusal();
  return decide_value(policy::Value::from_json(input),
                      [&]() -> const json::object& { return input; });
}

classroom::Decision RegoAuthorizer::decide(const classroom::DecisionInput& input) const {
  if (!engine_) return refusal();
  // The value refers to `input`'s strings, which outlive this call; nothing of it is kept.
  return decide_value(policy_input(input), [&] { return input.to_json(); });
}

classroom::Decision RegoAuthorizer::refusal() {
  return {false, "the policies could not be loaded; the server is stopping"};
}

template <typename LogInput>
classroom::Decision RegoAuthorizer::decide_value(const policy::Value& in,
                                                 const LogInput& log_input) const {
  auto start = log_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
  const policy::EvalOptions opts = policy::server_eval_options();
  auto allow = engine_->eval_ref(allow_, in, opts);
  if (log_) {
    int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count();
    std::optional<json::value> result;
    if (allow.is_ok() && allow->has_value()) result = allow->value().to_json_value();
    log_->log(allow_.ref(), log_input(), result, revision_, ns);
  }
  if (!allow.is_ok()) {
    base::log::error("policy.eval_failed").kv("error", allow.status().to_string());
    return {false, "the policy could not be evaluated: " + allow.status().message()};
  }
  if (allow->has_value() && allow->value() == policy::Value::boolean(true)) return {true, ""};
  auto why = engine_->eval_ref(deny_, in, opts);
  return {false, why.is_ok() && why->has_value() ? policy::first_reason(why->value()) : ""};
}

base::Result<std::shared_ptr<const RegoAuthorizer>> load_policies(
    const std::string& dir, size_t* file_count, std::string_view query,
    std::shared_ptr<const DecisionLog> log) {
  std::vector<policy::Module> modules;
  if (dir.empty()) {
    for (const WebAsset& a : embedded_policies()) {
      if (a.path.ends_with(".rego") && !a.path.ends_with("_test.rego")) {
        modules.push_back({"policies" + std::string(a.path), std::string(a.body)});
      }
    }
  } else {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      return base::invalid_argument("policy directory " + dir + " does not exist");
    }
    std::vector<std::filesystem::path> files;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file() && it->path().extension() == ".rego" &&
          !it->path().filename().string().ends_with("_test.rego")) {
        files.push_back(it->path());
      }
    }
    if (ec)
      return base::invalid_argument("cannot read policy directory " + dir + ": " + ec.message());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::ifstream in(f);
      std::stringstream ss;
      ss << in.rdbuf();
      if (!in) return base::invalid_argument("cannot read " + f.string());
      modules.push_back({f.string(), ss.str()});
    }
  }
  if (modules.empty()) return base::invalid_argument("no .rego files in policy directory " + dir);
  *file_count = modules.size();
  EC_ASSIGN_OR_RETURN(std::shared_ptr<const policy::Engine> engine,
                      policy::Engine::compile(std::move(modules)));
  return RegoAuthorizer::make(std::move(engine), query, "", std::move(log));
}

base::Result<std::shared_ptr<const RegoAuthorizer>> authorizer_from_bundle(
    Bundle bundle, std::string_view query, std::shared_ptr<const DecisionLog> log) {
  policy::CompileOptions opts;
  opts.data = std::move(bundle.data);
  EC_ASSIGN_OR_RETURN(std::shared_ptr<const policy::Engine> engine,
                      policy::Engine::compile(std::move(bundle.modules), opts));
  return RegoAuthorizer::make(std::move(engine), query, std::move(bundle.revision), std::move(log));
}

base::Result<json::object> query_data(const policy::Engine& engine, std::string_view path,
                                      const json::value& input) {
  std::string ref = "data";
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view seg = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!seg.empty()) {
      bool ident = !(seg[0] >= '0' && seg[0] <= '9');
      for (char c : seg) {
        ident = ident && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
      }
      if (!ident) {
        return base::invalid_argument(
            "path segment '" + std::string(seg) + "' is not a Rego identifier", "invalid_path");
      }
      ref += ".";
      ref += seg;
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  policy::Value in = policy::Value::from_json(input);
  EC_ASSIGN_OR_RETURN(std::optional<policy::Value> v,
                      engine.eval_ref(ref, in, policy::server_eval_options()));
  json::object out;
  if (v) out["result"] = v->to_json_value();
  return out;
}

}  // namespace app
