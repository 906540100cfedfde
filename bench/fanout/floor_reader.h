// What the floor programs (sendfloor.c, ringfloor.c) share: the listening socket, the n
// connections to it, and the reading side, a child process on `cpu` (-1: not pinned) that
// reads every one of the n client sockets cli[] with epoll until one ends. The child closes
// the server ends srv[]; the caller then closes cli[] on its side.
#pragma once
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

// A listening TCP socket on *a's address (its port chosen by the kernel and written back), or
// -1 (said on stderr).
static int listen_on(struct sockaddr_in* a) {
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  socklen_t al = sizeof *a;
  if (bind(ls, (void*)a, sizeof *a) || listen(ls, 4096) || getsockname(ls, (void*)a, &al)) {
    perror("listen");
    return -1;
  }
  return ls;
}

// n connections to the listener `ls` at *a: cli[i] the connecting end (made in the calling
// thread's network namespace), srv[i] the accepted end with TCP_NODELAY. 0, or -1 (said).
static int connect_pairs(int ls, const struct sockaddr_in* a, int n, int* srv, int* cli) {
  for (int i = 0; i < n; i++) {
    cli[i] = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(cli[i], (const void*)a, sizeof *a)) {
      perror("connect");
      return -1;
    }
    srv[i] = accept(ls, 0, 0);
    int one = 1;
    setsockopt(srv[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return 0;
}

static void pin(int cpu) {
  if (cpu < 0) return;
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  sched_setaffinity(0, sizeof s, &s);
}

static pid_t start_reader(int n, const int* srv, const int* cli, int cpu) {
  pid_t child = fork();
  if (child != 0) return child;
  pin(cpu);
  for (int i = 0; i < n; i++) close(srv[i]);
  int ep = epoll_create1(0);
  for (int i = 0; i < n; i++) {
    struct epoll_event e = {.events = EPOLLIN, .data.fd = cli[i]};
    epoll_ctl(ep, EPOLL_CTL_ADD, cli[i], &e);
  }
  static char buf[65536];
  struct epoll_event ev[256];
  for (;;) {
    int k = epoll_wait(ep, ev, 256, -1);
    for (int j = 0; j < k; j++)
      if (read(ev[j].data.fd, buf, sizeof buf) <= 0) _exit(0);
  }
}
