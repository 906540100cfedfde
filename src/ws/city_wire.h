// What the home and the edges of one live class send each other (ws::CityLink): the upstream
// envelopes (edge -> home, JSON) and the session channel's payloads (home -> edges, one
// header line and a body). Pure functions; no I/O.
//
// Upstream (one JSON object):
//   {"op":"join","s":session,"c":conn,"e":edge,"u":{"id","name","role"},"epoch"?,"last_seq"?}
//   {"op":"msg","s":session,"c":conn,"t":text}        a client message, as the client sent it
//   {"op":"leave","s":session,"c":conn}
//   {"op":"alive","s":session,"e":edge,"conns":[conn...]}  every EdgeRoom::kBeat
// Channel ("<kind> <fields>\n<body>"):
//   "E <students><teachers> <user>\n<event>"  a room event and its audience (flags 0/1)
//   "W <conn>\n<welcome>"                      the welcome of a connection the home admitted
//   "R <conn>\n<text>"                         a reply to one connection (error, pong, replay)
//   "C <conn> <close code> <status code> <reason>\n<message>"  close one connection, or
//                                              refuse its join (the Status, as the home had it)
// Connection ids are "<edge replica id>/<number>", unique per edge process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "classroom/authz.h"
#include "classroom/room.h"

namespace ws::wire {

enum class UpOp { kJoin, kMessage, kLeave, kAlive };

struct Upstream {
  UpOp op = UpOp::kMessage;
  std::string session;
  std::string conn;
  std::string edge;
  classroom::Actor actor;                        // kJoin
  std::optional<classroom::ResumePoint> resume;  // kJoin
  std::string text;                              // kMessage
  std::vector<std::string> conns;                // kAlive
};

std::string up_join(std::string_view session, std::string_view conn, std::string_view edge,
                    const classroom::Actor& actor,
                    const std::optional<classroom::ResumePoint>& resume);
std::string up_message(std::string_view session, std::string_view conn, std::string_view text);
std::string up_leave(std::string_view session, std::string_view conn);
std::string up_alive(std::string_view session, std::string_view edge,
                     const std::vector<std::string>& conns);
base::Result<Upstream> parse_upstream(std::string_view payload);

enum class DownKind { kEvent, kWelcome, kReply, kClose };

struct Downstream {
  DownKind kind = DownKind::kEvent;
  std::string conn;
  classroom::Audience audience;  // kEvent
  uint16_t close_code = 0;       // kClose
  base::Status status;           // kClose: why (never OK)
  std::string_view body;         // points into the payload
};

std::string down_event(const classroom::RoomEvent& event);
std::string down_welcome(std::string_view conn, std::string_view welcome);
std::string down_reply(std::string_view conn, std::string_view text);
std::string down_close(std::string_view conn, uint16_t close_code, const base::Status& why);
// nullopt when the payload is not one of the above.
std::optional<Downstream> parse_downstream(std::string_view payload);

}  // namespace ws::wire
