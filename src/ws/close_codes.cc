#include "ws/close_codes.h"

namespace ws {

uint16_t close_code_for(classroom::JoinRefusal refusal) {
  using R = classroom::JoinRefusal;
  switch (refusal) {
    case R::kUnauthenticated:
      return kCloseUnauthenticated;
    case R::kForbidden:
      return kCloseForbidden;
    case R::kNotFound:
      return kCloseNotFound;
    case R::kEnded:
      return kCloseEnded;
    case R::kFull:
      return kCloseFull;
    case R::kRemoved:
      return kCloseRemoved;
    case R::kTooManySockets:
      return kCloseRateLimited;
    case R::kUnavailable:
      return kCloseGoingAway;
    case R::kInvalid:
      return kCloseProtocol;
  }
  return kCloseProtocol;
}

uint16_t close_code_for(const base::Status& status) {
  return close_code_for(classroom::join_refusal(status));
}

}  // namespace ws
