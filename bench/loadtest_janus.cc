#include "loadtest_janus.h"

#include <cstdio>

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
  EC_ASSIGN_OR_RETURN(std::vector<JanusSubscriber> offers,
                      t->client_->watch_many(t->process_.mountpoint_id, count));
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

JanusTarget::~JanusTarget() {
  client_.reset();  // destroys the session first: Janus hangs up cleanly
  if (owned_) stop_janus(process_);
}

void JanusTarget::publish(const std::vector<uint8_t>& packet) {
  if (packet.size() < 12) return;
  bool audio = (packet[1] & 0x7f) == StreamGenerator::kAudioPt;
  boost::system::error_code ec;
  rtp_.send_to(asio::buffer(packet), audio ? audio_ : video_, 0, ec);
}

}  // namespace loadtest
