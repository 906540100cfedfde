// Vocabulary of the live room: who is in it, who an event is for, what the room tells its
// owner. Portable core: no Asio, no threads, no exceptions.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace classroom {

enum class Role { kTeacher, kStudent };

std::string_view role_name(Role role);

// A person in a room. `user_id` is the token's `sub`; `name` is shown to others.
struct Participant {
  std::string user_id;
  std::string name;
  Role role = Role::kStudent;
  // An admin takes the teacher's part in the room; policy decisions still see "admin".
  bool admin = false;
};

// Who receives an event: every student, every teacher, and/or one user. A participant is a
// recipient when its role's flag is set or it is `user`.
struct Audience {
  bool students = false;
  bool teachers = false;
  std::string user;  // empty: nobody in particular

  static Audience everyone() { return {true, true, {}}; }
  static Audience teachers_only() { return {false, true, {}}; }
  static Audience only(std::string_view user_id) { return {false, false, std::string(user_id)}; }
  static Audience teachers_and(std::string_view user_id) {
    return {false, true, std::string(user_id)};
  }

  bool includes(Role role, std::string_view user_id) const {
    return includes_role(role) || names(user_id);
  }
  // The two halves of includes(), for a caller that reads the user's id only when its role
  // is not enough (ws::LiveSession::hears).
  bool includes_role(Role role) const { return role == Role::kStudent ? students : teachers; }
  bool names(std::string_view user_id) const { return !user.empty() && user == user_id; }
};

// One server event: its room sequence number, its audience and its JSON text. The text is
// serialised once and shared (read-only) by every connection that sends it.
struct RoomEvent {
  uint64_t seq = 0;
  Audience audience;
  std::shared_ptr<const std::string> json;
};

// A chat message as the room keeps and persists it.
struct ChatMessage {
  std::string id;         // "msg_..."
  std::string session_id;
  std::string user_id;
  std::string name;
  Role role = Role::kStudent;
  std::string text;       // valid UTF-8, 1..chat_max_chars code points
  int64_t sent_at_ms = 0;  // Unix ms
};

// What a Room tells its owner. Every call happens synchronously inside a Room method, on the
// thread that owns the room; implementations must not call back into the room.
class RoomListener {
 public:
  virtual ~RoomListener() = default;
  // A sequenced event to deliver to every connected participant in `event.audience`.
  virtual void on_room_event(const RoomEvent& event) = 0;
  // A chat message was accepted and should be persisted (fire-and-forget).
  virtual void on_chat_message(const ChatMessage& message) {}
  // A chat message was deleted by the teacher and should be marked deleted in storage.
  virtual void on_chat_deleted(std::string_view message_id) {}
  // Chat was muted or unmuted for every student (`user_id` empty) or for one; the owner
  // stores it so a rebuilt room keeps it.
  virtual void on_chat_muted(std::string_view user_id, bool muted) {}
  // The teacher removed `user_id`: close its connections (close code 4011). The personal
  // `removed` event has already been emitted before this call.
  virtual void on_participant_removed(std::string_view user_id) {}
  // The open quiz's deadline passed (reported once from tick()). The owner records the close
  // in storage and then calls Room::close_quiz.
  virtual void on_quiz_deadline(std::string_view quiz_id) {}
  // The stage passed from `previous` to `current` (user ids; empty: nobody). Called after the
  // `stage` event. The owner stops `previous`'s published media, so a student can no longer
  // publish once the stage is gone.
  virtual void on_stage_changed(std::string_view previous, std::string_view current) {}
  // Attendance: `who` entered the room (its first connection; `present` true) or is no longer
  // in it (its last connection left, or it was removed; `present` false). The owner records
  // the visit (store/attendance.h).
  virtual void on_presence_changed(const Participant& who, bool present) {}
};

}  // namespace classroom
