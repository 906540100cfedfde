// The Janus process of the media benchmark (bench/janus/run-janus.sh) and JanusClient, the
// few calls of Janus's REST API (janus.transport.http, Janus 1.1) that the
// media load tool needs to attach streaming-plugin subscribers: create a session, attach
// handles to janus.plugin.streaming, `watch` a mountpoint (Janus answers with its SDP offer
// in an asynchronous event, fetched by long-polling the session) and `start` with our
// answer. See https://janus.conf.meetecho.com/docs/rest.html and the streaming plugin docs.
//
// Synchronous (blocking HTTP/1.1 over two keep-alive connections: one for requests, one for
// the long poll), for set-up only; nothing here is on the media path. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace loadtest {

// A Janus process started by bench/janus/run-janus.sh, which prints "PID URL RTP_PORT".
struct JanusProcess {
  pid_t pid = 0;
  std::string host;  // of the REST API (an IP address), base path /janus
  uint16_t http_port = 0;
  uint16_t video_port = 0;  // the mountpoint's plain-RTP ports on 127.0.0.1: RTP_PORT
  uint16_t audio_port = 0;  // and RTP_PORT + 2
  int mountpoint_id = 1;
};

// The process run-janus.sh described: `url` is "http://IP:PORT/janus".
base::Result<JanusProcess> janus_process(pid_t pid, const std::string& url, uint16_t rtp_port);
// Runs `<script> [workdir]` (bench/janus/run-janus.sh: installs Janus when missing, picks
// free ports, waits until the REST API answers) and parses the line it prints.
base::Result<JanusProcess> start_janus(const std::string& script, const std::string& workdir = "");
// Stops a process started by start_janus() (SIGTERM, then SIGKILL after 5 s).
void stop_janus(const JanusProcess& janus);

struct JanusSubscriber {
  uint64_t handle_id = 0;
  std::string offer_sdp;  // Janus's offer (sendonly audio/video, its candidates included)
};

class JanusClient {
 public:
  // Connects to http://host:port/janus and creates a session. Janus must run with
  // `session_timeout = 0` (bench/janus/janus.jcfg): the client sends no keepalives.
  static base::Result<std::unique_ptr<JanusClient>> connect(const std::string& host, uint16_t port);
  // Destroys the session (best effort), which hangs up every subscriber of it.
  ~JanusClient();
  JanusClient(const JanusClient&) = delete;
  JanusClient& operator=(const JanusClient&) = delete;

  // Attaches `count` subscribers to mountpoint `mountpoint_id` and returns Janus's offers:
  // all the watch requests first, then the offers (Janus prepares them in parallel).
  // Fails if any subscriber fails (Janus's error message in the status).
  base::Result<std::vector<JanusSubscriber>> watch_many(int mountpoint_id, int count);
  // The same for any plugin: attaches `count` handles to `plugin`, sends each `body(i)`
  // (e.g. a VideoRoom subscriber's `join`) and collects the offers Janus answers with.
  base::Result<std::vector<JanusSubscriber>> subscribe_many(
      const std::string& plugin, int count, const std::function<boost::json::object(int)>& body);
  // Attaches one handle to `plugin` and returns its id.
  base::Result<uint64_t> attach(const std::string& plugin);
  // A synchronous plugin request on `handle` (e.g. the VideoRoom's add_remote_publisher):
  // the plugin's answer (plugindata.data); fails on a Janus or plugin error.
  base::Result<boost::json::object> request(uint64_t handle, boost::json::object body);
  // Sends our SDP answer for `subscriber` with `start`; Janus then starts ICE (it is the
  // controlling agent) and, once DTLS is up, forwards the mountpoint's RTP.
  base::Status start(const JanusSubscriber& subscriber, const std::string& answer_sdp);

  uint64_t session_id() const { return session_id_; }

 private:
  struct Impl;
  explicit JanusClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;  // the two HTTP connections and their buffers
  uint64_t session_id_ = 0;
};

}  // namespace loadtest
