#include "http/router.h"

namespace http {

void Router::add(Verb method, std::string pattern, Handler handler) {
  table_.add(std::string(beast_http::to_string(method)), std::move(pattern));
  verbs_.push_back(method);
  handlers_.push_back(std::move(handler));
}

void Router::wrap(const std::function<Handler(const RouteInfo&, Handler)>& wrap) {
  for (size_t i = 0; i < handlers_.size(); ++i) {
    handlers_[i] = wrap(RouteInfo{verbs_[i], table_.pattern(i)}, std::move(handlers_[i]));
  }
}

std::vector<Router::RouteInfo> Router::routes() const {
  std::vector<RouteInfo> out;
  out.reserve(handlers_.size());
  for (size_t i = 0; i < handlers_.size(); ++i) out.push_back({verbs_[i], table_.pattern(i)});
  return out;
}

Router::Match Router::match(Verb method, std::string_view path, PathParams& params) const {
  rest::PathTable::Match t = table_.match(beast_http::to_string(method), path, params);
  Match m;
  if (t.index) m.handler = &handlers_[*t.index];
  m.path_known = t.path_known;
  m.label = t.label;
  m.allow = std::move(t.allow);
  return m;
}

}  // namespace http
