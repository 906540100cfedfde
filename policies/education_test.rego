# Unit tests of education.rego: `edgeclass policy test policies` (run by make test).
package education_test

import rego.v1

import data.education

student := {"id": "s1", "name": "Sam", "role": "student"}

teacher := {"id": "t1", "name": "Ms T", "role": "teacher"}

# As the server builds it for a join: `students` holds the enrolled students' ids.
course(status, capacity, enrolled) := {
	"id": "crs_x", "status": status, "capacity": capacity,
	"enrolled": enrolled, "teacher_id": "t1",
	"students": [sprintf("s%d", [i]) | some i in numbers.range(0, enrolled); i > 0],
}

test_student_joins_active_course_with_room if {
	education.allow with input as {"action": "join", "user": student, "course": course("active", 30, 29)}
}

test_full_course_refuses_with_reason if {
	inp := {"action": "join", "user": student, "course": course("active", 30, 30)}
	not education.allow with input as inp
	"the course is full" in education.deny_reason with input as inp
}

test_draft_course_refuses if {
	inp := {"action": "join", "user": student, "course": course("draft", 30, 0)}
	not education.allow with input as inp
	"the course is not active" in education.deny_reason with input as inp
}

test_teacher_cannot_join_as_student if {
	not education.allow with input as {"action": "join", "user": teacher, "course": course("active", 30, 0)}
}

test_owner_teacher_goes_live if {
	education.allow with input as {"action": "go_live", "user": teacher, "course": course("active", 30, 0)}
}

test_other_teacher_cannot_go_live if {
	other := {"id": "t2", "name": "Mr U", "role": "teacher"}
	not education.allow with input as {"action": "go_live", "user": other, "course": course("active", 30, 0)}
}

test_student_cannot_create_course if {
	not education.allow with input as {"action": "create_course", "user": student}
}

test_enrolled_student_answers if {
	education.allow with input as {"action": "answer", "user": student, "enrolled": true,
		"course": course("active", 30, 1)}
	not education.allow with input as {"action": "answer", "user": student, "enrolled": false,
		"course": course("active", 30, 1)}
}

test_live_room_needs_live_session if {
	sess := {"id": "ses_x", "status": "ended", "teacher_id": "t1", "course_id": "crs_x"}
	not education.allow with input as {"action": "join_live", "user": student, "enrolled": true,
		"course": course("active", 30, 1), "session": sess}
}

test_student_on_stage_publishes if {
	education.allow with input as {"action": "publish_media", "user": student, "on_stage": true,
		"course": course("active", 30, 1)}
	not education.allow with input as {"action": "publish_media", "user": student,
		"course": course("active", 30, 1)}
}

test_only_the_course_teacher_shares_a_screen if {
	education.allow with input as {"action": "share_screen", "user": teacher, "on_stage": false,
		"course": course("active", 30, 1)}
	not education.allow with input as {"action": "share_screen", "user": student, "on_stage": true,
		"course": course("active", 30, 1)}
	other := {"id": "t2", "name": "Mr O", "role": "teacher"}
	not education.allow with input as {"action": "share_screen", "user": other, "on_stage": false,
		"course": course("active", 30, 1)}
	education.deny_reason["only the teacher can share a screen"] with input as {"action": "share_screen",
		"user": student, "on_stage": true, "course": course("active", 30, 1)}
}

test_course_teacher_and_admin_give_the_stage if {
	inp := {"action": "stage", "user": teacher, "course": course("active", 30, 1), "target": student}
	education.allow with input as inp
	admin := {"id": "a1", "name": "Ada", "role": "admin"}
	education.allow with input as object.union(inp, {"user": admin})
}

test_others_cannot_give_the_stage if {
	other := {"id": "t2", "name": "Mr U", "role": "teacher"}
	inp := {"action": "stage", "user": other, "course": course("active", 30, 1), "target": student}
	not education.allow with input as inp
	"only the course's teacher or an admin can give the stage" in education.deny_reason with input as inp
	not education.allow with input as object.union(inp, {"user": student})
}

quiz(status) := {"id": "qz_x", "session_id": "ses_x", "status": status}

test_course_teacher_and_admin_read_every_quiz if {
	admin := {"id": "a1", "name": "Ada", "role": "admin"}
	every who in [teacher, admin] {
		every status in ["draft", "published", "closed"] {
			education.allow with input as {"action": "read_quiz", "user": who, "enrolled": false,
				"course": course("active", 30, 1), "quiz": quiz(status)}
		}
		education.allow with input as {"action": "list_quizzes", "user": who, "enrolled": false,
			"course": course("active", 30, 1)}
	}
}

test_enrolled_student_reads_published_quizzes_only if {
	inp := {"action": "read_quiz", "user": student, "enrolled": true, "course": course("active", 30, 1)}
	education.allow with input as object.union(inp, {"quiz": quiz("published")})
	education.allow with input as object.union(inp, {"quiz": quiz("closed")})
	not education.allow with input as object.union(inp, {"quiz": quiz("draft")})
	education.allow with input as {"action": "list_quizzes", "user": student, "enrolled": true,
		"course": course("active", 30, 1)}
}

test_outsiders_read_no_quiz if {
	other := {"id": "t2", "name": "Mr U", "role": "teacher"}
	every who in [student, other] {
		inp := {"action": "read_quiz", "user": who, "enrolled": false,
			"course": course("active", 30, 1), "quiz": quiz("published")}
		not education.allow with input as inp
		"only the course's teacher and its enrolled students can read its quizzes" in education.deny_reason with input as inp
		not education.allow with input as object.union(inp, {"action": "list_quizzes"})
	}
}

test_only_the_course_teacher_lists_students if {
	education.allow with input as {"action": "list_students", "user": teacher, "course": course("active", 30, 1)}
	# A student token with the teacher's id is still a student.
	imposter := {"id": "t1", "name": "Ms T", "role": "student"}
	not education.allow with input as {"action": "list_students", "user": imposter, "course": course("active", 30, 1)}
}

test_moderation_is_the_course_teachers_and_admins if {
	admin_user := {"id": "a1", "name": "Admin", "role": "admin"}
	other := {"id": "t2", "name": "Mr U", "role": "teacher"}
	room := {"id": "crs_1", "teacher_id": "t1"}
	every action in ["mute", "remove_from_room", "moderate"] {
		education.allow with input as {"action": action, "user": teacher, "course": room}
		education.allow with input as {"action": action, "user": admin_user, "course": room}
		not education.allow with input as {"action": action, "user": other, "course": room}
		not education.allow with input as {"action": action, "user": student, "course": room}
	}
}

test_class_code_attendance_and_gradebook_are_the_teachers_and_admins if {
	admin_user := {"id": "a1", "name": "Admin", "role": "admin"}
	other := {"id": "t2", "name": "Mr U", "role": "teacher"}
	imposter := {"id": "t1", "name": "Ms T", "role": "student"}
	c := course("active", 30, 1)
	every action in ["read_join_code", "rotate_join_code", "read_attendance", "read_gradebook"] {
		education.allow with input as {"action": action, "user": teacher, "course": c}
		education.allow with input as {"action": action, "user": admin_user, "course": c}
		not education.allow with input as {"action": action, "user": other, "course": c}
		not education.allow with input as {"action": action, "user": student, "course": c, "enrolled": true}
		not education.allow with input as {"action": action, "user": imposter, "course": c}
	}
}
