// edgeclass for wasm32-wasi: `edgeclass serve` on WasmEdge (docs/design.md, "The wasm32-wasi
// server"). The same environment variables as the native server for what this build has:
// EDGECLASS_LISTEN, EDGECLASS_DATA_DIR, EDGECLASS_JWT_SECRET, EDGECLASS_POLICY_DIR,
// EDGECLASS_POLICY_QUERY, EDGECLASS_LOG_LEVEL, EDGECLASS_HTTP_TIMEOUT (seconds, "30s"),
// MAX_STUDENTS (the default course capacity; the case study's name, as natively).
// No live room, no media, no city, no TLS, no admin listener: the REST API and the pages'
// health endpoints, on one thread and one database connection.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "app/web_assets.h"
#include "base/clock.h"
#include "base/jwt.h"
#include "base/log.h"
#include "base/random.h"
#include "classroom/rego_authorizer.h"
#include "classroom/service.h"
#include "policy/engine.h"
#include "rest/api.h"
#include "store/migrations.h"
#include "wasi/serve.h"

namespace {


std::string env(const char* name, const char* def) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : std::string(def);
}

int fail(std::string_view event, const base::Status& s) {
  base::log::error(event).kv("error", s.to_string());
  return 1;
}

// The whole file at `path`, or false when it cannot be read. stdio, not iostreams: the module
// then carries none of libc++'s stream and locale code (about 150 KB of a smaller module that
// WasmEdge loads faster; docs/design.md, "The wasm32-wasi server").
bool read_whole_file(const std::string& path, std::string& out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  out.clear();
  char buf[16384];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  bool ok = !std::ferror(f);
  std::fclose(f);
  return ok;
}

base::Status read_policy_dir(const std::string& dir, std::vector<policy::Module>& out) {
  DIR* d = opendir(dir.c_str());
  if (!d) return base::invalid_argument("policy directory " + dir + " cannot be read");
  std::vector<std::string> names;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 5 && n.ends_with(".rego") && !n.ends_with("_test.rego")) names.push_back(n);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    std::string text;
    if (!read_whole_file(dir + "/" + n, text)) {
      return base::invalid_argument("cannot read " + dir + "/" + n);
    }
    out.push_back({dir + "/" + n, std::move(text)});
  }
  if (out.empty()) return base::invalid_argument("no .rego files in policy directory " + dir);
  return base::Status::ok();
}

// The native server's authorizer (classroom::RegoAuthorizer), without a decision log.
base::Result<std::shared_ptr<const classroom::RegoAuthorizer>> load_policies(
    const std::string& dir, const std::string& query) {
  std::vector<policy::Module> modules;
  if (dir.empty()) {
    for (const app::WebAsset& a : app::embedded_policies()) {
      if (a.path.ends_with(".rego") && !a.path.ends_with("_test.rego")) {
        modules.push_back({"policies" + std::string(a.path), std::string(a.body)});
      }
    }
  } else {
    EC_RETURN_IF_ERROR(read_policy_dir(dir, modules));
  }
  EC_ASSIGN_OR_RETURN(std::shared_ptr<const policy::Engine> engine,
                      policy::Engine::compile(std::move(modules)));
  return classroom::RegoAuthorizer::make(std::move(engine), query);
}

// EDGECLASS_JWT_SECRET, else the development secret in the data directory (made once), as
// the native server does.
base::Result<std::string> jwt_secret(const std::string& data_dir) {
  std::string s = env("EDGECLASS_JWT_SECRET", "");
  if (!s.empty()) return s;
  const std::string path = data_dir + "/dev-jwt-secret";
  bool generated = false;
  EC_ASSIGN_OR_RETURN(s, base::load_or_make_dev_secret(path, &generated));
  if (generated) base::log::warn("config.dev_secret_generated").kv("path", path);
  return s;
}

// Microseconds since `since` on the monotonic clock (start-up phases, logged in wasi.startup).
int64_t us_since(int64_t since) {
  return (base::SystemClock::instance().now_mono_ns() - since) / 1000;
}

int serve() {
  const int64_t t0 = base::SystemClock::instance().now_mono_ns();
  base::log::Level level;
  if (base::log::parse_level(env("EDGECLASS_LOG_LEVEL", "info"), &level))
    base::log::set_level(level);
  wasi::ServeOptions opt;
  std::string listen = env("EDGECLASS_LISTEN", "127.0.0.1:8080");
  size_t colon = listen.rfind(':');
  int port = colon == std::string::npos ? -1 : std::atoi(listen.c_str() + colon + 1);
  if (colon == std::string::npos || port < 0 || port > 65535) {
    return fail("config.invalid",
                base::invalid_argument("EDGECLASS_LISTEN must be host:port, e.g. 127.0.0.1:8080 "
                                       "(port 0: a free one, logged in edgeclass.ready)"));
  }
  opt.host = listen.substr(0, colon);
  opt.port = uint16_t(port);
  std::string timeout = env("EDGECLASS_HTTP_TIMEOUT", "30s");
  if (int64_t t = std::atoll(timeout.c_str()); t > 0) opt.read_timeout_ms = t * 1000;

  std::string data_dir = env("EDGECLASS_DATA_DIR", "./data");
  ::mkdir(data_dir.c_str(), 0700);
  auto db = store::Db::open(data_dir + "/edgeclass.db", store::OpenMode::kReadWrite);
  if (!db.is_ok()) return fail("store.open_failed", db.status());
  const int64_t open_us = us_since(t0);
  if (auto s = store::migrate(**db); !s.is_ok()) return fail("store.migrate_failed", s);
  const int64_t migrate_us = us_since(t0);
  auto secret = jwt_secret(data_dir);
  if (!secret.is_ok()) return fail("config.jwt_secret", secret.status());
  auto authz = load_policies(env("EDGECLASS_POLICY_DIR", ""),
                             env("EDGECLASS_POLICY_QUERY", "data.education.allow"));
  if (!authz.is_ok()) return fail("policy.load_failed", authz.status());
  const int64_t policy_us = us_since(t0);
  std::shared_ptr<const classroom::Authorizer> current = *authz;

  classroom::Service service(
      base::SystemClock::instance(), base::SystemRandom::instance(), [current] { return current; },
      std::atoll(env("MAX_STUDENTS", "1000").c_str()));
  rest::ApiDeps deps;
  deps.service = &service;
  deps.readers = {db->get()};
  deps.jwt_secret = *secret;
  deps.clock = &base::SystemClock::instance();
  rest::Router router;
  for (rest::Route& r : rest::api_routes(deps)) router.add(std::move(r));
  // Where start-up time goes inside the module (cumulative, from main), for `make bench-wasm`.
  base::log::info("wasi.startup")
      .kv("db_open_us", open_us)
      .kv("migrate_us", migrate_us)
      .kv("policy_us", policy_us)
      .kv("routes_us", us_since(t0));
  base::Status s = wasi::serve(opt, router, **db);
  return fail("server.failed", s);
}

}  // namespace

int main(int argc, char** argv) {
  std::string_view verb = argc > 1 ? argv[1] : "serve";
  if (verb == "serve") return serve();
  std::fprintf(stderr,
               "edgeclass (wasm32-wasi): the only command here is `serve` (configured by "
               "EDGECLASS_* environment variables); got '%s'\n",
               argv[1]);
  return 2;
}
