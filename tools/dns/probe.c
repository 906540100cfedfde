/* Resolves each argument with getaddrinfo() and prints "name: address" per result, or
 * "name: error CODE TEXT". Built statically by check-static-dns.sh to see what a static
 * glibc binary does in a FROM-scratch root. Exit status 0 when every name resolved. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char** argv) {
  int rc = 0;
  for (int i = 1; i < argc; ++i) {
    struct addrinfo hints;
    struct addrinfo* res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int e = getaddrinfo(argv[i], "6379", &hints, &res);
    if (e != 0) {
      printf("%s: error %d %s\n", argv[i], e, gai_strerror(e));
      rc = 1;
      continue;
    }
    for (struct addrinfo* p = res; p; p = p->ai_next) {
      char buf[INET6_ADDRSTRLEN];
      const void* a = p->ai_family == AF_INET
                          ? (const void*)&((struct sockaddr_in*)p->ai_addr)->sin_addr
                          : (const void*)&((struct sockaddr_in6*)p->ai_addr)->sin6_addr;
      inet_ntop(p->ai_family, a, buf, sizeof buf);
      printf("%s: %s\n", argv[i], buf);
    }
    freeaddrinfo(res);
  }
  return rc;
}
