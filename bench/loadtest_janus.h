// The Janus side of `edgeclass-loadtest media --target janus`: Janus 1.1 (Debian 12 package
// `janus`) forwarding the same synthetic stream to the same number of subscribers, as the
// peer to compare edgeclass against.
//
// Janus runs its streaming plugin with one RTP mountpoint (bench/janus/*.jcfg, started by
// bench/janus/run-janus.sh): the publisher sends plain RTP (VP8 pt 96, Opus pt 111) to the
// mountpoint's UDP ports on 127.0.0.1, and every subscriber `watch`es it over the REST API
// (bench/janus_client.h). Janus offers; media::SyntheticPeer answers in its answerer mode
// (ICE-lite, DTLS client) from a socket bound to the address of Janus's host candidate.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "base/status.h"
#include "media/client/synthetic_peer.h"
#include "media/common/socket_address.h"

namespace loadtest {

// A Janus process started by run-janus.sh (or one already running: fill in the fields).
struct JanusProcess {
  pid_t pid = 0;
  uint16_t http_port = 0;   // REST API on 127.0.0.1, base path /janus
  uint16_t video_port = 0;  // the mountpoint's RTP ports on 127.0.0.1
  uint16_t audio_port = 0;
  int mountpoint_id = 1;
  std::string log_path;
};

// Runs `<script> start` (bench/janus/run-janus.sh, which installs Janus when missing, picks
// free ports and waits until the REST API answers) and parses what it prints.
base::Result<JanusProcess> start_janus(const std::string& script);
// Stops a process started by start_janus() (SIGTERM, then SIGKILL after 5 s).
void stop_janus(const JanusProcess& janus);

// CPU time (user + system) of process `pid` so far, from /proc/<pid>/stat; -1 on error.
int64_t process_cpu_ns(pid_t pid);
// Threads of process `pid` (/proc/<pid>/status); -1 on error.
int process_threads(pid_t pid);

// Answerer mode in one call: reads Janus's offer into `peer` and returns the answer naming
// `local` (the subscriber's socket, bound to remote_candidate()'s IP) as its candidate.
base::Result<std::string> answer_janus_offer(media::SyntheticPeer& peer,
                                             const std::string& offer_sdp,
                                             const media::SocketAddress& local);

}  // namespace loadtest
