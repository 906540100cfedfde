// The REST API in-process for the HTTP fuzz targets: the real Router with every route of
// http::register_api, the group-commit Writer and a reader connection on a fresh copy of the
// fuzz world's database, the real policies, and a dispatch that does what http::Server does
// with a parsed request (path/query split, route match, 404/405, the handler, exceptions
// turned into 500). Handlers run as coroutines on a local io_context; writes go through the
// Writer thread as in the server.
//
// Property checked for every request (the "no crash on any input"): the server never
// answers 500 (an exception or an internal error means some input reached code that did not
// validate it). Aborts with the request and the response on stderr.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/random.h"
#include "classroom/service.h"
#include "http/api.h"
#include "http/router.h"
#include "store/db.h"
#include "store/writer.h"

namespace fuzz {

class ApiHarness {
 public:
  ApiHarness();  // a fresh database, a new Writer and Router
  ~ApiHarness();

  // Dispatches `req` as http::Server::respond does (routing and the handler) and returns the
  // response. Aborts on a 500.
  http::Response handle(http::Request& req);

 private:
  base::FakeClock clock_;
  base::SeededRandom random_{1};
  std::unique_ptr<classroom::Service> service_;
  std::unique_ptr<store::Writer> writer_;
  std::unique_ptr<store::Db> reader_;
  http::ApiDeps deps_;
  http::Router router_;
};

}  // namespace fuzz
