#include "loadtest_common.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "base/clock.h"

namespace loadtest {

namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using asio::ip::tcp;

int64_t now_ns() { return base::SystemClock::instance().now_mono_ns(); }

int64_t rss_kb(int pid) {
  if (pid <= 0) return -1;
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6);
  }
  return -1;
}

namespace {

std::string proc_path(int pid, int tid) {
  std::string p = "/proc/" + std::to_string(pid);
  if (tid > 0) p += "/task/" + std::to_string(tid);
  return p;
}

}  // namespace

int64_t cpu_ns(int pid, int tid) {
  if (pid <= 0) return -1;
  std::ifstream f(proc_path(pid, tid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  // The command name may hold spaces: fields are counted after its closing parenthesis.
  auto close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return int64_t((utime + stime) * (1'000'000'000 / uint64_t(sysconf(_SC_CLK_TCK))));
}

int64_t runqueue_wait_ns(int pid) {
  std::string base = pid > 0 ? "/proc/" + std::to_string(pid) : std::string("/proc/self");
  DIR* d = opendir((base + "/task").c_str());
  if (!d) return -1;
  int64_t total = 0;
  bool any = false;
  while (dirent* e = readdir(d)) {
    if (std::atoi(e->d_name) <= 0) continue;
    std::ifstream f(base + "/task/" + e->d_name + "/schedstat");
    int64_t run = 0, wait = 0;
    if (f >> run >> wait) {
      total += wait;
      any = true;
    }
  }
  closedir(d);
  return any ? total : -1;
}

int thread_named(int pid, const std::string& name) {
  if (pid <= 0) return 0;
  DIR* d = opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
  if (!d) return 0;
  int found = 0;
  while (dirent* e = readdir(d)) {
    int tid = std::atoi(e->d_name);
    if (tid <= 0) continue;
    std::ifstream f(proc_path(pid, tid) + "/comm");
    std::string comm;
    std::getline(f, comm);
    if (comm == name) {
      found = tid;
      break;
    }
  }
  closedir(d);
  return found;
}

void raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

std::string token_for(const ServerAddress& s, const std::string& sub, base::Role role) {
  base::Claims c;
  c.sub = sub;
  c.name = sub;
  c.role = role;
  c.exp = base::SystemClock::instance().now_unix_ms() / 1000 + 6 * 3600;
  return base::mint_token(c, s.secret);
}

awaitable<json::value> rest(const ServerAddress& o, http::verb verb, std::string target,
                            const std::string& token, std::string body) {
  beast::tcp_stream s(co_await asio::this_coro::executor);
  auto [cec] =
      co_await s.async_connect(tcp::endpoint(asio::ip::make_address(o.host), o.port), kNoThrow);
  if (cec) co_return nullptr;
  http::request<http::string_body> req(verb, target, 11);
  req.set(http::field::host, o.host);
  req.set(http::field::authorization, "Bearer " + token);
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  req.body() = std::move(body);
  req.prepare_payload();
  auto [wec, wn] = co_await http::async_write(s, req, kNoThrow);
  if (wec) co_return nullptr;
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  auto [rec, rn] = co_await http::async_read(s, buf, res, kNoThrow);
  beast::error_code ec;
  s.socket().shutdown(tcp::socket::shutdown_both, ec);
  if (rec || res.result_int() >= 300) {
    std::fprintf(stderr, "REST %s %s -> %u %s\n", std::string(http::to_string(verb)).c_str(),
                 target.c_str(), res.result_int(), res.body().c_str());
    co_return nullptr;
  }
  co_return json::parse(res.body(), ec);
}

awaitable<void> sleep_ms(int ms) {
  asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
  co_await t.async_wait(kNoThrow);
}

namespace {
constexpr const char* kQuizBody =
    R"({"title":"Load","questions":[{"kind":"single","prompt":"pick b","options":["a","b","c","d"],"correct":[1]}]})";
}  // namespace

awaitable<bool> setup_room(const ServerAddress& o, Room& r, const std::string& tag, int students,
                           bool quiz) {
  r.teacher = "lt_t_" + tag;
  r.teacher_token = token_for(o, r.teacher, base::Role::kTeacher);
  // (Bodies are built outside co_await: GCC 12 miscompiles initializer lists there.)
  json::object course_body;
  course_body["title"] = "Load " + tag;
  course_body["capacity"] = students + 10;
  std::string course_text = json::serialize(course_body);
  json::value c =
      co_await rest(o, http::verb::post, "/api/v1/courses", r.teacher_token, course_text);
  if (!c.is_object()) co_return false;
  r.course = std::string(c.at("id").as_string());
  json::value a = co_await rest(o, http::verb::patch, "/api/v1/courses/" + r.course,
                                r.teacher_token, std::string(R"({"status":"active"})"));
  if (a.is_null()) co_return false;
  for (int i = 0; i < students; ++i) {
    r.ids.push_back("lt_s_" + tag + "_" + std::to_string(i));
    r.students.push_back(token_for(o, r.ids.back(), base::Role::kStudent));
  }
  bool ok = true;
  co_await for_each_limited(students, 32, [&](int i) -> awaitable<void> {
    json::value j = co_await rest(o, http::verb::post, "/api/v1/courses/" + r.course + "/join",
                                  r.students[size_t(i)], std::string());
    if (j.is_null()) ok = false;
  });
  json::value s = co_await rest(o, http::verb::post, "/api/v1/courses/" + r.course + "/sessions",
                                r.teacher_token, std::string(R"({"title":"Load"})"));
  if (!ok || !s.is_object()) co_return false;
  r.session = std::string(s.at("id").as_string());
  if (!quiz) co_return true;
  json::value q = co_await rest(o, http::verb::post, "/api/v1/sessions/" + r.session + "/quizzes",
                                r.teacher_token, std::string(kQuizBody));
  if (!q.is_object()) co_return false;
  r.quiz = std::string(q.at("id").as_string());
  co_return true;
}

std::string live_target(const Room& r, const std::string& token) {
  return "/api/v1/sessions/" + r.session + "/live?token=" + token;
}

void print_percentiles(const char* what, std::vector<int64_t> v) {
  if (v.empty()) {
    std::printf("%s: no samples\n", what);
    return;
  }
  std::sort(v.begin(), v.end());
  auto at = [&](double p) {
    return double(v[std::min(v.size() - 1, size_t(p * double(v.size())))]) / 1e6;
  };
  std::printf("%s: n=%zu p50=%.2fms p90=%.2fms p99=%.2fms p999=%.2fms max=%.2fms\n", what, v.size(),
              at(0.5), at(0.9), at(0.99), at(0.999), double(v.back()) / 1e6);
}

}  // namespace loadtest
