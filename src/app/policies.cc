#include "app/policies.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/web_assets.h"
#include "base/log.h"

namespace app {

namespace json = boost::json;

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
    // An empty segment between two others ("a//b") names nothing; only the path's ends may be
    // empty (the whole document, a trailing slash).
    if (seg.empty() && start > 0 && slash != std::string_view::npos) {
      return base::invalid_argument("the path has an empty segment ('//'): write it as a/b/c",
                                    "invalid_path");
    }
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
