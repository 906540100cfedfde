#include "classroom/room_protocol.h"

#include <boost/json/serialize.hpp>

#include "base/json_reader.h"

namespace classroom {

namespace json = boost::json;

namespace {

ClientType type_from(std::string_view t) {
  if (t == "chat") return ClientType::kChat;
  if (t == "chat_delete") return ClientType::kChatDelete;
  if (t == "mute") return ClientType::kMute;
  if (t == "remove") return ClientType::kRemove;
  if (t == "hand_raise") return ClientType::kHandRaise;
  if (t == "hand_lower") return ClientType::kHandLower;
  if (t == "quiz_publish") return ClientType::kQuizPublish;
  if (t == "quiz_close") return ClientType::kQuizClose;
  if (t == "answer") return ClientType::kAnswer;
  if (t == "media.publish") return ClientType::kMediaPublish;
  if (t == "media.subscribe") return ClientType::kMediaSubscribe;
  if (t == "media.unpublish") return ClientType::kMediaUnpublish;
  if (t == "stage_give") return ClientType::kStageGive;
  if (t == "stage_take") return ClientType::kStageTake;
  return ClientType::kPing;
}

}  // namespace

base::Result<ClientMessage> parse_client_message(std::string_view text, std::string* ref_out) {
  EC_ASSIGN_OR_RETURN(json::value v, base::parse_json(text));
  if (!v.is_object()) return base::invalid_argument("a message must be a JSON object", "bad_message");
  base::JsonReader r(v);
  auto type = r.required_enum("type", {"ping", "chat", "chat_delete", "mute", "remove", "hand_raise",
                                          "hand_lower", "quiz_publish", "quiz_close", "answer",
                                          "media.publish", "media.subscribe", "media.unpublish",
                                          "stage_give", "stage_take"});
  auto ref = r.optional_string("ref", 0, 64);
  if (ref && ref_out) *ref_out = *ref;
  if (!r.ok()) return r.finish();  // the first error (type or ref)
  ClientMessage m;
  m.type = type_from(*type);
  if (ref) m.ref = *ref;
  switch (m.type) {
    case ClientType::kPing:
    case ClientType::kHandRaise:
    case ClientType::kMediaUnpublish:
    case ClientType::kStageTake:
      break;
    case ClientType::kMediaPublish:
    case ClientType::kMediaSubscribe: {
      auto sdp = r.required_string("sdp", 1, 60 * 1024);
      if (sdp) m.sdp = std::move(*sdp);
      break;
    }
    case ClientType::kChat: {
      // Length and UTF-8 are the room's rules (validate_chat_text); here only a hard cap.
      auto t = r.required_string("text", 1, 16 * 1024);
      if (t) m.text = std::move(*t);
      break;
    }
    case ClientType::kChatDelete: {
      auto id = r.required_string("message_id", 1, 64);
      if (id) m.target = std::move(*id);
      break;
    }
    case ClientType::kMute: {
      auto id = r.optional_string("user_id", 1, 128);
      if (id) m.target = std::move(*id);
      const json::value* muted = r.optional_value("muted");
      if (!muted || !muted->is_bool()) {
        r.fail(base::invalid_argument("field 'muted' must be true or false", "invalid_field"));
      } else {
        m.muted = muted->get_bool();
      }
      break;
    }
    case ClientType::kRemove:
    case ClientType::kStageGive: {
      auto id = r.required_string("user_id", 1, 128);
      if (id) m.target = std::move(*id);
      break;
    }
    case ClientType::kHandLower: {
      auto id = r.optional_string("user_id", 1, 128);
      if (id) m.target = std::move(*id);
      break;
    }
    case ClientType::kQuizPublish: {
      auto id = r.required_string("quiz_id", 1, 64);
      auto limit = r.optional_int("time_limit_s", 5, 3600);
      if (id) m.quiz_id = std::move(*id);
      if (limit) m.time_limit_s = *limit;
      break;
    }
    case ClientType::kQuizClose: {
      auto id = r.required_string("quiz_id", 1, 64);
      if (id) m.quiz_id = std::move(*id);
      break;
    }
    case ClientType::kAnswer: {
      auto id = r.required_string("quiz_id", 1, 64);
      const json::array* a = r.required_array("answers", 1, kMaxQuestions);
      if (id) m.quiz_id = std::move(*id);
      if (a) m.answers = *a;
      break;
    }
  }
  EC_RETURN_IF_ERROR(r.finish());
  return m;
}

base::Result<NextStep> apply_client_message(Room& room, std::string_view user_id,
                                            const ClientMessage& msg) {
  switch (msg.type) {
    case ClientType::kPing:
      return NextStep::kPong;
    case ClientType::kChat:
      EC_RETURN_IF_ERROR(room.chat(user_id, msg.text));
      return NextStep::kNone;
    case ClientType::kChatDelete:
      EC_RETURN_IF_ERROR(room.delete_chat(user_id, msg.target));
      return NextStep::kNone;
    case ClientType::kMute:
      EC_RETURN_IF_ERROR(room.mute(user_id, msg.target, msg.muted));
      return NextStep::kNone;
    case ClientType::kRemove:
      EC_RETURN_IF_ERROR(room.remove(user_id, msg.target));
      return NextStep::kNone;
    case ClientType::kHandRaise:
      EC_RETURN_IF_ERROR(room.raise_hand(user_id));
      return NextStep::kNone;
    case ClientType::kHandLower:
      EC_RETURN_IF_ERROR(room.lower_hand(user_id, msg.target));
      return NextStep::kNone;
    case ClientType::kQuizPublish:
    case ClientType::kQuizClose:
    case ClientType::kStageGive:
    case ClientType::kStageTake:
      if (room.role_of(user_id) != Role::kTeacher) {
        return base::permission_denied("only the teacher can do this", "not_teacher");
      }
      if (room.ended()) return base::failed_precondition("the session has ended", "session_ended");
      if (msg.type == ClientType::kStageGive || msg.type == ClientType::kStageTake) {
        return NextStep::kStage;
      }
      return msg.type == ClientType::kQuizPublish ? NextStep::kPublish : NextStep::kClose;
    case ClientType::kAnswer:
      return NextStep::kAnswer;
    case ClientType::kMediaPublish:
    case ClientType::kMediaSubscribe:
    case ClientType::kMediaUnpublish:
      if (room.ended()) return base::failed_precondition("the session has ended", "session_ended");
      return NextStep::kMedia;
  }
  return NextStep::kNone;
}

std::string error_reply(std::string_view ref, const base::Status& status) {
  json::object o;
  o["type"] = "error";
  if (!ref.empty()) o["ref"] = ref;
  o["code"] = status.reason();
  o["message"] = status.message();
  return json::serialize(o);
}

std::string pong_reply(std::string_view ref, int64_t now_unix_ms) {
  json::object o;
  o["type"] = "pong";
  if (!ref.empty()) o["ref"] = ref;
  o["ts"] = now_unix_ms;
  return json::serialize(o);
}

}  // namespace classroom
