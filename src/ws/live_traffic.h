// ws::LiveTraffic — what the live sockets carry, for /metrics: messages in by client type,
// messages out by server type (a message counts once per receiver), and error replies by
// code. The label values are fixed lists (an unknown type counts as "other", an error code
// that is not a short [a-z0-9_.] word as "other"), so the exported series stay few.
//
// Threads: the rooms' I/O threads count (relaxed atomics; the error codes, which are rare,
// under mu_); the scraping thread reads. Owned by LiveHub; RoomHost and LiveSession get a
// pointer through RoomDeps.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ws {

class LiveTraffic {
 public:
  // Client -> server types (docs/live-protocol.md, "Client → server"), then "invalid" for
  // frames that do not parse as one.
  static constexpr std::array<std::string_view, 16> kInTypes = {"ping",
                                                                "chat",
                                                                "chat_delete",
                                                                "mute",
                                                                "remove",
                                                                "hand_raise",
                                                                "hand_lower",
                                                                "quiz_publish",
                                                                "quiz_close",
                                                                "answer",
                                                                "media.publish",
                                                                "media.subscribe",
                                                                "media.unpublish",
                                                                "stage_give",
                                                                "stage_take",
                                                                "invalid"};
  // Server -> client types, then "other".
  static constexpr std::array<std::string_view, 23> kOutTypes = {"welcome",
                                                                 "presence",
                                                                 "participant_joined",
                                                                 "participant_left",
                                                                 "chat_message",
                                                                 "chat_deleted",
                                                                 "chat_muted",
                                                                 "hand_raised",
                                                                 "hand_lowered",
                                                                 "quiz_published",
                                                                 "quiz_closed",
                                                                 "quiz_results",
                                                                 "quiz_score",
                                                                 "answer_accepted",
                                                                 "stage",
                                                                 "removed",
                                                                 "session_ended",
                                                                 "error",
                                                                 "pong",
                                                                 "media.answer",
                                                                 "media.tracks",
                                                                 "media.disconnected",
                                                                 "other"};

  // One message received, of client type `type` (a kInTypes name; anything else: "invalid").
  void count_in(std::string_view type) { in_[index_of(kInTypes, type)].fetch_add(1, kRelaxed); }
  // One message sent to `receivers` connections; its type is read from the serialized JSON,
  // which starts with {"type":"...".
  void count_out(std::string_view json, uint64_t receivers = 1) {
    count_out_type(out_type(json), receivers);
  }
  // The same by the type's kOutTypes index (out_type), for a message counted on another
  // thread than the one that has its text (a spread room's shards).
  void count_out_type(size_t type, uint64_t receivers = 1) {
    if (receivers == 0 || type >= kOutTypes.size()) return;
    out_[type].fetch_add(receivers, kRelaxed);
  }
  // The kOutTypes index of the serialized message `json` ("other" when unknown).
  static size_t out_type(std::string_view json) { return index_of(kOutTypes, type_of(json)); }
  // One error reply with code `code` (its message is counted by count_out as well).
  void count_error(std::string_view code);

  uint64_t in(size_t i) const { return in_[i].load(kRelaxed); }
  uint64_t out(size_t i) const { return out_[i].load(kRelaxed); }
  // Every error code seen so far with its count, sorted by code.
  std::vector<std::pair<std::string, uint64_t>> errors() const;

  // The value of "type" when `json` starts with {"type":"...", else "".
  static std::string_view type_of(std::string_view json);

 private:
  static constexpr auto kRelaxed = std::memory_order_relaxed;
  // At most this many distinct error codes are kept; later ones count as "other".
  static constexpr size_t kMaxErrorCodes = 64;

  template <size_t N>
  static size_t index_of(const std::array<std::string_view, N>& names, std::string_view name) {
    for (size_t i = 0; i + 1 < N; ++i) {
      if (names[i] == name) return i;
    }
    return N - 1;
  }

  std::array<std::atomic<uint64_t>, kInTypes.size()> in_{};
  std::array<std::atomic<uint64_t>, kOutTypes.size()> out_{};
  mutable std::mutex mu_;
  std::map<std::string, uint64_t, std::less<>> errors_;  // guarded by mu_
};

// True when `code` may be a label value: 1-40 characters of [a-z0-9_.].
bool is_plain_code(std::string_view code);

}  // namespace ws
