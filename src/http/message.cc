#include "http/message.h"

#include <boost/json/serialize.hpp>

#include "base/utf8.h"
#include "http/router.h"

namespace http {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') out += ' ';
    else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += char(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}
}  // namespace

std::optional<std::string> Ctx::query_param(std::string_view name) const {
  std::string_view q = query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    if (percent_decode(key) == name) {
      return eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::string_view Ctx::param(std::string_view name) const { return params.get(name); }

Response json_response(beast_http::status status, const boost::json::value& body,
                       unsigned version) {
  Response res(status, version);
  res.set(beast_http::field::content_type, "application/json");
  res.body() = boost::json::serialize(body);
  res.prepare_payload();
  return res;
}

beast_http::status http_status_for(base::Code code) {
  using S = beast_http::status;
  switch (code) {
    case base::Code::kOk: return S::ok;
    case base::Code::kInvalidArgument: return S::bad_request;
    case base::Code::kUnauthenticated: return S::unauthorized;
    case base::Code::kPermissionDenied: return S::forbidden;
    case base::Code::kNotFound: return S::not_found;
    case base::Code::kConflict: return S::conflict;
    case base::Code::kFailedPrecondition: return S::conflict;
    case base::Code::kPayloadTooLarge: return S::payload_too_large;
    case base::Code::kResourceExhausted: return S::too_many_requests;
    case base::Code::kUnavailable: return S::service_unavailable;
    case base::Code::kInternal: return S::internal_server_error;
  }
  return S::internal_server_error;
}

std::string_view error_code_of(const Response& res) {
  if (res.result_int() < 400) return {};
  // error_response writes "error" first and "code" first inside it.
  constexpr std::string_view kPrefix = "{\"error\":{\"code\":\"";
  std::string_view body = res.body();
  if (body.substr(0, kPrefix.size()) != kPrefix) return {};
  body.remove_prefix(kPrefix.size());
  size_t end = body.find('"');
  return end == std::string_view::npos ? std::string_view{} : body.substr(0, end);
}

Response error_response(const base::Status& status, unsigned version) {
  boost::json::object err;
  err["code"] = base::valid_utf8(status.reason());
  err["message"] = base::valid_utf8(status.message());
  boost::json::object body;
  body["error"] = std::move(err);
  Response res = json_response(http_status_for(status.code()), body, version);
  if (status.code() == base::Code::kUnauthenticated) {
    res.set(beast_http::field::www_authenticate, "Bearer");
  }
  return res;
}

}  // namespace http
