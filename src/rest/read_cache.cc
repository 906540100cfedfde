#include "rest/read_cache.h"

#include <boost/json/serialize.hpp>

#include "classroom/service.h"
#include "store/courses.h"
#include "store/quizzes.h"

namespace rest {

namespace {
uint64_t current() { return classroom::catalog_generation().load(std::memory_order_acquire); }

template <typename Map>
void make_room(Map& m, size_t max) {
  if (m.size() >= max) m.clear();
}
}  // namespace

base::Result<const classroom::Actor*> ThreadCache::actor_ref(std::string_view token,
                                                             std::string_view secret,
                                                             int64_t now_unix_s) {
  if (auto it = tokens_.find(token); it != tokens_.end()) {
    // The same test as verify_token's (nbf and iat were checked when it was first seen).
    if (now_unix_s - base::kTokenLeewaySeconds < it->second.exp) return &it->second.actor;
    tokens_.erase(it);  // expired: verify again to get the exact error
  }
  EC_ASSIGN_OR_RETURN(base::Claims claims, base::verify_token(token, secret, now_unix_s));
  make_room(tokens_, kMaxEntries);
  auto [it, inserted] = tokens_.emplace(
      std::string(token),
      Token{classroom::Actor{std::move(claims.sub), std::move(claims.name), claims.role},
            claims.exp});
  return &it->second.actor;
}

base::Result<classroom::Actor> ThreadCache::actor_for(std::string_view token,
                                                      std::string_view secret, int64_t now_unix_s) {
  EC_ASSIGN_OR_RETURN(const classroom::Actor* actor, actor_ref(token, secret, now_unix_s));
  return *actor;
}

uint64_t ThreadCache::generation() const {
  return snapshot_depth_ > 0 ? snapshot_generation_ : current();
}

base::Result<store::Course> ThreadCache::course(std::string_view id) {
  EC_ASSIGN_OR_RETURN(const store::Course* c, course_ref(id));
  return *c;
}

base::Result<const store::Course*> ThreadCache::course_ref(std::string_view id) {
  uint64_t gen = generation();
  if (auto it = courses_.find(id); it != courses_.end() && it->second.generation == gen) {
    last_course_ = &it->second;
    return &it->second.course;
  }
  EC_ASSIGN_OR_RETURN(store::Course c, store::get_course(db_, id));
  make_room(courses_, kMaxEntries);  // last_course_ is the new entry below either way
  CourseEntry& e = courses_[std::string(id)];
  e = CourseEntry{gen, std::move(c), {}};
  last_course_ = &e;
  return &e.course;
}

namespace {
std::shared_ptr<const std::string> serialized(const store::Course& c) {
  return std::make_shared<const std::string>(boost::json::serialize(classroom::to_json(c)));
}
}  // namespace

const std::shared_ptr<const std::string>& ThreadCache::course_body(const store::Course& c) {
  // The row course_ref() just returned: its entry is at hand, no second lookup.
  if (last_course_ && &last_course_->course == &c && last_course_->generation == current()) {
    if (!last_course_->body) last_course_->body = serialized(c);
    return last_course_->body;
  }
  auto it = courses_.find(c.id);
  if (it != courses_.end() && it->second.course.updated_at == c.updated_at &&
      it->second.course.enrolled == c.enrolled && it->second.generation == current()) {
    if (!it->second.body) it->second.body = serialized(c);
    return it->second.body;
  }
  scratch_body_ = serialized(c);
  return scratch_body_;
}

base::Result<store::Quiz> ThreadCache::quiz(std::string_view id) {
  uint64_t gen = generation();
  if (auto it = quizzes_.find(id); it != quizzes_.end() && it->second.generation == gen) {
    return it->second.quiz;
  }
  EC_ASSIGN_OR_RETURN(store::Quiz q, store::get_quiz(db_, id));
  EC_ASSIGN_OR_RETURN(std::vector<classroom::Question> qs,
                      classroom::questions_from_storage(q.questions));
  make_room(quizzes_, kMaxEntries);
  quizzes_[std::string(id)] =
      QuizEntry{gen, q, std::make_shared<const std::vector<classroom::Question>>(std::move(qs))};
  return q;
}

base::Result<std::shared_ptr<const std::vector<classroom::Question>>> ThreadCache::questions(
    const store::Quiz& quiz) {
  if (auto it = quizzes_.find(quiz.id);
      it != quizzes_.end() && it->second.quiz.questions == quiz.questions) {
    return it->second.questions;
  }
  EC_ASSIGN_OR_RETURN(std::vector<classroom::Question> qs,
                      classroom::questions_from_storage(quiz.questions));
  return std::make_shared<const std::vector<classroom::Question>>(std::move(qs));
}

base::Result<bool> ThreadCache::enrolled(std::string_view course_id, std::string_view student_id) {
  uint64_t gen = generation();
  std::string key(course_id);
  key += '\n';
  key += student_id;
  if (auto it = enrolled_.find(key); it != enrolled_.end() && it->second.generation == gen) {
    return it->second.enrolled;
  }
  EC_ASSIGN_OR_RETURN(bool e, store::is_enrolled(db_, course_id, student_id));
  make_room(enrolled_, kMaxEntries);
  enrolled_[std::move(key)] = EnrolledEntry{gen, e};
  return e;
}

}  // namespace rest
