// The policies in force: loaded from EDGECLASS_POLICY_DIR or the copies embedded in the
// binary, compiled by the Rego engine, and swapped atomically on SIGHUP.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "app/bundle.h"
#include "app/decision_log.h"
#include "base/status.h"
#include "classroom/authz.h"
#include "policy/engine.h"

namespace app {

// The decision path when EDGECLASS_POLICY_QUERY is not set (the case study's package).
inline constexpr std::string_view kDefaultPolicyQuery = "data.education.allow";

// classroom::Authorizer on the Rego engine: allow = the document at `query` (default
// data.education.allow); when it is not true, the first element of the `deny_reason` beside
// it (data.education.deny_reason) explains why.
class RegoAuthorizer final : public classroom::Authorizer {
 public:
  // Refuses a query that is not a data reference ("data.<identifier>(.<identifier>)*").
  // `revision`: the active bundle's (for decision logs); `log`: null when decision logging
  // is off.
  static base::Result<std::shared_ptr<const RegoAuthorizer>> make(
      std::shared_ptr<const policy::Engine> engine, std::string_view query,
      std::string revision = "", std::shared_ptr<const DecisionLog> log = nullptr);
  // Refuses every decision ("the policies could not be loaded"): what requests already
  // waiting get when the initial compile fails after listening, while the server stops.
  static std::shared_ptr<const RegoAuthorizer> refusing();
  classroom::Decision decide(const boost::json::object& input) const override;
  // The same without the JSON document: the engine's value is built from the typed input
  // (app/policy_input.h), the JSON only for the decision log when it is on.
  classroom::Decision decide(const classroom::DecisionInput& input) const override;
  const policy::Engine& engine() const { return *engine_; }
  const std::string& query() const { return allow_.ref(); }
  const std::string& reasons_ref() const { return deny_.ref(); }
  const std::string& revision() const { return revision_; }

  RegoAuthorizer(std::shared_ptr<const policy::Engine> engine, policy::PreparedRef allow,
                 policy::PreparedRef deny)
      : engine_(std::move(engine)), allow_(std::move(allow)), deny_(std::move(deny)) {}
  RegoAuthorizer(std::shared_ptr<const policy::Engine> engine, policy::PreparedRef allow,
                 policy::PreparedRef deny, std::string revision,
                 std::shared_ptr<const DecisionLog> log)
      : engine_(std::move(engine)),
        allow_(std::move(allow)),
        deny_(std::move(deny)),
        revision_(std::move(revision)),
        log_(std::move(log)) {}

 private:
  static classroom::Decision refusal();
  // allow, then deny_reason when not allowed, on `in`; `log_input()` gives the JSON input
  // for the decision log (called only when logging).
  template <typename LogInput>
  classroom::Decision decide_value(const policy::Value& in, const LogInput& log_input) const;

  std::shared_ptr<const policy::Engine> engine_;
  policy::PreparedRef allow_;
  policy::PreparedRef deny_;
  std::string revision_;
  std::shared_ptr<const DecisionLog> log_;
};

// Reads every *.rego file under `dir` (recursively, sorted by path), or the embedded
// policies when `dir` is empty, and compiles them. Errors name file:line:column.
base::Result<std::shared_ptr<const RegoAuthorizer>> load_policies(
    const std::string& dir, size_t* file_count, std::string_view query = kDefaultPolicyQuery,
    std::shared_ptr<const DecisionLog> log = nullptr);

// Compiles a bundle's modules with its data (bundle.h) into an authorizer.
base::Result<std::shared_ptr<const RegoAuthorizer>> authorizer_from_bundle(
    Bundle bundle, std::string_view query, std::shared_ptr<const DecisionLog> log);

// Holds the current policies; readers on any thread, reload from the signal thread.
// Made empty, the initial set is compiled after the listener is up (a cold start does not wait
// for it): get() blocks its thread until the first set(). The server's requests that need a
// decision wait for the compile at an http::StartGate first, without blocking their I/O thread
// (app/serve.cc, gate_on_policies), so get() blocks only a caller the gate does not cover.
class PolicyHolder {
 public:
  PolicyHolder() = default;
  explicit PolicyHolder(std::shared_ptr<const RegoAuthorizer> initial)
      : current_(std::move(initial)) {}
  std::shared_ptr<const RegoAuthorizer> get() const {
    if (auto p = current_.load()) return p;
    if (before_wait_) before_wait_();
    std::unique_lock lock(mu_);
    set_.wait(lock, [this] { return current_.load() != nullptr; });
    return current_.load();
  }
  bool empty() const { return current_.load() == nullptr; }
  // Called by get() before it waits for the first set(): whatever compiles the first set must
  // be under way then (serve.cc starts it there if it has not yet). Set before any thread
  // calls get(); it must be safe to call from any thread, more than once.
  void set_before_wait(std::function<void()> f) { before_wait_ = std::move(f); }
  void set(std::shared_ptr<const RegoAuthorizer> a) {
    {
      std::lock_guard lock(mu_);
      current_.store(std::move(a));
    }
    set_.notify_all();
  }

 private:
  std::atomic<std::shared_ptr<const RegoAuthorizer>> current_;
  std::function<void()> before_wait_;  // set_before_wait's; written before get() is called
  mutable std::mutex mu_;  // with set_: get() waiting for the first set()
  mutable std::condition_variable set_;
};

// OPA's data API: {"result": value} for data/<path> (slash-separated), {} when undefined.
base::Result<boost::json::object> query_data(const policy::Engine& engine, std::string_view path,
                                             const boost::json::value& input);

}  // namespace app
