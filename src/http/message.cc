#include "http/message.h"

#include <boost/json/serialize.hpp>

#include "http/router.h"

namespace http {

std::optional<std::string> Ctx::query_param(std::string_view name) const {
  return rest::query_param(query, name);
}

std::string_view Ctx::param(std::string_view name) const { return params.get(name); }

std::optional<std::string_view> find_header(const Request& req, std::string_view name) {
  for (const auto& f : req) {
    std::string_view n = f.name_string();
    if (n.size() == name.size() && rest::iequals(n, name)) return std::string_view(f.value());
  }
  return std::nullopt;
}

std::optional<std::string_view> find_header(const Request& req, beast_http::field name) {
  for (const auto& f : req) {
    if (f.name() == name) return std::string_view(f.value());
  }
  return std::nullopt;
}

Response to_beast(rest::Response&& r, unsigned version, bool with_length) {
  Response res(beast_http::status(r.status), version);
  if (!r.content_type.empty()) res.set(beast_http::field::content_type, r.content_type);
  for (rest::Header& h : r.headers) res.set(h.name, std::move(h.value));
  if (r.shared_body) {
    res.body() = *r.shared_body;
  } else {
    res.body() = std::move(r.body);
  }
  if (with_length) res.prepare_payload();
  return res;
}

Response json_response(beast_http::status status, const boost::json::value& body,
                       unsigned version) {
  return to_beast(rest::json_response(int(status), body), version);
}

beast_http::status http_status_for(base::Code code) {
  return beast_http::status(rest::http_status_for(code));
}

std::string_view error_code_of(const Response& res) {
  return rest::error_code_of(int(res.result_int()), res.body());
}

Response error_response(const base::Status& status, unsigned version) {
  return to_beast(rest::error_response(status), version);
}

}  // namespace http
