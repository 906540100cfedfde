#include "app/cli_cert.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "base/strings.h"
#include "http/tls.h"

namespace app {

namespace {

constexpr const char* kCertUsage =
    R"(Usage: edgeclass cert --self-signed --host <ip|name> [--host ...] [--out DIR] [--days N] [--force]

Writes DIR/cert.pem and DIR/key.pem (default DIR: ./tls): a self-signed ECDSA P-256
certificate for the given addresses or names, valid N days (default 365), for trying HTTPS on
a LAN. Browsers need a secure context (https://) before a page may use the camera.
In production use the platform's certificate (EDGECLASS_TLS_CERT / EDGECLASS_TLS_KEY).
)";

int cert_error(const std::string& msg) {
  std::cerr << "edgeclass cert: " << msg << "\n(run `edgeclass cert --help`)\n";
  return 2;
}

bool write_file(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream out(path, std::ios::trunc | std::ios::binary);
  out << text;
  out.close();
  return out.good() && ::chmod(path.c_str(), mode) == 0;
}

}  // namespace

int cmd_cert(const std::vector<std::string>& args) {
  bool self_signed = false, force = false;
  std::vector<std::string> hosts;
  std::string out = "tls";
  int days = 365;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* v) {
      if (i + 1 >= args.size()) return false;
      *v = args[++i];
      return true;
    };
    std::string v;
    if (a == "--help" || a == "-h") {
      std::cout << kCertUsage;
      return 0;
    } else if (a == "--self-signed") {
      self_signed = true;
    } else if (a == "--force") {
      force = true;
    } else if (a == "--host") {
      if (!value(&v) || v.empty()) return cert_error("--host needs an IP address or a name");
      hosts.push_back(v);
    } else if (a == "--out") {
      if (!value(&out) || out.empty()) return cert_error("--out needs a directory");
    } else if (a == "--days") {
      auto n = value(&v) ? base::parse_int(v) : std::nullopt;
      if (!n || *n < 1 || *n > 3650) return cert_error("--days must be 1..3650");
      days = int(*n);
    } else {
      return cert_error("unknown argument '" + a + "'");
    }
  }
  if (!self_signed) {
    return cert_error(
        "only --self-signed is supported (bring a real certificate through "
        "EDGECLASS_TLS_CERT and EDGECLASS_TLS_KEY)");
  }
  if (hosts.empty()) {
    return cert_error(
        "--host is required: the address or name students type (e.g. --host "
        "192.168.1.10)");
  }
  std::string cert_path = out + "/cert.pem", key_path = out + "/key.pem";
  std::error_code ec;
  if (!force && (std::filesystem::exists(cert_path, ec) || std::filesystem::exists(key_path, ec))) {
    return cert_error(cert_path + " or " + key_path + " exists; pass --force to replace them");
  }
  std::filesystem::create_directories(out, ec);
  if (ec) return cert_error("cannot create " + out + ": " + ec.message());
  auto pair = http::make_self_signed(hosts, days);
  if (!pair.is_ok()) {
    std::cerr << "edgeclass cert: " << pair.status().message() << "\n";
    return 1;
  }
  // The key first, owner-only: a failure never leaves a certificate without its key.
  if (!write_file(key_path, pair->key_pem, 0600) || !write_file(cert_path, pair->cert_pem, 0644)) {
    std::cerr << "edgeclass cert: cannot write " << out << "/\n";
    return 1;
  }
  std::string names;
  for (const auto& h : hosts) names += (names.empty() ? "" : ", ") + h;
  const std::string& first = hosts.front();
  bool v6 = first.find(':') != std::string::npos;
  std::string url_host = v6 ? "[" + first + "]" : first;
  std::cout << "Wrote " << cert_path << " (self-signed for " << names << ", valid " << days
            << " days)\n  and " << key_path << " (private key, mode 0600).\n"
            << "SHA-256 fingerprint: " << pair->fingerprint_sha256 << "\n\n"
            << "Start the server with HTTPS:\n"
            << "  EDGECLASS_TLS_CERT=" << cert_path << " EDGECLASS_TLS_KEY=" << key_path
            << " EDGECLASS_LISTEN=0.0.0.0:8443 edgeclass serve\n"
            << "then open https://" << url_host << ":8443/ on the teacher's and students' "
            << "devices.\nBrowsers warn about a self-signed certificate: check the fingerprint "
               "above and accept it once per device,\nor import "
            << cert_path
            << " as trusted. Replacing the files (or SIGHUP) reloads them without a restart.\n";
  return 0;
}

}  // namespace app
