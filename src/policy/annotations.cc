#include "policy/annotations.h"

#include <string>
#include <vector>

namespace policy {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

Value scalar(std::string_view s) {
  s = trim(s);
  if (s.size() >= 2 && ((s.front() == '"' && s.back() == '"') || (s.front() == '\'' && s.back() == '\''))) {
    return Value::string(std::string(s.substr(1, s.size() - 2)));
  }
  if (s == "true") return Value::boolean(true);
  if (s == "false") return Value::boolean(false);
  if (s == "null" || s == "~") return Value();
  if (!s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-')) {
    auto v = Value::parse_json(s);
    if (v.is_ok() && v->is_number()) return *v;
  }
  return Value::string(std::string(s));
}

struct Line {
  int indent;
  std::string_view text;
};

// key: value pairs at one indentation level starting at lines[i].
Value parse_map(const std::vector<Line>& lines, size_t& i, int indent);

Value parse_list(const std::vector<Line>& lines, size_t& i, int indent) {
  std::vector<Value> items;
  while (i < lines.size() && lines[i].indent == indent && lines[i].text.substr(0, 1) == "-") {
    std::string_view rest = trim(lines[i].text.substr(1));
    auto colon = rest.find(": ");
    if (colon != std::string_view::npos || (!rest.empty() && rest.back() == ':')) {
      // "- key: value" starts a map whose further keys are indented past the dash.
      int item_indent = indent + 2;
      std::vector<Line> sub = {{item_indent, rest}};
      size_t j = i + 1;
      while (j < lines.size() && lines[j].indent >= item_indent) sub.push_back(lines[j++]);
      size_t k = 0;
      items.push_back(parse_map(sub, k, item_indent));
      i = j;
    } else {
      items.push_back(scalar(rest));
      ++i;
    }
  }
  return Value::array(std::move(items));
}

Value parse_map(const std::vector<Line>& lines, size_t& i, int indent) {
  std::vector<ObjectItem> items;
  while (i < lines.size() && lines[i].indent == indent) {
    std::string_view t = lines[i].text;
    auto colon = t.find(':');
    if (colon == std::string_view::npos) {
      ++i;
      continue;
    }
    Value key = Value::string(std::string(trim(t.substr(0, colon))));
    std::string_view rest = trim(t.substr(colon + 1));
    ++i;
    if (!rest.empty()) {
      items.emplace_back(key, scalar(rest));
    } else if (i < lines.size() && lines[i].text.substr(0, 1) == "-" && lines[i].indent >= indent) {
      items.emplace_back(key, parse_list(lines, i, lines[i].indent));
    } else if (i < lines.size() && lines[i].indent > indent) {
      items.emplace_back(key, parse_map(lines, i, lines[i].indent));
    } else {
      items.emplace_back(key, Value());
    }
  }
  return Value::object(std::move(items));
}

// "Name <email>" -> {"name": ..., "email": ...}.
Value author(const Value& a) {
  if (!a.is_string()) return a;
  std::string_view s = a.as_string();
  auto lt = s.find('<');
  std::vector<ObjectItem> items;
  if (lt != std::string_view::npos && s.back() == '>') {
    std::string_view name = trim(s.substr(0, lt));
    std::string_view email = s.substr(lt + 1, s.size() - lt - 2);
    if (!name.empty()) items.emplace_back(Value::string("name"), Value::string(std::string(name)));
    items.emplace_back(Value::string("email"), Value::string(std::string(email)));
  } else {
    items.emplace_back(Value::string("name"), Value::string(std::string(trim(s))));
  }
  return Value::object(std::move(items));
}

Value normalize(const Value& doc) {
  std::vector<ObjectItem> items;
  bool has_scope = false;
  for (const auto& [k, v] : doc.object_items()) {
    const std::string& key = k.as_string();
    if (key == "scope") has_scope = true;
    if (key == "authors" && v.is_array()) {
      std::vector<Value> as;
      for (const Value& a : v.array_items()) as.push_back(author(a));
      items.emplace_back(k, Value::array(std::move(as)));
    } else if (key == "related_resources" && v.is_array()) {
      std::vector<Value> rs;
      for (const Value& r : v.array_items()) {
        rs.push_back(r.is_string() ? Value::object({{Value::string("ref"), r}}) : r);
      }
      items.emplace_back(k, Value::array(std::move(rs)));
    } else {
      items.emplace_back(k, v);
    }
  }
  if (!has_scope) items.emplace_back(Value::string("scope"), Value::string("rule"));
  return Value::object(std::move(items));
}

}  // namespace

std::map<int, Value> find_annotations(std::string_view source) {
  std::vector<std::string_view> src_lines;
  size_t start = 0;
  while (start <= source.size()) {
    auto nl = source.find('\n', start);
    if (nl == std::string_view::npos) {
      src_lines.push_back(source.substr(start));
      break;
    }
    src_lines.push_back(source.substr(start, nl - start));
    start = nl + 1;
  }
  std::map<int, Value> out;
  for (size_t i = 0; i < src_lines.size(); ++i) {
    std::string_view t = trim(src_lines[i]);
    if (t.substr(0, 1) != "#" || trim(t.substr(1)) != "METADATA") continue;
    std::vector<Line> block;
    size_t j = i + 1;
    for (; j < src_lines.size(); ++j) {
      std::string_view c = trim(src_lines[j]);
      if (c.substr(0, 1) != "#") break;
      std::string_view body = c.substr(1);
      if (!body.empty() && body[0] == ' ') body.remove_prefix(1);
      int indent = 0;
      while (static_cast<size_t>(indent) < body.size() && body[static_cast<size_t>(indent)] == ' ') ++indent;
      if (trim(body).empty()) continue;
      block.push_back({indent, trim(body)});
    }
    while (j < src_lines.size() && trim(src_lines[j]).empty()) ++j;
    size_t k = 0;
    Value doc = block.empty() ? Value::empty_object() : parse_map(block, k, block[0].indent);
    out[static_cast<int>(j) + 1] = normalize(doc);
    i = j - 1;
  }
  return out;
}

}  // namespace policy
