#include "classroom/live_answer.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <memory>
#include <string>
#include <utility>

#include "classroom/live_join.h"

namespace classroom {

void submit_live_answer(Room& room, const LiveAnswerDeps& deps, const Participant& who,
                        std::string_view quiz_id, const boost::json::value& answers,
                        std::function<void(const base::Status&)> refused) {
  auto start = room.begin_answer(who.user_id, quiz_id, answers);
  if (!start.is_ok()) {
    refused(start.status());
    return;
  }
  if (!start->needs_commit) return;  // already stored: the room acknowledged it again
  // The message's array as it is, without copying it into a body; anything else (the room's
  // protocol lets only such arrays through) gets the REST body's checks and errors.
  const boost::json::array* items = answers.if_array();
  auto prepared =
      items && !items->empty() && items->size() <= kMaxQuestions
          ? deps.service.prepare_answer_items(deps.reader, actor_of(who), quiz_id, *items)
          : deps.service.prepare_answers(
                deps.reader, actor_of(who), quiz_id,
                boost::json::value(boost::json::object{{"answers", answers}}));
  if (!prepared.is_ok()) {
    room.answer_failed(who.user_id, quiz_id);
    refused(prepared.status());
    return;
  }
  auto p = std::make_shared<const PreparedAnswers>(std::move(prepared).value());
  const Service& service = deps.service;
  base::Status queued =
      deps.storage.write([&service, p](store::Txn& txn) { return service.commit_answers(txn, *p); },
                         [&room, p, user = who.user_id, set = std::move(start->answers),
                          refused](base::Status st) mutable {
                           if (st.is_ok()) {
                             room.answer_committed(user, p->quiz.id, set);
                             return;
                           }
                           room.answer_failed(user, p->quiz.id);
                           refused(st);
                         });
  if (!queued.is_ok()) {
    room.answer_failed(who.user_id, quiz_id);
    refused(queued);
  }
}

}  // namespace classroom
