#include "janus_client.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "base/strings.h"

namespace loadtest {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using asio::ip::tcp;

// Janus holds a long poll for 30 s before answering with a keepalive.
constexpr int kPollTimeoutS = 40;
constexpr int kRequestTimeoutS = 10;

base::Status janus_error(const std::string& what, const json::value& v) {
  std::string msg = what + ": " + json::serialize(v);
  if (msg.size() > 400) msg.resize(400);
  return base::unavailable(msg);
}

// The streaming plugin's error in an event, or empty.
std::string plugin_error(const json::object& event) {
  const json::value* data = event.if_contains("plugindata");
  if (!data || !data->is_object()) return {};
  const json::value* d = data->as_object().if_contains("data");
  if (!d || !d->is_object()) return {};
  const json::value* err = d->as_object().if_contains("error");
  return err && err->is_string() ? std::string(err->as_string()) : std::string();
}

// One keep-alive HTTP/1.1 connection with blocking calls and a receive timeout.
class Connection {
 public:
  Connection(asio::io_context& io, std::string host, uint16_t port, int timeout_s)
      : socket_(io), host_(std::move(host)), port_(port), timeout_s_(timeout_s) {}

  base::Result<json::value> call(http::verb verb, const std::string& target,
                                 const std::string& body) {
    for (int attempt = 0; attempt < 2; ++attempt) {  // once more on a closed keep-alive
      if (!socket_.is_open()) EC_RETURN_IF_ERROR(open());
      http::request<http::string_body> req{verb, target, 11};
      req.set(http::field::host, host_);
      req.keep_alive(true);
      if (verb == http::verb::post) {
        req.set(http::field::content_type, "application/json");
        req.body() = body;
        req.prepare_payload();
      }
      beast::error_code ec;
      http::write(socket_, req, ec);
      http::response<http::string_body> res;
      if (!ec) http::read(socket_, buffer_, res, ec);
      if (ec) {
        socket_.close(ec);
        if (attempt == 0) continue;
        return base::unavailable("janus http " + target + ": " + ec.message());
      }
      if (!res.keep_alive()) socket_.close(ec);
      if (res.result() != http::status::ok) {
        return base::unavailable("janus http " + target + ": status " +
                                 std::to_string(res.result_int()));
      }
      json::value v = json::parse(res.body(), ec);
      if (ec) return base::unavailable("janus http " + target + ": bad JSON");
      return v;
    }
    return base::unavailable("unreachable");
  }

 private:
  base::Status open() {
    beast::error_code ec;
    tcp::endpoint ep(asio::ip::make_address(host_, ec), port_);
    if (ec) return base::invalid_argument("janus host must be an IP address: " + host_);
    socket_.connect(ep, ec);
    if (ec)
      return base::unavailable("janus: connect " + ep.address().to_string() + ":" +
                               std::to_string(port_) + ": " + ec.message());
    timeval tv{timeout_s_, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    buffer_.clear();
    return base::Status::ok();
  }

  tcp::socket socket_;
  beast::flat_buffer buffer_;
  std::string host_;
  uint16_t port_;
  int timeout_s_;
};

}  // namespace

// ---- the process ----------------------------------------------------------------------------

base::Result<JanusProcess> janus_process(pid_t pid, const std::string& url, uint16_t rtp_port) {
  constexpr std::string_view kScheme = "http://";
  std::string_view rest(url);
  if (rest.substr(0, kScheme.size()) != kScheme)
    return base::invalid_argument("janus url must be http://IP:PORT/janus: " + url);
  rest.remove_prefix(kScheme.size());
  rest = rest.substr(0, rest.find('/'));
  size_t colon = rest.rfind(':');
  auto port =
      colon == std::string_view::npos ? std::nullopt : base::parse_int(rest.substr(colon + 1));
  if (!port || *port <= 0 || *port > 65535 || rtp_port == 0 || rtp_port > 65533 || pid <= 0) {
    return base::invalid_argument("janus: need http://IP:PORT/janus, an RTP port and a pid");
  }
  JanusProcess j;
  j.pid = pid;
  j.host = std::string(rest.substr(0, colon));
  j.http_port = uint16_t(*port);
  j.video_port = rtp_port;
  j.audio_port = uint16_t(rtp_port + 2);
  return j;
}

base::Result<JanusProcess> start_janus(const std::string& script, const std::string& workdir) {
  std::string cmd = script + (workdir.empty() ? "" : " '" + workdir + "'");
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return base::unavailable("cannot run " + script);
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, f)) out += buf;
  int rc = ::pclose(f);
  if (rc != 0) return base::unavailable(script + " failed (its stderr says why)");
  std::istringstream words(out);
  std::string pid, url, rtp;
  words >> pid >> url >> rtp;
  auto p = base::parse_int(pid);
  auto r = base::parse_int(rtp);
  if (!p || !r || *r <= 0 || *r > 65535) {
    return base::unavailable(script + " printed no \"PID URL RTP_PORT\": " + out);
  }
  return janus_process(pid_t(*p), url, uint16_t(*r));
}

void stop_janus(const JanusProcess& janus) {
  if (janus.pid <= 0) return;
  ::kill(janus.pid, SIGTERM);
  for (int i = 0; i < 50; ++i) {
    if (::kill(janus.pid, 0) != 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(janus.pid, SIGKILL);
}

// ---- the REST client -------------------------------------------------------------------------

struct JanusClient::Impl {
  Impl(const std::string& host, uint16_t port)
      : requests(io, host, port, kRequestTimeoutS), poll(io, host, port, kPollTimeoutS) {}

  // POSTs `body` (a Janus request; a transaction id is added) to /janus/<path>.
  base::Result<json::object> post(const std::string& path, json::object body) {
    body["transaction"] = "t" + std::to_string(++transaction);
    EC_ASSIGN_OR_RETURN(json::value v,
                        requests.call(http::verb::post, "/janus" + path, json::serialize(body)));
    if (!v.is_object()) return janus_error("unexpected answer", v);
    const json::value* kind = v.as_object().if_contains("janus");
    if (!kind || !kind->is_string() || kind->as_string() == "error") {
      return janus_error(std::string(body["janus"].as_string()), v);
    }
    return std::move(v.as_object());
  }

  // The next batch of session events (blocks up to Janus's 30 s long-poll timeout).
  base::Result<std::vector<json::object>> poll_events(uint64_t session) {
    EC_ASSIGN_OR_RETURN(
        json::value v,
        poll.call(http::verb::get, "/janus/" + std::to_string(session) + "?maxev=1000", ""));
    std::vector<json::object> out;
    if (v.is_array()) {
      for (auto& e : v.as_array()) {
        if (e.is_object()) out.push_back(std::move(e.as_object()));
      }
    } else if (v.is_object()) {
      out.push_back(std::move(v.as_object()));
    }
    return out;
  }

  asio::io_context io;
  Connection requests;  // create, attach, message, destroy
  Connection poll;      // the session's long poll
  uint64_t transaction = 0;
};

JanusClient::JanusClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

JanusClient::~JanusClient() {
  if (session_id_ != 0)
    (void)impl_->post("/" + std::to_string(session_id_), {{"janus", "destroy"}});
}

base::Result<std::unique_ptr<JanusClient>> JanusClient::connect(const std::string& host,
                                                                uint16_t port) {
  std::unique_ptr<JanusClient> c(new JanusClient(std::make_unique<Impl>(host, port)));
  EC_ASSIGN_OR_RETURN(json::object created, c->impl_->post("", {{"janus", "create"}}));
  const json::value* data = created.if_contains("data");
  if (!data || !data->is_object() || !data->as_object().contains("id") ||
      !data->as_object().at("id").is_number()) {
    return janus_error("create", created);
  }
  c->session_id_ = data->as_object().at("id").to_number<uint64_t>();
  return c;
}

base::Result<uint64_t> JanusClient::attach(const std::string& plugin) {
  EC_ASSIGN_OR_RETURN(
      json::object attached,
      impl_->post("/" + std::to_string(session_id_), {{"janus", "attach"}, {"plugin", plugin}}));
  const json::value* data = attached.if_contains("data");
  if (!data || !data->is_object() || !data->as_object().contains("id")) {
    return janus_error("attach", attached);
  }
  return data->as_object().at("id").to_number<uint64_t>();
}

base::Result<json::object> JanusClient::request(uint64_t handle, json::object body) {
  std::string what = body.contains("request") && body.at("request").is_string()
                         ? std::string(body.at("request").as_string())
                         : std::string("request");
  EC_ASSIGN_OR_RETURN(json::object res,
                      impl_->post("/" + std::to_string(session_id_) + "/" + std::to_string(handle),
                                  {{"janus", "message"}, {"body", std::move(body)}}));
  std::string err = plugin_error(res);
  if (!err.empty()) return base::unavailable("janus " + what + ": " + err);
  const json::value* pd = res.if_contains("plugindata");
  const json::value* data = pd && pd->is_object() ? pd->as_object().if_contains("data") : nullptr;
  if (!data || !data->is_object()) return janus_error(what, res);
  return data->as_object();
}

base::Result<std::vector<JanusSubscriber>> JanusClient::watch_many(int mountpoint_id, int count) {
  return subscribe_many("janus.plugin.streaming", count, [&](int) {
    return json::object{{"request", "watch"}, {"id", mountpoint_id}};
  });
}

base::Result<std::vector<JanusSubscriber>> JanusClient::subscribe_many(
    const std::string& plugin, int count, const std::function<json::object(int)>& make_body) {
  const std::string session = "/" + std::to_string(session_id_);
  std::map<uint64_t, size_t> index;  // handle id -> position in `out`
  std::vector<JanusSubscriber> out;
  for (int i = 0; i < count; ++i) {
    EC_ASSIGN_OR_RETURN(uint64_t handle, attach(plugin));
    EC_ASSIGN_OR_RETURN(json::object ack,
                        impl_->post(session + "/" + std::to_string(handle),
                                    {{"janus", "message"}, {"body", make_body(i)}}));
    (void)ack;
    index[handle] = out.size();
    out.push_back(JanusSubscriber{handle, {}});
  }
  size_t pending = out.size();
  int empty_polls = 0;
  while (pending > 0) {
    EC_ASSIGN_OR_RETURN(std::vector<json::object> events, impl_->poll_events(session_id_));
    bool any = false;
    for (const auto& e : events) {
      const json::value* sender = e.if_contains("sender");
      if (!sender || !sender->is_number()) continue;
      auto it = index.find(sender->to_number<uint64_t>());
      if (it == index.end()) continue;
      std::string err = plugin_error(e);
      if (!err.empty()) {
        return base::unavailable("janus " + plugin + " subscriber: " + err);
      }
      const json::value* jsep = e.if_contains("jsep");
      if (!jsep || !jsep->is_object()) continue;
      const json::value* sdp = jsep->as_object().if_contains("sdp");
      JanusSubscriber& s = out[it->second];
      if (!sdp || !sdp->is_string() || !s.offer_sdp.empty()) continue;
      s.offer_sdp = std::string(sdp->as_string());
      --pending;
      any = true;
    }
    if (!any && ++empty_polls >= 2) {
      return base::unavailable("janus: no offer for " + std::to_string(pending) +
                               " subscribers after two long polls");
    }
    if (any) empty_polls = 0;
  }
  return out;
}

base::Status JanusClient::start(const JanusSubscriber& subscriber, const std::string& answer_sdp) {
  json::object body{{"request", "start"}};
  json::object jsep{{"type", "answer"}, {"sdp", answer_sdp}, {"trickle", false}};
  EC_ASSIGN_OR_RETURN(
      json::object ack,
      impl_->post("/" + std::to_string(session_id_) + "/" + std::to_string(subscriber.handle_id),
                  {{"janus", "message"}, {"body", std::move(body)}, {"jsep", std::move(jsep)}}));
  (void)ack;
  return base::Status::ok();
}

}  // namespace loadtest
