// store_crash_child DB_PATH QUIZ_ID THREADS
//
// Streams answers to QUIZ_ID through a store::Writer from THREADS submitting threads and
// writes one line "<student_id>\n" to stdout for every answer whose Done reported OK, i.e.
// after its group's COMMIT returned. It runs until killed (the crash test SIGKILLs it
// mid-stream) or until stdout's reader goes away. Exit code 2 on a setup error.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "store/db.h"
#include "store/quizzes.h"
#include "store/writer.h"

namespace {

// One write(2) per line: lines from the writer thread never interleave or sit in a buffer.
void ack(const std::string& student) {
  std::string line = student + "\n";
  if (write(STDOUT_FILENO, line.data(), line.size()) != ssize_t(line.size())) _exit(3);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s DB_PATH QUIZ_ID THREADS\n", argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_DFL);  // the reader gone: die quietly
  std::string path = argv[1];
  std::string quiz_id = argv[2];
  int threads = std::stoi(argv[3]);

  auto db = store::Db::open(path, store::OpenMode::kReadWrite);
  if (!db.is_ok()) {
    std::fprintf(stderr, "%s\n", db.status().to_string().c_str());
    return 2;
  }
  auto writer = store::Writer::start(std::move(db).value());
  if (!writer.is_ok()) {
    std::fprintf(stderr, "%s\n", writer.status().to_string().c_str());
    return 2;
  }
  store::Writer& w = **writer;

  std::vector<std::thread> submitters;
  for (int t = 0; t < threads; ++t) {
    submitters.emplace_back([&w, &quiz_id, t] {
      for (int64_t i = 0; i < 100'000'000; ++i) {
        std::string student = "usr_t" + std::to_string(t) + "_" + std::to_string(i);
        store::Answer a{quiz_id, student, 0, "[1]", true, 1'700'000'000'000 + i};
        auto op = [a](store::Txn& txn) { return store::insert_answer(txn, a).status(); };
        auto done = [student](base::Status st) {
          if (st.is_ok()) ack(student);
        };
        while (!w.submit(op, done).is_ok()) {
          std::this_thread::sleep_for(std::chrono::microseconds(200));  // queue full
        }
      }
    });
  }
  for (auto& s : submitters) s.join();
  return 0;
}
