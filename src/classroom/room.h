// classroom::Room — the state of one live session: presence, chat, raised hands, the running
// quiz, and the numbered event stream every participant receives.
//
// Portable core: no Asio, no threads, no exceptions. A Room is driven by method calls from the
// one thread that owns it (see ws::RoomHost) and reports outgoing events synchronously
// through its RoomListener. Every event gets the next room sequence number (1, 2, 3 ... with
// no gaps), is serialised to JSON once, and is kept in a bounded resume buffer.
//
// Who may *enter* is decided in classroom/live_join.h: at the door (session live, policy
// "join_live", enrollment) and again just before join() (enrollment re-read); join() itself
// refuses a full or ended session and students the teacher removed. Moderation calls are the
// policy's decisions (authorize()).
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"
#include "classroom/authz.h"
#include "classroom/chat.h"
#include "classroom/hands.h"
#include "classroom/live_quiz.h"
#include "classroom/room_buffer.h"
#include "classroom/room_types.h"

namespace classroom {

struct RoomConfig {
  std::string session_id;
  std::string course_id;
  std::string title;
  size_t capacity = 1000;           // students at once; teachers are not counted
  size_t chat_max_chars = 1000;     // code points per message
  double chat_burst = 5;            // messages a student may send at once ...
  double chat_per_second = 1;       // ... and the sustained rate (teachers are not limited)
  // Stored changes (mute, remove, chat_delete, quiz_publish/close, stage_give/take) one user
  // may ask for at once, and per second sustained: each is a write to the database.
  double change_burst = 50;
  double change_per_second = 20;
  size_t recent_chat = 50;          // messages kept for snapshots
  size_t resume_max_events = 4096;  // resume buffer bounds
  size_t resume_max_bytes = 4 << 20;
  int64_t results_interval_ms = 250;  // at most 4 live-result updates per second
  // Rooms with at most this capacity give students the full roster and every join/leave.
  // Larger rooms give the full roster and per-student presence to teachers only; students
  // see the teachers and get a `presence` count at most every presence_interval_ms. (A
  // thousand joins would otherwise cost half a million messages and a thousand full-roster
  // snapshots.)
  size_t full_presence_max = 50;
  int64_t presence_interval_ms = 1000;
  // Every moderation decision (mute, remove, delete a message, lower another's hand, the
  // stage, a live quiz change) is the policy's: actions "mute", "remove_from_room",
  // "moderate", "stage", "publish_quiz"/"close_quiz" with course {id, teacher_id}
  // (docs/policy.md). Without an authorizer every such request is refused.
  std::string teacher_id;  // the course's teacher, for the policy's course document
  std::function<std::shared_ptr<const Authorizer>()> authorizer;
};

// Where a reconnecting client left off: the room epoch it saw (rooms are renumbered from 1
// when the server restarts) and the last seq it received.
struct ResumePoint {
  std::string epoch;
  uint64_t last_seq = 0;
};

// What a joining connection is sent before any live event: the welcome message, and either a
// snapshot inside it (fresh join, or resume not possible) or the missed events to replay.
struct JoinReply {
  std::string welcome;  // {"type":"welcome",...}
  bool resumed = false;
  std::vector<RoomEvent> replay;  // only when resumed, oldest first
  bool first_connection = true;   // false when the user already had a connection open
};

// Result of an answer submission before it is stored.
struct AnswerStart {
  AnswerSet answers;         // normalised, one entry per question
  bool needs_commit = true;  // false: identical answers were already committed (re-acked)
};

// What a room is rebuilt from when it is created (first connection, or after a restart): the
// state the store keeps (store/live_rooms.h, the session's quizzes and answers). Everything
// else (presence, hands, the resume buffer, recent chat) starts empty with a new epoch.
struct RoomRestore {
  bool chat_muted_all = false;
  std::vector<std::string> muted;    // students muted one by one
  std::vector<std::string> removed;  // students removed for the rest of the session
  std::string stage_user;            // empty: nobody; the holder keeps it until it leaves again
  std::string stage_name;
  std::vector<ChatMessage> recent_chat;  // the newest stored messages, oldest first
  // The session's current quiz (the open one, else the last closed one), with the answers
  // already stored, by student.
  std::optional<LiveQuizInfo> quiz;
  bool quiz_closed = false;
  std::vector<std::pair<std::string, AnswerSet>> answers;
};

class Room {
 public:
  // `listener`, `clock` and `random` must outlive the room.
  Room(RoomConfig config, RoomListener& listener, base::Clock& clock, base::Random& random);
  Room(const Room&) = delete;
  Room& operator=(const Room&) = delete;

  // Adds one connection of `p`. The first connection of a user emits `participant_joined`.
  // Errors: FailedPrecondition "session_ended", ResourceExhausted "session_full",
  // PermissionDenied "removed" (the teacher removed this student), InvalidArgument when the
  // user is already in the room with a different role.
  base::Result<JoinReply> join(const Participant& p, const std::optional<ResumePoint>& resume);
  // Drops one connection of `user_id`; the last one emits `participant_left`. Unknown users
  // are ignored (the connection may have been removed already).
  void leave(std::string_view user_id);

  // Loads the stored state into a room nobody has joined yet (seq 0); emits nothing. Call
  // once, right after construction.
  void restore(const RoomRestore& state);
  // The course's capacity changed (REST): later joins are checked against `capacity`;
  // students already in stay. Whether students get the full roster (full_presence_max) is
  // decided once, when the room is created.
  void set_capacity(size_t capacity);
  // `user_id` is no longer enrolled in the course (removed by the teacher over REST, or
  // it left): it goes like a removed student (`removed` to it with a reason,
  // `participant_left` to all, hand lowered, stage taken) but may come back if it enrolls
  // again. Returns false when it was not in the room (if it held the stage kept across a
  // restart, it loses it). The caller closes its connections.
  // `by` is who did it (the student itself when it left).
  bool unenroll(std::string_view user_id, std::string_view by);

  // Chat from `user_id`. Errors: NotFound "not_in_room", PermissionDenied "muted",
  // ResourceExhausted "rate_limited", InvalidArgument "invalid_text"/"message_too_long",
  // FailedPrecondition "session_ended".
  base::Status chat(std::string_view user_id, std::string_view text);
  // Takes one of `user_id`'s tokens for a stored change (RoomConfig::change_burst and
  // change_per_second): ResourceExhausted "rate_limited" when it has none. A socket's
  // message costs no write but each of these does, and none waits for the last to commit,
  // so without this one teacher's mute flood could fill the node's write queue (on a busy
  // box: 503 write_queue_full for everyone else's writes).
  base::Status take_change_token(std::string_view user_id);
  // Teacher moderation. `by` must be a teacher in the room (PermissionDenied "not_teacher").
  base::Status delete_chat(std::string_view by, std::string_view message_id);
  // Mutes or unmutes chat for every student (`target` empty) or one student.
  base::Status mute(std::string_view by, std::string_view target, bool muted);
  // Removes a student for the rest of the session: emits `removed` to it, `participant_left`
  // to all, then calls RoomListener::on_participant_removed.
  base::Status remove(std::string_view by, std::string_view target);

  // A student raises its hand (idempotent). Events go to teachers and the student.
  base::Status raise_hand(std::string_view user_id);
  // The student itself or a teacher lowers `target`'s hand (idempotent).
  base::Status lower_hand(std::string_view by, std::string_view target);

  // The stage: at most one student at a time may publish camera and microphone (feed
  // "stage"), besides the teacher. A teacher gives it to `target`, a student in the room; it
  // moves from the previous holder, if any. Emits `stage` to everyone and calls
  // RoomListener::on_stage_changed. Giving it to the holder again is a no-op. Errors:
  // PermissionDenied "not_teacher", NotFound "not_in_room", InvalidArgument "invalid_target"
  // (a teacher), FailedPrecondition "session_ended".
  base::Status give_stage(std::string_view by, std::string_view target);
  // A teacher takes the stage back (a no-op when nobody holds it). The holder also loses it
  // when its last connection leaves or the teacher removes it.
  base::Status take_stage(std::string_view by);
  // The user id of the student on stage; empty when nobody is.
  const std::string& stage() const { return stage_; }
  const std::string& stage_name() const { return stage_name_; }

  // Starts `info` as the room's quiz (the caller has stored it as published). Error:
  // FailedPrecondition "quiz_open" when another quiz is still open.
  base::Status publish_quiz(LiveQuizInfo info);
  // Validates a student's answers to the open quiz and marks them pending. The caller stores
  // them and then calls answer_committed (or answer_failed). Errors: NotFound "quiz_not_open",
  // FailedPrecondition "deadline_passed", Conflict "already_answered" (different answers
  // already stored, or a submission in flight), PermissionDenied "not_student".
  base::Result<AnswerStart> begin_answer(std::string_view user_id, std::string_view quiz_id,
                                         const boost::json::value& answers);
  // The answers of `user_id` are durably stored (from this room's socket or from REST):
  // counts them, emits `answer_accepted` to the student, and live results to teachers at most
  // every results_interval_ms. Ignored when `quiz_id` is not the room's current quiz.
  void answer_committed(std::string_view user_id, std::string_view quiz_id,
                        const AnswerSet& answers);
  void answer_failed(std::string_view user_id, std::string_view quiz_id);
  // Closes the quiz (the caller stored the close): final results to teachers, `quiz_closed`
  // with the distribution to all, `quiz_score` to every student who answered or is present.
  base::Status close_quiz(std::string_view quiz_id);

  // Time passes: flushes throttled live results and presence counts, reports a passed quiz
  // deadline once. Call every ~50-100 ms while wants_tick() is true.
  void tick();
  bool wants_tick() const;

  // Ends the session: emits `session_ended` to all; later joins and actions are refused.
  void end(std::string_view reason);

  // The full state as `user_id` (already in the room) sees it, at the current seq.
  boost::json::object snapshot(std::string_view user_id) const;

  uint64_t seq() const { return seq_; }
  const std::string& epoch() const { return epoch_; }
  bool ended() const { return ended_; }
  const RoomConfig& config() const { return config_; }
  size_t participant_count() const { return participants_.size(); }
  size_t student_count() const { return students_; }
  // The policy's decision on `action` by member `by` (and `target`, for the stage): OK, or
  // PermissionDenied with the policy's reason and `code`; FailedPrecondition
  // "session_ended" once the room has ended.
  base::Status authorize(std::string_view by, std::string_view action, std::string_view code,
                         const DecisionInput::Target* target = nullptr) const;
  // Role of `user_id` in the room, nullopt when not present.
  std::optional<Role> role_of(std::string_view user_id) const;
  // The open (or last closed) quiz, nullptr when none was published.
  const LiveQuiz* quiz() const { return quiz_.get(); }
  const HandQueue& hands() const { return hands_; }
  const ResumeBuffer& buffer() const { return buffer_; }

 private:
  struct Member {
    Participant who;
    int connections = 0;
    int64_t joined_at_ms = 0;
  };

  // Stamps `type` and the next seq on `body`, serialises it once, buffers it and hands it to
  // the listener.
  void emit(Audience audience, std::string_view type, boost::json::object body);

  const Member* find(std::string_view user_id) const;
  bool is_muted(std::string_view user_id) const;
  void send_results(bool final);
  // Audience of a join/leave of `m` (see RoomConfig::full_presence_max).
  Audience presence_audience(const Participant& who);
  boost::json::object member_json(const Member& m) const;
  boost::json::object chat_json(const ChatMessage& m) const;
  // Moves the stage to `user` (empty: nobody), emits `stage` with `reason` and tells the
  // listener. No-op when `user` already holds it.
  void set_stage(std::string user, std::string_view name, std::string_view by,
                 std::string_view reason);
  // Takes `id` (a student in the room) out: `removed` to it, its hand lowered, the stage
  // taken, `participant_left` with `reason` to all.
  void drop_student(const std::string& id, std::string_view by, std::string_view reason,
                    std::string_view removed_reason);
  boost::json::value stage_json() const;

  RoomConfig config_;
  RoomListener& listener_;
  base::Clock& clock_;
  base::Random& random_;
  std::string epoch_;  // random per Room instance; a resume from another epoch gets a snapshot

  uint64_t seq_ = 0;  // seq of the last emitted event
  bool ended_ = false;
  ResumeBuffer buffer_;

  std::map<std::string, Member, std::less<>> participants_;  // present users
  size_t students_ = 0;                                      // present students
  std::set<std::string, std::less<>> removed_;               // may not rejoin
  bool chat_muted_all_ = false;
  std::set<std::string, std::less<>> muted_;  // individually muted students (kept across rejoin)
  std::map<std::string, TokenBucket, std::less<>> chat_limits_;  // per student
  std::map<std::string, TokenBucket, std::less<>> change_limits_;  // per user (take_change_token)
  std::deque<ChatMessage> recent_chat_;                          // newest at the back

  HandQueue hands_;
  std::string stage_;       // user id of the student on stage; empty when nobody is
  std::string stage_name_;  // its display name, for snapshots

  std::unique_ptr<LiveQuiz> quiz_;  // the open quiz, or the last closed one
  bool results_dirty_ = false;      // answers counted since the last results event
  int64_t last_results_ns_ = 0;     // monotonic time of the last results event
  bool results_sent_ = false;       // any results event sent for the current quiz
  bool deadline_reported_ = false;

  bool full_presence_;            // capacity <= full_presence_max
  bool presence_dirty_ = false;   // the count changed since the last `presence` event
  int64_t last_presence_ns_ = 0;  // monotonic time of the last `presence` event
};

}  // namespace classroom
