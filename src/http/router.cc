#include "http/router.h"

namespace http {

void Router::add(Verb method, std::string pattern, Handler handler) {
  table_.add(std::string(beast_http::to_string(method)), std::move(pattern));
  verbs_.push_back(method);
  handlers_.push_back(std::move(handler));
  rests_.emplace_back();
}

void Router::add(Verb method, std::string pattern, RestRoute route) {
  auto shared = std::make_shared<const RestRoute>(std::move(route));
  add(method, std::move(pattern), coroutine_handler(shared));
  rests_.back() = std::move(shared);
}

void Router::wrap(const std::function<Handler(const RouteInfo&, const Handler&)>& wrap) {
  for (size_t i = 0; i < handlers_.size(); ++i) {
    if (Handler h = wrap(RouteInfo{verbs_[i], table_.pattern(i)}, handlers_[i])) {
      handlers_[i] = std::move(h);
      rests_[i] = nullptr;  // the wrapper decides now: the route runs as its coroutine
    }
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
  if (t.index) {
    m.handler = &handlers_[*t.index];
    m.rest = rests_[*t.index].get();
  }
  m.path_known = t.path_known;
  m.label = t.label;
  m.allow = std::move(t.allow);
  return m;
}

}  // namespace http
