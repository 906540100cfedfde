#include "loadtest_janus.h"

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <thread>

#include "base/clock.h"

namespace loadtest {

namespace asio = boost::asio;
using asio::ip::udp;

base::Result<std::unique_ptr<JanusTarget>> JanusTarget::start(
    asio::io_context& io, const JanusOptions& options, int pid, int count, base::Random& random,
    const Window* window, std::vector<std::unique_ptr<Subscriber>>* subscribers) {
  std::unique_ptr<JanusTarget> t(new JanusTarget(io));
  if (options.url.empty()) {
    if (options.script.empty())
      return base::invalid_argument("janus: no --janus-url or --janus-script");
    EC_ASSIGN_OR_RETURN(t->process_, start_janus(options.script));
    t->owned_ = true;
  } else {
    if (options.rtp_port <= 0 || options.rtp_port > 65533 || pid <= 0) {
      return base::invalid_argument("janus: --janus-url needs --janus-rtp-port and --pid");
    }
    EC_ASSIGN_OR_RETURN(t->process_, janus_process(pid, options.url, uint16_t(options.rtp_port)));
  }
  std::printf("janus: pid %d, REST on %s:%u, RTP video %u audio %u%s\n", int(t->process_.pid),
              t->process_.host.c_str(), t->process_.http_port, t->process_.video_port,
              t->process_.audio_port, t->owned_ ? " (started here)" : "");
  auto localhost = asio::ip::make_address("127.0.0.1");
  t->video_ = udp::endpoint(localhost, t->process_.video_port);
  t->audio_ = udp::endpoint(localhost, t->process_.audio_port);
  boost::system::error_code ec;
  t->rtp_.open(udp::v4(), ec);
  if (ec) return base::unavailable("janus: publisher socket: " + ec.message());

  EC_ASSIGN_OR_RETURN(t->client_, JanusClient::connect(t->process_.host, t->process_.http_port));
  std::vector<JanusSubscriber> offers;
  if (options.substreams.empty()) {
    EC_ASSIGN_OR_RETURN(offers, t->client_->watch_many(t->process_.mountpoint_id, count));
  } else {
    if (options.substreams.size() < size_t(count))
      return base::invalid_argument("janus: a substream for every subscriber");
    t->videoroom_ = true;
    EC_RETURN_IF_ERROR(t->add_remote_publisher());
    const uint64_t feed = t->feed_id_;
    EC_ASSIGN_OR_RETURN(
        offers, t->client_->subscribe_many("janus.plugin.videoroom", count, [&](int i) {
          boost::json::array streams;
          streams.push_back(boost::json::object{{"feed", feed}, {"mid", "0"}});
          streams.push_back(boost::json::object{
              {"feed", feed}, {"mid", "1"}, {"substream", options.substreams[size_t(i)]}});
          return boost::json::object{{"request", "join"},
                                     {"ptype", "subscriber"},
                                     {"room", kRoom},
                                     {"streams", std::move(streams)}};
        }));
  }
  for (const JanusSubscriber& offer : offers) {
    // The socket is connected to Janus's candidate from the start: the first connect()
    // fixes its local address, which must be the one our answer names.
    auto cand = media::SyntheticPeer::offer_host_candidate(offer.offer_sdp);
    if (!cand) return base::unavailable("janus offer has no IPv4 UDP host candidate");
    auto sub = std::make_unique<Subscriber>(
        io, udp::endpoint(asio::ip::make_address(cand->ip_string()), cand->port));
    EC_ASSIGN_OR_RETURN(sub->peer, media::SyntheticPeer::create(
                                       sub.get(), &base::SystemClock::instance(), random, false));
    EC_RETURN_IF_ERROR(sub->peer->set_offer(offer.offer_sdp));
    media::SocketAddress local;  // the candidate is this host: the source is that address
    auto local_ep = sub->local_endpoint();
    if (!media::SocketAddress::parse_ip(local_ep.address().to_string(), &local))
      return base::unavailable("janus: subscriber socket has no local address");
    local.port = local_ep.port();
    EC_RETURN_IF_ERROR(t->client_->start(offer, sub->peer->answer(local)));
    sub->start_receiving(window);
    subscribers->push_back(std::move(sub));
  }
  return t;
}

// A VideoRoom remote publisher (Janus 1.1's cascading API) with Opus audio (mindex 0) and
// simulcast VP8 video (mindex 1). Janus answers with the UDP port it reads RTP from and an
// RTCP port; a datagram from our publisher socket to the RTCP port tells Janus where to send
// its keyframe requests (it latches on the source address).
base::Status JanusTarget::add_remote_publisher() {
  namespace json = boost::json;
  EC_ASSIGN_OR_RETURN(uint64_t handle, client_->attach("janus.plugin.videoroom"));
  json::array streams;
  streams.push_back(
      json::object{{"type", "audio"}, {"mid", "0"}, {"mindex", 0}, {"codec", "opus"}});
  streams.push_back(json::object{
      {"type", "video"}, {"mid", "1"}, {"mindex", 1}, {"codec", "vp8"}, {"simulcast", true}});
  feed_id_ = 4242;
  EC_ASSIGN_OR_RETURN(json::object res,
                      client_->request(handle, json::object{{"request", "add_remote_publisher"},
                                                            {"room", kRoom},
                                                            {"id", feed_id_},
                                                            {"display", "teacher"},
                                                            {"streams", std::move(streams)}}));
  auto port = res.if_contains("port"), rtcp_port = res.if_contains("rtcp_port");
  if (!port || !port->is_number() || !rtcp_port || !rtcp_port->is_number())
    return base::unavailable("janus add_remote_publisher: no port in " + json::serialize(res));
  auto localhost = asio::ip::make_address("127.0.0.1");
  video_ = audio_ = udp::endpoint(localhost, port->to_number<uint16_t>());
  udp::endpoint rtcp(localhost, rtcp_port->to_number<uint16_t>());
  // Latch: an empty receiver report (RFC 3550 6.4.2) from the publisher's socket.
  const uint8_t rr[8] = {0x80, 201, 0, 1, 0, 0, 0x03, 0xE8};
  boost::system::error_code ec;
  rtp_.send_to(asio::buffer(rr), rtcp, 0, ec);
  if (ec) return base::unavailable("janus: latch RTCP: " + ec.message());
  receive_rtcp();
  // The publisher joins the room on its own thread: wait until the room lists it.
  for (int i = 0; i < 100; ++i) {
    EC_ASSIGN_OR_RETURN(
        json::object list,
        client_->request(handle, json::object{{"request", "listparticipants"}, {"room", kRoom}}));
    auto parts = list.if_contains("participants");
    if (parts && parts->is_array() && !parts->as_array().empty()) {
      std::printf("janus: videoroom %d, remote publisher %llu on RTP port %u (RTCP %u)\n", kRoom,
                  (unsigned long long)feed_id_, video_.port(), rtcp.port());
      return base::Status::ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return base::unavailable("janus: the remote publisher never showed in the room");
}

// Janus's PLIs to the remote publisher (plain RTCP on the publisher's socket).
void JanusTarget::receive_rtcp() {
  rtp_.async_receive(asio::buffer(rtcp_buf_),
                     [this](const boost::system::error_code& ec, size_t n) {
                       if (ec == asio::error::operation_aborted) return;
                       if (!ec && n >= 8 && (rtcp_buf_[1] == 206 || rtcp_buf_[1] == 192)) {
                         // PSFB (PLI is FMT 1, FIR FMT 4) or the old FIR: a key frame, please.
                         uint8_t fmt = rtcp_buf_[0] & 0x1f;
                         if (rtcp_buf_[1] == 192 || fmt == 1 || fmt == 4) {
                           ++keyframe_requests_;
                           if (on_keyframe_request) on_keyframe_request();
                         }
                       }
                       receive_rtcp();
                     });
}

JanusTarget::~JanusTarget() {
  client_.reset();  // destroys the session first: Janus hangs up cleanly
  if (owned_) stop_janus(process_);
}

void JanusTarget::publish(const std::vector<uint8_t>& packet) {
  if (packet.size() < 12) return;
  bool audio = (packet[1] & 0x7f) == StreamGenerator::kAudioPt;
  boost::system::error_code ec;
  if (videoroom_) audio = false;  // one port
  rtp_.send_to(asio::buffer(packet), audio ? audio_ : video_, 0, ec);
}

}  // namespace loadtest
