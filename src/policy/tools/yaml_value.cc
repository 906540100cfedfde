#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstdlib>

#include "policy/tools/tools.h"

namespace policy::tools {

Value yaml_to_value(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return Value();
    case YAML::NodeType::Sequence: {
      std::vector<Value> items;
      for (const auto& e : n) items.push_back(yaml_to_value(e));
      return Value::array(std::move(items));
    }
    case YAML::NodeType::Map: {
      std::vector<ObjectItem> items;
      for (const auto& kv : n) {
        items.emplace_back(Value::string(kv.first.Scalar()), yaml_to_value(kv.second));
      }
      return Value::object(std::move(items));
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return Value::string(s);  // quoted
      if (s == "null" || s == "~" || s == "Null" || s == "NULL") return Value();
      if (s == "true" || s == "True" || s == "TRUE") return Value::boolean(true);
      if (s == "false" || s == "False" || s == "FALSE") return Value::boolean(false);
      if (!s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' ||
                         s[0] == '+' || s[0] == '.')) {
        auto v = Value::parse_json(s[0] == '+' ? s.substr(1) : s);
        if (v.is_ok() && v->is_number()) return *v;
      }
      return Value::string(s);
    }
  }
  return Value();
}

}  // namespace policy::tools
