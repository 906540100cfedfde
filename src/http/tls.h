// TLS for the public listener: the server certificate as an ssl::context that new connections
// take, reloadable without dropping the connections already open, and a self-signed pair for
// trying edgeclass on a LAN.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"

namespace http {

// The certificate (PEM, leaf first, then the chain) and key in force. Thread-safe.
class TlsCertificates {
 public:
  // Loads both files; errors name the file and what OpenSSL said.
  static base::Result<std::unique_ptr<TlsCertificates>> load(std::string cert_path,
                                                             std::string key_path);

  // The context new connections use. A connection keeps the one it started with.
  std::shared_ptr<boost::asio::ssl::context> current() const;

  // Reads the files again; on an error the previous certificate stays in force.
  base::Status reload();
  // True when either file differs (inode, size or modification time) from what was loaded
  // last; follows symlinks, so a Kubernetes Secret update (an atomic ..data swap) counts.
  bool files_changed() const;

  // Of the certificate in force: subject, issuer-independent summary for logs.
  std::string subject() const;
  std::string not_after() const;   // "2027-12-06T21:00:00Z"
  int64_t not_after_unix() const;  // seconds since the epoch; 0 if unknown
  const std::string& cert_path() const { return cert_path_; }

 private:
  struct Stamp {
    uint64_t ino = 0, size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const Stamp&) const = default;
  };
  TlsCertificates(std::string cert, std::string key) : cert_path_(cert), key_path_(key) {}
  static Stamp stamp_of(const std::string& path);

  const std::string cert_path_, key_path_;
  mutable std::mutex mu_;  // guards everything below
  std::shared_ptr<boost::asio::ssl::context> ctx_;
  Stamp cert_stamp_, key_stamp_;
  std::string subject_, not_after_;
  int64_t not_after_unix_ = 0;
};

// Builds a server context from PEM files: TLS 1.2 and 1.3 only, forward-secret AEAD ciphers
// (Mozilla's "intermediate" list), ALPN http/1.1, no compression or renegotiation.
base::Result<std::shared_ptr<boost::asio::ssl::context>> make_server_context(
    const std::string& cert_path, const std::string& key_path);

struct SelfSigned {
  std::string cert_pem;
  std::string key_pem;
  std::string fingerprint_sha256;  // "AB:CD:...", what a browser's certificate viewer shows
};
// A self-signed ECDSA P-256 certificate for `hosts` (IP addresses become IP subject
// alternative names, anything else DNS names; the first is the common name), valid `days`.
base::Result<SelfSigned> make_self_signed(const std::vector<std::string>& hosts, int days);

}  // namespace http
