// sendfloor: the floor of a fan-out's server CPU on this machine: N loopback TCP connections,
// M rounds at R rounds per second, each round one send() of B bytes on every connection (what
// a server with no work but the system call would spend; no framing, no queue). A child
// process (on --reader-cpu) reads everything with epoll. Prints the sender's CPU per send
// (getrusage: user + system) and per round's wall time.
//
// With a network namespace's name and an address (run inside another namespace whose address
// that is, as scripts/bench-live.sh does with BENCH_LIVE_NET=netns): the reader's sockets are
// opened in the named namespace and connect to the address (a veth pair between them), so the
// receive processing runs where RPS sends it instead of in the sender's send() as on loopback.
//
//   cc -O2 -o sendfloor sendfloor.c
//   ./sendfloor [N=1000] [M=200] [R=100] [B=170] [sender_cpu=0] [reader_cpu=1] [reader_netns address]
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "floor_reader.h"


static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static double cpu_s(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000, m = argc > 2 ? atoi(argv[2]) : 200;
  double r = argc > 3 ? atof(argv[3]) : 100;
  int b = argc > 4 ? atoi(argv[4]) : 170;
  int scpu = argc > 5 ? atoi(argv[5]) : 0, rcpu = argc > 6 ? atoi(argv[6]) : 1;
  const char* reader_ns = argc > 8 ? argv[7] : NULL;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (reader_ns && inet_pton(AF_INET, argv[8], &a.sin_addr) != 1) {
    fprintf(stderr, "sendfloor: bad address %s\n", argv[8]);
    return 1;
  }
  int ls = listen_on(&a);
  if (ls < 0) return 1;
  int* srv = calloc(n, sizeof(int));
  int* cli = calloc(n, sizeof(int));
  int home = -1;
  if (reader_ns) {  // the reader's sockets belong to its namespace; the listener stays here
    char path[512];
    snprintf(path, sizeof path, "/run/netns/%s", reader_ns);
    int away = open(path, O_RDONLY);
    home = open("/proc/self/ns/net", O_RDONLY);
    if (away < 0 || home < 0 || setns(away, CLONE_NEWNET)) {
      perror(path);
      return 1;
    }
    close(away);
  }
  if (connect_pairs(ls, &a, n, srv, cli)) return 1;
  if (home >= 0 && setns(home, CLONE_NEWNET)) {
    perror("setns back");
    return 1;
  }
  pid_t child = start_reader(n, srv, cli, rcpu);
  pin(scpu);
  for (int i = 0; i < n; i++) close(cli[i]);
  char* msg = malloc(b);
  memset(msg, 'x', b);
  usleep(200000);
  double c0 = cpu_s(), t0 = now_s(), busy = 0;
  for (int k = 0; k < m; k++) {
    double due = t0 + k / r, w = due - now_s();
    if (w > 0) usleep((useconds_t)(w * 1e6));
    double s = now_s();
    for (int i = 0; i < n; i++) send(srv[i], msg, b, MSG_NOSIGNAL);
    busy += now_s() - s;
  }
  double c = cpu_s() - c0;
  printf("sendfloor (%s): %d connections x %d rounds at %.0f/s, %d bytes: sender CPU %.2f us per "
         "send, one round's sends %.2f ms wall on average\n",
         reader_ns ? "veth to another namespace" : "loopback", n, m, r, b,
         c * 1e6 / ((double)n * m), busy * 1e3 / m);
  kill(child, SIGTERM);
  waitpid(child, 0, 0);
  return 0;
}
