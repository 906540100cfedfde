# edgeclass default policy: who may do what in a live class.
#
# The server asks `data.education.allow` (EDGECLASS_POLICY_QUERY) for every decision, with the
# input documented in docs/policy.md: {"action": ..., "user": {"id", "name", "role"},
# "course": {...}, ...}. When allow is false, the first of `deny_reason` (sorted) becomes the
# 403 message.
#
# Written in Rego v0 syntax, as the case study writes its rule; the engine also accepts v1
# modules (`import rego.v1` or `if`/`contains`) in the same directory.
package education

default allow = false

# The case study's rule: a student may join an active course that still has room.
allow {
	input.action == "join"
	input.user.role == "student"
	input.course.status == "active"
	input.course.capacity > count(input.course.students)
}

is_admin {
	input.user.role == "admin"
}

is_course_teacher {
	input.user.role == "teacher"
	input.course.teacher_id == input.user.id
}

# Live-room moderation is decided here too: "mute" (one student or everyone), "remove_from_room"
# (out of this session), "moderate" (delete a chat message, lower another's hand).
# What a teacher needs every day is theirs and admins' too: the class code (reading it and
# rotating it), a session's attendance and the course's gradebook.
teacher_actions := {
	"update_course", "remove_student", "list_students", "go_live", "end_session",
	"create_quiz", "publish_quiz", "close_quiz", "read_results", "moderate",
	"mute", "remove_from_room",
	"read_join_code", "rotate_join_code", "read_attendance", "read_gradebook",
}

allow {
	input.action == "create_course"
	input.user.role == "teacher"
}

allow {
	teacher_actions[input.action]
	is_course_teacher
}

allow {
	teacher_actions[input.action]
	is_admin
}

allow {
	input.action == "create_course"
	is_admin
}

allow {
	input.action == "leave"
	input.user.role == "student"
}

# Reading quizzes: the course's teacher and admins read every quiz of the course (drafts
# too); a student enrolled in the course lists the session's quizzes and reads the published
# and closed ones. Nobody else sees a course's questions.
quiz_read_actions := {"list_quizzes", "read_quiz"}

allow {
	quiz_read_actions[input.action]
	is_course_teacher
}

allow {
	quiz_read_actions[input.action]
	is_admin
}

allow {
	input.action == "list_quizzes"
	input.user.role == "student"
	input.enrolled == true
}

allow {
	input.action == "read_quiz"
	input.user.role == "student"
	input.enrolled == true
	input.quiz.status != "draft"
}

allow {
	input.action == "answer"
	input.user.role == "student"
	input.enrolled == true
}

allow {
	input.action == "join_live"
	input.session.status == "live"
	input.user.role == "student"
	input.enrolled == true
}

allow {
	input.action == "join_live"
	input.session.status == "live"
	is_course_teacher
}

allow {
	input.action == "join_live"
	input.session.status == "live"
	is_admin
}

allow {
	input.action == "publish_media"
	is_course_teacher
}

allow {
	input.action == "publish_media"
	input.on_stage == true
}

# Sharing a screen or a window in the live room (`media.publish` with "source": "screen", a
# second video next to the camera): the course's teacher only. To let the student on stage
# share too, add: allow { input.action == "share_screen"; input.on_stage == true }
allow {
	input.action == "share_screen"
	is_course_teacher
}

# Giving a student the stage (or taking it back) in the live room; `on_stage` above is true
# for the student who holds it.
allow {
	input.action == "stage"
	is_course_teacher
}

allow {
	input.action == "stage"
	is_admin
}

# Reasons, for people reading a 403.
deny_reason["only students can join a course"] {
	input.action == "join"
	input.user.role != "student"
}

deny_reason["the course is not active"] {
	input.action == "join"
	input.course.status != "active"
}

deny_reason["the course is full"] {
	input.action == "join"
	count(input.course.students) >= input.course.capacity
}

deny_reason["only teachers and admins can create courses"] {
	input.action == "create_course"
}

deny_reason["only the course's teacher or an admin can do this"] {
	teacher_actions[input.action]
}

deny_reason["you are not enrolled in this course"] {
	input.action == "answer"
	input.enrolled != true
}

deny_reason["only the course's teacher and its enrolled students can read its quizzes"] {
	quiz_read_actions[input.action]
}

deny_reason["the session has ended"] {
	input.action == "join_live"
	input.session.status != "live"
}

deny_reason["only enrolled students and the course's teacher can join this session"] {
	input.action == "join_live"
}

deny_reason["only the teacher or a student on stage can publish"] {
	input.action == "publish_media"
}

deny_reason["only the teacher can share a screen"] {
	input.action == "share_screen"
}

deny_reason["only the course's teacher or an admin can give the stage"] {
	input.action == "stage"
}
