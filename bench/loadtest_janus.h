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

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <functional>
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
  // Simulcast (--simulcast 1): the VideoRoom instead of the streaming plugin. The publisher
  // is a VideoRoom remote publisher (add_remote_publisher, Janus 1.1: plain RTP on one port,
  // streams told apart by SSRC: audio kRemoteAudioSsrc, video layer k kRemoteVideoSsrc + k,
  // layer 0 the lowest) in room 1234 of janus.plugin.videoroom.jcfg; subscriber i joins with
  // `substream` substreams[i]. Empty: the streaming plugin.
  std::vector<int> substreams;
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

  // Sends one plain RTP packet of the publisher to the mountpoint port of its payload type
  // (VideoRoom: to the remote publisher's one port).
  void publish(const std::vector<uint8_t>& packet);
  pid_t pid() const { return process_.pid; }

  static constexpr uint32_t kRemoteAudioSsrc = 1000;  // REMOTE_PUBLISHER_BASE_SSRC, mindex 0
  static constexpr uint32_t kRemoteVideoSsrc = 1010;  // mindex 1, substream 0; +1, +2
  static constexpr int kRoom = 1234;
  // VideoRoom: called for each keyframe request (PLI/FIR) Janus sends the remote publisher
  // (for its video's base SSRC: a key frame on every layer).
  std::function<void()> on_keyframe_request;
  uint64_t keyframe_requests() const { return keyframe_requests_; }

 private:
  explicit JanusTarget(boost::asio::io_context& io) : rtp_(io) {}
  base::Status add_remote_publisher();
  void receive_rtcp();

  JanusProcess process_;
  bool owned_ = false;  // started (and to be stopped) here
  std::unique_ptr<JanusClient> client_;
  boost::asio::ip::udp::socket rtp_;  // the publisher's socket
  boost::asio::ip::udp::endpoint video_, audio_;
  bool videoroom_ = false;
  uint64_t feed_id_ = 0;
  std::array<uint8_t, 1500> rtcp_buf_{};
  uint64_t keyframe_requests_ = 0;
};

}  // namespace loadtest
