// edgeclass-loadtest VERB [flags]: load tools against a running edgeclass.
//   live   N students across M rooms over WebSockets (see loadtest_live.cc)
//   media  N video subscribers on one published stream (see loadtest_media.cc)
#include <cstdio>
#include <cstring>

int run_live(int argc, char** argv);
namespace loadtest {
int run_media(int argc, char** argv);
}

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "live") == 0) return run_live(argc - 2, argv + 2);
  if (argc >= 2 && std::strcmp(argv[1], "media") == 0) {
    return loadtest::run_media(argc - 2, argv + 2);
  }
  std::fprintf(stderr,
               "usage: edgeclass-loadtest live [--port P] [--secret S] [--rooms M] "
               "[--students N] [--events K] [--interval-ms I] [--slow S] [--pid PID]\n"
               "       edgeclass-loadtest media [--port P] [--secret S] [--subscribers N] "
               "[--seconds S] [--warmup S] [--video-kbps K] [--audio 0|1] [--pid PID] "
               "[--concurrency C] [--csv FILE]\n");
  return 2;
}
