#include "media/sfu/rtp_rewriter.h"

#include "media/rtp/rtp_packet.h"

namespace media {

std::optional<RtpRewriter::Output> RtpRewriter::rewrite(const Input& in, int64_t now_ns) {
  if (!started_ || in.ssrc != src_ssrc_ || force_rebase_) {
    if (is_video_ && !in.keyframe) {
      waiting_ = true;
      return std::nullopt;
    }
    // Re-base onto the new source.
    uint16_t first_seq = started_ ? uint16_t(max_seq_ + 1) : in.seq;
    uint32_t first_ts = in.timestamp;
    if (started_) {
      int64_t gap_ns = now_ns - max_ts_sent_ns_;
      uint64_t gap_ts = gap_ns > 0 ? uint64_t(gap_ns) * clock_rate_ / 1'000'000'000ull : 0;
      if (gap_ts == 0) gap_ts = 1;
      first_ts = max_ts_ + uint32_t(gap_ts);
    }
    seq_offset_ = uint16_t(first_seq - in.seq);
    ts_offset_ = first_ts - in.timestamp;
    segment_first_seq_ = first_seq;
    src_ssrc_ = in.ssrc;
    waiting_ = false;
    force_rebase_ = false;
    Output out{first_seq, first_ts};
    if (!started_) started_ = true;
    max_seq_ = first_seq;
    max_ts_ = first_ts;
    max_ts_sent_ns_ = now_ns;
    return out;
  }
  Output out{uint16_t(in.seq + seq_offset_), in.timestamp + ts_offset_};
  // A packet older than the start of this mapping would collide with numbers already used
  // for the previous source.
  if (seq_newer(segment_first_seq_, out.seq)) return std::nullopt;
  if (seq_newer(out.seq, max_seq_)) {
    max_seq_ = out.seq;
    max_ts_ = out.timestamp;
    max_ts_sent_ns_ = now_ns;
  }
  return out;
}

std::optional<uint16_t> RtpRewriter::source_seq_for(uint16_t out_seq) const {
  if (!started_ || waiting_) return std::nullopt;
  if (seq_newer(segment_first_seq_, out_seq) || seq_newer(out_seq, max_seq_)) return std::nullopt;
  return uint16_t(out_seq - seq_offset_);
}

}  // namespace media
