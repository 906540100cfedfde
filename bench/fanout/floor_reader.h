// The reading side of the floor programs (sendfloor.c, ringfloor.c): a child process on
// `cpu` (-1: not pinned) that reads every one of the n client sockets cli[] with epoll until
// one ends. The child closes the server ends srv[]; the caller then closes cli[] on its side.
#pragma once
#include <sched.h>
#include <sys/epoll.h>
#include <unistd.h>

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
