// A real redis-server on a free loopback port for the city tests: started, killed and
// restarted (empty: no persistence) by the test. Skips when redis-server is not installed.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

namespace city_test {

inline std::string find_redis_server() {
  if (const char* p = std::getenv("REDIS_SERVER")) return p;
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/usr/sbin"}) {
    std::string p = std::string(dir) + "/redis-server";
    if (access(p.c_str(), X_OK) == 0) return p;
  }
  return {};
}

// A port the kernel just handed out on 127.0.0.1 (free at the time of asking).
inline int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

inline bool port_open(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

class RedisServer {
 public:
  RedisServer() : binary_(find_redis_server()), port_(free_port()) {}
  ~RedisServer() { stop(); }

  bool available() const { return !binary_.empty(); }
  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

  // Starts (or restarts, empty) on the same port; true once it accepts connections (up to
  // 30 s: a loaded machine can take seconds to run a new process), false at once if it
  // exited (the port taken by another process since free_port handed it out).
  bool start() {
    stop();
    pid_ = fork();
    if (pid_ == 0) {
      std::string port = std::to_string(port_);
      execl(binary_.c_str(), binary_.c_str(), "--port", port.c_str(), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--loglevel", "warning", (char*)nullptr);
      _exit(127);
    }
    for (int i = 0; i < 3000; ++i) {
      if (port_open(port_)) return true;
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  // SIGKILL: the connections drop at once, nothing is saved.
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  // SIGSTOP/SIGCONT: a Redis that holds its connections open and answers nothing.
  void pause() {
    if (pid_ > 0) kill(pid_, SIGSTOP);
  }
  void resume() {
    if (pid_ > 0) kill(pid_, SIGCONT);
  }

 private:
  std::string binary_;
  int port_;
  pid_t pid_ = -1;
};

#define CITY_NEED_REDIS(server)                    \
  if (!(server).available())                       \
  GTEST_SKIP() << "redis-server is not installed " \
                  "(scripts/install-deps.sh test installs it)"

}  // namespace city_test
