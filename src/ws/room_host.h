// ws::RoomHost — one live session's classroom::Room on one I/O thread, with its connections.
//
// Owned by LiveHub (shared with its sessions and pending callbacks). Everything here runs on
// `executor()`: the Room, the connection list, the tick timer. Other threads reach it only
// with asio::post. Storage goes through store::Writer; completions come back by post.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "classroom/authz.h"
#include "classroom/reader.h"
#include "classroom/room.h"
#include "classroom/room_protocol.h"
#include "classroom/room_storage.h"
#include "classroom/service.h"
#include "store/db.h"
#include "store/model.h"
#include "store/writer.h"
#include "ws/city_link.h"
#include "ws/edge_room.h"
#include "ws/live_room.h"
#include "ws/live_session.h"
#include "ws/live_traffic.h"
#include "ws/media_signalling.h"
#include "ws/room_shard.h"

namespace ws {

// What a room needs from the rest of the server. Outlives every RoomHost (the city counters,
// which a room touches when destroyed, are co-owned).
struct RoomDeps {
  classroom::Service* service = nullptr;
  store::Writer* writer = nullptr;
  store::Db* reader = nullptr;  // the read-only connection of the room's I/O thread
  base::Clock* clock = nullptr;
  base::Random* random = nullptr;
  // The policy in force; decides "publish_media" and "stage". May be empty: the course's
  // teacher publishes and gives the stage, and the student on stage publishes.
  std::function<std::shared_ptr<const classroom::Authorizer>()> authorizer;
  // The media plane; nullptr (or empty functions) when video is unavailable.
  const MediaSignalling* media = nullptr;
  // Counts the messages in and out and the error replies (/metrics). Not null.
  LiveTraffic* traffic = nullptr;
  // The city (one class across replicas), nullptr on a single node; with its counters.
  CityLink* city = nullptr;
  std::shared_ptr<CityLiveCounters> city_counters;
  // A spread room (ws/room_shard.h): every I/O thread's io_context, by thread index; the
  // room's connections stay on the threads that accepted them. Empty: every connection is
  // moved to the room's thread. Independent of the city: a spread room on a course's home
  // also serves the connections its edges hold (remote_join below).
  std::vector<boost::asio::io_context*> spread_over;
};

class RoomHost : public LiveRoom,
                 public std::enable_shared_from_this<RoomHost>,
                 public classroom::RoomListener,
                 public classroom::RoomStorage {
 public:
  // `teacher_id` is the course's teacher, on whose behalf the room closes a quiz at its
  // deadline. `on_finished` runs (on this thread) after the session ended, so the hub can
  // forget the room.
  RoomHost(boost::asio::io_context& ioc, int thread_index, classroom::RoomConfig config,
           std::string teacher_id, RoomDeps deps, std::function<void()> on_finished);
  ~RoomHost() override;

  boost::asio::any_io_executor executor() override { return ioc_.get_executor(); }
  int thread_index() const { return thread_index_; }
  const std::string& session_id() const { return session_id_; }
  // Any thread (set at construction).
  const std::string& course_id() const { return course_id_; }
  // Any thread (set at construction): connections stay on their own I/O threads.
  bool spread() const { return connections_.spread(); }
  // Any thread: the shard for `thread_index`'s connections; null for the room's own thread or
  // when the room is not spread.
  std::shared_ptr<RoomShard> shard(int thread_index) const {
    return connections_.shard(thread_index);
  }

  // ---- called by LiveSession (room thread; posted here by a session on a shard) ----
  // Adds `s` to the room (and to the connection list when accepted).
  base::Result<classroom::JoinReply> join(
      const std::shared_ptr<LiveSession>& s,
      const std::optional<classroom::ResumePoint>& resume) override;
  void leave(LiveSession& s) override;
  bool is_member(const LiveSession& s) const override { return connections_.contains(s); }
  // One text frame from `s`.
  void on_message(LiveSession& s, std::string_view text) override;

  // ---- connections held by edge replicas (LiveHub::from_edge, on this thread) ----
  // The same decisions as join(), for connection `conn` of replica `edge` (admitted at the
  // home's door already): the welcome and replay, or the refusal, go back on the channel.
  void remote_join(const std::string& edge, const std::string& conn,
                   const classroom::Participant& who,
                   const std::optional<classroom::ResumePoint>& resume);
  void remote_leave(const std::string& conn);
  void remote_message(const std::string& conn, std::string_view text);
  // `edge` still holds `conns`: the ones this room does not know are told to reconnect (the
  // room was rebuilt), the ones of `edge` it knows and that are not listed leave.
  void remote_alive(const std::string& edge, const std::vector<std::string>& conns);
  // Connections held by edges, for tests and metrics.
  size_t remote_connections() const { return remote_.size(); }

  // ---- called by LiveHub after posting to executor() ----
  // Rebuilds the room from storage (docs/live-protocol.md, "The room and the database"):
  // the session's current quiz with its stored answers, mutes, removals and the stage; ends
  // the room when the session has ended or the course is archived. Runs once, before the
  // room's first join or storage-driven change (every entry point below calls it).
  void restore_once();
  // A quiz of this session changed in storage (published or closed, via REST or the socket).
  void quiz_changed(const store::Quiz& quiz);
  // Answers were committed (REST or socket).
  void answers_committed(const std::string& student_id, const store::Quiz& quiz,
                         const std::vector<store::Answer>& answers);
  // The course changed over REST: the new capacity bounds later joins; archived, the room
  // ends (close 1000).
  void course_changed(const store::Course& course);
  // `student_id` is no longer enrolled (removed by `by`, or it left when by == student_id):
  // out of the room, its connections closed with 4003.
  void student_removed(const std::string& student_id, const std::string& by);
  // The session ended: final event, then every connection closes with `code` and
  // `close_reason`.
  void end(std::string_view reason, uint16_t code,
           std::string_view close_reason = "the session ended");
  // Server shutdown (`code` 1001, or 1012 in a city): close every connection (the room stays
  // for a resume). In a city the edges' connections are told to close and leave the room at
  // once, and the session's presence is removed from the city.
  void close_all(uint16_t code, std::string_view reason);
  // Writes the session's presence in the city again from the room (Redis came back empty).
  void republish_presence();
  // The media plane reported a track or a dead transport in this room (see MediaEvent).
  void media_event(const MediaEvent& event);

  // Connections on this replica (on the room's thread and, spread, on the others); those of
  // edges are remote_connections().
  size_t connections() const { return connections_.size(); }
  // Users present in the room (a user with several sockets counts once). Any thread: the
  // room's thread updates them after each join and leave.
  uint64_t present_students() const { return present_students_.load(std::memory_order_relaxed); }
  uint64_t present_teachers() const { return present_teachers_.load(std::memory_order_relaxed); }
  LiveTraffic& traffic() override { return *deps_.traffic; }
  const classroom::Room& room() const { return room_; }
  // Lets go of every connection, once the I/O threads have stopped (the hub's destructor):
  // a session holds its host and the host its sessions, so connections the drain timeout
  // cut off would otherwise keep each other, and the room, alive.
  void release_connections() {
    by_user_.clear();
    connections_.release();
  }
  // The room's connections with frames to write at the end of the current burst.
  FlushList& flush_list() override { return connections_.flush_list(); }

  // classroom::RoomListener
  void on_room_event(const classroom::RoomEvent& event) override;
  void on_chat_message(const classroom::ChatMessage& message) override;
  void on_chat_deleted(std::string_view message_id) override;
  void on_chat_muted(std::string_view user_id, bool muted) override;
  void on_participant_removed(std::string_view user_id) override;
  void on_quiz_deadline(std::string_view quiz_id) override;
  void on_stage_changed(std::string_view previous, std::string_view current) override;
  void on_presence_changed(const classroom::Participant& who, bool present) override;

  // classroom::RoomStorage: the op through the store's writer, `done` posted back here.
  base::Status write(store::WriteOp op, std::function<void(base::Status)> done) override;

 private:
  // Who sent a client message and how to answer it: a socket of this replica (`local`, on
  // this thread or, spread, on another through its shard), or a connection on an edge (its
  // replies go back on the channel). `reply` may be called later, on this thread; it does
  // nothing once the connection is gone.
  struct Sender {
    const classroom::Participant& who;
    std::function<void(std::string)> reply;
    LiveSession* local = nullptr;
  };
  Sender local_sender(LiveSession& s);
  // Replies classroom::error_reply(ref, status) to `s`, counted by its code (LiveTraffic);
  // error_replier() is the same as a callable for a later completion.
  void reply_error(const Sender& s, std::string_view ref, const base::Status& status);
  std::function<void(const base::Status&)> error_replier(const Sender& s, std::string ref);
  void handle_message(const Sender& s, std::string_view text);
  void submit_answer(const Sender& s, const classroom::ClientMessage& msg);
  void submit_quiz_change(const Sender& s, const classroom::ClientMessage& msg);
  // What the room sends one connection of this replica, wherever it runs (connections_):
  // reply() counts one message.
  void reply(LiveSession& s, std::string_view text);
  // media.publish / media.subscribe / media.unpublish: policy, then the SFU on its thread.
  void handle_media(const Sender& s, const classroom::ClientMessage& msg);
  // stage_give / stage_take from a teacher: policy ("stage"), then the room.
  void handle_stage(const Sender& s, const classroom::ClientMessage& msg);
  // Closes the edge connections of `user_id` (all: empty) with `code`.
  void close_remote(std::string_view user_id, uint16_t code, const base::Status& why,
                    bool students_only = false);
  // Every edge connection leaves the room now (the session ended, or this replica stops).
  void drop_remote();
  // Whether `user_id` has a connection on an edge here.
  bool has_remote(std::string_view user_id) const;
  // Drops the user's SFU transports (its last connection, here or on an edge, is gone).
  void leave_media(const std::string& user_id);
  // Checks the edges' liveness every second while some hold connections here.
  void ensure_sweeping();
  boost::asio::awaitable<void> sweep_loop();
  void sweep();
  // The "publish_media" decision for `p`, with on_stage = whether `p` holds the stage.
  classroom::Decision may_publish_media(const classroom::Participant& p) const;
  // The "share_screen" decision for `p` (same input as "publish_media").
  classroom::Decision may_share_screen(const classroom::Participant& p) const;
  // The policy's `action` ("publish_media", "share_screen") for `p`, the room's course as
  // {"id", "teacher_id"}.
  classroom::Decision media_decision(std::string_view action, const classroom::Participant& p,
                                     bool on_stage) const;
  // {"type":"media.tracks","feeds":[...]}: which feeds are live now.
  std::string media_tracks_message() const;
  void ensure_ticking();
  // Copies the room's presence into present_students_/present_teachers_.
  void publish_presence_counts();
  boost::asio::awaitable<void> tick_loop();
  // `event` to the edges holding connections here (once per event).
  void publish_to_edges(const classroom::RoomEvent& event);
  // Runs `fn` on this room's thread later (for writer completions).
  template <typename Fn>
  void post_here(Fn fn);
  // Stores room state through the writer (fire-and-forget; failures are logged as `what`).
  void persist(const char* what, store::WriteOp op);
  // Hands the chat messages not yet stored to the writer as one op (one group commit for a
  // burst of chat instead of one per message). Runs when the batch's delay ends, and before
  // any other write this room submits, so the writer still sees the room's writes in the
  // order they happened (a chat_delete after its message, an end after the last message).
  void save_chat();

  boost::asio::io_context& ioc_;
  int thread_index_;
  RoomDeps deps_;
  std::string teacher_id_;
  const std::string session_id_;
  const std::string course_id_;
  std::function<void()> on_finished_;
  classroom::Room room_;  // room thread only
  // The open quiz's parsed questions for the answers' grading, and the quiz, course and
  // enrollment rows the answers read (room thread only).
  classroom::QuestionsCache questions_cache_;
  classroom::RowCache row_cache_;
  // Open connections on this replica (room thread only, but for shard()): on this thread
  // and, a spread room's, on the others through their shards. Connections held by edges are
  // remote_ below.
  RoomConnections connections_;
  // The same connections by user id, for events addressed to one user.
  std::unordered_map<std::string, std::vector<LiveSession*>> by_user_;
  // Live feeds as reported by the SFU (room thread only): feed -> publisher and its kinds.
  struct FeedState {
    std::string participant;
    std::set<std::string> kinds;  // "audio", "video"
  };
  std::map<std::string, FeedState> feeds_;
  // The room's presence as /metrics reads it (written on the room's thread, read anywhere).
  std::atomic<uint64_t> present_students_{0};
  std::atomic<uint64_t> present_teachers_{0};
  // Connections held by edge replicas (room thread only): by connection id.
  struct RemoteConn {
    classroom::Participant who;
    std::string edge;    // replica id
    uint64_t epoch = 0;  // CityLink::link_epoch() when it joined
  };
  std::unordered_map<std::string, RemoteConn> remote_;
  // What this room last wrote to the city's presence (room thread only; in a city): user id
  // -> entry, to write it all again when Redis lost it.
  std::map<std::string, std::string> presence_;
  // When each edge holding connections here last said so (its "alive" beat).
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> edge_seen_;
  // An edge not heard from this long has lost its connections (3 missed beats and more).
  static constexpr std::chrono::seconds kEdgeSilent{7};
  // Chat messages fanned out but not yet handed to the writer (room thread only): stored
  // together kChatSaveDelay after the first of them (save_chat), so a busy chat costs one
  // commit (one fsync) per batch, not per message. A message is on every screen before it
  // is stored either way; a crash loses at most this window's messages from the history.
  static constexpr std::chrono::milliseconds kChatSaveDelay{100};
  std::vector<store::ChatMessage> chat_unsaved_;
  boost::asio::steady_timer chat_timer_;
  bool sweeping_ = false;
  bool ticking_ = false;
  bool finished_ = false;
  bool restored_ = false;
  // Server shutdown: connections close with 1001 and the room is not persisted any more (a
  // student leaving now keeps the stage in storage, so the rebuilt room gives it back).
  bool going_away_ = false;
};

}  // namespace ws
