// edgeclass: one binary, a few verbs.
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "app/cli_cert.h"
#include "app/cli_policy.h"
#include "app/config.h"
#include "app/serve.h"
#include "base/clock.h"
#include "base/jwt.h"
#include "base/strings.h"
#include "store/db.h"
#include "store/migrations.h"

#if defined(EDGECLASS_DEFER_OPENSSL_CPUID)
// OpenSSL's CPU feature detection (OPENSSL_cpuid_setup: which assembly its digests and ciphers
// run) is called from libcrypto's .init, before main, with 6 CPUID instructions: each is a trap
// to the hypervisor on a VM (~20 us on the development box), ~0.13 ms of every start that no
// first answer needs. The static link wraps the symbol (src/app/CMakeLists.txt); the wrapper
// skips that first call and lets every later one through: OpenSSL's own initialisation
// (OPENSSL_init_crypto, run once) calls it again, from base::init_crypto_base() once the
// listener serves or from whatever uses OpenSSL first. Until then OpenSSL's capability vector
// is zero and its digests run their baseline code (correct, slower): the tokens checked in a
// cold start's first millisecond. A second call before main (a static constructor starting
// OpenSSL) is let through, so the vector is never left unset.
extern "C" void __real_OPENSSL_cpuid_setup();
namespace {
int cpuid_setup_calls_before_main = 0;
bool in_main = false;  // set by main(), before any thread starts
}  // namespace
extern "C" void __wrap_OPENSSL_cpuid_setup() {
  if (!in_main && cpuid_setup_calls_before_main++ == 0) return;  // libcrypto's .init
  __real_OPENSSL_cpuid_setup();
}
#endif

namespace {

constexpr const char* kUsage = R"(edgeclass — a live-classroom server for edge nodes

Usage:
  edgeclass serve [flags]          run the server (defaults need no configuration)
  edgeclass token --sub ID --name NAME --role student|teacher|admin [--ttl 1h] [flags]
                                   print a bearer token signed with the configured secret
  edgeclass migrate [flags]        apply pending database migrations and print the version
  edgeclass policy eval [-d DIR]... [-i INPUT.json] QUERY    evaluate Rego, like `opa eval`
  edgeclass policy test DIR...     run test_* rules, like `opa test`
  edgeclass policy verify PATH...  run Gatekeeper suite.yaml files, like `gator verify`
  edgeclass cert --self-signed --host <ip|name> [--out DIR]
                                   write a self-signed HTTPS certificate pair (LAN trials)
  edgeclass version                print the version
  edgeclass help | --help          this text; `edgeclass serve --help` lists every setting
)";

int usage_error(const std::string& msg) {
  std::cerr << "edgeclass: " << msg << "\n(run `edgeclass --help`)\n";
  return 2;
}

bool wants_help(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

int cmd_serve(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::cout << "Usage: edgeclass serve [flags]\n\nEvery setting is a flag, an environment "
                 "variable, or a KEY=VALUE line in the --config file (flags win over the "
                 "environment, which wins over the file):\n\n"
              << app::settings_help();
    return 0;
  }
  auto config = app::load_config(args);
  if (!config.is_ok()) return usage_error(config.status().message());
  return app::serve(*config);
}

int cmd_token(const std::vector<std::string>& all) {
  std::string sub, name, role = "student", ttl = "1h";
  std::vector<std::string> rest;
  for (size_t i = 0; i < all.size(); ++i) {
    const std::string& a = all[i];
    auto take = [&](std::string* out) {
      if (i + 1 >= all.size()) return false;
      *out = all[++i];
      return true;
    };
    if (a == "--sub") { if (!take(&sub)) return usage_error("--sub needs a value"); }
    else if (a == "--name") { if (!take(&name)) return usage_error("--name needs a value"); }
    else if (a == "--role") { if (!take(&role)) return usage_error("--role needs a value"); }
    else if (a == "--ttl") { if (!take(&ttl)) return usage_error("--ttl needs a value"); }
    else if (a == "--help" || a == "-h") {
      std::cout << "Usage: edgeclass token --sub ID --name NAME --role student|teacher|admin "
                   "[--ttl 1h]\nSigns with EDGECLASS_JWT_SECRET, or the development secret in "
                   "the data directory.\n";
      return 0;
    } else rest.push_back(a);
  }
  if (sub.empty()) return usage_error("token needs --sub ID");
  auto r = base::parse_role(role);
  if (!r) return usage_error("--role must be student, teacher or admin");
  auto ttl_ms = base::parse_duration_ms(ttl);
  if (!ttl_ms || *ttl_ms <= 0) return usage_error("--ttl must be a duration like 30m, 1h, 7d");
  auto config = app::load_config(rest);
  if (!config.is_ok()) return usage_error(config.status().message());
  bool generated = false;
  auto secret = app::resolve_jwt_secret(*config, &generated);
  if (!secret.is_ok()) return usage_error(secret.status().message());
  base::Claims c;
  c.sub = sub;
  c.name = name.empty() ? sub : name;
  c.role = *r;
  c.iat = base::SystemClock::instance().now_unix_ms() / 1000;
  c.exp = c.iat + *ttl_ms / 1000;
  std::cout << base::mint_token(c, *secret) << "\n";
  return 0;
}

int cmd_migrate(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::cout << "Usage: edgeclass migrate [--data-dir DIR]\n";
    return 0;
  }
  auto config = app::load_config(args);
  if (!config.is_ok()) return usage_error(config.status().message());
  auto db = store::Db::open(config->db_path(), store::OpenMode::kReadWrite);
  if (!db.is_ok()) {
    std::cerr << "edgeclass migrate: " << db.status().message() << "\n";
    return 1;
  }
  auto before = store::schema_version(**db);
  if (auto s = store::migrate(**db); !s.is_ok()) {
    std::cerr << "edgeclass migrate: " << s.message() << "\n";
    return 1;
  }
  auto after = store::schema_version(**db);
  std::cout << "schema version " << (before.is_ok() ? *before : 0) << " -> "
            << (after.is_ok() ? *after : 0) << " (" << config->db_path() << ")\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
#if defined(EDGECLASS_DEFER_OPENSSL_CPUID)
  in_main = true;
#endif
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  std::string verb = args[0];
  args.erase(args.begin());
  if (verb == "serve") return cmd_serve(args);
  if (verb == "token") return cmd_token(args);
  if (verb == "migrate") return cmd_migrate(args);
  if (verb == "policy") return app::cmd_policy(args);
  if (verb == "cert") return app::cmd_cert(args);
  if (verb == "version" || verb == "--version") {
    std::cout << "edgeclass 0.1.0\n";
    return 0;
  }
  return usage_error("unknown command '" + verb + "'");
}
