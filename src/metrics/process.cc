#include "metrics/process.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__linux__)
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>
#endif

namespace metrics {
namespace {

constexpr double kNaN = NAN;

#if defined(__linux__)
// Whole small file (procfs files report size 0, so read until EOF). Empty on failure.
std::string read_small_file(const char* path) {
  std::string out;
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, size_t(n));
    if (out.size() > (1 << 16)) break;
  }
  ::close(fd);
  return out;
}

// /proc/self/statm fields 1 (size) and 2 (resident), in pages.
bool statm_pages(uint64_t* size, uint64_t* resident) {
  std::string s = read_small_file("/proc/self/statm");
  unsigned long long a = 0, b = 0;
  if (std::sscanf(s.c_str(), "%llu %llu", &a, &b) != 2) return false;
  *size = a;
  *resident = b;
  return true;
}

double page_size() { return double(::sysconf(_SC_PAGESIZE)); }

// Start time in seconds since the epoch: boot time (/proc/stat btime) plus field 22 of
// /proc/self/stat (clock ticks after boot). The command name in field 2 may contain spaces
// and parentheses, so fields are counted from the last ')'.
double start_time_seconds() {
  std::string stat = read_small_file("/proc/self/stat");
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return kNaN;
  std::string_view rest = std::string_view(stat).substr(paren + 1);
  // After ')' come fields 3, 4, ...; starttime is field 22, the 20th of them.
  int field = 2;
  size_t i = 0;
  unsigned long long ticks = 0;
  bool found = false;
  while (i < rest.size()) {
    while (i < rest.size() && rest[i] == ' ') ++i;
    size_t j = i;
    while (j < rest.size() && rest[j] != ' ') ++j;
    if (j == i) break;
    ++field;
    if (field == 22) {
      ticks = std::strtoull(std::string(rest.substr(i, j - i)).c_str(), nullptr, 10);
      found = true;
      break;
    }
    i = j;
  }
  if (!found) return kNaN;
  std::string proc_stat = read_small_file("/proc/stat");
  size_t b = proc_stat.find("\nbtime ");
  if (b == std::string::npos) return kNaN;
  unsigned long long btime = std::strtoull(proc_stat.c_str() + b + 7, nullptr, 10);
  long hz = ::sysconf(_SC_CLK_TCK);
  if (hz <= 0) return kNaN;
  return double(btime) + double(ticks) / double(hz);
}

double open_fds() {
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return kNaN;
  int n = 0;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n - 1;  // not counting the descriptor opendir itself holds
}
#endif

}  // namespace

std::optional<uint64_t> resident_memory_bytes() {
#if defined(__linux__)
  uint64_t size = 0, resident = 0;
  if (!statm_pages(&size, &resident)) return std::nullopt;
  return resident * uint64_t(::sysconf(_SC_PAGESIZE));
#else
  return std::nullopt;
#endif
}

void register_process_metrics(Registry& registry) {
#if defined(__linux__)
  registry.callback("process_resident_memory_bytes", "Resident memory size in bytes.", Type::kGauge,
                    [] {
                      auto r = resident_memory_bytes();
                      return r ? double(*r) : kNaN;
                    });
  registry.callback("process_virtual_memory_bytes", "Virtual memory size in bytes.", Type::kGauge,
                    [] {
                      uint64_t size = 0, resident = 0;
                      return statm_pages(&size, &resident) ? double(size) * page_size() : kNaN;
                    });
  registry.callback("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                    Type::kCounter, [] {
                      struct rusage ru {};
                      if (::getrusage(RUSAGE_SELF, &ru) != 0) return kNaN;
                      return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                             double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
                    });
  // The start time does not change: read once, at the first scrape rather than during a cold
  // start (two procfs files, a tenth of a millisecond before the listener on a small VM).
  registry.callback("process_start_time_seconds",
                    "Start time of the process since unix epoch in seconds.", Type::kGauge, [] {
                      static const double start = start_time_seconds();
                      return start;
                    });
  registry.callback("process_open_fds", "Number of open file descriptors.", Type::kGauge,
                    [] { return open_fds(); });
  registry.callback("process_max_fds", "Maximum number of open file descriptors.", Type::kGauge,
                    [] {
                      struct rlimit rl {};
                      if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return kNaN;
                      return rl.rlim_cur == RLIM_INFINITY ? kNaN : double(rl.rlim_cur);
                    });
#else
  (void)registry;
#endif
}

}  // namespace metrics
