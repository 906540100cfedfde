#include "app/bundle.h"

#include <zlib.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "base/crypto.h"
#include "policy/parser.h"

namespace app {

namespace json = boost::json;

namespace {

constexpr size_t kBlock = 512;

base::Status bad_bundle(std::string msg) {
  return base::invalid_argument("bundle: " + std::move(msg), "bundle_invalid");
}

std::string cstr(const char* p, size_t n) { return std::string(p, strnlen(p, n)); }

std::optional<uint64_t> octal(const char* p, size_t n) {
  uint64_t v = 0;
  size_t i = 0;
  while (i < n && (p[i] == ' ' || p[i] == '\0')) ++i;
  bool any = false;
  for (; i < n && p[i] >= '0' && p[i] <= '7'; ++i) {
    v = v * 8 + uint64_t(p[i] - '0');
    any = true;
    if (v > (uint64_t(1) << 40)) return std::nullopt;
  }
  for (; i < n; ++i) {
    if (p[i] != ' ' && p[i] != '\0') return std::nullopt;
  }
  return any ? std::optional<uint64_t>(v) : std::optional<uint64_t>(0);
}

// "/a/./b" → "a/b"; nullopt for ".." or an empty name.
std::optional<std::string> clean_path(std::string_view p) {
  std::string out;
  size_t start = 0;
  while (start <= p.size()) {
    size_t slash = p.find('/', start);
    std::string_view seg =
        p.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg == "..") return std::nullopt;
    if (!seg.empty() && seg != ".") {
      if (!out.empty()) out += '/';
      out += seg;
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

base::Result<std::string> gunzip(std::string_view in, size_t max_bytes) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return bad_bundle("cannot start gzip decoder");
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  char buf[64 * 1024];
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      return bad_bundle("not a gzip archive or corrupt (" +
                        std::string(z.msg ? z.msg : "truncated") + ")");
    }
    out.append(buf, sizeof(buf) - z.avail_out);
    if (out.size() > max_bytes) {
      inflateEnd(&z);
      return bad_bundle("larger than " + std::to_string(max_bytes) + " bytes uncompressed");
    }
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
      inflateEnd(&z);
      return bad_bundle("gzip archive is truncated");
    }
  }
  inflateEnd(&z);
  return out;
}

std::string gzip(std::string_view in) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out;
  out.resize(deflateBound(&z, static_cast<uLong>(in.size())) + 64);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

bool is_structured(std::string_view path) {
  std::string_view base =
      path.substr(path.rfind('/') == std::string_view::npos ? 0 : path.rfind('/') + 1);
  return base == "data.json" || base == "data.yaml" || base == "data.yml" ||
         base == ".signatures.json" || base == ".manifest" || path == "patch.json";
}

// The query that checks a JWS with the engine's io.jwt.decode_verify (HS*, RS*, PS*, ES*).
base::Result<json::object> verify_token(std::string_view token, const BundleVerification& v) {
  static const std::shared_ptr<const policy::Engine> engine = [] {
    auto e = policy::Engine::compile({{"bundle_verify.rego",
                                       "package edgeclass_bundle_verify\n"
                                       "import rego.v1\n"
                                       "result := io.jwt.decode_verify(input.token, "
                                       "input.constraints)\n"}});
    return e.is_ok() ? *e : nullptr;
  }();
  if (!engine) return base::internal_error("bundle: the signature checker did not compile");
  bool pem = v.key.find("-----BEGIN") != std::string::npos;
  json::object constraints{{pem ? "cert" : "secret", v.key}};
  policy::Value input = policy::Value::from_json(
      json::object{{"token", token}, {"constraints", std::move(constraints)}});
  auto r = engine->eval_ref("data.edgeclass_bundle_verify.result", input);
  if (!r.is_ok()) return bad_bundle(".signatures.json: " + r.status().message());
  if (!r->has_value()) return bad_bundle(".signatures.json: the token could not be checked");
  json::value res = r->value().to_json_value();
  if (!res.is_array() || res.get_array().size() != 3 || !res.get_array()[0].is_bool() ||
      !res.get_array()[0].get_bool()) {
    return bad_bundle(".signatures.json: the signature does not verify with the configured key");
  }
  if (!res.get_array()[2].is_object())
    return bad_bundle(".signatures.json: payload is not an object");
  return res.get_array()[2].get_object();
}

base::Status verify_files(const std::vector<BundleFile>& files, const BundleVerification& v) {
  const BundleFile* sig = nullptr;
  for (const auto& f : files) {
    if (f.path == ".signatures.json") sig = &f;
  }
  if (!sig) return bad_bundle("no .signatures.json, and a verification key is configured");
  boost::system::error_code ec;
  json::value sj = json::parse(sig->bytes, ec);
  if (ec || !sj.is_object() || !sj.get_object().contains("signatures") ||
      !sj.get_object().at("signatures").is_array()) {
    return bad_bundle(".signatures.json: expected {\"signatures\": [\"<JWT>\"]}");
  }
  const json::array& sigs = sj.get_object().at("signatures").get_array();
  if (sigs.size() != 1 || !sigs[0].is_string()) {
    return bad_bundle(".signatures.json: expected exactly one JWT");
  }
  EC_ASSIGN_OR_RETURN(json::object payload, verify_token(sigs[0].get_string(), v));
  std::string scope;
  if (const json::value* s = payload.if_contains("scope"); s && s->is_string()) {
    scope = std::string(s->get_string());
  }
  if (scope != v.scope) return bad_bundle(".signatures.json: scope mismatch");
  std::map<std::string, std::pair<std::string, std::string>> listed;  // name → (alg, hash)
  if (const json::value* fl = payload.if_contains("files"); fl && fl->is_array()) {
    for (const json::value& f : fl->get_array()) {
      if (!f.is_object()) continue;
      const json::object& o = f.get_object();
      auto str = [&](const char* k) {
        const json::value* x = o.if_contains(k);
        return x && x->is_string() ? std::string(x->get_string()) : std::string();
      };
      auto name = clean_path(str("name"));
      if (name) listed[*name] = {str("algorithm"), str("hash")};
    }
  }
  for (const auto& f : files) {
    if (f.path == ".signatures.json") continue;
    auto it = listed.find(f.path);
    if (it == listed.end()) return bad_bundle(f.path + ": not included in the bundle signature");
    if (it->second.first != "SHA-256") {
      return bad_bundle(f.path + ": hashing algorithm '" + it->second.first +
                        "' is not supported (SHA-256 is)");
    }
    std::string got = bundle_file_digest(f.path, f.bytes);
    if (got != it->second.second) {
      return bad_bundle(f.path + ": digest mismatch (want: " + it->second.second + ", got: " + got +
                        ")");
    }
    listed.erase(it);
  }
  if (!listed.empty()) {
    return bad_bundle(listed.begin()->first +
                      ": specified in the bundle signature but not found in the bundle");
  }
  return base::Status::ok();
}

// Puts `doc` at `path` (segments) inside `data`, merging objects; a clash is an error.
base::Status merge_at(json::object& data, const std::vector<std::string>& path, json::value doc,
                      const std::string& file) {
  json::object* at = &data;
  for (const auto& seg : path) {
    json::value& next = (*at)[seg];
    if (next.is_null()) next = json::object();
    if (!next.is_object()) return bad_bundle(file + ": data conflicts at " + seg);
    at = &next.as_object();
  }
  if (path.empty() && !doc.is_object()) return bad_bundle(file + ": root data must be an object");
  if (!doc.is_object()) {
    return bad_bundle(file + ": data below the root must be an object");
  }
  for (auto& kv : doc.as_object()) {
    if (at->contains(kv.key()))
      return bad_bundle(file + ": data conflicts at " + std::string(kv.key()));
    (*at)[kv.key()] = std::move(kv.value());
  }
  return base::Status::ok();
}

std::vector<std::string> split_path(std::string_view p) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < p.size()) {
    size_t slash = p.find('/', start);
    if (slash == std::string_view::npos) slash = p.size();
    if (slash > start) out.emplace_back(p.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool has_prefix(const std::vector<std::string>& path, const std::vector<std::string>& prefix) {
  return prefix.size() <= path.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

// OPA's roots: every package and every data document must lie under one of the manifest's
// roots. `path` is where `doc` sits; objects above a root are looked into.
base::Status check_data_roots(const std::vector<std::vector<std::string>>& roots,
                              std::vector<std::string>& path, const json::value& doc) {
  bool above_a_root = false;
  for (const auto& r : roots) {
    if (has_prefix(path, r)) return base::Status::ok();
    if (has_prefix(r, path)) above_a_root = true;
  }
  if (!above_a_root || !doc.is_object()) {
    std::string p;
    for (const auto& s : path) p += (p.empty() ? "" : "/") + s;
    return bad_bundle("data at '" + p + "' is outside the manifest's roots");
  }
  for (const auto& kv : doc.get_object()) {
    path.emplace_back(kv.key());
    EC_RETURN_IF_ERROR(check_data_roots(roots, path, kv.value()));
    path.pop_back();
  }
  return base::Status::ok();
}

// patch.json: {"data": [{"op": "upsert|remove|replace", "path": "/a/b", "value": ...}]}.
base::Status read_patch(std::string_view bytes, std::vector<PatchOp>& out) {
  auto doc = policy::Value::parse_json(bytes);
  if (!doc.is_ok()) return bad_bundle("patch.json: " + doc.status().message());
  const policy::Value* ops = doc->find("data");
  if (!doc->is_object() || ops == nullptr || !ops->is_array()) {
    return bad_bundle("patch.json: expected {\"data\": [operations]}");
  }
  for (const policy::Value& o : ops->array_items()) {
    const policy::Value* op = o.find("op");
    const policy::Value* path = o.find("path");
    if (op == nullptr || !op->is_string() || path == nullptr || !path->is_string()) {
      return bad_bundle("patch.json: every operation needs a string op and path");
    }
    PatchOp p;
    p.op = op->as_string();
    if (p.op != "upsert" && p.op != "remove" && p.op != "replace") {
      return bad_bundle("patch.json: unknown op '" + p.op + "' (upsert, remove, replace)");
    }
    // A JSON pointer: "~1" is "/", "~0" is "~".
    for (std::string seg : split_path(path->as_string())) {
      std::string clean;
      for (size_t i = 0; i < seg.size(); ++i) {
        if (seg[i] == '~' && i + 1 < seg.size() && (seg[i + 1] == '0' || seg[i + 1] == '1')) {
          clean += seg[++i] == '0' ? '~' : '/';
        } else {
          clean += seg[i];
        }
      }
      p.path.push_back(std::move(clean));
    }
    if (const policy::Value* v = o.find("value")) {
      p.value = *v;
    } else if (p.op != "remove") {
      return bad_bundle("patch.json: " + p.op + " of " + path->as_string() + " without a value");
    }
    out.push_back(std::move(p));
  }
  return base::Status::ok();
}

}  // namespace

std::string gzip_bytes(std::string_view bytes) { return gzip(bytes); }

base::Result<json::value> yaml_to_json(std::string_view text) {
  static const std::shared_ptr<const policy::Engine> engine = [] {
    auto e = policy::Engine::compile(
        {{"bundle_yaml.rego",
          "package edgeclass_bundle_yaml\nimport rego.v1\nresult := yaml.unmarshal(input)\n"}});
    return e.is_ok() ? *e : nullptr;
  }();
  if (!engine) return base::internal_error("bundle: the YAML reader did not compile");
  auto r = engine->eval_ref("data.edgeclass_bundle_yaml.result",
                            policy::Value::string(std::string(text)));
  if (!r.is_ok()) return base::invalid_argument(r.status().message());
  if (!r->has_value()) return base::invalid_argument("not a YAML document");
  return r->value().to_json_value();
}

std::string bundle_file_digest(std::string_view path, std::string_view bytes) {
  std::optional<std::string> input;
  if (is_structured(path)) {
    if (path.ends_with(".yaml") || path.ends_with(".yml")) {
      // OPA turns YAML into JSON first (Go's encoding of its numbers, as Value prints them).
      auto y = yaml_to_json(bytes);
      if (y.is_ok()) input = canonical_json(policy::Value::from_json(*y).to_json());
    } else {
      input = canonical_json(bytes);
    }
  }
  auto d = base::sha256(input ? *input : bytes);
  return base::hex_encode(base::as_bytes(d));
}

base::Result<std::vector<BundleFile>> untar_gz(std::string_view archive, size_t max_bytes) {
  EC_ASSIGN_OR_RETURN(std::string tar, gunzip(archive, max_bytes));
  std::vector<BundleFile> files;
  std::string long_name;
  size_t off = 0;
  while (off + kBlock <= tar.size()) {
    const char* h = tar.data() + off;
    if (std::all_of(h, h + kBlock, [](char c) { return c == 0; })) break;
    auto size = octal(h + 124, 12);
    if (!size) return bad_bundle("corrupt tar header at byte " + std::to_string(off));
    char type = h[156];
    std::string name = cstr(h, 100);
    if (std::memcmp(h + 257, "ustar", 5) == 0) {
      std::string prefix = cstr(h + 345, 155);
      if (!prefix.empty()) name = prefix + "/" + name;
    }
    size_t data_off = off + kBlock;
    if (data_off + *size > tar.size()) return bad_bundle("tar archive is truncated");
    std::string_view body(tar.data() + data_off, *size);
    off = data_off + ((*size + kBlock - 1) / kBlock) * kBlock;
    if (type == 'L') {  // GNU long name for the next entry
      long_name = cstr(body.data(), body.size());
      continue;
    }
    if (type == 'x') {  // pax header: "len key=value\n" records; path= names the next entry
      size_t p = 0;
      while (p < body.size()) {
        size_t sp = body.find(' ', p);
        if (sp == std::string_view::npos) break;
        size_t len = std::strtoul(std::string(body.substr(p, sp - p)).c_str(), nullptr, 10);
        if (len == 0 || p + len > body.size()) break;
        std::string_view rec = body.substr(sp + 1, p + len - sp - 2);
        if (rec.starts_with("path=")) long_name = std::string(rec.substr(5));
        p += len;
      }
      continue;
    }
    if (!long_name.empty()) {
      name = long_name;
      long_name.clear();
    }
    if (type != '0' && type != '\0' && type != '7') continue;  // directories, links, globals
    auto clean = clean_path(name);
    if (!clean) return bad_bundle("refusing the archive path '" + name + "'");
    files.push_back({*clean, std::string(body)});
  }
  return files;
}

std::string tar_gz(const std::vector<BundleFile>& files) {
  std::string tar;
  for (const auto& f : files) {
    char h[kBlock] = {};
    std::string name = f.path, prefix;
    if (name.size() > 100) {
      size_t cut = name.rfind('/', 155);
      if (cut != std::string::npos && name.size() - cut - 1 <= 100) {
        prefix = name.substr(0, cut);
        name = name.substr(cut + 1);
      }
    }
    std::memcpy(h, name.data(), std::min<size_t>(name.size(), 100));
    std::snprintf(h + 100, 8, "%07o", 0644);
    std::snprintf(h + 108, 8, "%07o", 0);
    std::snprintf(h + 116, 8, "%07o", 0);
    std::snprintf(h + 124, 12, "%011llo", static_cast<unsigned long long>(f.bytes.size()));
    std::snprintf(h + 136, 12, "%011o", 0);
    h[156] = '0';
    std::memcpy(h + 257, "ustar", 6);
    std::memcpy(h + 263, "00", 2);
    std::memcpy(h + 345, prefix.data(), std::min<size_t>(prefix.size(), 155));
    std::memset(h + 148, ' ', 8);
    unsigned sum = 0;
    for (char c : h) sum += static_cast<unsigned char>(c);
    std::snprintf(h + 148, 8, "%06o", sum);
    h[155] = ' ';
    tar.append(h, kBlock);
    tar += f.bytes;
    tar.append((kBlock - f.bytes.size() % kBlock) % kBlock, '\0');
  }
  tar.append(2 * kBlock, '\0');
  return gzip(tar);
}

base::Result<Bundle> read_bundle(std::string_view archive, const BundleVerification& verify) {
  EC_ASSIGN_OR_RETURN(std::vector<BundleFile> files, untar_gz(archive));
  Bundle b;
  if (!verify.key.empty()) {
    EC_RETURN_IF_ERROR(verify_files(files, verify));
    b.verified = true;
  }
  json::object data;
  size_t data_files = 0;
  std::sort(files.begin(), files.end(),
            [](const BundleFile& x, const BundleFile& y) { return x.path < y.path; });
  b.roots = {""};
  for (auto& f : files) {
    std::string_view base = f.path;
    std::string dir;
    if (size_t s = f.path.rfind('/'); s != std::string::npos) {
      base = std::string_view(f.path).substr(s + 1);
      dir = f.path.substr(0, s);
    }
    if (f.path == ".manifest") {
      boost::system::error_code ec;
      json::value m = json::parse(f.bytes, ec);
      if (ec || !m.is_object()) return bad_bundle(".manifest: not a JSON object");
      if (const json::value* r = m.get_object().if_contains("revision")) {
        if (!r->is_string()) return bad_bundle(".manifest: revision must be a string");
        b.revision = std::string(r->get_string());
      }
      if (const json::value* r = m.get_object().if_contains("roots")) {
        if (!r->is_array()) return bad_bundle(".manifest: roots must be an array of strings");
        b.roots.clear();
        for (const auto& x : r->get_array()) {
          if (!x.is_string()) return bad_bundle(".manifest: roots must be an array of strings");
          b.roots.emplace_back(x.get_string());
        }
      }
    } else if (base == "data.json" || base == "data.yaml" || base == "data.yml") {
      json::value v;
      if (base == "data.json") {
        boost::system::error_code ec;
        v = json::parse(f.bytes, ec);
        if (ec) return bad_bundle(f.path + ": " + ec.message());
      } else {
        auto y = yaml_to_json(f.bytes);
        if (!y.is_ok()) return bad_bundle(f.path + ": " + y.status().message());
        v = std::move(y).value();
      }
      ++data_files;
      std::vector<std::string> segs;
      std::stringstream ss(dir);
      for (std::string seg; std::getline(ss, seg, '/');) segs.push_back(seg);
      EC_RETURN_IF_ERROR(merge_at(data, segs, std::move(v), f.path));
    } else if (f.path == "patch.json") {
      EC_RETURN_IF_ERROR(read_patch(f.bytes, b.patch));
      b.delta = true;
    } else if (base.ends_with(".rego")) {
      b.modules.push_back({"bundle/" + f.path, std::move(f.bytes)});
    }
  }
  if (b.delta) {
    // As OPA: a delta bundle carries its patch and nothing else.
    if (!b.modules.empty()) return bad_bundle("a delta bundle (patch.json) holds .rego files");
    if (data_files > 0) return bad_bundle("a delta bundle (patch.json) holds data files");
    return b;
  }
  if (b.modules.empty()) return bad_bundle("holds no .rego modules");
  std::vector<std::vector<std::string>> roots;
  for (const auto& r : b.roots) roots.push_back(split_path(r));
  for (const auto& m : b.modules) {
    EC_ASSIGN_OR_RETURN(policy::ModuleAst ast, policy::parse_module(m.filename, m.source));
    bool inside = std::any_of(roots.begin(), roots.end(),
                              [&](const auto& r) { return has_prefix(ast.package, r); });
    if (!inside) {
      std::string pkg;
      for (const auto& s : ast.package) pkg += (pkg.empty() ? "" : ".") + s;
      return bad_bundle(m.filename.substr(7) + ": package " + pkg +
                        " is outside the manifest's roots");
    }
  }
  std::vector<std::string> at;
  EC_RETURN_IF_ERROR(check_data_roots(roots, at, data));
  b.data = policy::Value::from_json(data);
  return b;
}

base::Result<std::string> build_bundle(const std::string& dir, std::string_view revision,
                                       std::string_view signing_key, std::string_view signing_alg) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return base::invalid_argument(dir + " is not a directory");
  std::vector<BundleFile> files;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::string name = it->path().filename().string();
    if (!name.ends_with(".rego") && name != "data.json" && name != "data.yaml" &&
        name != "data.yml")
      continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in) return base::invalid_argument("cannot read " + it->path().string());
    files.push_back({fs::relative(it->path(), dir).generic_string(), ss.str()});
  }
  if (ec) return base::invalid_argument("cannot read " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end(),
            [](const BundleFile& a, const BundleFile& b) { return a.path < b.path; });
  files.insert(files.begin(),
               {".manifest",
                json::serialize(json::object{{"revision", revision}, {"roots", json::array{""}}})});
  if (!signing_key.empty()) {
    json::array listed;
    for (const auto& f : files) {
      listed.push_back(json::object{{"name", f.path},
                                    {"hash", bundle_file_digest(f.path, f.bytes)},
                                    {"algorithm", "SHA-256"}});
    }
    std::string header = base::base64url_encode(
        json::serialize(json::object{{"alg", signing_alg}, {"typ", "JWT"}, {"kid", "edgeclass"}}));
    std::string payload =
        base::base64url_encode(json::serialize(json::object{{"files", std::move(listed)}}));
    std::string signing_input = header + "." + payload;
    std::string sig;
    if (signing_alg == "HS256") {
      sig = base::base64url_encode(base::as_bytes(base::hmac_sha256(signing_key, signing_input)));
    } else if (signing_alg.starts_with("HS")) {
      return base::invalid_argument("--signing-alg " + std::string(signing_alg) +
                                    ": HMAC signing is HS256 here");
    } else {
      EC_ASSIGN_OR_RETURN(std::string raw,
                          base::jws_sign_pem(signing_alg, signing_key, signing_input));
      sig = base::base64url_encode(raw);
    }
    files.push_back(
        {".signatures.json",
         json::serialize(json::object{{"signatures", json::array{signing_input + "." + sig}}})});
  }
  // Check that what we ship compiles, as `opa build` does.
  EC_ASSIGN_OR_RETURN(Bundle check, read_bundle(tar_gz(files), {}));
  policy::CompileOptions opts;
  opts.data = check.data;
  EC_RETURN_IF_ERROR(policy::Engine::compile(std::move(check.modules), opts).status());
  return tar_gz(files);
}

}  // namespace app
