// LayerSelector: which simulcast layer one subscriber receives of one video stream.
//
// The publisher sends each layer (lowest first: 180p, 360p, 720p) and the SFU forwards one
// per subscriber. The choice follows that subscriber's own link, as its browser reports it:
// REMB (a receive-side, delay-based estimate) and the loss in its receiver reports.
//  - down at once on heavy loss (>= 10 %; Room smooths the reports, so one report of a
//    few percent random loss that happens to read 12 % is not heavy loss), or when the estimate
//    just fell (the browser saw queues grow) and the current layer no longer fits it (less what the
//    subscriber gets besides this stream): a layer switch, not retransmissions, answers a thin
//    link. An estimate below the layer that is not falling is a receive-side estimate still ramping
//    up (it starts near 300 kbit/s and grows some 8 % a second), not congestion;
//  - up one layer at a time, after a quiet spell (loss under 2 %), when the next layer fits
//    the estimate with 10 % to spare, or when the estimate is not what limits the subscriber:
//    1.3x to 2x what it receives now, where a receive-side estimate that has not met the
//    link sits (it stops growing at 1.5x the incoming rate, so switching up is the probe;
//    an estimate more than twice the incoming rate was measured at a higher rate and is the
//    link, so only the fit counts then). Either must hold at every decision for 2 s on end,
//    counted from a full rate window (1 s) after the current layer's key frame arrived: a
//    rate still showing the layer before, or one dip of a jittery rate or estimate, is not
//    a reason to switch. Down needs the estimate below the layer itself: between the two
//    thresholds nothing moves (hysteresis). An up-switch undone within 20 s failed (a
//    lossy link can take 8-10 s at the higher layer to show it): the wait before the next
//    try triples (2 s, 6 s, 18 s, ... up to 60 s) so a subscriber behind a thin or lossy
//    link settles on the layer that fits instead of oscillating; one that holds resets it. Before any estimate arrived, the wait is at least 10 s (the first REMB comes late).
// Layers the publisher is not sending now (rate 0: the browser paused it for its own
// uplink; the caller reports a layer that paused for under 2 s with its old rate) are never
// chosen. Pure logic over a clock passed in; one per consumer.
#pragma once

#include <cstdint>
#include <span>

namespace media {

class LayerSelector {
 public:
  static constexpr int64_t kMinUpWaitNs = 2'000'000'000;
  static constexpr int64_t kMaxUpWaitNs = 60'000'000'000;
  static constexpr int64_t kProbeWindowNs = 20'000'000'000;
  static constexpr int64_t kBlindUpWaitNs = 10'000'000'000;
  // How long the reason to go up must hold, checked at every decision.
  static constexpr int64_t kUpHoldNs = 2'000'000'000;
  // Up on the estimate: the next layer x this fits it (down: the layer itself does not).
  static constexpr double kUpMargin = 1.10;
  // The probe band: estimate / what the subscriber receives in [kProbeLow, kProbeHigh].
  static constexpr double kProbeLow = 1.3;
  static constexpr double kProbeHigh = 2.0;
  static constexpr double kLossDown = 0.10;
  static constexpr double kLossUp = 0.02;
  // Assumed link before any estimate arrived: the first layer chosen is the highest at or
  // below this.
  static constexpr uint64_t kStartBudgetBps = 250'000;

  struct Input {
    std::span<const uint64_t> layer_bps;  // each layer's rate now, lowest first; 0: not sent
    uint64_t estimate_bps = 0;            // the subscriber's estimated link; 0: unknown
    bool estimate_falling = false;        // it went down lately (a congestion signal)
    uint64_t other_bps = 0;               // what it receives besides this stream
    uint64_t sent_bps = 0;                // what it receives in total now
    double loss = 0;                      // fraction it reports lost, 0..1
    // sent_bps and other_bps reflect the layer chosen last: the subscriber has received it
    // for a whole rate window (the caller's; false while a switch waits for its key frame).
    bool settled = true;
  };

  // The layer this subscriber should receive now (-1 while no layer is sent).
  int select(const Input& in, int64_t now_ns);
  int target() const { return target_; }
  // The current wait before the next up-switch may be tried.
  int64_t up_wait_ns() const { return up_wait_ns_; }

 private:
  void change(int layer, bool up, int64_t now_ns);

  int target_ = -1;
  bool last_up_ = false;    // the last change was an up-switch (a probe until it holds)
  int64_t changed_ns_ = 0;  // when target_ last changed
  int64_t up_wait_ns_ = kMinUpWaitNs;
  int64_t up_since_ns_ = -1;  // since when the reason to go up held at every decision
};

}  // namespace media
