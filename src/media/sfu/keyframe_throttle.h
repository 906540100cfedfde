// KeyframeThrottle: coalesces key frame requests toward one publisher stream.
//
// Many subscribers may lose the picture at once (a network blip, a burst of joins); each
// sends PLI or FIR. Forwarding them all would make the publisher's encoder produce key
// frames back to back and flood every subscriber's link. So at most one request per
// interval goes to the publisher; requests during the interval are remembered and sent when
// it ends, unless a key frame arrived meanwhile (which satisfies them).
#pragma once

#include <cstdint>

namespace media {

class KeyframeThrottle {
 public:
  explicit KeyframeThrottle(int64_t interval_ms = 1000) : interval_ns_(interval_ms * 1'000'000) {}

  // A subscriber asked for a key frame. True when a request should be sent now.
  bool request(int64_t now_ns) {
    if (sent_ever_ && now_ns - last_sent_ns_ < interval_ns_) {
      pending_ = true;
      return false;
    }
    mark_sent(now_ns);
    return true;
  }
  // A key frame arrived from the publisher: pending requests are satisfied.
  void on_keyframe() { pending_ = false; }
  // Call periodically. True when a deferred request is due now.
  bool poll(int64_t now_ns) {
    if (!pending_ || now_ns - last_sent_ns_ < interval_ns_) return false;
    mark_sent(now_ns);
    return true;
  }
  bool pending() const { return pending_; }

 private:
  void mark_sent(int64_t now_ns) {
    sent_ever_ = true;
    pending_ = false;
    last_sent_ns_ = now_ns;
  }
  int64_t interval_ns_;
  bool sent_ever_ = false;
  bool pending_ = false;
  int64_t last_sent_ns_ = 0;
};

}  // namespace media
