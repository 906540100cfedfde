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

std::string_view client_type_name(ClientType type) {
  switch (type) {
    case ClientType::kPing:
      return "ping";
    case ClientType::kChat:
      return "chat";
    case ClientType::kChatDelete:
      return "chat_delete";
    case ClientType::kMute:
      return "mute";
    case ClientType::kRemove:
      return "remove";
    case ClientType::kHandRaise:
      return "hand_raise";
    case ClientType::kHandLower:
      return "hand_lower";
    case ClientType::kQuizPublish:
      return "quiz_publish";
    case ClientType::kQuizClose:
      return "quiz_close";
    case ClientType::kAnswer:
      return "answer";
    case ClientType::kMediaPublish:
      return "media.publish";
    case ClientType::kMediaSubscribe:
      return "media.subscribe";
    case ClientType::kMediaUnpublish:
      return "media.unpublish";
    case ClientType::kStageGive:
      return "stage_give";
    case ClientType::kStageTake:
      return "stage_take";
  }
  return "ping";
}

namespace {

// Reads the fields of a message of type `m.type` into `m`.
base::Status read_fields(base::JsonReader& r, ClientMessage& m) {
  switch (m.type) {
    case ClientType::kPing:
    case ClientType::kHandRaise:
    case ClientType::kStageTake:
      return base::Status::ok();
    case ClientType::kMediaUnpublish: {
      EC_ASSIGN_OR_RETURN(auto source, r.optional_one_of("source", {"camera", "screen"}));
      m.source = source.value_or("camera");
      return base::Status::ok();
    }
    case ClientType::kMediaPublish:
    case ClientType::kMediaSubscribe: {
      EC_ASSIGN_OR_RETURN(m.sdp, r.string("sdp", 1, 60 * 1024));
      if (m.type == ClientType::kMediaPublish) {
        EC_ASSIGN_OR_RETURN(auto source, r.optional_one_of("source", {"camera", "screen"}));
        m.source = source.value_or("camera");
      }
      return base::Status::ok();
    }
    case ClientType::kChat: {
      // Blank text, UTF-8 and the length limit are the room's rules (validate_chat_text, which
      // answers message_too_long); a frame is at most 64 KiB anyway.
      EC_ASSIGN_OR_RETURN(m.text, r.string("text", 0, 64 * 1024));
      return base::Status::ok();
    }
    case ClientType::kChatDelete: {
      EC_ASSIGN_OR_RETURN(m.target, r.string("message_id", 1, 64));
      return base::Status::ok();
    }
    case ClientType::kMute: {
      EC_ASSIGN_OR_RETURN(std::optional<std::string> id, r.optional_string("user_id", 1, 128));
      m.target = id.value_or("");
      EC_ASSIGN_OR_RETURN(m.muted, r.boolean("muted"));
      return base::Status::ok();
    }
    case ClientType::kRemove:
    case ClientType::kStageGive: {
      EC_ASSIGN_OR_RETURN(m.target, r.string("user_id", 1, 128));
      return base::Status::ok();
    }
    case ClientType::kHandLower: {
      EC_ASSIGN_OR_RETURN(std::optional<std::string> id, r.optional_string("user_id", 1, 128));
      m.target = id.value_or("");
      return base::Status::ok();
    }
    case ClientType::kQuizPublish: {
      EC_ASSIGN_OR_RETURN(m.quiz_id, r.string("quiz_id", 1, 64));
      EC_ASSIGN_OR_RETURN(std::optional<int64_t> limit,
                          r.optional_integer("time_limit_s", 5, 3600));
      if (limit) m.time_limit_s = *limit;
      return base::Status::ok();
    }
    case ClientType::kQuizClose: {
      EC_ASSIGN_OR_RETURN(m.quiz_id, r.string("quiz_id", 1, 64));
      return base::Status::ok();
    }
    case ClientType::kAnswer: {
      EC_ASSIGN_OR_RETURN(m.quiz_id, r.string("quiz_id", 1, 64));
      EC_ASSIGN_OR_RETURN(const json::array* a, r.array("answers", 1, kMaxQuestions));
      m.answers = *a;
      return base::Status::ok();
    }
  }
  return base::Status::ok();
}

}  // namespace

base::Result<ClientMessage> parse_client_message(std::string_view text, std::string* ref_out) {
  EC_ASSIGN_OR_RETURN(json::value v, base::parse_json(text, "a live message"));
  if (!v.is_object()) {
    return base::invalid_argument("a message must be a JSON object with a \"type\"", "bad_message");
  }
  base::JsonReader r(v);
  ClientMessage m;
  // The ref first, so that every later error can echo it.
  EC_ASSIGN_OR_RETURN(std::optional<std::string> ref, r.optional_string("ref", 0, 64));
  if (ref) {
    m.ref = *ref;
    if (ref_out) *ref_out = *ref;
  }
  EC_ASSIGN_OR_RETURN(
      std::string type,
      r.one_of("type", {"ping", "chat", "chat_delete", "mute", "remove", "hand_raise", "hand_lower",
                        "quiz_publish", "quiz_close", "answer", "media.publish", "media.subscribe",
                        "media.unpublish", "stage_give", "stage_take"}));
  m.type = type_from(type);
  EC_RETURN_IF_ERROR(read_fields(r, m));
  EC_RETURN_IF_ERROR(r.finish());
  return m;
}

base::Result<NextStep> apply_client_message(Room& room, std::string_view user_id,
                                            const ClientMessage& msg) {
  switch (msg.type) {
    case ClientType::kChatDelete:
    case ClientType::kMute:
    case ClientType::kRemove:
    case ClientType::kQuizPublish:
    case ClientType::kQuizClose:
    case ClientType::kStageGive:
    case ClientType::kStageTake:
      // Each costs a write (Room::take_change_token).
      EC_RETURN_IF_ERROR(room.take_change_token(user_id));
      break;
    default:
      break;
  }
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
    case ClientType::kQuizClose: {
      // Decided here before it costs a write; the service decides again in the writer.
      const bool publish = msg.type == ClientType::kQuizPublish;
      EC_RETURN_IF_ERROR(
          room.authorize(user_id, publish ? "publish_quiz" : "close_quiz", "not_teacher"));
      return publish ? NextStep::kPublish : NextStep::kClose;
    }
    case ClientType::kStageGive:
    case ClientType::kStageTake:
      if (room.ended()) return base::failed_precondition("the session has ended", "session_ended");
      return NextStep::kStage;  // the room asks the policy (action "stage")
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
