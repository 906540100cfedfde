// The wasm32-wasi server's socket loop: one thread, WasmEdge's socket imports (sock_open,
// sock_bind, sock_listen, sock_accept, sock_recv, sock_send) and WASI poll_oneoff. Requests
// are framed by wasi/http1.h and answered by the rest::Router's handlers; a write a handler
// asks for is committed in a transaction on `db`, the module's one connection, before the
// answer is built (there is no writer thread here: one request at a time).
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"
#include "rest/router.h"
#include "store/db.h"
#include "wasi/http1.h"

namespace wasi {

struct ServeOptions {
  std::string host = "127.0.0.1";  // an IPv4 address
  uint16_t port = 8080;
  Limits limits;
  int64_t read_timeout_ms = 30000;  // for a whole request once its first byte arrived
  int64_t idle_timeout_ms = 60000;  // keep-alive wait between requests
  size_t max_connections = 256;     // past it, new connections wait in the kernel's backlog
  // The WAL is checkpointed (and truncated) once no write has committed for this long, so a
  // restart does not replay it (serve.cc, checkpoint_if_idle).
  int64_t checkpoint_idle_ms = 1000;
};

// Listens and serves until a fatal socket error (returned). Logs edgeclass.ready with the
// URL (its port the kernel's choice when options.port is 0) once it listens.
base::Status serve(const ServeOptions& options, const rest::Router& router, store::Db& db);

}  // namespace wasi
