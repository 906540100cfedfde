// `edgeclass-loadtest media --target janus`: Janus 1.1 (Debian 12 package `janus`)
// forwarding the same synthetic stream to the same number of subscribers, as the peer to
// compare edgeclass against (issue 5).
//
// Janus runs its streaming plugin with one RTP mountpoint (bench/janus/*.jcfg, started by
// bench/janus/run-janus.sh): the publisher sends plain RTP (VP8 pt 96, Opus pt 111) to the
// mountpoint's UDP ports on 127.0.0.1 and every subscriber `watch`es it over the REST API
// (janus_client.h). Janus offers and is the full, controlling ICE agent; each Subscriber's
// media::SyntheticPeer answers in answerer mode (ICE-lite, DTLS client), from a socket
// connected to Janus's host candidate. Janus skips loopback when gathering, so that
// candidate is another interface's address of this host (traffic still stays local).
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/random.h"
#include "base/status.h"
#include "janus_client.h"
#include "loadtest_media.h"

namespace loadtest {

// Which Janus: one already running (what bench/janus/run-janus.sh printed; start it pinned
// to the server's CPU) or one this tool starts (inheriting the tool's CPU affinity).
struct JanusOptions {
  std::string url;     // --janus-url http://IP:PORT/janus
  int rtp_port = 0;    // --janus-rtp-port: the mountpoint's video port (audio is +2)
  std::string script;  // --janus-script bench/janus/run-janus.sh: start one (without --janus-url)
};

class JanusTarget {
 public:
  // Starts Janus when `options` say so, attaches `count` subscribers to its mountpoint and
  // appends them to `subscribers`: receiving (stats against `window`, which must outlive
  // them), ICE and DTLS under way; the caller drives on_timer() every 100 ms. `pid` is the
  // running Janus's (--pid); ignored when this starts one.
  static base::Result<std::unique_ptr<JanusTarget>> start(
      boost::asio::io_context& io, const JanusOptions& options, int pid, int count,
      base::Random& random, const Window* window,
      std::vector<std::unique_ptr<Subscriber>>* subscribers);
  // Destroys the session, and stops Janus if this started it.
  ~JanusTarget();

  // Sends one plain RTP packet of the publisher to the mountpoint port of its payload type.
  void publish(const std::vector<uint8_t>& packet);
  pid_t pid() const { return process_.pid; }

 private:
  explicit JanusTarget(boost::asio::io_context& io) : rtp_(io) {}

  JanusProcess process_;
  bool owned_ = false;  // started (and to be stopped) here
  std::unique_ptr<JanusClient> client_;
  boost::asio::ip::udp::socket rtp_;  // the publisher's socket
  boost::asio::ip::udp::endpoint video_, audio_;
};

}  // namespace loadtest
