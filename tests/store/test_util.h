// Helpers for store tests: a temporary directory and a migrated database in it.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "base/random.h"
#include "base/status.h"
#include "store/db.h"
#include "store/migrations.h"
#include "store/txn.h"

namespace store::testing {

// A fresh directory under $TMPDIR, removed (with its contents) on destruction.
class TempDir {
 public:
  TempDir() {
    const char* tmp = getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/edgeclass-store-XXXXXX";
    char* p = make_temp_dir(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = tmpl;
  }
  ~TempDir() { remove_all(path_); }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

  // True when `path` names an existing file or directory.
  static bool exists(const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0;
  }

 private:
  // rm -rf with POSIX calls only (the wasm32-wasi build's libc++ has no std::filesystem).
  static void remove_all(const std::string& path) {
    if (DIR* d = opendir(path.c_str())) {
      while (dirent* e = readdir(d)) {
        std::string name = e->d_name;
        if (name != "." && name != "..") remove_all(path + "/" + name);
      }
      closedir(d);
      rmdir(path.c_str());
    } else {
      unlink(path.c_str());
    }
  }

#ifdef __wasi__
  // WASI's libc has no mkdtemp: the same, with base::SystemRandom for the X's.
  static char* make_temp_dir(char* tmpl) {
    static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    char* x = tmpl + std::strlen(tmpl) - 6;
    for (int attempt = 0; attempt < 100; ++attempt) {
      for (int i = 0; i < 6; ++i) x[i] = kChars[base::SystemRandom::instance().next_u64() % 36];
      if (mkdir(tmpl, 0700) == 0) return tmpl;
      if (errno != EEXIST) return nullptr;
    }
    return nullptr;
  }
#else
  static char* make_temp_dir(char* tmpl) { return mkdtemp(tmpl); }
#endif

  std::string path_;
};

#define ASSERT_OK(expr)                          \
  do {                                           \
    ::base::Status st_ = (expr);                 \
    ASSERT_TRUE(st_.is_ok()) << st_.to_string(); \
  } while (0)
#define EXPECT_OK(expr)                          \
  do {                                           \
    ::base::Status st_ = (expr);                 \
    EXPECT_TRUE(st_.is_ok()) << st_.to_string(); \
  } while (0)

// Opens `path` read-write and migrates it; fails the test on error.
inline std::unique_ptr<Db> open_migrated(const std::string& path, DbOptions options = {}) {
  auto db = Db::open(path, OpenMode::kReadWrite, options);
  EXPECT_TRUE(db.is_ok()) << db.status().to_string();
  if (!db.is_ok()) return nullptr;
  base::Status st = migrate(**db);
  EXPECT_TRUE(st.is_ok()) << st.to_string();
  return std::move(db).value();
}

// A test fixture with a migrated database file in a temp dir, writes via transact().
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DbOptions options;
    options.synchronous_full = false;  // repository tests do not test durability
    db_ = open_migrated(dir_.file("edgeclass.db"), options);
    ASSERT_NE(db_, nullptr);
  }
  // Runs `fn` in its own write transaction.
  template <typename Fn>
  base::Status write(Fn&& fn) {
    return transact(*db_, WriteOp(std::forward<Fn>(fn)));
  }
  Db& db() { return *db_; }

  TempDir dir_;
  std::unique_ptr<Db> db_;
};

}  // namespace store::testing
