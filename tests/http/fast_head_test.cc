// The request-head fast path (http/fast_head.h) against Beast's parser: wherever the fast path
// takes a request, Beast's parser (as the server sets it up: header limit, body limit, eager)
// must accept the same bytes with the same method, target, version, fields, keep-alive and
// length consumed; everything unusual must be left to Beast. tests/fuzz/http_fast_head_fuzz.cc
// runs the same comparison on fuzzed input.
#include "http/fast_head.h"

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <random>
#include <string>
#include <vector>

#include "fast_head_readings.h"

namespace http {
namespace {

constexpr size_t kServerHeaderLimit = 16 * 1024;

// Beast's reading of `bytes`, or "" when it does not accept a whole request from them.
std::string fast_test_beast(std::string_view bytes, size_t header_limit) {
  return fast_head_readings::beast(bytes, header_limit);
}

// The fast path's reading of `bytes`, or "" when it leaves them to Beast.
std::string fast_test_fast(std::string_view bytes, size_t header_limit) {
  FastHead head;
  if (!parse_fast_head(bytes, header_limit, head)) return "";
  Request req;
  fill_request(head, req);
  std::string out = fast_head_readings::describe(req, head.consumed);
  // The server reads it through http::Incoming, which takes it unless the target is in the
  // absolute form (left to Beast, whose message the server rewrites to the origin form).
  bool mismatch = false;
  const std::string server = fast_head_readings::server_fast(bytes, header_limit, &mismatch);
  EXPECT_FALSE(mismatch) << "Incoming's accessors and its Beast message differ";
  if (head.target.front() == '/') {
    EXPECT_EQ(server, out);
  } else {
    EXPECT_EQ(server, "");
  }
  return out;
}

void expect_taken(const std::string& bytes, size_t header_limit = kServerHeaderLimit) {
  SCOPED_TRACE(bytes);
  const std::string fast = fast_test_fast(bytes, header_limit);
  ASSERT_FALSE(fast.empty()) << "the fast path left it to Beast";
  EXPECT_EQ(fast, fast_test_beast(bytes, header_limit));
}

void expect_left_to_beast(const std::string& bytes, size_t header_limit = kServerHeaderLimit) {
  SCOPED_TRACE(bytes);
  FastHead head;
  EXPECT_FALSE(parse_fast_head(bytes, header_limit, head));
}

const std::string kToken =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzMCIsIm5hbWUiOiJzMCIsInJvbGUiOiJzdHVkZW50In0."
    "c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1oZXJlLXRoaXJ0eS10d28tYnl0ZXM";

TEST(FastHeadTest, TakesTheBenchmarksRequestAsBeastReadsIt) {
  const std::string req =
      "GET /api/v1/courses/c_0123456789abcdef HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
      "Authorization: Bearer " +
      kToken + "\r\n\r\n";
  expect_taken(req);
  FastHead head;
  ASSERT_TRUE(parse_fast_head(req, kServerHeaderLimit, head));
  EXPECT_EQ(head.method, Verb::get);
  EXPECT_EQ(head.target, "/api/v1/courses/c_0123456789abcdef");
  EXPECT_EQ(head.version, 11u);
  ASSERT_EQ(head.field_count, 2u);
  EXPECT_EQ(head.fields[0].name, beast_http::field::host);
  EXPECT_EQ(head.fields[1].name, beast_http::field::authorization);
  EXPECT_EQ(head.fields[1].value(), "Bearer " + kToken);
  EXPECT_EQ(head.consumed, req.size());
}

TEST(FastHeadTest, TakesPlainVariantsAsBeastReadsThem) {
  expect_taken("HEAD /healthz HTTP/1.1\r\nHost: a\r\n\r\n");
  expect_taken("DELETE /api/v1/courses/x/members/me HTTP/1.1\r\nHost: a\r\n\r\n");
  expect_taken("GET / HTTP/1.0\r\n\r\n");
  expect_taken("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  expect_taken("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  expect_taken("GET / HTTP/1.1\r\nHost: a\r\nconnection: CLOSE\r\n\r\n");
  // Keep-alive is decided by the first Connection field, as Beast's message decides it.
  expect_taken("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n");
  expect_taken("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n");
  expect_taken("GET / HTTP/1.0\r\nConnection: close\r\nConnection: keep-alive\r\n\r\n");
  expect_taken("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n");
  expect_taken("GET /a?b=c&d=%20e HTTP/1.1\r\nhOsT:a\r\n\r\n");
  // Fields of one name apart (Beast's message puts them together, each name's in the order
  // sent; the fast head keeps the order sent): found by http_fast_head_fuzz.
  expect_taken("GET / HTTP/1.1\r\nX-A: 1\r\nHost: a\r\nx-a: 2\r\nX-B: 3\r\nHOST: b\r\n\r\n");
  expect_taken("GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n");
  // Spaces around and inside a value, an empty value, names Beast does not know.
  expect_taken(
      "GET / HTTP/1.1\r\nHost:    a   \r\nX-Empty:\r\nX-Spaces:   \r\nUser-Agent: a b  c\r\n\r\n");
  expect_taken(
      "GET / HTTP/1.1\r\nHost: a\r\nX-Request-Id: abc-123\r\nAccept: */*\r\nOrigin: "
      "http://x\r\n\r\n");
  expect_taken("GET / HTTP/1.1\r\n!#$%&'*+-.^_`|~09azAZ: v\r\nHost: a\r\n\r\n");
  // Two Host fields: Beast accepts them (the server then refuses the request), so do we.
  expect_taken("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  // Pipelined: only the first request is consumed.
  expect_taken("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
  expect_taken(
      "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
}

TEST(FastHeadTest, LeavesEverythingUnusualToBeast) {
  const char* const cases[] = {
      "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
      "PUT /x HTTP/1.1\r\nHost: a\r\n\r\n",
      "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
      "get / HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
      "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
      "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\ntransfer-encoding: gzip\r\n\r\n",
      "GET /live HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: close, keep-alive\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: ,\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nProxy-Connection: close\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n\tb\r\n\r\n",
      "GET / HTTP/1.1\r\nHost:\ta\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\tb\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
      "GET / HTTP/1.1\nHost: a\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n\n",
      "GET / HTTP/1.1\r\nHost: a\r\n\r",
      "GET / HTTP/1.1\r\nHost: caf\xc3\xa9\r\n\r\n",
      "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n",
      "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
      "GET / HTTP/1.1\r\n: a\r\n\r\n",
      "GET / HTTP/1.1\r\nX(y): a\r\n\r\n",
      "GET / HTTP/1.2\r\nHost: a\r\n\r\n",
      "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n",
      "GET / HTTP/1.1\r\nHost: a",
      "GET /",
      "",
  };
  for (const char* c : cases) expect_left_to_beast(c);
  std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (size_t i = 0; i < FastHead::kMaxFastFields; ++i)
    many += "X-" + std::to_string(i) + ": v\r\n";
  expect_left_to_beast(many + "\r\n");
}

TEST(FastHeadTest, TakesAHeadUpToTheHeaderLimitAndNoLonger) {
  const std::string req =
      "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " + kToken + "\r\n\r\n";
  for (size_t limit = req.size() - 3; limit <= req.size() + 3; ++limit) {
    SCOPED_TRACE(limit);
    const std::string fast = fast_test_fast(req, limit);
    EXPECT_EQ(fast.empty(), limit < req.size());
    if (!fast.empty()) {
      EXPECT_EQ(fast, fast_test_beast(req, limit));
    }
  }
}

// Random edits of plain requests: wherever the fast path takes the result, Beast agrees.
TEST(FastHeadTest, AgreesWithBeastOnRandomEdits) {
  const std::vector<std::string> seeds = {
      "GET /api/v1/courses/c1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAuthorization: Bearer " + kToken +
          "\r\n\r\n",
      "HEAD / HTTP/1.0\r\nConnection: keep-alive\r\nX: y\r\n\r\n",
      "DELETE /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
  };
  const std::string alphabet =
      "\r\n \t:,\x7f\x80\x01/AaGET-HTTP10Content-LengthUpgradeconnectionclose";
  std::mt19937 rng(1234);
  size_t taken = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = seeds[rng() % seeds.size()];
    const int edits = 1 + int(rng() % 3);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const size_t at = rng() % s.size();
      switch (rng() % 3) {
        case 0:
          s[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          s.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        default:
          s.erase(at, 1 + rng() % 4);
          break;
      }
    }
    const size_t limit = (rng() % 2) ? kServerHeaderLimit : 32 + rng() % 256;
    const std::string fast = fast_test_fast(s, limit);
    if (fast.empty()) continue;
    ++taken;
    ASSERT_EQ(fast, fast_test_beast(s, limit)) << "input: " << s << " limit " << limit;
  }
  EXPECT_GT(taken, 1000u);  // the edits leave many requests the fast path takes
}

}  // namespace
}  // namespace http
