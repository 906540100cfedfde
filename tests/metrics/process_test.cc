#include "metrics/process.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>

namespace metrics {
namespace {

// The value of an unlabelled sample line "name value" in `text`, or -1.
double sample(const std::string& text, const std::string& name) {
  size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::strtod(text.c_str() + at + name.size() + 2, nullptr);
}

TEST(ProcessMetricsTest, ReportsPlausibleValues) {
  Registry reg;
  register_process_metrics(reg);
  std::string text = reg.expose();
  double rss = sample(text, "process_resident_memory_bytes");
  EXPECT_GT(rss, 100 * 1024);
  EXPECT_LT(rss, 1024.0 * 1024 * 1024);
  EXPECT_GE(sample(text, "process_virtual_memory_bytes"), rss);
  EXPECT_GE(sample(text, "process_cpu_seconds_total"), 0);
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  double start = sample(text, "process_start_time_seconds");
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 3600) << "this test process started over an hour ago?";
  EXPECT_GE(sample(text, "process_open_fds"), 3);
  EXPECT_GE(sample(text, "process_max_fds"), sample(text, "process_open_fds"));
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos);
}

TEST(ProcessMetricsTest, ResidentMemoryGrowsWhenTouched) {
  auto before = resident_memory_bytes();
  ASSERT_TRUE(before.has_value());
  std::string big(64 << 20, 'x');  // 64 MiB, written so it is resident
  auto after = resident_memory_bytes();
  ASSERT_TRUE(after.has_value());
  EXPECT_GT(*after, *before + (32 << 20));
  EXPECT_EQ(big[12345], 'x');
}

}  // namespace
}  // namespace metrics
