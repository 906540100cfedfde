// The client→server half of the live protocol (docs/live-protocol.md): parsing one text
// frame into a ClientMessage, applying the room-only messages to a Room, and the direct
// (unsequenced) replies. Portable core.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "classroom/room.h"

namespace classroom {

enum class ClientType {
  kPing,         // {"type":"ping"}                              -> {"type":"pong"}
  kChat,         // {"type":"chat","text":"..."}
  kChatDelete,   // {"type":"chat_delete","message_id":"msg_..."}         (teacher)
  kMute,         // {"type":"mute","user_id"?:"...","muted":true}         (teacher)
  kRemove,       // {"type":"remove","user_id":"..."}                     (teacher)
  kHandRaise,    // {"type":"hand_raise"}                                 (student)
  kHandLower,    // {"type":"hand_lower","user_id"?:"..."}
  kQuizPublish,  // {"type":"quiz_publish","quiz_id":"qz_...","time_limit_s":60} (teacher)
  kQuizClose,    // {"type":"quiz_close","quiz_id":"qz_..."}             (teacher)
  kAnswer,       // {"type":"answer","quiz_id":"qz_...","answers":[...]} (student)
  kMediaPublish,    // {"type":"media.publish","sdp":"v=0...","source"?:"screen"} (policy)
  kMediaSubscribe,  // {"type":"media.subscribe","sdp":"v=0..."}
  kMediaUnpublish,  // {"type":"media.unpublish","source"?:"camera"|"screen"}
  kStageGive,       // {"type":"stage_give","user_id":"..."}     (teacher; policy "stage")
  kStageTake,       // {"type":"stage_take"}                     (teacher; policy "stage")
};

struct ClientMessage {
  ClientType type = ClientType::kPing;
  std::string ref;         // optional client correlation id, echoed in replies (<= 64 chars)
  std::string text;        // kChat
  std::string target;      // user id (mute, remove, hand_lower, stage_give) or chat_delete id
  bool muted = true;       // kMute
  std::string quiz_id;     // kQuizPublish, kQuizClose, kAnswer
  int64_t time_limit_s = 60;  // kQuizPublish, 5..3600
  boost::json::value answers;  // kAnswer, validated later against the quiz
  std::string sdp;             // kMediaPublish, kMediaSubscribe: the browser's offer
  // kMediaPublish, kMediaUnpublish: "camera" (default: camera and microphone) or "screen"
  // (a shared screen or window, policy "share_screen").
  std::string source = "camera";
};

// The wire name of `type` ("chat", "media.publish", ...).
std::string_view client_type_name(ClientType type);

// Parses one text frame. On error the Status says what is wrong; `ref_out` receives the
// message's "ref" whenever it could be read, so the error reply can carry it.
base::Result<ClientMessage> parse_client_message(std::string_view text, std::string* ref_out);

// What the transport still has to do after apply_client_message.
enum class NextStep {
  kNone,     // handled entirely by the room (or failed: see the Status)
  kPong,     // send pong_reply(ref)
  kPublish,  // store the publish, then Room::publish_quiz
  kClose,    // store the close, then Room::close_quiz
  kAnswer,   // Room::begin_answer was done by the transport with its store in hand
  kMedia,    // a media.* message: signalling with the SFU is the transport's
  kStage,    // stage_give/stage_take from a teacher: ask the policy, then Room::give_stage
             // or Room::take_stage
};

// Applies chat, moderation and hands messages from `user_id` to `room`; returns which step is
// left for the transport for the others. Checks that publish/close and the stage messages come
// from a teacher.
base::Result<NextStep> apply_client_message(Room& room, std::string_view user_id,
                                            const ClientMessage& msg);

// {"type":"error","ref":...,"code":"<reason>","message":"..."}
std::string error_reply(std::string_view ref, const base::Status& status);
// {"type":"pong","ref":...,"ts":unix_ms}
std::string pong_reply(std::string_view ref, int64_t now_unix_ms);

}  // namespace classroom
