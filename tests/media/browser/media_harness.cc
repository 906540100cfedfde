// A stand-alone SFU for browser tests: the real UdpServer + Sfu on 127.0.0.1 (a free port),
// driven by one JSON command per stdin line, answering one JSON line on stdout:
//   {"op":"publish","room":R,"participant":P,"feed":F,"sdp":OFFER} -> {"ok":true,"sdp":ANSWER}
//   {"op":"subscribe","room":R,"participant":P,"sdp":OFFER}       -> {"ok":true,"sdp":ANSWER}
//   {"op":"unpublish"|"leave","room":R,"participant":P}           -> {"ok":true}
//   {"op":"stats","room":R}                                       -> {"ok":true, counters...}
// The first line it prints is {"ready":true,"port":N}. Logs go to stderr. It stands in for
// the WebSocket signalling that the classroom layer will provide.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <iostream>
#include <string>
#include <thread>

#include "base/log.h"
#include "media/transport/udp_server.h"

namespace {

namespace asio = boost::asio;
namespace json = boost::json;

class Events : public media::Sfu::Listener {
  void OnSfuTrackAdded(const std::string& room, const std::string& feed, const std::string& who,
                       media::MediaKind kind) override {
    std::cerr << "track added " << room << " " << feed << " " << who << " "
              << media::to_string(kind) << "\n";
  }
  void OnSfuTrackRemoved(const std::string& room, const std::string& feed, const std::string& who,
                         media::MediaKind kind) override {
    std::cerr << "track removed " << room << " " << feed << " " << who << " "
              << media::to_string(kind) << "\n";
  }
  void OnSfuParticipantDisconnected(const std::string& room, const std::string& who, bool,
                                    const std::string&, std::string_view reason) override {
    std::cerr << "disconnected " << room << " " << who << ": " << reason << "\n";
  }
};

void reply(const json::object& o) { std::cout << json::serialize(o) << std::endl; }

void handle(media::Sfu& sfu, const std::string& line) {
  json::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec || !v.is_object()) return reply({{"ok", false}, {"error", "bad json"}});
  const json::object& o = v.as_object();
  auto str = [&](const char* k) {
    const json::value* x = o.if_contains(k);
    return x && x->is_string() ? std::string(x->as_string()) : std::string();
  };
  std::string op = str("op");
  base::Result<std::string> r = std::string();
  if (op == "publish") {
    r = sfu.publish(str("room"), str("participant"), str("feed").empty() ? "main" : str("feed"),
                    str("sdp"));
  } else if (op == "subscribe") {
    r = sfu.subscribe(str("room"), str("participant"), str("sdp"));
  } else if (op == "unpublish") {
    sfu.unpublish(str("room"), str("participant"));
  } else if (op == "leave") {
    sfu.leave(str("room"), str("participant"));
  } else if (op == "stats") {
    const media::MediaCounters* c = sfu.room_counters(str("room"));
    if (!c) return reply({{"ok", false}, {"error", "no such room"}});
    return reply({{"ok", true},
                  {"rtp_packets_in", c->rtp_packets_in},
                  {"rtp_packets_out", c->rtp_packets_out},
                  {"nacks_received", c->nacks_received},
                  {"retransmissions_sent", c->retransmissions_sent},
                  {"keyframe_requests_received", c->keyframe_requests_received},
                  {"keyframe_requests_sent", c->keyframe_requests_sent},
                  {"packets_dropped", c->packets_dropped},
                  {"forward_latency_count", c->forward_latency.count()},
                  {"forward_latency_sum_us", c->forward_latency.sum_us()},
                  {"subscribers", sfu.subscriber_count(str("room"))}});
  } else {
    return reply({{"ok", false}, {"error", "unknown op"}});
  }
  if (!r.is_ok()) return reply({{"ok", false}, {"error", r.status().to_string()}});
  json::object out{{"ok", true}};
  if (!r->empty()) out["sdp"] = *r;
  reply(out);
}

}  // namespace

int main() {
  base::log::set_sink([](std::string_view l) { std::cerr << l; });
  asio::io_context io;
  const base::Clock& clock = base::SystemClock::instance();
  media::UdpServer server(io, &clock);
  if (auto s = server.bind("127.0.0.1", 0); !s.is_ok()) {
    std::cerr << s.to_string() << "\n";
    return 1;
  }
  media::SfuConfig config;
  config.public_ip = "127.0.0.1";
  config.port = server.local_port();
  auto cert = media::DtlsCertificate::generate();
  if (!cert.is_ok()) return 1;
  Events events;
  media::Sfu sfu(config, &events, &server, &clock, &base::SystemRandom::instance(), *cert);
  server.start(&sfu);
  reply({{"ready", true}, {"port", config.port}});
  std::thread reader([&] {
    std::string line;
    while (std::getline(std::cin, line)) {
      asio::post(io, [&sfu, line] { handle(sfu, line); });
    }
    asio::post(io, [&] { server.stop(); });
  });
  io.run();
  reader.join();
  return 0;
}
