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
  ParseResult chunked =
      parse_request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", Limits{});
  ASSERT_EQ(chunked.status, ParseStatus::kError);
  EXPECT_EQ(chunked.error.status, 411);
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
