// Repository for chat messages. Deleting is soft (deleted = 1) so history keeps its shape;
// list_chat returns deleted messages too, flagged, and callers decide what to show.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/db.h"
#include "store/model.h"
#include "store/txn.h"

namespace store {

// NotFound ("session_not_found") when the session does not exist; Conflict
// ("already_exists") when the id is taken.
base::Status insert_chat(Txn& txn, const ChatMessage& message);

// NotFound ("chat_message_not_found").
base::Result<ChatMessage> get_chat(Db& db, std::string_view id);

// A session's messages in (created_at, id) order, starting after `after` — "" for the
// beginning, else a next_cursor from an earlier page (InvalidArgument "invalid_cursor"
// otherwise). `limit` 1..kMaxPageLimit.
base::Result<Page<ChatMessage>> list_chat(Db& db, std::string_view session_id,
                                          std::string_view after, int limit);

// The session's newest `limit` messages that are not deleted, oldest first (a rebuilt live
// room's recent chat).
base::Result<std::vector<ChatMessage>> recent_chat(Db& db, std::string_view session_id, int limit);

// A cursor that makes list_chat start right after `message` (e.g. the newest one a client
// has), so callers can poll for newer messages even after a last page.
std::string chat_cursor_after(const ChatMessage& message);

// Marks the message deleted. NotFound ("chat_message_not_found"); deleting twice is OK.
base::Status delete_chat(Txn& txn, std::string_view id);

}  // namespace store
