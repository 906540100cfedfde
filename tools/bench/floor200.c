/* The cold start floor: a static C server that answers every request with 200 at once, so
 * exec-to-first-200 is process start-up alone (exec, the dynamic loader's absence, socket,
 * bind, listen, accept). scripts/bench-cold.sh runs it beside edgeclass with the same
 * tools/bench/coldstart.c.
 *
 *   gcc -O2 -static -o floor200 floor200.c && ./floor200 PORT
 *
 * Listens on 127.0.0.1:PORT; reads a request (one read) and answers
 * "HTTP/1.1 200 OK" with a 2-byte body, then closes. SIGTERM ends it. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)atoi(argv[1]));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(ls, (struct sockaddr*)&a, sizeof a) != 0 || listen(ls, 128) != 0) return 1;
  static const char res[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
  for (;;) {
    int c = accept(ls, NULL, NULL);
    if (c < 0) continue;
    char buf[1024];
    if (read(c, buf, sizeof buf) > 0) {
      ssize_t w = write(c, res, sizeof res - 1);
      (void)w;
    }
    close(c);
  }
}
