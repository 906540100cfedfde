// The messages between a live class's home and its edge replicas (ws/city_wire.h): each
// round-trips, and malformed ones are refused rather than misread.
#include "ws/city_wire.h"

#include <gtest/gtest.h>

namespace ws::wire {
namespace {

TEST(CityWire, JoinRoundTripsWithAndWithoutResume) {
  classroom::Actor actor{"u_ana", "Ana \"A\"", base::Role::kStudent};
  auto u = parse_upstream(up_join("ses_1", "b/7", "b", actor, std::nullopt));
  ASSERT_TRUE(u.is_ok()) << u.status().message();
  EXPECT_EQ(u->op, UpOp::kJoin);
  EXPECT_EQ(u->session, "ses_1");
  EXPECT_EQ(u->conn, "b/7");
  EXPECT_EQ(u->edge, "b");
  EXPECT_EQ(u->actor.id, "u_ana");
  EXPECT_EQ(u->actor.name, "Ana \"A\"");
  EXPECT_EQ(u->actor.role, base::Role::kStudent);
  EXPECT_FALSE(u->resume);

  actor.role = base::Role::kAdmin;
  u = parse_upstream(up_join("ses_1", "b/8", "b", actor, classroom::ResumePoint{"ep_x", 41}));
  ASSERT_TRUE(u.is_ok());
  EXPECT_EQ(u->actor.role, base::Role::kAdmin);
  ASSERT_TRUE(u->resume);
  EXPECT_EQ(u->resume->epoch, "ep_x");
  EXPECT_EQ(u->resume->last_seq, 41u);
}

TEST(CityWire, MessageLeaveAliveRoundTrip) {
  auto m = parse_upstream(up_message("s", "c/1", "{\"type\":\"chat\",\"text\":\"hi\\n\"}"));
  ASSERT_TRUE(m.is_ok());
  EXPECT_EQ(m->op, UpOp::kMessage);
  EXPECT_EQ(m->text, "{\"type\":\"chat\",\"text\":\"hi\\n\"}");
  auto l = parse_upstream(up_leave("s", "c/1"));
  ASSERT_TRUE(l.is_ok());
  EXPECT_EQ(l->op, UpOp::kLeave);
  EXPECT_EQ(l->conn, "c/1");
  auto a = parse_upstream(up_alive("s", "c", {"c/1", "c/2"}));
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(a->op, UpOp::kAlive);
  EXPECT_EQ(a->conns, (std::vector<std::string>{"c/1", "c/2"}));
}

TEST(CityWire, MalformedUpstreamIsRefused) {
  for (const char* bad :
       {"", "[]", "{\"op\":\"msg\"}", "{\"op\":\"msg\",\"s\":\"x\",\"c\":\"y\"}",
        "{\"op\":\"join\",\"s\":\"x\",\"c\":\"y\",\"e\":\"b\",\"u\":{\"id\":\"u\",\"role\":\"x\"}}",
        "{\"op\":\"fly\",\"s\":\"x\"}", "{\"op\":\"alive\",\"s\":\"x\",\"e\":\"b\"}"}) {
    EXPECT_FALSE(parse_upstream(bad).is_ok()) << bad;
  }
}

TEST(CityWire, EventKeepsItsAudience) {
  classroom::RoomEvent ev{9, classroom::Audience::teachers_and("u_bo"),
                          std::make_shared<const std::string>("{\"type\":\"hand_raised\"}")};
  const std::string p = down_event(ev);
  auto d = parse_downstream(p);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, DownKind::kEvent);
  EXPECT_FALSE(d->audience.students);
  EXPECT_TRUE(d->audience.teachers);
  EXPECT_EQ(d->audience.user, "u_bo");
  EXPECT_EQ(d->body, "{\"type\":\"hand_raised\"}");

  ev.audience = classroom::Audience::everyone();
  const std::string p2 = down_event(ev);
  d = parse_downstream(p2);
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->audience.students && d->audience.teachers);
  EXPECT_EQ(d->audience.user, "");
}

TEST(CityWire, WelcomeReplyAndCloseRoundTrip) {
  // Downstream points into the payload: keep it.
  const std::string welcome = down_welcome("b/3", "{\"type\":\"welcome\"}\nx");
  auto w = parse_downstream(welcome);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->kind, DownKind::kWelcome);
  EXPECT_EQ(w->conn, "b/3");
  EXPECT_EQ(w->body, "{\"type\":\"welcome\"}\nx");
  const std::string reply = down_reply("b/3", "{}");
  auto r = parse_downstream(reply);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, DownKind::kReply);

  const std::string close =
      down_close("b/3", 4009,
                 base::Status(base::Code::kResourceExhausted, "the room is full", "session_full"));
  auto c = parse_downstream(close);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kind, DownKind::kClose);
  EXPECT_EQ(c->close_code, 4009);
  EXPECT_EQ(c->status.code(), base::Code::kResourceExhausted);
  EXPECT_EQ(c->status.reason(), "session_full");
  EXPECT_EQ(c->status.message(), "the room is full");
}

TEST(CityWire, MalformedDownstreamIsIgnored) {
  for (const char* bad : {"", "E", "E 1 u\n{}", "W \n{}", "Q x\n", "C b/3 4009 0 x\nm",
                          "C b/3 4009 99 x\nm", "C b/3 x 3 y\nm", "R b/3 extra\n{}",
                          // Close codes a close frame may not carry (a compromised or buggy
                          // replica): they would reach the browsers as they are.
                          "C b/3 0 3 x\nm", "C b/3 1005 3 x\nm", "C b/3 1006 3 x\nm",
                          "C b/3 -1 3 x\nm", "C b/3 5000 3 x\nm", "C b/3 69536 3 x\nm"}) {
    EXPECT_FALSE(parse_downstream(bad)) << bad;
  }
}

}  // namespace
}  // namespace ws::wire
