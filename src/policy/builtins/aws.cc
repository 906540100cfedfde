// providers.aws.sign_req: AWS Signature Version 4 for an http.send-style request object, as
// OPA computes it (request headers are signed as given; the x-amz-* headers it adds win in the
// returned request).
#include <cctype>
#include <map>
#include <string>
#include <vector>

#include "policy/builtins/codec.h"
#include "policy/builtins/gotime.h"
#include "policy/builtins/jose.h"
#include "policy/builtins/util.h"

namespace policy::builtins {

namespace {

constexpr std::string_view kName = "providers.aws.sign_req";

std::string quoted_list(const std::vector<std::string>& keys) {
  std::string out = "{";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i) out += ", ";
    out += "\"" + keys[i] + "\"";
  }
  return out + "}";
}

// Checks that `obj` has string values for `keys`; OPA's two messages for missing and mistyped.
base::Status require_strings(const Value& obj, int pos, std::vector<std::string> keys,
                             std::string_view what) {
  std::vector<std::string> missing, invalid;
  for (const std::string& k : keys) {
    const Value* v = obj.find(k);
    if (v == nullptr) missing.push_back(k);
    else if (!v->is_string()) invalid.push_back(k);
  }
  std::string prefix = "operand " + std::to_string(pos) + " ";
  if (!missing.empty()) {
    return type_error(kName, prefix + "missing required " + std::string(what) + " parameters(s): " + quoted_list(missing));
  }
  if (!invalid.empty()) {
    return type_error(kName, prefix + "invalid values for required " + std::string(what) +
                                 " parameters(s): " + quoted_list(invalid));
  }
  return base::Status::ok();
}

// Host and escaped path + raw query of an absolute URL.
void split_url(std::string_view url, std::string& host, std::string& path, std::string& query) {
  size_t scheme = url.find("://");
  std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  size_t slash = rest.find_first_of("/?");
  host = std::string(rest.substr(0, slash));
  if (size_t at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
  std::string_view pq = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  size_t q = pq.find('?');
  path = std::string(pq.substr(0, q));
  query = q == std::string_view::npos ? "" : std::string(pq.substr(q + 1));
}

std::string hmac256(std::string_view key, std::string_view data) { return jose::hmac("sha256", key, data); }

BuiltinResult sign_req(BuiltinContext&, Args args) {
  EC_RETURN_IF_ERROR(check_type(kName, args, 1, Type::kObject));
  EC_RETURN_IF_ERROR(check_type(kName, args, 2, Type::kObject));
  const Value& req = args[0];
  const Value& cfg = args[1];
  EC_RETURN_IF_ERROR(require_strings(req, 1, {"method", "url"}, "request"));
  EC_RETURN_IF_ERROR(require_strings(
      cfg, 2, {"aws_access_key", "aws_region", "aws_secret_access_key", "aws_service"}, "AWS config"));
  EC_RETURN_IF_ERROR(check_type(kName, args, 3, Type::kNumber));
  if (!args[2].is_int() || *args[2].as_int() < 0) {
    return type_error(kName, "operand 3 could not convert time_ns value into a unix timestamp");
  }
  bool unsigned_payload = false;
  if (const Value* d = cfg.find("disable_payload_signing")) {
    if (!d->is_boolean()) {
      return type_error(kName, "operand 2 invalid value for 'disable_payload_signing' in AWS config");
    }
    unsigned_payload = d->as_bool();
  }
  std::string access = cfg.find("aws_access_key")->as_string();
  std::string secret = cfg.find("aws_secret_access_key")->as_string();
  std::string region = cfg.find("aws_region")->as_string();
  std::string service = cfg.find("aws_service")->as_string();
  std::string token;
  if (const Value* t = cfg.find("aws_session_token"); t && t->is_string()) token = t->as_string();

  std::string body;
  if (const Value* raw = req.find("raw_body"); raw && raw->is_string()) {
    body = raw->as_string();
  } else if (const Value* b = req.find("body")) {
    body = go_json(*b);
  }
  std::string host, path, query;
  split_url(req.find("url")->as_string(), host, path, query);

  gotime::Instant now = gotime::from_unix_nanos(*args[2].as_int());
  std::string stamp = gotime::format(now, gotime::Zone::utc(), "20060102T150405Z");
  std::string date = stamp.substr(0, 8);
  std::string payload_hash =
      unsigned_payload ? "UNSIGNED-PAYLOAD" : codec::hex_encode(jose::digest("sha256", body));

  std::map<std::string, std::string> aws_headers{{"host", host}, {"x-amz-date", stamp}};
  if (service == "s3" || service == "glacier") aws_headers["x-amz-content-sha256"] = payload_hash;
  if (!token.empty()) aws_headers["x-amz-security-token"] = token;

  std::map<std::string, std::string> signed_headers = aws_headers;
  std::vector<ObjectItem> out_headers;
  if (const Value* h = req.find("headers"); h && h->is_object()) {
    for (const auto& [k, v] : h->object_items()) {
      if (!k.is_string()) continue;
      std::string value = v.is_string() ? v.as_string() : v.to_json();
      out_headers.emplace_back(k, Value::string(value));
      std::string lower = k.as_string();
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "authorization" || lower == "user-agent" || lower == "x-amzn-trace-id") continue;
      signed_headers[lower] = value;
    }
  }

  std::string canonical = req.find("method")->as_string() + "\n" + path + "\n" + query + "\n";
  std::string header_list;
  for (const auto& [k, v] : signed_headers) {
    canonical += k + ":" + v + "\n";
    if (!header_list.empty()) header_list += ";";
    header_list += k;
  }
  canonical += "\n" + header_list + "\n" + payload_hash;
  std::string scope = date + "/" + region + "/" + service + "/aws4_request";
  std::string to_sign = "AWS4-HMAC-SHA256\n" + stamp + "\n" + scope + "\n" +
                        codec::hex_encode(jose::digest("sha256", canonical));
  std::string key = hmac256("AWS4" + secret, date);
  key = hmac256(key, region);
  key = hmac256(key, service);
  key = hmac256(key, "aws4_request");
  std::string signature = codec::hex_encode(hmac256(key, to_sign));
  std::string auth = "AWS4-HMAC-SHA256 Credential=" + access + "/" + scope +
                     ",SignedHeaders=" + header_list + ",Signature=" + signature;

  for (const auto& [k, v] : aws_headers) out_headers.emplace_back(Value::string(k), Value::string(v));
  out_headers.emplace_back(Value::string("Authorization"), Value::string(auth));
  std::vector<ObjectItem> out;
  for (const auto& item : req.object_items()) {
    if (!(item.first.is_string() && item.first.as_string() == "headers")) out.push_back(item);
  }
  out.emplace_back(Value::string("headers"), Value::object(std::move(out_headers)));
  return ok(Value::object(std::move(out)));
}

}  // namespace

void register_aws_builtins(BuiltinRegistry& r) { r.add("providers.aws.sign_req", 3, sign_req); }

}  // namespace policy::builtins
