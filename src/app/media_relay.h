// app::MediaRelay — the internal HTTP of a class relayed between replicas' SFUs (docs/design.md,
// "A class relayed between replicas"; media/sfu/relay.h).
//
//   POST /internal/v1/media/relay   an edge's RelayOffer (JSON) -> the home's RelayAnswer
//
// The edge finds the session's home in the city directory and sends the offer with the city
// credential header (X-Edgeclass-City), over the same kind of pooled keep-alive connection
// (plain or TLS, the same peer trust) that forwards REST writes. The home serves it only with
// that credential (403 otherwise) and only for a session homed here (404): the offer carries
// the leg's SRTP keys, so nobody else may open or read one.
//
// Threading: ask() may be called from any thread; `done` runs on an I/O thread. The route
// runs on the I/O thread of its connection and waits for the media thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "city/city.h"
#include "city/forwarder.h"
#include "http/router.h"

namespace app {

class MediaPlane;

class MediaRelay {
 public:
  static constexpr const char* kPath = "/internal/v1/media/relay";

  // `city` (with its directory), `media` and the contexts outlive this object.
  MediaRelay(city::City& city, MediaPlane& media, std::string credential, int threads,
             std::function<boost::asio::io_context&(int)> context,
             std::shared_ptr<city::PeerTrust> trust,
             std::function<bool(std::string_view session)> is_home);

  // The home's route (not wrapped by the city front: it is served where it arrives).
  void install(http::Router& router);
  // The edge: sends `body` (an offer) to the home of session `room`; `done` with the answer's
  // body, or why not (unavailable when the home cannot be reached or refuses).
  void ask(std::string room, std::string body, std::function<void(base::Result<std::string>)> done);
  // Closes pooled connections; only once the I/O threads have stopped.
  void release_connections() { forwarder_.close_idle(); }

 private:
  city::City& city_;
  MediaPlane& media_;
  std::string credential_;
  int threads_;
  std::function<boost::asio::io_context&(int)> context_;
  std::function<bool(std::string_view)> is_home_;
  city::Forwarder forwarder_;
  std::atomic<uint64_t> next_thread_{0};
};

}  // namespace app
