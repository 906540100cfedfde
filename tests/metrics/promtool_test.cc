// Validates the exposition with Prometheus's own linter. promtool is $PROMTOOL, else
// `promtool` on PATH (the Debian package `prometheus`, scripts/install-deps.sh test). Without
// it these tests are skipped with a message (scripts/test.sh lists skips), or fail when
// EDGECLASS_REQUIRE_TOOLS=1.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "metrics/process.h"
#include "metrics/registry.h"

namespace metrics {
namespace {

struct CheckResult {
  int exit_code = -1;
  std::string output;
};

std::string promtool() {
  const char* p = std::getenv("PROMTOOL");
  return p && *p ? p : "promtool";
}

bool promtool_found() {
  return std::system(("command -v '" + promtool() + "' >/dev/null 2>&1").c_str()) == 0;
}

bool tools_required() {
  const char* r = std::getenv("EDGECLASS_REQUIRE_TOOLS");
  return r && std::string(r) == "1";
}

#define SKIP_WITHOUT_PROMTOOL()                                                         \
  do {                                                                                  \
    if (!promtool_found()) {                                                            \
      if (tools_required()) FAIL() << "promtool not found (EDGECLASS_REQUIRE_TOOLS=1)"; \
      GTEST_SKIP() << "promtool not found: set PROMTOOL or install the Debian package " \
                      "`prometheus` (scripts/install-deps.sh test)";                    \
    }                                                                                   \
  } while (0)

// Writes `text` to a temp file and runs `promtool check metrics < file`.
CheckResult promtool_check(const std::string& text) {
  char path[] = "/tmp/metrics_promtool_XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  {
    std::ofstream f(path);
    f << text;
  }
  close(fd);
  std::string cmd = "'" + promtool() + "' check metrics < " + path + " 2>&1";
  CheckResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  unlink(path);
  return r;
}

TEST(PromtoolTest, EveryKindOfMetricPassesPromtool) {
  SKIP_WITHOUT_PROMTOOL();
  Registry reg;
  auto& req = reg.counter("edgeclass_http_requests_total", "HTTP requests served.",
                          {"method", "route", "code"});
  req.labels({"GET", "/api/v1/courses/{id}", "200"}).inc(41);
  req.labels({"POST", "/api/v1/quizzes/{id}/answers", "409"}).inc();
  req.labels({"GET", "/weird \"route\"\\with\nnewline", "404"}).inc();
  reg.counter("edgeclass_media_bytes_sent_total", "Media bytes forwarded.").get().add(1.5e9);
  reg.gauge("edgeclass_rooms_live", "Live rooms on this replica.").get().set(12);
  auto& q = reg.gauge("edgeclass_send_queue_depth", "Queued messages per room.", {"room"});
  q.labels({"ses_0f8k3m2q9d1xa"}).set(-0.5);
  auto& lat = reg.histogram("edgeclass_http_request_duration_seconds",
                            "HTTP request latency in seconds.", {"route"});
  for (double v : {0.00004, 0.0003, 0.002, 0.04, 0.7, 12.0}) {
    lat.labels({"/api/v1/courses/{id}"}).observe(v);
  }
  lat.labels({"/healthz"});  // a child with no observations yet
  reg.histogram("edgeclass_quiz_answer_size_bytes", "Answer body sizes.", {},
                exponential_buckets(64, 4, 5))
      .get()
      .observe(300);
  const uint64_t counted_elsewhere[] = {1, 2, 0, 0, 4, 1};
  reg.histogram("edgeclass_media_forward_latency_seconds", "Forwarding latency.", {},
                {0.00005, 0.0001, 0.0005, 0.001, 0.002})
      .get()
      .add_counts(counted_elsewhere, 0.0123);
  double open = 17;
  reg.callback("edgeclass_open_connections", "Open client connections.", Type::kGauge,
               [&] { return open; });
  reg.callback("edgeclass_db_commits_total", "SQLite group commits.", Type::kCounter,
               [] { return 1234.0; });
  reg.callback_family("edgeclass_media_room_subscribers", "Subscribers per live session.",
                      Type::kGauge, {"session"}, [](const Registry::Emit& emit) {
                        for (const char* id : {"ses_0f8k3m2q9d1xa", "ses_1a2b3c4d5e6f7"}) {
                          const std::string v[] = {id};
                          emit(v, 1000);
                        }
                      });
  register_process_metrics(reg);

  std::string text = reg.expose();
  CheckResult r = promtool_check(text);
  EXPECT_EQ(r.exit_code, 0) << r.output << "\n--- exposition ---\n" << text;
  EXPECT_EQ(r.output, "") << "promtool lint findings:\n" << r.output;
}

// The check above must be able to fail: promtool rejects a broken exposition.
TEST(PromtoolTest, PromtoolRejectsBrokenExposition) {
  SKIP_WITHOUT_PROMTOOL();
  CheckResult bad = promtool_check("# TYPE x counter\nx{a=\"unterminated} 1\n");
  EXPECT_NE(bad.exit_code, 0) << bad.output;
  // And flags a lint problem (a counter not ending in _total).
  Registry reg;
  reg.counter("edgeclass_requests", "Requests.").get().inc();
  CheckResult lint = promtool_check(reg.expose());
  EXPECT_NE(lint.exit_code, 0) << lint.output;
}

}  // namespace
}  // namespace metrics
