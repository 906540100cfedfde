// edgeclass-loadtest VERB [flags]: load tools against a running edgeclass.
//   live   N students across M rooms over WebSockets (see loadtest_live.cc)
#include <cstdio>
#include <cstring>

int run_live(int argc, char** argv);

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "live") == 0) return run_live(argc - 2, argv + 2);
  std::fprintf(stderr,
               "usage: edgeclass-loadtest live [--port P] [--secret S] [--rooms M] "
               "[--students N] [--events K] [--interval-ms I] [--slow S] [--pid PID]\n");
  return 2;
}
