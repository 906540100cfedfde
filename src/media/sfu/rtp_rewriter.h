// RtpRewriter: maps one source stream onto one continuous outgoing stream for a subscriber.
//
// The subscriber sees a single SSRC, sequence numbers without jumps and timestamps that keep
// advancing, even when the source behind it changes (the teacher reloads the page and comes
// back with a new SSRC, or the stage passes to another student). On a source change the
// mapping is re-based: the next sequence number continues from the last one sent, and the
// timestamp advances by the wall-clock time elapsed since the last packet. Video waits for a
// key frame before the first packet of a new source, since the decoder has no reference
// frame from it.
//
// Pure logic; one per consumer; not thread-safe.
#pragma once

#include <cstdint>
#include <optional>

namespace media {

class RtpRewriter {
 public:
  struct Input {
    uint32_t ssrc = 0;
    uint16_t seq = 0;
    uint32_t timestamp = 0;
    bool keyframe = false;  // starts a key frame (video); ignored for audio
  };
  struct Output {
    uint16_t seq = 0;
    uint32_t timestamp = 0;
  };

  // `is_video` makes a new source wait for a key frame; `clock_rate` (Hz) converts
  // wall-clock gaps into timestamp units.
  RtpRewriter(bool is_video, uint32_t clock_rate) : is_video_(is_video), clock_rate_(clock_rate) {}

  // Maps a live packet. nullopt means drop it: a video source that has not yet sent a key
  // frame, or a late packet from before the current mapping began.
  std::optional<Output> rewrite(const Input& in, int64_t now_ns);

  // Treats the next packet as the start of a new source (the subscriber was paused and
  // missed packets): video waits for a key frame; numbering continues without a jump.
  void restart() { force_rebase_ = true; }

  // Maps a sequence number the subscriber NACKed back to the source's, when it falls within
  // the current mapping (packets of an earlier source cannot be resent).
  std::optional<uint16_t> source_seq_for(uint16_t out_seq) const;
  // The source timestamp offset of the current mapping (for translating sender reports).
  uint32_t timestamp_offset() const { return ts_offset_; }
  uint32_t source_ssrc() const { return src_ssrc_; }
  bool started() const { return started_; }
  // True when a packet of `ssrc` would start a new mapping (first packet, another source,
  // or after restart()).
  bool rebases(uint32_t ssrc) const { return !started_ || ssrc != src_ssrc_ || force_rebase_; }
  // True while packets are being dropped for want of a key frame.
  bool waiting_for_keyframe() const { return waiting_; }

 private:
  bool is_video_;
  uint32_t clock_rate_;
  bool started_ = false;       // a packet was ever sent
  bool waiting_ = false;       // a source change is pending a key frame
  bool force_rebase_ = false;  // restart() was called
  uint32_t src_ssrc_ = 0;      // the source of the current mapping
  uint16_t seq_offset_ = 0;
  uint32_t ts_offset_ = 0;
  uint16_t segment_first_seq_ = 0;  // first outgoing seq of the current mapping
  uint16_t max_seq_ = 0;            // highest outgoing seq sent
  uint32_t max_ts_ = 0;             // outgoing timestamp of that packet
  int64_t max_ts_sent_ns_ = 0;      // when it was sent
};

}  // namespace media
