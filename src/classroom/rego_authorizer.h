// The Authorizer on the Rego engine, for the native server and the wasm32-wasi one alike:
// allow = the document at the policy query (data.education.allow by default); when it is not
// true, the first element of the `deny_reason` beside it explains why (docs/policy.md).
// Portable: no threads, no exceptions; a decision log is what the caller plugs in
// (app::DecisionLog natively, none in the wasm build).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "classroom/authz.h"
#include "policy/engine.h"

namespace classroom {

// Told every decision's allow query and result, with the input as JSON (built only for it).
// Thread-safe: called from whichever thread decides.
class DecisionObserver {
 public:
  virtual ~DecisionObserver() = default;
  // `result` nullopt: undefined. `revision`: the authorizer's (its bundle's; may be empty).
  // `eval_ns`: the allow query's evaluation time.
  virtual void log(std::string_view query, const boost::json::object& input,
                   const std::optional<boost::json::value>& result, std::string_view revision,
                   int64_t eval_ns) const = 0;
};

class RegoAuthorizer final : public Authorizer {
 public:
  // Refuses a query that is not a data reference ("data.<identifier>(.<identifier>)*").
  // `revision`: the active bundle's (for decision logs); `observer`: null when decisions are
  // not logged.
  static base::Result<std::shared_ptr<const RegoAuthorizer>> make(
      std::shared_ptr<const policy::Engine> engine, std::string_view query,
      std::string revision = "", std::shared_ptr<const DecisionObserver> observer = nullptr);
  // Refuses every decision ("the policies could not be loaded"): what requests already
  // waiting get when the initial compile fails after listening, while the server stops.
  static std::shared_ptr<const RegoAuthorizer> refusing();
  // The input document through policy::Value::from_json: for callers that only have JSON.
  Decision decide(const boost::json::object& input) const override;
  // The same without the JSON document: the engine's value is built from the typed input
  // (classroom/policy_input.h), the JSON only for the observer when there is one.
  Decision decide(const DecisionInput& input) const override;
  const policy::Engine& engine() const { return *engine_; }
  const std::string& query() const { return allow_.ref(); }
  const std::string& reasons_ref() const { return deny_.ref(); }
  const std::string& revision() const { return revision_; }

  RegoAuthorizer(std::shared_ptr<const policy::Engine> engine, policy::PreparedRef allow,
                 policy::PreparedRef deny, std::string revision = "",
                 std::shared_ptr<const DecisionObserver> observer = nullptr)
      : engine_(std::move(engine)),
        allow_(std::move(allow)),
        deny_(std::move(deny)),
        revision_(std::move(revision)),
        observer_(std::move(observer)) {}

 private:
  static Decision refusal();
  // allow, then deny_reason when not allowed, on `in`; `log_input()` gives the JSON input
  // for the observer (called only when there is one).
  template <typename LogInput>
  Decision decide_value(const policy::Value& in, const LogInput& log_input) const;

  std::shared_ptr<const policy::Engine> engine_;  // null: refusing()
  policy::PreparedRef allow_;
  policy::PreparedRef deny_;
  std::string revision_;
  std::shared_ptr<const DecisionObserver> observer_;  // null: decisions not logged
};

}  // namespace classroom
