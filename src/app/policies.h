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
#include "classroom/rego_authorizer.h"
#include "policy/engine.h"

namespace app {

// The decision path when EDGECLASS_POLICY_QUERY is not set (the case study's package).
inline constexpr std::string_view kDefaultPolicyQuery = "data.education.allow";

// The authorizer itself is classroom::RegoAuthorizer (classroom/rego_authorizer.h), the same
// in the wasm32-wasi server; app adds where its policies come from and its decision log.
using classroom::RegoAuthorizer;

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
