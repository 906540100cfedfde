// ringfloor: a fan-out's sends through io_uring, several ways of submitting them side by side in
// one process (the variants alternate round by round, so a busy box weighs on all of them
// alike). N loopback TCP connections, M rounds at R rounds per second, each round one B-byte
// IORING_OP_SEND on every connection, 256 entries per io_uring_enter (what ws::SendRing does).
// A child process (on reader_cpu) reads everything with epoll. Prints, per variant, the
// sender's CPU per send (its thread's CPU clock: on loopback that includes the receivers' TCP
// path, which runs in the send) and a round's wall time.
// Variants: plain (a descriptor per entry, as ws::SendRing), fixed (the sockets registered
// with the ring: IOSQE_FIXED_FILE, no file lookup and reference per send), defer (the ring
// with IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN), fixed+defer, skip (CQEs only
// for failures: IOSQE_CQE_SKIP_SUCCESS; what reaping costs).
//
//   cc -O2 -o ringfloor ringfloor.c
//   ./ringfloor [N=1000] [M=500] [R=100] [B=174] [sender_cpu=0] [reader_cpu=1]
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "floor_reader.h"

enum { kPlain, kFixed, kDefer, kFixedDefer, kSkip, kVariants };
static const char* kNames[] = {"plain", "fixed", "defer", "fixed+defer", "skip-cqe"};

struct ring {
  int fd;
  unsigned *sq_tail, sq_mask, *sq_array, *cq_head, *cq_tail, cq_mask;
  struct io_uring_sqe* sqes;
  struct io_uring_cqe* cqes;
};

static double now_s(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static int ring_make(struct ring* r, unsigned flags) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  p.flags = IORING_SETUP_SUBMIT_ALL | flags;
  if (!(flags & IORING_SETUP_DEFER_TASKRUN)) p.flags |= IORING_SETUP_COOP_TASKRUN;
  r->fd = (int)syscall(__NR_io_uring_setup, 256, &p);
  if (r->fd < 0) return -1;
  char* sq = mmap(0, p.sq_off.array + p.sq_entries * 4, PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
  char* cq = mmap(0, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
                  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
  r->sqes = mmap(0, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
  r->sq_tail = (unsigned*)(sq + p.sq_off.tail);
  r->sq_mask = *(unsigned*)(sq + p.sq_off.ring_mask);
  r->sq_array = (unsigned*)(sq + p.sq_off.array);
  r->cq_head = (unsigned*)(cq + p.cq_off.head);
  r->cq_tail = (unsigned*)(cq + p.cq_off.tail);
  r->cq_mask = *(unsigned*)(cq + p.cq_off.ring_mask);
  r->cqes = (struct io_uring_cqe*)(cq + p.cq_off.cqes);
  return 0;
}

// One chunk of sends; returns how many failed (CQE with res != b).
static int chunk(struct ring* r, const int* fds, int base, int k, int fixed, int skip, const char* msg,
                 int b, int getevents) {
  unsigned tail = *r->sq_tail;
  for (int j = 0; j < k; j++) {
    unsigned idx = (tail + j) & r->sq_mask;
    struct io_uring_sqe* s = &r->sqes[idx];
    memset(s, 0, sizeof *s);
    s->opcode = IORING_OP_SEND;
    s->fd = fixed ? base + j : fds[base + j];
    if (fixed) s->flags |= IOSQE_FIXED_FILE;
    if (skip) s->flags |= IOSQE_CQE_SKIP_SUCCESS;
    s->msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL;
    s->addr = (uint64_t)(uintptr_t)msg;
    s->len = (unsigned)b;
    s->user_data = (uint64_t)j;
    r->sq_array[idx] = idx;
  }
  __atomic_store_n(r->sq_tail, tail + k, __ATOMIC_RELEASE);
  syscall(__NR_io_uring_enter, r->fd, k, getevents ? (skip ? 0 : k) : 0,
          getevents ? IORING_ENTER_GETEVENTS : 0, NULL, 0);
  int bad = 0;
  unsigned head = *r->cq_head, ctail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
  int seen = 0;
  for (; head != ctail; head++, seen++)
    if (r->cqes[head & r->cq_mask].res != b) bad++;
  __atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
  if (!skip && seen != k) bad += k - seen;
  return bad;
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000, m = argc > 2 ? atoi(argv[2]) : 500;
  double rate = argc > 3 ? atof(argv[3]) : 100;
  int b = argc > 4 ? atoi(argv[4]) : 174;
  int scpu = argc > 5 ? atoi(argv[5]) : 0, rcpu = argc > 6 ? atoi(argv[6]) : 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int ls = listen_on(&a);
  if (ls < 0) return 1;
  int* srv = calloc(n, sizeof(int));
  int* cli = calloc(n, sizeof(int));
  if (connect_pairs(ls, &a, n, srv, cli)) return 1;
  pid_t child = start_reader(n, srv, cli, rcpu);
  pin(scpu);
  for (int i = 0; i < n; i++) close(cli[i]);
  // One ring per variant; the fixed ones get every socket registered, srv[i] at slot i.
  struct ring rings[kVariants];
  for (int v = 0; v < kVariants; v++) {
    unsigned fl = (v == kDefer || v == kFixedDefer)
                      ? IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN
                      : 0;
    if (ring_make(&rings[v], fl)) { perror("io_uring_setup"); return 1; }
    if (v == kFixed || v == kFixedDefer) {
      if (syscall(__NR_io_uring_register, rings[v].fd, IORING_REGISTER_FILES, srv, n) < 0) {
        perror("IORING_REGISTER_FILES");
        return 1;
      }
    }
  }
  char* msg = malloc(b);
  memset(msg, 'x', b);
  usleep(200000);
  double cpu[kVariants] = {0}, wall[kVariants] = {0};
  int rounds[kVariants] = {0}, bad[kVariants] = {0};
  double t0 = now_s(CLOCK_MONOTONIC);
  for (int k = 0; k < m; k++) {
    double due = t0 + k / rate, w = due - now_s(CLOCK_MONOTONIC);
    if (w > 0) usleep((useconds_t)(w * 1e6));
    int v = k % kVariants;
    int fixed = v == kFixed || v == kFixedDefer;
    int defer = v == kDefer || v == kFixedDefer;
    double c = now_s(CLOCK_THREAD_CPUTIME_ID), s = now_s(CLOCK_MONOTONIC);
    for (int i = 0; i < n; i += 256) {
      int cnt = n - i < 256 ? n - i : 256;
      // Registered in srv[]'s order: slot i + j is srv[i + j].
      bad[v] += chunk(&rings[v], srv, i, cnt, fixed, v == kSkip, msg, b, defer);
    }
    cpu[v] += now_s(CLOCK_THREAD_CPUTIME_ID) - c;
    wall[v] += now_s(CLOCK_MONOTONIC) - s;
    rounds[v]++;
  }
  for (int v = 0; v < kVariants; v++)
    printf("ringfloor %-12s %d connections x %d rounds, %d bytes: %.3f us CPU per send, a round "
           "%.2f ms wall, %d sends not whole\n",
           kNames[v], n, rounds[v], b, cpu[v] * 1e6 / ((double)n * rounds[v]),
           wall[v] * 1e3 / rounds[v], bad[v]);
  kill(child, SIGTERM);
  waitpid(child, 0, 0);
  return 0;
}
