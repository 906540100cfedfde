// Courses, enrollment and live sessions.
#include "base/json_reader.h"
#include "base/random.h"
#include "classroom/service.h"

namespace classroom {

namespace json = boost::json;

Decision Service::decide(const DecisionInput& input) const {
  std::shared_ptr<const Authorizer> a = authorizer_();
  if (!a) return {false, "no policy is loaded"};
  return a->decide(input);
}

base::Status Service::authorize(const DecisionInput& input) const {
  Decision d = decide(input);
  if (d.allow) return base::Status::ok();
  std::string msg = d.reason.empty() ? "the policy does not allow this" : d.reason;
  return base::permission_denied(std::move(msg), "forbidden");
}

bool Service::reads_all_results(const Actor& actor, const store::Course& course) const {
  DecisionInput in{"read_results", input_user(actor)};
  in.course = &course;
  return decide(in).allow;
}

base::Result<CreateCourse> Service::parse_create_course(const json::value& body) const {
  base::JsonReader r(body);
  CreateCourse c;
  EC_ASSIGN_OR_RETURN(c.title, r.string("title", 1, 200));
  EC_ASSIGN_OR_RETURN(std::optional<std::string> description,
                      r.optional_string("description", 0, 5000));
  EC_ASSIGN_OR_RETURN(std::optional<int64_t> capacity,
                      r.optional_integer("capacity", 1, kMaxCapacity));
  EC_ASSIGN_OR_RETURN(std::optional<std::string> status,
                      r.optional_one_of("status", {"draft", "active"}));
  EC_RETURN_IF_ERROR(r.finish());
  c.description = description.value_or("");
  c.capacity = capacity.value_or(default_capacity_);
  c.status = store::CourseStatus::kDraft;
  if (status) c.status = store::parse_course_status(*status).value_or(store::CourseStatus::kDraft);
  return c;
}

base::Result<CoursePatch> Service::parse_course_patch(const json::value& body) const {
  base::JsonReader r(body);
  CoursePatch p;
  EC_ASSIGN_OR_RETURN(p.title, r.optional_string("title", 1, 200));
  EC_ASSIGN_OR_RETURN(p.description, r.optional_string("description", 0, 5000));
  EC_ASSIGN_OR_RETURN(p.capacity, r.optional_integer("capacity", 1, kMaxCapacity));
  EC_ASSIGN_OR_RETURN(std::optional<std::string> status,
                      r.optional_one_of("status", {"draft", "active", "archived"}));
  EC_RETURN_IF_ERROR(r.finish());
  if (status) p.status = store::parse_course_status(*status);
  if (!p.title && !p.description && !p.capacity && !p.status) {
    return base::invalid_argument(
        "nothing to change: send at least one of title, description, status, capacity",
        "empty_patch");
  }
  return p;
}

base::Result<store::Course> Service::create_course(store::Txn& txn, const Actor& actor,
                                                   const CreateCourse& req) const {
  EC_RETURN_IF_ERROR(authorize({"create_course", input_user(actor)}));
  store::Course c;
  c.id = base::new_id("crs", random_);
  c.title = req.title;
  c.description = req.description;
  c.teacher_id = actor.id;
  c.teacher_name = actor.name;
  c.status = req.status;
  c.capacity = req.capacity;
  c.created_at = c.updated_at = clock_.now_unix_ms();
  EC_RETURN_IF_ERROR(store::insert_course(txn, c));
  EC_RETURN_IF_ERROR(assign_join_code(txn, c.id).status());
  return c;
}

namespace {
bool can_see(const Actor& actor, const store::Course& c) {
  return c.status != store::CourseStatus::kDraft || actor.role == base::Role::kAdmin ||
         c.teacher_id == actor.id;
}
base::Status course_not_found(std::string_view id) {
  return base::not_found("no course with id '" + std::string(id) + "'", "course_not_found");
}
}  // namespace

base::Result<store::Course> Service::get_course(store::Db& db, const Actor& actor,
                                                std::string_view id) const {
  DbReader reader(db);
  return get_course(reader, actor, id);
}

base::Result<store::Course> Service::get_course(Reader& reader, const Actor& actor,
                                                std::string_view id) const {
  EC_ASSIGN_OR_RETURN(const store::Course* c, see_course(reader, actor, id));
  return *c;
}

base::Result<const store::Course*> Service::see_course(Reader& reader, const Actor& actor,
                                                       std::string_view id) const {
  if (!base::is_valid_id(id, "crs")) return course_not_found(id);
  EC_ASSIGN_OR_RETURN(const store::Course* c, reader.course_ref(id));
  if (!can_see(actor, *c)) return course_not_found(id);  // drafts are private to their teacher
  return c;
}

base::Result<store::Page<store::Course>> Service::list_courses(store::Db& db, const Actor& actor,
                                                               const store::CourseFilter& filter,
                                                               std::string_view cursor,
                                                               int limit) const {
  store::CourseFilter f = filter;
  // Others' drafts are private: without a status filter a non-owner sees only what is
  // visible to them, so we filter after the page is read and keep paginating on the cursor.
  EC_ASSIGN_OR_RETURN(store::Page<store::Course> page, store::list_courses(db, f, cursor, limit));
  std::erase_if(page.items, [&](const store::Course& c) { return !can_see(actor, c); });
  return page;
}

base::Result<store::Course> Service::course_for_write(store::Db& db, const Actor& actor,
                                                      std::string_view id,
                                                      std::string_view action) const {
  if (!base::is_valid_id(id, "crs")) return course_not_found(id);
  EC_ASSIGN_OR_RETURN(store::Course c, store::get_course(db, id));
  DecisionInput in{action, input_user(actor)};
  in.course = &c;
  EC_RETURN_IF_ERROR(authorize(in));
  return c;
}

base::Result<store::Course> Service::update_course(store::Txn& txn, const Actor& actor,
                                                   std::string_view id,
                                                   const CoursePatch& patch) const {
  EC_ASSIGN_OR_RETURN(store::Course c, course_for_write(txn.db(), actor, id, "update_course"));
  if (patch.title) c.title = *patch.title;
  if (patch.description) c.description = *patch.description;
  if (patch.capacity) c.capacity = *patch.capacity;
  if (patch.status) c.status = *patch.status;
  c.updated_at = clock_.now_unix_ms();
  EC_RETURN_IF_ERROR(store::update_course(txn, c));
  // An archived course has no live class: its live session ends with the archive (the live
  // room hears of it through LiveNotifier::course_changed).
  if (c.status == store::CourseStatus::kArchived) {
    EC_ASSIGN_OR_RETURN(std::optional<store::Session> live,
                        store::live_session_for_course(txn.db(), c.id));
    if (live) EC_RETURN_IF_ERROR(store::end_session(txn, live->id, c.updated_at));
  }
  return c;
}

base::Result<JoinResult> Service::join(store::Txn& txn, const Actor& actor,
                                       std::string_view course_id) const {
  if (!base::is_valid_id(course_id, "crs")) return course_not_found(course_id);
  EC_ASSIGN_OR_RETURN(store::Course c, store::get_course(txn.db(), course_id));
  auto existing = store::get_enrollment(txn.db(), course_id, actor.id);
  if (existing.is_ok()) return JoinResult{std::move(existing).value(), false};
  if (existing.status().code() != base::Code::kNotFound) return existing.status();

  // course.students as the case study's rule counts it; at most `capacity` ids are read, which
  // is all `capacity > count(students)` needs, so a join costs O(capacity), never more.
  EC_ASSIGN_OR_RETURN(std::vector<std::string> students,
                      store::enrolled_student_ids(txn.db(), c.id, c.capacity));
  DecisionInput in{"join", input_user(actor)};
  in.course = &c;
  in.students = &students;
  Decision d = decide(in);
  if (!d.allow) {
    std::string why = d.reason.empty() ? "the policy does not allow joining this course" : d.reason;
    return base::permission_denied(std::move(why), "join_denied");
  }
  store::Enrollment e{std::string(course_id), actor.id, actor.name, clock_.now_unix_ms()};
  EC_ASSIGN_OR_RETURN(bool created, store::insert_enrollment(txn, e));
  return JoinResult{std::move(e), created};
}

base::Status Service::remove_student(store::Txn& txn, const Actor& actor,
                                     std::string_view course_id,
                                     std::string_view student_id) const {
  bool self = student_id == actor.id;
  EC_ASSIGN_OR_RETURN(store::Course c, course_for_write(txn.db(), actor, course_id,
                                                        self ? "leave" : "remove_student"));
  EC_ASSIGN_OR_RETURN(bool existed, store::delete_enrollment(txn, c.id, student_id));
  if (!existed) {
    return base::not_found(
        "student '" + std::string(student_id) + "' is not enrolled in this course",
        "enrollment_not_found");
  }
  return base::Status::ok();
}

base::Result<store::Page<store::Enrollment>> Service::list_students(store::Db& db,
                                                                    const Actor& actor,
                                                                    std::string_view course_id,
                                                                    std::string_view cursor,
                                                                    int limit) const {
  EC_ASSIGN_OR_RETURN(store::Course c, course_for_write(db, actor, course_id, "list_students"));
  return store::list_enrollments(db, c.id, cursor, limit);
}

base::Result<store::Session> Service::go_live(store::Txn& txn, const Actor& actor,
                                              std::string_view course_id, std::string title) const {
  EC_ASSIGN_OR_RETURN(store::Course c, course_for_write(txn.db(), actor, course_id, "go_live"));
  if (c.status != store::CourseStatus::kActive) {
    return base::failed_precondition("the course is " + std::string(store::to_string(c.status)) +
                                         "; set its status to active before going live",
                                     "course_not_active");
  }
  EC_ASSIGN_OR_RETURN(std::optional<store::Session> live,
                      store::live_session_for_course(txn.db(), c.id));
  if (live) {
    return base::failed_precondition("the course is already live in session " + live->id,
                                     "session_already_live");
  }
  store::Session s;
  s.id = base::new_id("ses", random_);
  s.course_id = c.id;
  s.teacher_id = c.teacher_id;
  s.title = title.empty() ? c.title : std::move(title);
  s.status = store::SessionStatus::kLive;
  s.started_at = clock_.now_unix_ms();
  EC_RETURN_IF_ERROR(store::insert_session(txn, s));
  return s;
}

namespace {
base::Status session_not_found(std::string_view id) {
  return base::not_found("no session with id '" + std::string(id) + "'", "session_not_found");
}
}  // namespace

base::Result<store::Session> Service::end_session(store::Txn& txn, const Actor& actor,
                                                  std::string_view session_id) const {
  if (!base::is_valid_id(session_id, "ses")) return session_not_found(session_id);
  EC_ASSIGN_OR_RETURN(store::Session s, store::get_session(txn.db(), session_id));
  EC_RETURN_IF_ERROR(course_for_write(txn.db(), actor, s.course_id, "end_session").status());
  if (s.status == store::SessionStatus::kEnded) {
    return base::failed_precondition("the session has already ended", "session_ended");
  }
  int64_t now = clock_.now_unix_ms();
  EC_RETURN_IF_ERROR(store::end_session(txn, s.id, now));
  s.status = store::SessionStatus::kEnded;
  s.ended_at = now;
  return s;
}

base::Result<store::Session> Service::get_session(store::Db& db, const Actor& actor,
                                                  std::string_view id) const {
  if (!base::is_valid_id(id, "ses")) return session_not_found(id);
  EC_ASSIGN_OR_RETURN(store::Session s, store::get_session(db, id));
  EC_RETURN_IF_ERROR(get_course(db, actor, s.course_id).status());
  return s;
}

base::Result<std::vector<store::Session>> Service::list_sessions(store::Db& db, const Actor& actor,
                                                                 std::string_view course_id) const {
  EC_ASSIGN_OR_RETURN(store::Course c, get_course(db, actor, course_id));
  return store::list_sessions(db, c.id);
}

}  // namespace classroom
