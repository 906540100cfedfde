#include <gtest/gtest.h>

#include <cstddef>
#include <set>

#include "media/sfu/keyframe_throttle.h"
#include "media/sfu/layer_selector.h"
#include "media/sfu/media_metrics.h"
#include "media/sfu/nack_generator.h"
#include "media/sfu/packet_cache.h"
#include "media/sfu/rate_meter.h"
#include "media/sfu/receive_stats.h"
#include "media/sfu/room.h"
#include "media/sfu/rtp_rewriter.h"
#include "media/sfu/video_quality.h"
#include "media/sfu/vp8_rewriter.h"

namespace media {
namespace {

constexpr int64_t kMs = 1'000'000;

TEST(RtpRewriter, ContinuousAcrossSourceChange) {
  RtpRewriter rw(/*is_video=*/false, 48000);
  // First source: seq 100.., ts 1000 + 960 per 20 ms.
  for (int i = 0; i < 5; ++i) {
    auto out =
        rw.rewrite({0xAAAA, uint16_t(100 + i), uint32_t(1000 + 960 * i), false}, i * 20 * kMs);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->seq, 100 + i);
    EXPECT_EQ(out->timestamp, uint32_t(1000 + 960 * i));
  }
  // The publisher restarts 500 ms later with another SSRC and random seq/ts.
  auto out = rw.rewrite({0xBBBB, 60000, 777777, false}, 580 * kMs);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->seq, 105);
  EXPECT_EQ(out->timestamp, uint32_t(1000 + 960 * 4 + 500 * 48));
  auto next = rw.rewrite({0xBBBB, 60001, 777777 + 960, false}, 600 * kMs);
  EXPECT_EQ(next->seq, 106);
  EXPECT_EQ(next->timestamp, out->timestamp + 960);
  // Sequence wrap of the source passes through.
  RtpRewriter w(false, 48000);
  w.rewrite({1, 65535, 0, false}, 0);
  EXPECT_EQ(w.rewrite({1, 0, 960, false}, 20 * kMs)->seq, 0);
}

TEST(RtpRewriter, RestartContinuesNumberingAtNextKeyframe) {
  RtpRewriter rw(/*is_video=*/true, 90000);
  ASSERT_TRUE(rw.rewrite({1, 100, 0, true}, 0));
  rw.restart();
  EXPECT_FALSE(rw.rewrite({1, 150, 9000, false}, 100 * kMs));
  auto o = rw.rewrite({1, 151, 9000, true}, 100 * kMs);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->seq, 101);  // no gap for the subscriber to NACK
}

TEST(RtpRewriter, VideoWaitsForKeyframeAndDropsLatePackets) {
  RtpRewriter rw(/*is_video=*/true, 90000);
  EXPECT_FALSE(rw.rewrite({1, 10, 0, false}, 0));
  EXPECT_TRUE(rw.waiting_for_keyframe());
  ASSERT_TRUE(rw.rewrite({1, 11, 3000, true}, 33 * kMs));
  EXPECT_FALSE(rw.waiting_for_keyframe());
  EXPECT_TRUE(rw.rewrite({1, 12, 3000, false}, 34 * kMs));
  // A late packet from before the mapping began is dropped.
  EXPECT_FALSE(rw.rewrite({1, 9, 0, false}, 35 * kMs));
  // NACK mapping is the inverse within the mapping.
  EXPECT_EQ(rw.source_seq_for(12), 12);
  EXPECT_FALSE(rw.source_seq_for(13));  // not sent yet
  // New source: out seq 13 maps to its seq 500.
  EXPECT_FALSE(rw.rewrite({2, 499, 0, false}, 40 * kMs));
  auto o = rw.rewrite({2, 500, 5, true}, 50 * kMs);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->seq, 13);
  EXPECT_EQ(rw.source_seq_for(13), 500);
  EXPECT_FALSE(rw.source_seq_for(12));  // belongs to the old source
}

TEST(PacketCache, FindsRecentPacketsOnly) {
  PacketCache cache(4, 1000);
  std::vector<uint8_t> pkt = {1, 2, 3};
  cache.store(7, 100, pkt, 0);
  EXPECT_EQ(cache.find(7, 100, 10 * kMs).size(), 3u);
  EXPECT_TRUE(cache.find(8, 100, 10 * kMs).empty());    // other SSRC
  EXPECT_TRUE(cache.find(7, 100, 1001 * kMs).empty());  // too old
  cache.store(7, 104, pkt, 0);                          // overwrites slot of 100
  EXPECT_TRUE(cache.find(7, 100, 0).empty());
}

TEST(KeyframeThrottle, AtMostOnePerSecondWithDeferredRequest) {
  KeyframeThrottle t;
  EXPECT_TRUE(t.request(0));
  for (int i = 1; i < 100; ++i) EXPECT_FALSE(t.request(i * kMs));
  EXPECT_FALSE(t.poll(999 * kMs));
  EXPECT_TRUE(t.poll(1000 * kMs));
  EXPECT_FALSE(t.poll(2500 * kMs));  // nothing pending
  EXPECT_FALSE(t.request(1500 * kMs));
  t.on_keyframe();  // satisfied by a key frame
  EXPECT_FALSE(t.poll(2500 * kMs));
}

TEST(ReceiveStats, LossAndWrap) {
  ReceiveStats s(90000);
  for (uint32_t i = 0; i < 20; ++i) {
    if (i == 5 || i == 6) continue;  // two lost
    s.on_packet(uint16_t(65530 + i), i * 3000, i * 33 * kMs);
  }
  auto b = s.report(42, 1000 * kMs);
  EXPECT_EQ(b.ssrc, 42u);
  EXPECT_EQ(b.cumulative_lost, 2);
  EXPECT_EQ(b.highest_seq, (1u << 16) + uint16_t(65530 + 19));
  EXPECT_EQ(b.fraction_lost, 2 * 256 / 20);
  auto b2 = s.report(42, 2000 * kMs);
  EXPECT_EQ(b2.fraction_lost, 0);  // nothing new lost in this interval
}

TEST(NackGenerator, RequestsGapsWithRetriesAndForgets) {
  NackGenerator g;
  EXPECT_FALSE(g.on_packet(65534, 0));
  EXPECT_TRUE(g.on_packet(2, 0));  // 65535, 0, 1 missing across the wrap
  EXPECT_EQ(g.due(0), (std::vector<uint16_t>{65535, 0, 1}));
  EXPECT_TRUE(g.due(50 * kMs).empty());    // within the retry interval
  EXPECT_FALSE(g.on_packet(0, 60 * kMs));  // a retransmission fills one hole
  EXPECT_EQ(g.due(100 * kMs), (std::vector<uint16_t>{65535, 1}));
  EXPECT_EQ(g.due(200 * kMs), (std::vector<uint16_t>{65535, 1}));
  EXPECT_TRUE(g.due(300 * kMs).empty());  // three tries each: given up asking
  EXPECT_EQ(g.missing_count(), 2u);       // but still awaited (a late answer to the last)
  EXPECT_TRUE(g.expected(1));
  EXPECT_FALSE(g.expected(0));  // arrived already: a second copy is a duplicate
  EXPECT_FALSE(g.expected(2));
  EXPECT_TRUE(g.expected(3));
  EXPECT_TRUE(g.due(1100 * kMs).empty());
  EXPECT_EQ(g.missing_count(), 0u);            // forgotten after kMaxAgeMs
  EXPECT_FALSE(g.expected(1));                 // too late to matter
  EXPECT_TRUE(g.expected(uint16_t(2 - 300)));  // far behind: a restart, not a duplicate
  EXPECT_TRUE(g.jumps(uint16_t(2 - 300)));
  EXPECT_TRUE(g.jumps(uint16_t(2 + 300)));
  EXPECT_FALSE(g.jumps(uint16_t(2 + 200)));  // a gap NACKs can still repair
  EXPECT_FALSE(g.jumps(uint16_t(2 - 200)));
  g.on_packet(10000, 400 * kMs);  // a jump far beyond kMaxMissing is a restart
  EXPECT_EQ(g.missing_count(), 0u);
  g.on_packet(10002, 400 * kMs);
  EXPECT_FALSE(g.due(2000 * kMs).size());  // too old to be useful
}

TEST(VideoQuality, Caps) {
  EXPECT_EQ(*video_bitrate_cap("720p"), 2'500'000u);
  EXPECT_EQ(*video_bitrate_cap("1080P"), 4'500'000u);
  EXPECT_LT(*video_bitrate_cap("360p"), *video_bitrate_cap("480p"));
  EXPECT_FALSE(video_bitrate_cap("4k").is_ok());
}

// A VP8 payload descriptor with a 15-bit PictureID and a TL0PICIDX, then one payload byte.
std::vector<uint8_t> vp8_descriptor(uint16_t pid, uint8_t tl0) {
  return {0x90, 0xC0, uint8_t(0x80 | pid >> 8), uint8_t(pid), tl0, 0x55};
}
uint16_t pid_of(const std::vector<uint8_t>& d) { return uint16_t((d[2] & 0x7F) << 8 | d[3]); }

TEST(Vp8Rewriter, PictureIdsContinueAcrossALayerSwitch) {
  Vp8Rewriter rw;
  // Layer A: pictures 100..104, TL0PICIDX 7..11, passed through unchanged.
  for (uint16_t i = 0; i < 5; ++i) {
    auto d = vp8_descriptor(100 + i, uint8_t(7 + i));
    rw.rewrite(d, i == 0);
    EXPECT_EQ(pid_of(d), 100 + i);
    EXPECT_EQ(d[4], 7 + i);
    EXPECT_EQ(d[5], 0x55);
  }
  // Switch to layer B, whose numbering is elsewhere (and wraps): continues at 105 / 12.
  auto k = vp8_descriptor(0x7FFF, 200);
  rw.rewrite(k, true);
  EXPECT_EQ(pid_of(k), 105);
  EXPECT_EQ(k[4], 12);
  auto next = vp8_descriptor(0, 201);
  rw.rewrite(next, false);
  EXPECT_EQ(pid_of(next), 106);
  EXPECT_EQ(next[4], 13);
  // A retransmission of B's key frame maps the same way and does not move the mapping.
  auto again = vp8_descriptor(0x7FFF, 200);
  rw.apply(again);
  EXPECT_EQ(pid_of(again), 105);
  // Descriptors without the fields, or cut short, are left alone.
  std::vector<uint8_t> plain = {0x10, 0x00, 0x9d};
  rw.rewrite(plain, true);
  EXPECT_EQ(plain, (std::vector<uint8_t>{0x10, 0x00, 0x9d}));
  std::vector<uint8_t> cut = {0x90, 0x80};
  rw.rewrite(cut, false);
  EXPECT_EQ(cut, (std::vector<uint8_t>{0x90, 0x80}));
}

TEST(RateMeter, BitsPerSecondOverTheLastSecond) {
  RateMeter m;
  EXPECT_EQ(m.bps(0), 0u);
  for (int i = 0; i < 10; ++i) m.add(i * 100 * kMs, 1000);  // 10 kB in one second
  EXPECT_EQ(m.bps(999 * kMs), 72'000u);   // the bucket still filling does not count yet
  EXPECT_EQ(m.bps(1000 * kMs), 80'000u);  // the whole second
  EXPECT_EQ(m.bps(1550 * kMs), 40'000u);  // the first half fell out of the window
  EXPECT_EQ(m.bps(5000 * kMs), 0u);
  // A steady 30 packets a second reads the same whenever it is read (within a packet): a
  // reading that counted the bucket still filling was up to 10 % low just after a bucket
  // began.
  RateMeter steady;
  int64_t t = 0;
  for (int i = 0; i < 300; ++i, t = i * 1000 * kMs / 30) {
    steady.add(t, 1000);
    if (t < 2000 * kMs) continue;
    for (int64_t probe : {t, t + 1 * kMs, t + 20 * kMs}) {
      uint64_t bps = steady.bps(probe);
      ASSERT_GE(bps, 29u * 8000) << "at " << probe / kMs << " ms";
      ASSERT_LE(bps, 31u * 8000) << "at " << probe / kMs << " ms";
    }
  }
}

TEST(KeyframeRequestBackoff, AStudentWhoKeepsAskingIsAnsweredLessAndLess) {
  KeyframeRequestBackoff b;
  int granted = 0;
  // A PLI every 100 ms for a minute: granted at 0, 1, 3, 7 s, then every 8 s (15 ... 55).
  for (int64_t t = 0; t < 60'000; t += 100) granted += b.allow(t * kMs);
  EXPECT_EQ(granted, 4 + 6);
  EXPECT_EQ(b.interval_ns(), KeyframeRequestBackoff::kMaxIntervalNs);
  // After a quiet spell it is answered at once, and the interval is back to one second.
  EXPECT_TRUE(b.allow(100'000 * kMs));
  EXPECT_EQ(b.interval_ns(), KeyframeRequestBackoff::kMinIntervalNs);
  EXPECT_FALSE(b.allow(100'500 * kMs));
}

// Layer rates as a publisher's 180p/360p/720p simulcast sends them.
const std::vector<uint64_t> kLayers = {150'000, 450'000, 1'500'000};

// The Room decides every 500 ms: `decide` feeds `in` at each decision from `from_ms` up to
// (not including) `to_ms` and returns the layer chosen last.
int decide(LayerSelector& sel, const LayerSelector::Input& in, int64_t from_ms, int64_t to_ms) {
  int layer = sel.target();
  for (int64_t t = from_ms; t < to_ms; t += 500) layer = sel.select(in, t * kMs);
  return layer;
}

TEST(LayerSelector, StartsLowAndClimbsWhileTheEstimateIsNotTheLimit) {
  LayerSelector sel;
  LayerSelector::Input in;
  in.layer_bps = kLayers;
  EXPECT_EQ(sel.select(in, 0), 0);  // no estimate yet: what 400 kbit/s carries
  // A receive-side estimate sits about 1.5x above what arrives: not limiting, so it probes,
  // once that has held for 2 s (from the first decision that saw it, at 500 ms).
  in.sent_bps = 190'000;
  in.estimate_bps = 295'000;
  EXPECT_EQ(decide(sel, in, 500, 2500), 0);
  EXPECT_EQ(sel.select(in, 2500 * kMs), 1);
  in.sent_bps = 500'000;
  in.estimate_bps = 760'000;
  EXPECT_EQ(decide(sel, in, 3000, 5000), 1);
  EXPECT_EQ(sel.select(in, 5000 * kMs), 2);
  in.sent_bps = 1'550'000;
  in.estimate_bps = 2'300'000;
  EXPECT_EQ(decide(sel, in, 5500, 20'000), 2);  // the top layer: nothing above
  // While the switch waits for its key frame (the rates still show the layer before), the
  // same reason does not count.
  in.sent_bps = 190'000;
  in.estimate_bps = 295'000;
  in.settled = false;
  LayerSelector low;
  LayerSelector::Input none;
  none.layer_bps = kLayers;
  ASSERT_EQ(low.select(none, 0), 0);
  EXPECT_EQ(decide(low, in, 500, 30'000), 0);
  in.settled = true;
  EXPECT_EQ(decide(low, in, 30'000, 32'000), 0);  // held 1.5 s so far
  EXPECT_EQ(low.select(in, 32'000 * kMs), 1);
  // An estimate over twice what arrives was measured at a higher rate: it is the link, so
  // only a layer that fits it (with 10 % to spare) is taken, no probe above that.
  LayerSelector known;
  in.sent_bps = 190'000;
  in.estimate_bps = 1'200'000;  // 450 kbit/s x 1.1 fits, 1.5 Mbit/s does not
  ASSERT_EQ(known.select(none, 0), 0);
  EXPECT_EQ(decide(known, in, 500, 3000), 1);
  in.sent_bps = 500'000;
  EXPECT_EQ(decide(known, in, 3000, 120'000), 1);
}

TEST(LayerSelector, DownAtOnceOnAThinLinkAndProbesLessAndLess) {
  LayerSelector sel;
  LayerSelector::Input in;
  in.layer_bps = kLayers;
  in.other_bps = 40'000;  // audio
  in.sent_bps = 190'000;
  in.estimate_bps = 300'000;
  int64_t t = 0;
  ASSERT_EQ(sel.select(in, t), 0);
  // A 400 kbit/s link: every probe to 360p makes the estimate fall below it and loss rise.
  std::vector<int64_t> probes;
  for (t = 500 * kMs; t < 120'000 * kMs; t += 500 * kMs) {
    int before = sel.target();
    int now = sel.select(in, t);
    if (before == 0 && now == 1) {
      probes.push_back(t / kMs);
      LayerSelector::Input congested = in;
      congested.estimate_bps = 340'000;
      congested.loss = 0.3;
      t += 1000 * kMs;
      EXPECT_EQ(sel.select(congested, t), 0);  // back down at the next report
    }
  }
  // 2.5 s (the estimate held 2 s from the first decision), then waits of 6, 18 and 54 s:
  // four probes in two minutes, then none for a minute.
  ASSERT_EQ(probes.size(), 4u);
  EXPECT_EQ(probes[0], 2500);
  EXPECT_GE(probes[1] - probes[0], 6000);
  EXPECT_GE(probes[2] - probes[1], 18'000);
  EXPECT_GE(probes[3] - probes[2], 54'000);
  EXPECT_EQ(sel.up_wait_ns(), LayerSelector::kMaxUpWaitNs);
}

TEST(LayerSelector, AnEstimateStillRampingUpIsNotCongestion) {
  LayerSelector sel;
  LayerSelector::Input in;
  in.layer_bps = kLayers;
  in.sent_bps = 500'000;
  in.estimate_bps = 700'000;  // fits 360p, not 720p; but 40 % above what arrives: probe
  ASSERT_EQ(sel.select(in, 0), 1);
  ASSERT_EQ(decide(sel, in, 500, 2500), 1);
  ASSERT_EQ(sel.select(in, 2500 * kMs), 2);
  // The estimate stays below 720p while it ramps up (not falling, no loss): 720p stays.
  in.sent_bps = 1'500'000;
  EXPECT_EQ(sel.select(in, 4000 * kMs), 2);
  EXPECT_EQ(sel.select(in, 9000 * kMs), 2);
  // Loss undoes it at once; so does an estimate that falls (queues grew), straight to
  // the layer it carries.
  LayerSelector lossy = sel;
  LayerSelector::Input bad = in;
  bad.loss = 0.15;
  EXPECT_EQ(lossy.select(bad, 3000 * kMs), 1);
  LayerSelector thin = sel;
  bad = in;
  bad.estimate_bps = 300'000;
  bad.estimate_falling = true;
  EXPECT_EQ(thin.select(bad, 3000 * kMs), 0);
  EXPECT_EQ(thin.up_wait_ns(), 3 * LayerSelector::kMinUpWaitNs);  // the probe failed
  // A falling estimate the layer still fits changes nothing.
  bad.estimate_bps = 2'000'000;
  EXPECT_EQ(sel.select(bad, 9500 * kMs), 2);
  // Without any estimate yet, the climb waits 10 s between steps.
  LayerSelector blind;
  LayerSelector::Input none;
  none.layer_bps = kLayers;
  ASSERT_EQ(blind.select(none, 0), 0);
  EXPECT_EQ(decide(blind, none, 500, 10'000), 0);
  EXPECT_EQ(blind.select(none, 10'000 * kMs), 1);
}

// Hysteresis: a rate or an estimate that jitters across a threshold does not move anyone.
TEST(LayerSelector, AJitteryRateOrEstimateAroundAThresholdDoesNotFlapLayers) {
  const std::vector<uint64_t> layers = {153'000, 510'000, 1'530'000};
  uint32_t seed = 12345;
  auto jitter = [&seed](double spread) {  // uniform in [1 - spread, 1 + spread]
    seed = seed * 1664525u + 1013904223u;
    return 1.0 + spread * (2.0 * double(seed >> 8) / double(1u << 24) - 1.0);
  };
  // 1. A subscriber on 360p (510 + 55 kbit/s of audio) whose estimate is 1.2x that: what it
  // receives, measured each decision, jitters by +-12 % (a publisher's pacing, a busy SFU),
  // so now and then the estimate reads 1.3x it: the probe threshold, for one decision.
  LayerSelector mid;
  LayerSelector::Input in;
  in.layer_bps = layers;
  in.other_bps = 55'000;
  in.estimate_bps = 678'000;
  in.sent_bps = 565'000;
  ASSERT_EQ(mid.select(in, 0), 1);
  int crossed = 0, changes = 0;
  for (int64_t t = 500; t < 120'000; t += 500) {
    in.sent_bps = uint64_t(565'000 * jitter(0.12));
    in.estimate_bps = uint64_t(678'000 * jitter(0.02));
    crossed += in.estimate_bps * 10 >= in.sent_bps * 13;
    int before = mid.target();
    changes += mid.select(in, t * kMs) != before;
  }
  EXPECT_GE(crossed, 10) << "the jitter never reached the probe threshold: the test proves nothing";
  EXPECT_EQ(changes, 0);
  EXPECT_EQ(mid.target(), 1);
  // 2. A subscriber on 720p whose estimate jitters around what 720p needs (1.53 Mbit/s +
  // audio = 1.67 Mbit/s at 95 %), falling by 5 % or more now and then: it goes down to 360p
  // when the estimate falls below 720p, and stays there: the estimate is 3x what 360p sends
  // (no probe) and short of 720p x 1.1.
  LayerSelector top;
  in.estimate_bps = 3'000'000;
  in.sent_bps = 1'600'000;
  ASSERT_EQ(top.select(in, 0), 2);
  changes = 0;
  int below = 0;
  uint64_t last = in.estimate_bps;
  int64_t fell_ms = -10'000;
  for (int64_t t = 500; t < 120'000; t += 500) {
    uint64_t est = uint64_t(1'670'000 * jitter(0.05));
    if (est * 20 <= last * 19) fell_ms = t;  // as the Room marks a falling REMB
    last = est;
    in.estimate_bps = est;
    in.estimate_falling = t - fell_ms < 2000;
    below += in.estimate_falling && double(est) * 0.95 - 55'000 < 1'530'000;
    in.sent_bps = top.target() == 2 ? 1'585'000 : 565'000;
    int before = top.target();
    changes += top.select(in, t * kMs) != before;
  }
  EXPECT_GE(below, 1) << "the estimate never fell below 720p: the test proves nothing";
  EXPECT_EQ(changes, 1);
  EXPECT_EQ(top.target(), 1);
  // 3. The estimate then grows to 720p x 1.1 and holds there: up again after 2 s.
  in.estimate_falling = false;
  in.estimate_bps = 1'850'000;
  in.sent_bps = 565'000;
  EXPECT_EQ(decide(top, in, 120'000, 122'000), 1);
  EXPECT_EQ(top.select(in, 122'000 * kMs), 2);
}

TEST(LayerSelector, FitsTheEstimateAndSkipsLayersThatAreNotSent) {
  LayerSelector sel;
  LayerSelector::Input in;
  std::vector<uint64_t> layers = {150'000, 450'000, 1'500'000};
  in.layer_bps = layers;
  in.estimate_bps = 3'000'000;
  in.sent_bps = 1'000'000;
  EXPECT_EQ(sel.select(in, 0), 2);  // a known estimate that fits the top layer at once
  // The estimate falls: down to the highest layer that fits, skipping the middle one.
  in.estimate_falling = true;
  in.estimate_bps = 600'000;
  EXPECT_EQ(sel.select(in, 100 * kMs), 1);
  in.estimate_bps = 200'000;
  EXPECT_EQ(sel.select(in, 200 * kMs), 0);
  // Heavy loss with a fitting estimate still goes down.
  LayerSelector lossy;
  in.estimate_falling = false;
  in.estimate_bps = 3'000'000;
  ASSERT_EQ(lossy.select(in, 0), 2);
  in.loss = 0.2;
  EXPECT_EQ(lossy.select(in, 100 * kMs), 1);
  // The publisher stops sending the chosen layer: the highest that is sent instead.
  LayerSelector paused;
  in.loss = 0;
  ASSERT_EQ(paused.select(in, 0), 2);
  layers[2] = 0;
  EXPECT_EQ(paused.select(in, 100 * kMs), 1);
  layers = {0, 0, 0};
  EXPECT_EQ(paused.select(in, 200 * kMs), 1);  // nothing sent: the choice stays
}

// ---- Room ----

struct Sent {
  std::string to;
  std::vector<uint8_t> bytes;
  bool rtcp;
};

class RoomTest : public ::testing::Test, public Room::Listener {
 protected:
  RoomTest() : room_(this, &clock_, 2'500'000) {}

  bool OnRoomSendRtp(const std::string& who, std::span<uint8_t> buf, size_t len) override {
    EXPECT_GE(buf.size(), len + Room::kSendHeadroom);
    sent_.push_back({who, {buf.begin(), buf.begin() + len}, false});
    return true;
  }
  void OnRoomSendRtcp(const std::string& who, std::span<uint8_t> buf, size_t len) override {
    EXPECT_GE(buf.size(), len + Room::kSendHeadroom);
    sent_.push_back({who, {buf.begin(), buf.begin() + len}, true});
  }

  static std::vector<uint8_t> vp8(uint32_t ssrc, uint16_t seq, uint32_t ts, bool key) {
    return {0x90,
            0x60,
            uint8_t(seq >> 8),
            uint8_t(seq),
            uint8_t(ts >> 24),
            uint8_t(ts >> 16),
            uint8_t(ts >> 8),
            uint8_t(ts),
            uint8_t(ssrc >> 24),
            uint8_t(ssrc >> 16),
            uint8_t(ssrc >> 8),
            uint8_t(ssrc),
            0xbe,
            0xde,
            0x00,
            0x01,
            0x40,
            '1',
            0,
            0,
            0x10,
            uint8_t(key ? 0x00 : 0x01),
            0x9d,
            0x01,
            0x2a};
  }

  void publish_video(const std::string& who, uint32_t ssrc, const std::string& feed = "main",
                     const std::string& owner = "") {
    ProducerParams p;
    p.participant_id = who;
    p.owner = owner;
    p.kind = MediaKind::kVideo;
    p.ssrc = ssrc;
    p.payload_type = 96;
    ASSERT_TRUE(room_.set_producer(feed, p).is_ok());
  }
  void subscribe_video(const std::string& who, uint32_t ssrc, const std::string& owner = "") {
    ConsumerParams c;
    c.participant_id = who;
    c.owner = owner;
    c.ssrc = ssrc;
    c.payload_type = 100;
    c.mid = "1";
    c.ext_mid_id = 9;
    c.ext_abs_send_time_id = 3;
    ASSERT_TRUE(room_.add_consumer("main", MediaKind::kVideo, c).is_ok());
  }
  void rtp(const std::string& who, std::vector<uint8_t> pkt) {
    room_.on_rtp(who, pkt, clock_.now_mono_ns());
  }
  std::vector<Sent> take(const std::string& who, bool rtcp) {
    std::vector<Sent> out;
    for (auto& s : sent_) {
      if (s.to == who && s.rtcp == rtcp) out.push_back(s);
    }
    return out;
  }
  size_t plis_to(const std::string& who) {
    size_t n = 0;
    for (auto& s : take(who, true)) {
      auto parsed = rtcp::parse_compound(s.bytes);
      for (auto& p : *parsed) n += std::holds_alternative<rtcp::Pli>(p);
    }
    return n;
  }

  base::FakeClock clock_;
  std::vector<Sent> sent_;
  Room room_;
};

TEST_F(RoomTest, ForwardsWithRewrittenHeaderAndExtensions) {
  publish_video("teacher", 0x1111);
  subscribe_video("s1", 0xA1);
  subscribe_video("s2", 0xA2);
  EXPECT_EQ(room_.subscriber_count(), 2u);
  rtp("teacher", vp8(0x1111, 500, 9000, true));
  auto s1 = take("s1", false);
  ASSERT_EQ(s1.size(), 1u);
  auto p = RtpPacket::parse(s1[0].bytes);
  ASSERT_TRUE(p.is_ok());
  EXPECT_EQ(p->ssrc(), 0xA1u);
  EXPECT_EQ(p->payload_type(), 100);
  EXPECT_EQ(p->sequence_number(), 500);
  ASSERT_EQ(p->extension(9).size(), 1u);
  EXPECT_EQ(p->extension(9)[0], '1');
  EXPECT_EQ(p->extension(3).size(), 3u);
  EXPECT_TRUE(p->extension(4).empty());  // the publisher's mid id is not leaked
  EXPECT_TRUE(is_vp8_keyframe(p->payload()));
  EXPECT_EQ(take("s2", false).size(), 1u);
  EXPECT_EQ(room_.counters().rtp_packets_in, 1u);
  EXPECT_EQ(room_.counters().rtp_packets_out, 2u);
  EXPECT_EQ(room_.counters().forward_latency.count(), 2u);
}

TEST_F(RoomTest, PublisherDoesNotGetItsOwnStreamBack) {
  // The teacher's publishing and subscribing transports belong to the same user.
  publish_video("t-pub", 0x1111, "main", "teacher");
  subscribe_video("t-sub", 0xA1, "teacher");
  subscribe_video("s1", 0xA2, "student");
  rtp("t-pub", vp8(0x1111, 500, 9000, true));
  EXPECT_TRUE(take("t-sub", false).empty());
  EXPECT_EQ(take("s1", false).size(), 1u);
  EXPECT_EQ(room_.counters().rtp_packets_out, 1u);
  EXPECT_EQ(room_.counters().packets_dropped, 0u);  // skipped, not dropped
}

TEST_F(RoomTest, PliFromManySubscribersIsCoalesced) {
  publish_video("teacher", 0x1111);
  for (uint32_t i = 0; i < 50; ++i) subscribe_video("s" + std::to_string(i), 0x100 + i);
  sent_.clear();
  clock_.advance_ms(2000);
  for (uint32_t i = 0; i < 50; ++i) {
    auto pli = rtcp::serialize({rtcp::Pli{1, 0x100 + i}});
    room_.on_rtcp("s" + std::to_string(i), pli);
  }
  EXPECT_EQ(plis_to("teacher"), 1u);
  EXPECT_EQ(room_.counters().keyframe_requests_received, 50u);
  clock_.advance_ms(500);
  room_.on_timer();
  EXPECT_EQ(plis_to("teacher"), 1u);
  clock_.advance_ms(500);
  room_.on_timer();
  EXPECT_EQ(plis_to("teacher"), 2u);  // the deferred one, exactly a second later
  // A PLI naming another participant's SSRC is ignored.
  clock_.advance_ms(5000);
  room_.on_rtcp("s1", rtcp::serialize({rtcp::Pli{1, 0x100}}));
  EXPECT_EQ(plis_to("teacher"), 2u);
}

// A VP8 packet of a simulcast layer: the RID in extension 10 (as Chromium sends it on a
// layer's first packets), a 15-bit PictureID when `pid` >= 0, `size` payload bytes.
std::vector<uint8_t> vp8_layer(uint32_t ssrc, uint16_t seq, uint32_t ts, bool key,
                               const std::string& rid, size_t size = 20, int pid = -1) {
  std::vector<uint8_t> p = {0x90, 0x60};
  put_u16(p, seq);
  put_u32(p, ts);
  put_u32(p, ssrc);
  std::vector<uint8_t> ext;
  if (!rid.empty()) {
    ext.push_back(uint8_t(10 << 4 | (rid.size() - 1)));
    ext.insert(ext.end(), rid.begin(), rid.end());
  }
  while (ext.size() % 4) ext.push_back(0);
  p.push_back(0xBE), p.push_back(0xDE);
  put_u16(p, uint16_t(ext.size() / 4));
  p.insert(p.end(), ext.begin(), ext.end());
  if (pid >= 0) {
    p.insert(p.end(), {0x90, 0x80, uint8_t(0x80 | (pid >> 8 & 0x7F)), uint8_t(pid)});
  } else {
    p.push_back(0x10);
  }
  p.insert(p.end(), {uint8_t(key ? 0x00 : 0x01), 0x9d, 0x01, 0x2a});
  p.resize(p.size() + size, 0xAB);
  return p;
}

class SimulcastRoomTest : public RoomTest {
 protected:
  void publish_simulcast() {
    ProducerParams p;
    p.participant_id = "teacher";
    p.kind = MediaKind::kVideo;
    p.payload_type = 96;
    p.rids = {"q", "h", "f"};
    p.ext_rid_id = 10;
    ASSERT_TRUE(room_.set_producer("main", p).is_ok());
  }
  void subscribe_rtx(const std::string& who, uint32_t ssrc, uint32_t rtx_ssrc) {
    ConsumerParams c;
    c.participant_id = who;
    c.ssrc = ssrc;
    c.payload_type = 100;
    c.rtx_ssrc = rtx_ssrc;
    c.rtx_payload_type = 101;
    ASSERT_TRUE(room_.add_consumer("main", MediaKind::kVideo, c).is_ok());
  }
  // One 33 ms frame on every layer (seq/ts advance per layer), sizes for about 150, 450
  // and 1500 kbit/s; `key` makes it a key frame on the layers listed.
  void frame(const std::set<int>& key = {}) {
    static const uint32_t kSsrc[3] = {0x51, 0x52, 0x53};
    static const size_t kSize[3] = {560, 1680, 5600};
    // Each layer numbers its pictures on its own, as Chromium's encoders do (one wraps).
    static const int kPid[3] = {20000, 900, 32700};
    for (int l = 0; l < 3; ++l) {
      rtp("teacher",
          vp8_layer(kSsrc[l], uint16_t(1000 * (l + 1) + n_), 3000 * n_, key.count(l) > 0,
                    n_ < 3 ? std::string(1, "qhf"[l]) : "", kSize[l], (kPid[l] + n_) & 0x7FFF));
    }
    ++n_;
    clock_.advance_ms(33);
    room_.on_timer();
  }
  void remb(const std::string& who, uint64_t bps) {
    room_.on_rtcp(who, rtcp::serialize({rtcp::Remb{7, bps, {}}}));
  }
  // The subscriber's packets on `ssrc`: sequence number and VP8 PictureID of each.
  struct Sent {
    uint16_t seq;
    uint16_t pid;
  };
  std::vector<Sent> sent_on(const std::string& who, uint32_t ssrc) {
    std::vector<Sent> out;
    for (auto& s : take(who, false)) {
      auto p = RtpPacket::parse(s.bytes);
      EXPECT_TRUE(p.is_ok());
      auto pl = p->payload();
      if (p->ssrc() != ssrc || pl.size() < 4) continue;
      out.push_back({p->sequence_number(), uint16_t((pl[2] & 0x7F) << 8 | pl[3])});
    }
    return out;
  }
  size_t plis_for(uint32_t ssrc) {
    size_t n = 0;
    for (auto& s : take("teacher", true)) {
      auto parsed = rtcp::parse_compound(s.bytes);
      for (auto& p : *parsed) {
        auto* pli = std::get_if<rtcp::Pli>(&p);
        n += pli && pli->media_ssrc == ssrc;
      }
    }
    return n;
  }
  int n_ = 0;
};

TEST_F(SimulcastRoomTest, EachSubscriberGetsTheLayerItsLinkCarriesAsOneContinuousStream) {
  publish_simulcast();
  subscribe_rtx("wide", 0xA1, 0xB1);
  subscribe_rtx("thin", 0xA2, 0xB2);
  // Ten seconds of video, a key frame on every layer each second; estimates (REMB) of
  // 3 Mbit/s and 150 kbit/s, renewed each second like Chromium's.
  for (int i = 0; i < 300; ++i) {
    if (i % 30 == 0) remb("wide", 3'000'000), remb("thin", 150'000);
    frame(i % 30 == 0 ? std::set<int>{0, 1, 2} : std::set<int>{});
  }
  EXPECT_EQ(room_.video_layer_of("wide", "main"), 2);
  EXPECT_EQ(room_.video_layer_of("thin", "main"), 0);
  EXPECT_GE(room_.counters().layer_switches, 1u);  // 180p to 720p: its estimate fits it
  // The wide subscriber's sequence numbers and picture ids (one packet per picture here)
  // ran on without a gap or a repeat across the switches, on its one SSRC; the thin one
  // never got a 720p packet (by size).
  auto wide = sent_on("wide", 0xA1);
  ASSERT_GT(wide.size(), 250u);
  for (size_t i = 1; i < wide.size(); ++i) {
    ASSERT_EQ(uint16_t(wide[i - 1].seq + 1), wide[i].seq) << i;
    ASSERT_EQ(uint16_t(wide[i - 1].pid + 1) & 0x7FFF, wide[i].pid) << i;
  }
  size_t thin = 0;
  for (auto& s : take("thin", false)) {
    EXPECT_LT(s.bytes.size(), 5000u);
    ++thin;
  }
  EXPECT_GT(thin, 250u);
  // The wide one's estimate falls to 700 kbit/s: 360p from its next key frame on.
  sent_.clear();
  for (int i = 0; i < 60; ++i) {
    if (i % 30 == 0) remb("wide", 700'000), remb("thin", 150'000);
    frame(i % 30 == 29 ? std::set<int>{0, 1, 2} : std::set<int>{});
  }
  EXPECT_EQ(room_.video_layer_of("wide", "main"), 1);
  EXPECT_EQ(room_.video_layer_of("thin", "main"), 0);
  // It asked for that key frame on 360p only, and never for the thin one's layer.
  EXPECT_GE(plis_for(0x52), 1u);
  EXPECT_EQ(plis_for(0x51), 0u);
}

TEST_F(SimulcastRoomTest, OneNoisyLossReportDoesNotMoveAStudentButLastingLossDoes) {
  publish_simulcast();
  subscribe_rtx("s", 0xA1, 0xB1);
  auto rr = [&](double loss) {
    rtcp::ReceiverReport r;
    r.ssrc = 7;
    r.reports.push_back({0xA1, uint8_t(loss * 256), 0, 0, 0, 0, 0});
    room_.on_rtcp("s", rtcp::serialize({r}));
  };
  for (int i = 0; i < 300; ++i) {
    if (i % 30 == 0) remb("s", 700'000), rr(0.05);
    frame(i % 30 == 0 ? std::set<int>{0, 1, 2} : std::set<int>{});
  }
  ASSERT_EQ(room_.video_layer_of("s", "main"), 1);
  // A link with 5 % random loss: one report reads 12.5 %, the rest 0-7.5 %.
  const double reports[] = {0.075, 0.125, 0.05, 0.025, 0.075, 0.05};
  for (int i = 0; i < 180; ++i) {
    if (i % 30 == 0) remb("s", 700'000), rr(reports[i / 30]);
    frame(i % 30 == 0 ? std::set<int>{0, 1, 2} : std::set<int>{});
    ASSERT_EQ(room_.video_layer_of("s", "main"), 1) << i;
  }
  // 20 % for three reports is heavy loss.
  for (int i = 0; i < 90; ++i) {
    if (i % 30 == 0) remb("s", 700'000), rr(0.2);
    frame(i % 30 == 0 ? std::set<int>{0, 1, 2} : std::set<int>{});
  }
  EXPECT_EQ(room_.video_layer_of("s", "main"), 0);
}

TEST_F(SimulcastRoomTest, ANewPublisherStartsEveryoneAgainOnItsLowestLayer) {
  publish_simulcast();
  subscribe_rtx("wide", 0xA1, 0xB1);
  for (int i = 0; i < 300; ++i) {
    if (i % 30 == 0) remb("wide", 3'000'000);
    frame(i % 30 == 0 ? std::set<int>{0, 1, 2} : std::set<int>{});
  }
  ASSERT_EQ(room_.video_layer_of("wide", "main"), 2);
  // The teacher reloads: a new producer whose browser sends only its lowest layer at first.
  room_.remove_participant("teacher");
  publish_simulcast();
  sent_.clear();
  rtp("teacher", vp8_layer(0x61, 7, 100, true, "q", 560));
  rtp("teacher", vp8_layer(0x61, 8, 3100, false, "q", 560));
  EXPECT_EQ(room_.video_layer_of("wide", "main"), 0);
  EXPECT_EQ(sent_on("wide", 0xA1).size(), 2u);
}

TEST_F(SimulcastRoomTest, AStudentWhoKeepsLosingThePictureDoesNotFloodTheTeacher) {
  publish_simulcast();
  subscribe_rtx("ok", 0xA1, 0xB1);
  subscribe_rtx("struggling", 0xA2, 0xB2);
  frame({0, 1, 2});
  sent_.clear();
  // A PLI every 100 ms for 30 s from one student.
  for (int i = 0; i < 300; ++i) {
    room_.on_rtcp("struggling", rtcp::serialize({rtcp::Pli{7, 0xA2}}));
    clock_.advance_ms(100);
    room_.on_timer();
  }
  size_t plis = plis_for(0x51) + plis_for(0x52) + plis_for(0x53);
  // Its backoff lets through requests at 0, 1, 3, 7, 15, 23 s: six key frames in 30 s,
  // all on the layer it receives, instead of one per second (or one per request).
  EXPECT_LE(plis, 6u);
  EXPECT_GE(plis, 4u);
  EXPECT_EQ(plis_for(0x51), plis);
  EXPECT_GE(room_.counters().keyframe_requests_throttled, 290u);
  // The other student is not held back by it: its own first request goes through.
  clock_.advance_ms(1000);
  sent_.clear();
  room_.on_rtcp("ok", rtcp::serialize({rtcp::Pli{7, 0xA1}}));
  EXPECT_EQ(plis_for(0x51), 1u);
}

TEST_F(SimulcastRoomTest, RetransmissionsAreRtxAndComeOutOfTheSubscribersBudget) {
  publish_simulcast();
  subscribe_rtx("s1", 0xA1, 0xB1);
  frame({0, 1, 2});
  for (int i = 0; i < 30; ++i) frame();
  auto got = sent_on("s1", 0xA1);
  ASSERT_GT(got.size(), 10u);
  uint16_t lost = got[got.size() - 3].seq;
  // Within its estimate: answered on the RTX SSRC with the original sequence number first.
  remb("s1", 2'000'000);
  sent_.clear();
  room_.on_rtcp("s1", rtcp::serialize({rtcp::Nack{7, 0xA1, {lost}}}));
  auto out = take("s1", false);
  ASSERT_EQ(out.size(), 1u);
  auto p = RtpPacket::parse(out[0].bytes);
  ASSERT_TRUE(p.is_ok());
  EXPECT_EQ(p->ssrc(), 0xB1u);
  EXPECT_EQ(p->payload_type(), 101);
  EXPECT_EQ(get_u16(p->payload().data()), lost);
  EXPECT_EQ(p->payload().size(), 2u + 8 + 560);
  // The retransmitted picture has the id the subscriber saw the first time.
  EXPECT_EQ(uint16_t((p->payload()[4] & 0x7F) << 8 | p->payload()[5]), got[got.size() - 3].pid);
  // Its estimate is what it already receives (~150 kbit/s): the retransmission would
  // overrun it, so it is skipped and counted.
  remb("s1", 100'000);
  sent_.clear();
  room_.on_rtcp("s1", rtcp::serialize({rtcp::Nack{7, 0xA1, {lost, uint16_t(lost + 1)}}}));
  EXPECT_TRUE(take("s1", false).empty());
  EXPECT_EQ(room_.counters().retransmissions_sent, 1u);
  EXPECT_EQ(room_.counters().retransmissions_skipped, 2u);
}

TEST_F(RoomTest, NackAnsweredFromCache) {
  publish_video("teacher", 0x1111);
  subscribe_video("s1", 0xA1);
  rtp("teacher", vp8(0x1111, 10, 0, true));
  rtp("teacher", vp8(0x1111, 11, 0, false));
  rtp("teacher", vp8(0x1111, 12, 3000, false));
  sent_.clear();
  room_.on_rtcp("s1", rtcp::serialize({rtcp::Nack{1, 0xA1, {11, 40}}}));
  auto resent = take("s1", false);
  ASSERT_EQ(resent.size(), 1u);  // 40 was never sent
  auto p = RtpPacket::parse(resent[0].bytes);
  EXPECT_EQ(p->sequence_number(), 11);
  EXPECT_EQ(p->ssrc(), 0xA1u);
  EXPECT_EQ(room_.counters().nacks_received, 2u);
  EXPECT_EQ(room_.counters().retransmissions_sent, 1u);
}

TEST_F(RoomTest, PublisherRestartKeepsSubscriberStreamContinuous) {
  publish_video("teacher", 0x1111);
  subscribe_video("s1", 0xA1);
  rtp("teacher", vp8(0x1111, 10, 1000, true));
  rtp("teacher", vp8(0x1111, 11, 4000, false));
  // The teacher reloads: new SSRC, new numbering. No renegotiation for s1.
  room_.remove_participant("teacher");
  clock_.advance_ms(2000);
  sent_.clear();
  publish_video("teacher", 0x2222);              // subscribers are waiting: a PLI goes out at once
  rtp("teacher", vp8(0x2222, 30000, 5, false));  // not a key frame: dropped
  EXPECT_TRUE(take("s1", false).empty());
  EXPECT_EQ(plis_to("teacher"), 1u);  // the second request is within the throttle second
  rtp("teacher", vp8(0x2222, 30001, 3005, true));
  auto out = take("s1", false);
  ASSERT_EQ(out.size(), 1u);
  auto p = RtpPacket::parse(out[0].bytes);
  EXPECT_EQ(p->ssrc(), 0xA1u);
  EXPECT_EQ(p->sequence_number(), 12);
  EXPECT_EQ(p->timestamp(), 4000u + 2000 * 90);
}

TEST_F(RoomTest, StageSwitchUsesSameConsumer) {
  publish_video("student1", 0x5001, "stage");
  ConsumerParams c;
  c.participant_id = "s9";
  c.ssrc = 0xB9;
  c.payload_type = 96;
  ASSERT_TRUE(room_.add_consumer("stage", MediaKind::kVideo, c).is_ok());
  rtp("student1", vp8(0x5001, 1, 0, true));
  publish_video("student2", 0x5002, "stage");  // the teacher moves the stage
  rtp("student1", vp8(0x5001, 2, 0, false));   // the old one is no longer forwarded
  rtp("student2", vp8(0x5002, 900, 0, true));
  auto out = take("s9", false);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(RtpPacket::parse(out[1].bytes)->sequence_number(), 2);
}

TEST_F(RoomTest, ReportsAndRembToPublisherAndTranslatedSenderReports) {
  publish_video("teacher", 0x1111);
  subscribe_video("s1", 0xA1);
  rtp("teacher", vp8(0x1111, 10, 1000, true));
  rtcp::SenderReport sr{0x1111, 0x1234567800000000ull, 5000, 1, 100, {}};
  room_.on_rtcp("teacher", rtcp::serialize({sr}));
  auto to_s1 = take("s1", true);
  ASSERT_EQ(to_s1.size(), 1u);
  auto parsed = rtcp::parse_compound(to_s1[0].bytes);
  auto& out_sr = std::get<rtcp::SenderReport>((*parsed)[0]);
  EXPECT_EQ(out_sr.ssrc, 0xA1u);
  EXPECT_EQ(out_sr.ntp_time, sr.ntp_time);
  EXPECT_EQ(out_sr.rtp_time, 5000u);  // same offset as the media: zero here
  EXPECT_EQ(out_sr.packet_count, 1u);
  sent_.clear();
  clock_.advance_ms(1000);
  room_.on_timer();
  auto to_teacher = take("teacher", true);
  ASSERT_EQ(to_teacher.size(), 1u);
  auto rr = rtcp::parse_compound(to_teacher[0].bytes);
  ASSERT_TRUE(rr.is_ok());
  ASSERT_EQ(rr->size(), 2u);
  auto& report = std::get<rtcp::ReceiverReport>((*rr)[0]);
  ASSERT_EQ(report.reports.size(), 1u);
  EXPECT_EQ(report.reports[0].ssrc, 0x1111u);
  EXPECT_EQ(report.reports[0].last_sr, 0x56780000u);
  auto& remb = std::get<rtcp::Remb>((*rr)[1]);
  EXPECT_LE(remb.bitrate_bps, 2'500'000u);
  EXPECT_GT(remb.bitrate_bps, 2'400'000u);
}

TEST_F(RoomTest, UpstreamLossIsNackedToThePublisher) {
  publish_video("teacher", 0x1111);
  rtp("teacher", vp8(0x1111, 10, 0, true));
  sent_.clear();
  rtp("teacher", vp8(0x1111, 13, 0, false));  // 11 and 12 lost on the uplink
  auto to_teacher = take("teacher", true);
  ASSERT_EQ(to_teacher.size(), 1u);
  auto parsed = rtcp::parse_compound(to_teacher[0].bytes);
  ASSERT_TRUE(parsed.is_ok());
  auto& nack = std::get<rtcp::Nack>((*parsed)[0]);
  EXPECT_EQ(nack.media_ssrc, 0x1111u);
  EXPECT_EQ(nack.lost, (std::vector<uint16_t>{11, 12}));
  EXPECT_EQ(room_.counters().nacks_sent, 2u);
}

TEST_F(RoomTest, PausedSubscriberResumesAtKeyframe) {
  publish_video("teacher", 0x1111);
  subscribe_video("s1", 0xA1);
  room_.set_paused("s1", true);
  rtp("teacher", vp8(0x1111, 10, 0, true));
  rtp("teacher", vp8(0x1111, 11, 0, false));
  EXPECT_TRUE(take("s1", false).empty());
  clock_.advance_ms(2000);
  sent_.clear();
  room_.set_paused("s1", false);
  EXPECT_EQ(plis_to("teacher"), 1u);  // asked at once
  rtp("teacher", vp8(0x1111, 12, 3000, false));
  EXPECT_TRUE(take("s1", false).empty());  // a delta frame is useless to it
  rtp("teacher", vp8(0x1111, 13, 6000, true));
  auto out = take("s1", false);
  ASSERT_EQ(out.size(), 1u);
}

TEST_F(RoomTest, ConsumerStartingPausedAsksForAKeyframeOnlyWhenResumed) {
  publish_video("teacher", 0x1111);
  sent_.clear();
  ConsumerParams c;
  c.participant_id = "s1";
  c.ssrc = 0xA1;
  c.payload_type = 96;
  c.start_paused = true;
  ASSERT_TRUE(room_.add_consumer("main", MediaKind::kVideo, c).is_ok());
  EXPECT_EQ(plis_to("teacher"), 0u);
  rtp("teacher", vp8(0x1111, 1, 0, true));
  EXPECT_TRUE(take("s1", false).empty());
  room_.set_paused("s1", false);
  EXPECT_EQ(plis_to("teacher"), 1u);  // not throttled by a useless earlier request
}

TEST_F(RoomTest, CodecMismatchIsNotForwarded) {
  publish_video("teacher", 0x1111);
  ConsumerParams c;
  c.participant_id = "h264-only";
  c.ssrc = 0xC1;
  c.payload_type = 102;
  c.codec = "H264";
  ASSERT_TRUE(room_.add_consumer("main", MediaKind::kVideo, c).is_ok());
  subscribe_video("s1", 0xA1);
  rtp("teacher", vp8(0x1111, 1, 0, true));
  EXPECT_TRUE(take("h264-only", false).empty());
  EXPECT_EQ(take("s1", false).size(), 1u);
}

TEST_F(RoomTest, RejectsDuplicateSsrcsAndUnknownSenders) {
  publish_video("teacher", 0x1111);
  ProducerParams p;
  p.participant_id = "other";
  p.ssrc = 0x1111;
  EXPECT_FALSE(room_.set_producer("stage", p).is_ok());
  subscribe_video("s1", 0xA1);
  ConsumerParams c;
  c.participant_id = "s2";
  c.ssrc = 0xA1;
  EXPECT_FALSE(room_.add_consumer("main", MediaKind::kVideo, c).is_ok());
  // RTP claiming the teacher's SSRC from someone else is dropped.
  rtp("intruder", vp8(0x1111, 1, 0, true));
  EXPECT_TRUE(take("s1", false).empty());
  EXPECT_EQ(room_.counters().packets_dropped, 1u);
}

// The media counters are described once (media_metrics.h): every field has exactly one row,
// and summing snapshots keeps what closed rooms counted and restarts a recreated room from 0.
TEST_F(RoomTest, ADuplicatePacketFromThePublisherIsNotForwardedAgain) {
  // The network's duplicates, or a late original and the retransmission NACKed for it: the
  // subscriber must not get two packets under one sequence number (found by
  // media_feedback_fuzz, whose property this is).
  publish_video("teacher", 0x1111);
  subscribe_video("s1", 0xA1);
  rtp("teacher", vp8(0x1111, 500, 9000, true));
  rtp("teacher", vp8(0x1111, 501, 9000, false));
  rtp("teacher", vp8(0x1111, 501, 9000, false));
  rtp("teacher", vp8(0x1111, 503, 12000, false));
  rtp("teacher", vp8(0x1111, 502, 12000, false));  // late, not a duplicate: forwarded
  rtp("teacher", vp8(0x1111, 502, 12000, false));
  rtp("teacher", vp8(0x1111, 505, 15000, false));
  rtp("teacher", vp8(0x1111, 504, 15000, false));  // fills the hole: forwarded
  rtp("teacher", vp8(0x1111, 507, 18000, false));
  clock_.advance_ms(1500);  // a hole is awaited for a second only
  room_.on_timer();
  rtp("teacher", vp8(0x1111, 506, 18000, false));  // too late to matter
  // The stream starts again far lower (or jumps far ahead): numbering continues at the next
  // key frame, never reusing or skipping numbers.
  rtp("teacher", vp8(0x1111, 7, 21000, false));
  rtp("teacher", vp8(0x1111, 8, 21000, true));
  rtp("teacher", vp8(0x1111, 9, 21000, false));
  rtp("teacher", vp8(0x1111, 20000, 24000, true));
  rtp("teacher", vp8(0x1111, 8, 21000, true));  // far behind again: a restart, a new number
  std::vector<uint16_t> seqs;
  for (auto s : take("s1", false)) seqs.push_back(RtpPacket::parse(s.bytes)->sequence_number());
  EXPECT_EQ(seqs, (std::vector<uint16_t>{500, 501, 503, 502, 505, 504, 507, 508, 509, 510, 511}));
  EXPECT_EQ(room_.counters().packets_dropped, 4u);
  EXPECT_EQ(room_.counters().rtp_packets_in, 15u);
}

TEST(MediaCountersTest, EveryCounterHasOneRowAndSnapshotsSumPerRoomDeltas) {
  constexpr size_t kRows = sizeof(kMediaCounterRows) / sizeof(kMediaCounterRows[0]);
  // All the uint64_t fields of MediaCounters come before the histogram.
  EXPECT_EQ(kRows * sizeof(uint64_t), offsetof(MediaCounters, forward_latency));
  for (size_t i = 0; i < kRows; ++i) {
    for (size_t j = i + 1; j < kRows; ++j) {
      EXPECT_NE(kMediaCounterRows[i].field, kMediaCounterRows[j].field) << i << " " << j;
      EXPECT_STRNE(kMediaCounterRows[i].metric, kMediaCounterRows[j].metric);
    }
  }
  MediaCounters total, zero, first, later, recreated;
  first.rtp_packets_in = 10;
  first.nacks_sent = 2;
  later.rtp_packets_in = 15;
  later.nacks_sent = 2;
  recreated.rtp_packets_in = 4;  // the room closed and came back under the same id
  add_since(total, first, zero);
  add_since(total, later, first);
  EXPECT_EQ(total.rtp_packets_in, 15u);
  EXPECT_EQ(total.nacks_sent, 2u);
  add_since(total, recreated, later);
  EXPECT_EQ(total.rtp_packets_in, 19u);
  LatencyHistogram a, b;
  a.observe_ns(30'000);
  b = a;
  b.observe_ns(2'000'000);
  LatencyHistogram d = b.since(a);
  EXPECT_EQ(d.count(), 1u);
  EXPECT_EQ(d.sum_us(), 2000u);
  EXPECT_EQ(a.since(b).count(), 1u);  // started again: all of it
}

}  // namespace
}  // namespace media
