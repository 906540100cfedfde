#include "wasi/http1.h"

#include <gtest/gtest.h>

namespace wasi {
namespace {

TEST(Http1Test, ParsesARequestWithBody) {
  std::string in =
      "POST /api/v1/courses?x=1 HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer t\r\n"
      "Content-Length: 4\r\n\r\nbodyGET /next";
  ParseResult r = parse_request(in, Limits{});
  ASSERT_EQ(r.status, ParseStatus::kRequest);
  EXPECT_EQ(r.request.method, "POST");
  EXPECT_EQ(r.request.target, "/api/v1/courses?x=1");
  EXPECT_EQ(r.request.body, "body");
  EXPECT_EQ(r.request.find("authorization").value_or(""), "Bearer t");
  EXPECT_TRUE(r.request.keep_alive);
  EXPECT_EQ(r.request.size, in.size() - std::string("GET /next").size());
}

TEST(Http1Test, WaitsForTheWholeBody) {
  std::string in = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc";
  EXPECT_EQ(parse_request(in, Limits{}).status, ParseStatus::kIncomplete);
  EXPECT_EQ(parse_request("GET / HTTP/1.1\r\nHost: a\r\n", Limits{}).status,
            ParseStatus::kIncomplete);
}

TEST(Http1Test, HeadersOverTheLimitAre431) {
  Limits l;
  l.header_limit = 64;
  std::string in = "GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + std::string(100, 'x');
  ParseResult r = parse_request(in, l);
  ASSERT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.error.status, 431);
  EXPECT_EQ(rest::error_code_of(r.error.status, r.error.body), "headers_too_large");
}

TEST(Http1Test, BodyOverTheLimitIs413BeforeItArrives) {
  Limits l;
  l.body_limit = 10;
  ParseResult r = parse_request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", l);
  ASSERT_EQ(r.status, ParseStatus::kError);
  EXPECT_EQ(r.error.status, 413);
  EXPECT_EQ(rest::error_code_of(r.error.status, r.error.body), "body_too_large");
}

TEST(Http1Test, MalformedRequestsAre400) {
  for (std::string in : {std::string("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n"),
                         std::string("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
                                     "Content-Length: 2\r\n\r\n"),
                         std::string("GET / HTTP/1.1\r\n\r\n"),  // no Host
                         std::string("G\x01T / HTTP/1.1\r\nHost: a\r\n\r\n")}) {
    ParseResult r = parse_request(in, Limits{});
    ASSERT_EQ(r.status, ParseStatus::kError) << in;
    EXPECT_EQ(r.error.status, 400) << in;
  }
}

TEST(Http1Test, DecodesAChunkedBody) {
  std::string head = "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n";
  std::string body =
      "4;ext=1\r\nWiki\r\nb\r\npedia in \r\n\r\nA \r\nchunks....\r\n0\r\n"
      "X-Trailer: t\r\n\r\n";
  std::string in = head + body + "GET /next";
  ParseResult r = parse_request(in, Limits{});
  ASSERT_EQ(r.status, ParseStatus::kRequest);
  EXPECT_EQ(r.request.body, "Wikipedia in \r\nchunks....");
  EXPECT_EQ(r.request.size, head.size() + body.size());
  // The body survives a move of the request (it is on the heap, not in the input).
  ParsedRequest moved = std::move(r.request);
  EXPECT_EQ(moved.body, "Wikipedia in \r\nchunks....");
  // Every prefix is incomplete, never an error or a request.
  for (size_t i = head.size(); i < head.size() + body.size(); ++i) {
    EXPECT_EQ(parse_request(in.substr(0, i), Limits{}).status, ParseStatus::kIncomplete) << i;
  }
  ParseResult empty = parse_request(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", Limits{});
  ASSERT_EQ(empty.status, ParseStatus::kRequest);
  EXPECT_EQ(empty.request.body, "");
}

TEST(Http1Test, BadChunkedBodiesAreRefused) {
  const std::string te = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n";
  struct Case {
    std::string in;
    int status;
  };
  Limits l;
  l.body_limit = 10;
  l.chunk_overhead_limit = 100;
  for (const Case& c : {
           Case{te + "\r\nz\r\nabc\r\n0\r\n\r\n", 400},           // size is not hex
           Case{te + "\r\n3\r\nabcd\r\n0\r\n\r\n", 400},          // data longer than its size
           Case{te + "\r\n-1\r\n", 400},                          // a sign
           Case{te + "\r\nb\r\n", 413},                           // one chunk over the limit
           Case{te + "\r\n6\r\nabcdef\r\n6\r\nabcdef\r\n", 413},  // two chunks over it
           Case{te + "\r\nffffffffffffffffffffff\r\n", 413},      // overflows size_t
           Case{te + "\r\n1\r\na\r\n0\r\n" + std::string(120, 'x'), 413},  // endless trailer
           Case{te + "Content-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400},
           Case{"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
           Case{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
       }) {
    ParseResult r = parse_request(c.in, l);
    ASSERT_EQ(r.status, ParseStatus::kError) << c.in;
    EXPECT_EQ(r.error.status, c.status) << c.in;
  }
}

TEST(Http1Test, KeepAliveFollowsVersionAndConnection) {
  EXPECT_FALSE(parse_request("GET / HTTP/1.0\r\n\r\n", Limits{}).request.keep_alive);
  EXPECT_TRUE(parse_request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", Limits{})
                  .request.keep_alive);
  EXPECT_FALSE(parse_request("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", Limits{})
                   .request.keep_alive);
}

TEST(Http1Test, AbsoluteFormIsServedAsOriginForm) {
  ParseResult r = parse_request("GET http://h:1/healthz?a=b HTTP/1.1\r\nHost: h\r\n\r\n", Limits{});
  ASSERT_EQ(r.status, ParseStatus::kRequest);
  EXPECT_EQ(r.request.target, "/healthz?a=b");
}

TEST(Http1Test, SerializesWithFramingHeaders) {
  rest::Response res = rest::json_response(201, boost::json::object{{"a", 1}});
  std::string out;
  serialize_response(res, 1, false, false, out);
  EXPECT_EQ(out,
            "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nServer: edgeclass\r\n"
            "Content-Length: 7\r\nConnection: close\r\n\r\n{\"a\":1}");
  serialize_response(res, 1, true, true, out);  // HEAD: the length of the body not sent
  EXPECT_EQ(out,
            "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nServer: edgeclass\r\n"
            "Content-Length: 7\r\n\r\n");
}

}  // namespace
}  // namespace wasi
