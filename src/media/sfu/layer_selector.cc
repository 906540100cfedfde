#include "media/sfu/layer_selector.h"

#include <algorithm>

namespace media {

void LayerSelector::change(int layer, bool up, int64_t now_ns) {
  target_ = layer;
  last_up_ = up;
  changed_ns_ = now_ns;
  up_since_ns_ = -1;
}

int LayerSelector::select(const Input& in, int64_t now_ns) {
  const int n = int(in.layer_bps.size());
  auto active = [&](int i) { return i >= 0 && i < n && in.layer_bps[size_t(i)] > 0; };
  int lowest = -1;
  for (int i = 0; i < n && lowest < 0; ++i) {
    if (active(i)) lowest = i;
  }
  if (lowest < 0) return target_;  // nothing is being sent: keep the choice for later
  // What this stream may use of the subscriber's link (5 % kept for RTCP and jitter).
  const bool known = in.estimate_bps > 0;
  const uint64_t est = in.estimate_bps * 95 / 100;
  const uint64_t room = known && est > in.other_bps ? est - in.other_bps : 0;
  auto fits = [&](int i) { return !known || in.layer_bps[size_t(i)] <= room; };

  if (!active(target_)) {
    // First choice, or the layer we had stopped: the highest that fits what we know.
    uint64_t budget = known ? room : kStartBudgetBps;
    int pick = lowest;
    for (int i = lowest; i < n; ++i) {
      if (active(i) && in.layer_bps[size_t(i)] <= budget) pick = i;
    }
    change(pick, false, now_ns);
    return target_;
  }

  // An estimate under the layer that is not falling is one still ramping up: not congestion.
  const bool congested = in.loss >= kLossDown || (in.estimate_falling && !fits(target_));
  if (congested) {
    int down = -1;
    for (int i = 0; i < target_; ++i) {
      if (active(i) && (down < 0 || fits(i))) down = i;
    }
    if (down >= 0) {
      if (last_up_ && now_ns - changed_ns_ < kProbeWindowNs) {
        up_wait_ns_ = std::min(up_wait_ns_ * 3, kMaxUpWaitNs);  // the probe failed
      }
      change(down, false, now_ns);
    }
    return target_;
  }
  if (last_up_ && now_ns - changed_ns_ >= kProbeWindowNs) {
    up_wait_ns_ = kMinUpWaitNs;  // the last up-switch held
    last_up_ = false;
  }
  int up = -1;
  for (int i = target_ + 1; i < n && up < 0; ++i) {
    if (active(i)) up = i;
  }
  // The reason to go up, at this decision: the next layer fits with room to spare, or the
  // estimate is in the probe band over a rate that shows the current layer.
  bool reason = false;
  if (up >= 0 && in.loss < kLossUp && in.settled) {
    const double ratio =
        known && in.sent_bps > 0 ? double(in.estimate_bps) / double(in.sent_bps) : 0;
    const bool fits_up = known && double(in.layer_bps[size_t(up)]) * kUpMargin <= double(room);
    const bool probe = !known || (ratio >= kProbeLow && ratio <= kProbeHigh);
    reason = fits_up || probe;
  }
  if (!reason) {
    up_since_ns_ = -1;
    return target_;
  }
  if (up_since_ns_ < 0) up_since_ns_ = now_ns;
  int64_t wait = known ? up_wait_ns_ : std::max(up_wait_ns_, kBlindUpWaitNs);
  if (now_ns - changed_ns_ >= wait && now_ns - up_since_ns_ >= kUpHoldNs) change(up, true, now_ns);
  return target_;
}

}  // namespace media
