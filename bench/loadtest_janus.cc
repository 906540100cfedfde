#include "loadtest_janus.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/strings.h"

namespace loadtest {

base::Result<JanusProcess> start_janus(const std::string& script) {
  std::string cmd = script + " start";
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return base::unavailable("cannot run " + script);
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, f)) out += buf;
  int rc = ::pclose(f);
  if (rc != 0) return base::unavailable(script + " start failed (its stderr says why)");
  JanusProcess j;
  // JANUS_PID=1 JANUS_HTTP_PORT=2 JANUS_VIDEO_PORT=3 JANUS_AUDIO_PORT=4 JANUS_LOG=/path
  std::istringstream words(out);
  std::string word;
  while (words >> word) {
    size_t eq = word.find('=');
    if (eq == std::string::npos) continue;
    std::string key = word.substr(0, eq), value = word.substr(eq + 1);
    auto n = base::parse_int(value);
    if (key == "JANUS_PID" && n) j.pid = pid_t(*n);
    if (key == "JANUS_HTTP_PORT" && n) j.http_port = uint16_t(*n);
    if (key == "JANUS_VIDEO_PORT" && n) j.video_port = uint16_t(*n);
    if (key == "JANUS_AUDIO_PORT" && n) j.audio_port = uint16_t(*n);
    if (key == "JANUS_LOG") j.log_path = value;
  }
  if (j.pid <= 0 || j.http_port == 0 || j.video_port == 0 || j.audio_port == 0) {
    return base::unavailable(script + " start printed no ports: " + out);
  }
  return j;
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

int64_t process_cpu_ns(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // Fields after the parenthesised command name (which may contain spaces): state is field
  // 3, utime 14 and stime 15, in clock ticks.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  int64_t utime = -1, stime = -1;
  for (int n = 3; rest >> field && n <= 15; ++n) {
    if (n == 14) utime = base::parse_int(field).value_or(-1);
    if (n == 15) stime = base::parse_int(field).value_or(-1);
  }
  if (utime < 0 || stime < 0) return -1;
  return (utime + stime) * (1'000'000'000 / ::sysconf(_SC_CLK_TCK));
}

int process_threads(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("Threads:", 0) == 0) {
      size_t at = line.find_first_not_of(" \t", 8);
      return at == std::string::npos ? -1 : int(base::parse_int(line.substr(at)).value_or(-1));
    }
  }
  return -1;
}

base::Result<std::string> answer_janus_offer(media::SyntheticPeer& peer,
                                             const std::string& offer_sdp,
                                             const media::SocketAddress& local) {
  EC_RETURN_IF_ERROR(peer.set_offer(offer_sdp));
  return peer.answer(local);
}

}  // namespace loadtest
