#include "store/model.h"

namespace store {

std::string_view to_string(CourseStatus s) {
  switch (s) {
    case CourseStatus::kDraft:
      return "draft";
    case CourseStatus::kActive:
      return "active";
    case CourseStatus::kArchived:
      return "archived";
  }
  return "draft";
}

std::string_view to_string(SessionStatus s) {
  switch (s) {
    case SessionStatus::kLive:
      return "live";
    case SessionStatus::kEnded:
      return "ended";
  }
  return "live";
}

std::string_view to_string(QuizStatus s) {
  switch (s) {
    case QuizStatus::kDraft:
      return "draft";
    case QuizStatus::kPublished:
      return "published";
    case QuizStatus::kClosed:
      return "closed";
  }
  return "draft";
}

std::optional<CourseStatus> parse_course_status(std::string_view s) {
  if (s == "draft") return CourseStatus::kDraft;
  if (s == "active") return CourseStatus::kActive;
  if (s == "archived") return CourseStatus::kArchived;
  return std::nullopt;
}

std::optional<SessionStatus> parse_session_status(std::string_view s) {
  if (s == "live") return SessionStatus::kLive;
  if (s == "ended") return SessionStatus::kEnded;
  return std::nullopt;
}

std::optional<QuizStatus> parse_quiz_status(std::string_view s) {
  if (s == "draft") return QuizStatus::kDraft;
  if (s == "published") return QuizStatus::kPublished;
  if (s == "closed") return QuizStatus::kClosed;
  return std::nullopt;
}

}  // namespace store
