// KeyframeThrottle: coalesces key frame requests toward one publisher stream.
//
// Many subscribers may lose the picture at once (a network blip, a burst of joins); each
// sends PLI or FIR. Forwarding them all would make the publisher's encoder produce key
// frames back to back and flood every subscriber's link. So at most one request per
// interval goes to the publisher; requests during the interval are remembered and sent when
// it ends, unless a key frame arrived meanwhile (which satisfies them).
#pragma once

#include <algorithm>
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

// One subscriber's own key frame requests (PLI/FIR). A student whose link cannot carry its
// layer loses pictures again and again and asks after each; every request it gets through
// costs the whole class a key frame of that layer. So a subscriber is answered at most once
// per interval, and the interval doubles (1 s, 2 s, 4 s, up to 8 s) while it keeps asking
// within twice the interval of its last answered request; after a quiet spell it is back
// to 1 s. Requests inside the interval are dropped, not deferred: a decoder still waiting
// asks again. (The layer selector moves such a student to a thinner layer meanwhile.)
class KeyframeRequestBackoff {
 public:
  static constexpr int64_t kMinIntervalNs = 1'000'000'000;
  static constexpr int64_t kMaxIntervalNs = 8'000'000'000;

  // True when this request should be passed on (to the publisher stream's KeyframeThrottle).
  bool allow(int64_t now_ns) {
    if (granted_ever_) {
      int64_t since = now_ns - last_ns_;
      if (since < interval_ns_) return false;
      interval_ns_ =
          since < 2 * interval_ns_ ? std::min(2 * interval_ns_, kMaxIntervalNs) : kMinIntervalNs;
    }
    granted_ever_ = true;
    last_ns_ = now_ns;
    return true;
  }
  int64_t interval_ns() const { return interval_ns_; }

 private:
  bool granted_ever_ = false;
  int64_t last_ns_ = 0;
  int64_t interval_ns_ = kMinIntervalNs;
};

}  // namespace media
