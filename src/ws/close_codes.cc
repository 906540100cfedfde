#include "ws/close_codes.h"

namespace ws {

uint16_t close_code_for(const base::Status& status) {
  std::string_view reason = status.reason();
  if (reason == "session_full") return kCloseFull;
  if (reason == "session_ended") return kCloseEnded;
  if (reason == "removed") return kCloseRemoved;
  if (reason == "too_many_live_sockets") return kCloseRateLimited;
  switch (status.code()) {
    case base::Code::kUnauthenticated: return kCloseUnauthenticated;
    case base::Code::kPermissionDenied: return kCloseForbidden;
    case base::Code::kNotFound: return kCloseNotFound;
    case base::Code::kResourceExhausted: return kCloseFull;
    case base::Code::kUnavailable: return kCloseGoingAway;
    default: return kCloseProtocol;
  }
}

}  // namespace ws
