// graph.reachable and graph.reachable_paths over adjacency objects (node -> array/set of
// neighbours). Nodes that are not keys of the graph are never reached.
#include <algorithm>
#include <deque>
#include <string>
#include <vector>

#include "policy/builtins/util.h"

namespace policy::builtins {

namespace {

base::Status check_graph(std::string_view name, Args args) {
  EC_RETURN_IF_ERROR(check_type(name, args, 1, Type::kObject));
  return check_types(name, args, 2, {Type::kArray, Type::kSet});
}

BuiltinResult reachable(BuiltinContext&, Args args) {
  EC_RETURN_IF_ERROR(check_graph("graph.reachable", args));
  const Value& graph = args[0];
  std::vector<Value> reached;
  std::deque<Value> queue(args[1].elements().begin(), args[1].elements().end());
  while (!queue.empty()) {
    Value node = std::move(queue.front());
    queue.pop_front();
    if (std::find(reached.begin(), reached.end(), node) != reached.end()) continue;
    const Value* edges = graph.find(node);
    if (edges == nullptr) continue;
    reached.push_back(node);
    for (const Value& n : edges->elements()) queue.push_back(n);
  }
  return ok(Value::set(std::move(reached)));
}

void paths_from(const Value& graph, const Value& node, std::vector<Value>& path,
                std::vector<Value>& out) {
  const Value* edges = graph.find(node);
  if (edges == nullptr) return;
  path.push_back(node);
  bool extended = false;
  for (const Value& n : edges->elements()) {
    if (graph.find(n) == nullptr || std::find(path.begin(), path.end(), n) != path.end()) continue;
    extended = true;
    paths_from(graph, n, path, out);
  }
  if (!extended) out.push_back(Value::array(path));
  path.pop_back();
}

BuiltinResult reachable_paths(BuiltinContext&, Args args) {
  EC_RETURN_IF_ERROR(check_graph("graph.reachable_paths", args));
  std::vector<Value> out, path;
  for (const Value& start : args[1].elements()) paths_from(args[0], start, path, out);
  return ok(Value::set(std::move(out)));
}

// OPA's test helper; the portable core never sleeps, so this only checks its operand.
BuiltinResult test_sleep(BuiltinContext&, Args args) {
  EC_RETURN_IF_ERROR(check_type("test.sleep", args, 1, Type::kString));
  return ok(Value::null());
}

}  // namespace

void register_graph_builtins(BuiltinRegistry& r) {
  r.add("graph.reachable", 2, reachable);
  r.add("graph.reachable_paths", 2, reachable_paths);
  r.add("test.sleep", 1, test_sleep, /*deterministic=*/false);
}

}  // namespace policy::builtins
