// Kills a process that is streaming answers through the Writer, then checks that every
// answer it acknowledged (its Done said OK) is in the database.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>

#include "fixtures.h"
#include "store/quizzes.h"
#include "test_util.h"

#ifndef STORE_CRASH_CHILD
#error "STORE_CRASH_CHILD must name the store_crash_child executable"
#endif

namespace store {
namespace {

struct RoundResult {
  std::set<std::string> acked;
  bool killed = false;
  int wstatus = 0;
  std::string torn;
};

// Runs the child against `quiz_id` and SIGKILLs it once `kill_after` acks have arrived.
RoundResult run_and_kill(const std::string& path, const std::string& quiz_id, size_t kill_after) {
  RoundResult r;
  int fds[2];
  if (pipe(fds) != 0) return r;
  pid_t pid = fork();
  if (pid < 0) return r;
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl(STORE_CRASH_CHILD, STORE_CRASH_CHILD, path.c_str(), quiz_id.c_str(), "4", nullptr);
    _exit(127);
  }
  close(fds[1]);
  // Read acks until enough have streamed, kill the child mid-stream, then drain whatever it
  // acknowledged before it died (those lines are in the pipe already).
  std::string pending;
  char buf[4096];
  while (true) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    pending.append(buf, size_t(n));
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      r.acked.insert(pending.substr(0, nl));
      pending.erase(0, nl + 1);
    }
    if (!r.killed && r.acked.size() >= kill_after) {
      kill(pid, SIGKILL);
      r.killed = true;
    }
  }
  close(fds[0]);
  waitpid(pid, &r.wstatus, 0);
  r.torn = pending;
  return r;
}

TEST(CrashTest, EveryAcknowledgedAnswerSurvivesKill9) {
  testing::TempDir dir;
  std::string path = dir.file("crash.db");
  // Each round streams into its own quiz, so an answer from an earlier round cannot stand in
  // for a lost one.
  const size_t kKillAfter[] = {300, 1000, 2500, 700, 4000};
  constexpr int kRounds = sizeof kKillAfter / sizeof kKillAfter[0];
  {
    auto db = testing::open_migrated(path);
    ASSERT_NE(db, nullptr);
    ASSERT_OK(transact(*db, [&](Txn& t) -> base::Status {
      EC_RETURN_IF_ERROR(insert_course(t, testing::course_row("crs_1")));
      EC_RETURN_IF_ERROR(insert_session(t, testing::session_row("ses_1", "crs_1")));
      for (int i = 0; i < kRounds; ++i) {
        EC_RETURN_IF_ERROR(
            insert_quiz(t, testing::quiz_row("qz_" + std::to_string(i), "ses_1", "crs_1")));
      }
      return base::Status::ok();
    }));
  }

  for (int round = 0; round < kRounds; ++round) {
    std::string quiz = "qz_" + std::to_string(round);
    RoundResult r = run_and_kill(path, quiz, kKillAfter[round]);
    ASSERT_TRUE(r.killed) << "round " << round << ": the child ended before streaming "
                          << kKillAfter[round] << " acks; wait status " << r.wstatus;
    ASSERT_TRUE(WIFSIGNALED(r.wstatus) && WTERMSIG(r.wstatus) == SIGKILL);
    EXPECT_TRUE(r.torn.empty()) << "a torn ack line: " << r.torn;

    // Reopen as the server would after a crash: WAL recovery, then read.
    auto db = testing::open_migrated(path);
    ASSERT_NE(db, nullptr);
    auto all = all_answers(*db, quiz);
    ASSERT_TRUE(all.is_ok()) << all.status().to_string();
    std::set<std::string> stored;
    for (const Answer& a : *all) stored.insert(a.student_id);
    size_t missing = 0;
    for (const std::string& s : r.acked) {
      if (!stored.count(s)) ++missing;
    }
    EXPECT_EQ(missing, 0u) << "round " << round << ": of " << r.acked.size()
                           << " acknowledged answers";
    EXPECT_GE(stored.size(), r.acked.size());
    auto check = db->prepare("PRAGMA integrity_check");
    ASSERT_TRUE(check.is_ok());
    ASSERT_TRUE(*check->step());
    EXPECT_EQ(check->column_text(0), "ok");
    std::printf("round %d: acknowledged %zu answers before SIGKILL; %zu stored\n", round,
                r.acked.size(), stored.size());
  }
}

}  // namespace
}  // namespace store
