/* Cold start: time from fork+exec of a server to its first HTTP 200 on GET /healthz.
 *
 *   coldstart PORT RUNS PROGRAM [ARGS...]
 *
 * For each run: take CLOCK_MONOTONIC, fork, exec PROGRAM (environment inherited), then poll
 * 127.0.0.1:PORT in a tight loop (connect, send GET /healthz, read the status line) until a
 * 200 arrives, sleeping COLDSTART_POLL_US (default 100) microseconds between attempts; stop the
 * server with SIGTERM and wait for it. Prints one line per run in
 * milliseconds and a final "median_ms=X min_ms=Y max_ms=Z early_non200=N" (N: answers other than
 * 200 seen before a run's first 200). COLDSTART_PATH / COLDSTART_BEARER: poll another path,
 * with a bearer token (see req below). Exit status 1 if a run failed
 * (no 200 within 10 s, or the server exited early). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/prctl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The request polled: GET COLDSTART_PATH (default /healthz), with "Authorization: Bearer
 * COLDSTART_BEARER" when that is set (an authenticated read such as GET course: exec to the
 * first answer a student can use). */
static char req[4096];
static size_t req_len;
/* Answers with another status than 200 before the first 200 (a server that answers before it
 * can decide would show here). */
static int early_non200;

/* 1 when the request answered 200, 0 otherwise (refused, reset, other status). */
static int healthz_ok(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int ok = 0;
  if (connect(fd, (struct sockaddr*)&a, sizeof a) == 0) {
    if (write(fd, req, req_len) == (ssize_t)req_len) {
      char buf[64];
      size_t got = 0;
      while (got < 12) {
        ssize_t n = read(fd, buf + got, sizeof buf - 1 - got);
        if (n <= 0) break;
        got += (size_t)n;
      }
      buf[got] = 0;
      /* HTTP/1.0 or 1.1: WasmEdge's example server (bench-wasm's floor) answers 1.0. */
      ok = got >= 12 && strncmp(buf, "HTTP/1.", 7) == 0 && strncmp(buf + 8, " 200", 4) == 0;
      if (!ok && got >= 12 && strncmp(buf, "HTTP/1.", 7) == 0) ++early_non200;
    }
  }
  close(fd);
  return ok;
}

static int cmp(const void* x, const void* y) {
  double a = *(const double*)x, b = *(const double*)y;
  return a < b ? -1 : a > b;
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: coldstart PORT RUNS PROGRAM [ARGS...]\n");
    return 2;
  }
  int port = atoi(argv[1]);
  const char* path = getenv("COLDSTART_PATH");
  const char* bearer = getenv("COLDSTART_BEARER");
  int n = snprintf(
      req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%sConnection: close\r\n\r\n",
      path && *path ? path : "/healthz", bearer && *bearer ? "Authorization: Bearer " : "",
      bearer && *bearer ? bearer : "", bearer && *bearer ? "\r\n" : "");
  if (n <= 0 || (size_t)n >= sizeof req) {
    fprintf(stderr, "coldstart: COLDSTART_PATH/COLDSTART_BEARER too long\n");
    return 2;
  }
  req_len = (size_t)n;
  /* Between attempts the poller sleeps instead of spinning: a spinning poller (sched_yield
   * only) kept one of the two cores busy while the server started, so it measured a server
   * with one core less than it has. A 100 us sleep (1 ns timer slack, so it is 100 us) costs
   * ~0.05 ms of resolution per run and a few percent of a core. 0: spin as before. */
  const char* poll_env = getenv("COLDSTART_POLL_US");
  long poll_us = poll_env && *poll_env ? atol(poll_env) : 100;
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  struct timespec pause = {poll_us / 1000000, (poll_us % 1000000) * 1000};
  int runs = atoi(argv[2]);
  double* ms = calloc((size_t)runs, sizeof *ms);
  for (int r = 0; r < runs; ++r) {
    double t0 = now_ms();
    pid_t pid = fork();
    if (pid == 0) {
      int devnull = open("/dev/null", 1);
      dup2(devnull, 1);
      dup2(devnull, 2);
      execv(argv[3], argv + 3);
      _exit(127);
    }
    double t1 = -1;
    while (now_ms() - t0 < 10000) {
      if (healthz_ok(port)) {
        t1 = now_ms();
        break;
      }
      int status;
      if (waitpid(pid, &status, WNOHANG) == pid) {
        fprintf(stderr, "coldstart: run %d: server exited before answering\n", r);
        return 1;
      }
      if (poll_us > 0)
        nanosleep(&pause, NULL);
      else
        sched_yield();
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    if (t1 < 0) {
      fprintf(stderr, "coldstart: run %d: no 200 from /healthz within 10 s\n", r);
      return 1;
    }
    ms[r] = t1 - t0;
    printf("run %d: %.3f ms\n", r, ms[r]);
  }
  qsort(ms, (size_t)runs, sizeof *ms, cmp);
  double median = runs % 2 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2;
  printf("median_ms=%.3f min_ms=%.3f max_ms=%.3f early_non200=%d\n", median, ms[0], ms[runs - 1],
         early_non200);
  free(ms);
  return 0;
}
