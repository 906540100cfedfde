// WebSocket close codes of the live protocol (docs/live-protocol.md, "Close codes").
#pragma once

#include <cstdint>

#include "base/status.h"
#include "classroom/live_join.h"

namespace ws {

enum CloseCode : uint16_t {
  kCloseNormal = 1000,          // the session ended, or the client closed
  kCloseGoingAway = 1001,       // server shutdown (a single node), or the city failed
  kCloseServiceRestart = 1012,  // a replica of a city stops: reconnect now (to another)
  kCloseProtocolError = 1002,   // a malformed or unmasked frame (RFC 6455)
  kCloseInvalidPayload = 1007,  // text that is not UTF-8
  kCloseTooBig = 1009,          // message over the size limit
  kCloseProtocol = 4000,        // e.g. a binary frame
  kCloseUnauthenticated = 4001,
  kCloseForbidden = 4003,
  kCloseNotFound = 4004,
  kCloseTooSlow = 4008,  // send queue overflow
  kCloseFull = 4009,
  kCloseEnded = 4010,
  kCloseRemoved = 4011,
  kCloseRateLimited = 4029,
};

// The close code for each kind of refused join (the classroom decides the kind).
uint16_t close_code_for(classroom::JoinRefusal refusal);
// The close code for a refused join's Status (authentication, classroom::admit_live,
// classroom::enter_room): close_code_for(classroom::join_refusal(status)).
uint16_t close_code_for(const base::Status& status);

}  // namespace ws
