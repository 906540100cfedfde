// The policies in force: loaded from EDGECLASS_POLICY_DIR or the copies embedded in the
// binary, compiled by the Rego engine, and swapped atomically on SIGHUP.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "classroom/authz.h"
#include "policy/engine.h"

namespace app {

// classroom::Authorizer on the Rego engine: allow = data.edgeclass.allow; when it is not
// true, the first element of data.edgeclass.deny_reason explains why.
class RegoAuthorizer final : public classroom::Authorizer {
 public:
  explicit RegoAuthorizer(std::shared_ptr<const policy::Engine> engine)
      : engine_(std::move(engine)) {}
  classroom::Decision decide(const boost::json::object& input) const override;
  const policy::Engine& engine() const { return *engine_; }

 private:
  std::shared_ptr<const policy::Engine> engine_;
};

// Reads every *.rego file under `dir` (recursively, sorted by path), or the embedded
// policies when `dir` is empty, and compiles them. Errors name file:line:column.
base::Result<std::shared_ptr<const RegoAuthorizer>> load_policies(const std::string& dir,
                                                                  size_t* file_count);

// Holds the current policies; readers on any thread, reload from the signal thread.
class PolicyHolder {
 public:
  explicit PolicyHolder(std::shared_ptr<const RegoAuthorizer> initial) : current_(std::move(initial)) {}
  std::shared_ptr<const RegoAuthorizer> get() const { return current_.load(); }
  void set(std::shared_ptr<const RegoAuthorizer> a) { current_.store(std::move(a)); }

 private:
  std::atomic<std::shared_ptr<const RegoAuthorizer>> current_;
};

// OPA's data API: {"result": value} for data/<path> (slash-separated), {} when undefined.
base::Result<boost::json::object> query_data(const policy::Engine& engine, std::string_view path,
                                             const boost::json::value& input);

}  // namespace app
