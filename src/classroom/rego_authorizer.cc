#include "classroom/rego_authorizer.h"

#include <cctype>
#include <chrono>

#include "base/log.h"
#include "classroom/policy_input.h"

namespace classroom {

namespace json = boost::json;

base::Result<std::shared_ptr<const RegoAuthorizer>> RegoAuthorizer::make(
    std::shared_ptr<const policy::Engine> engine, std::string_view query, std::string revision,
    std::shared_ptr<const DecisionObserver> observer) {
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
                                                std::move(observer));
}

std::shared_ptr<const RegoAuthorizer> RegoAuthorizer::refusing() {
  return std::make_shared<const RegoAuthorizer>(nullptr, policy::PreparedRef{},
                                                policy::PreparedRef{});
}

Decision RegoAuthorizer::decide(const json::object& input) const {
  if (!engine_) return refusal();
  return decide_value(policy::Value::from_json(input),
                      [&]() -> const json::object& { return input; });
}

Decision RegoAuthorizer::decide(const DecisionInput& input) const {
  if (!engine_) return refusal();
  // The value refers to `input`'s strings, which outlive this call; nothing of it is kept.
  return decide_value(policy_input(input), [&] { return input.to_json(); });
}

Decision RegoAuthorizer::refusal() {
  return {false, "the policies could not be loaded; the server is stopping"};
}

template <typename LogInput>
Decision RegoAuthorizer::decide_value(const policy::Value& in, const LogInput& log_input) const {
  auto start =
      observer_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
  const policy::EvalOptions opts = policy::server_eval_options();
  auto allow = engine_->eval_ref(allow_, in, opts);
  if (observer_) {
    int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::steady_clock::now() - start)
                     .count();
    std::optional<json::value> result;
    if (allow.is_ok() && allow->has_value()) result = allow->value().to_json_value();
    observer_->log(allow_.ref(), log_input(), result, revision_, ns);
  }
  if (!allow.is_ok()) {
    base::log::error("policy.eval_failed").kv("error", allow.status().to_string());
    return {false, "the policy could not be evaluated: " + allow.status().message()};
  }
  if (allow->has_value() && allow->value() == policy::Value::boolean(true)) return {true, ""};
  auto why = engine_->eval_ref(deny_, in, opts);
  return {false, why.is_ok() && why->has_value() ? policy::first_reason(why->value()) : ""};
}

}  // namespace classroom
