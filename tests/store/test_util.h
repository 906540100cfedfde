// Helpers for store tests: a temporary directory and a migrated database in it.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "base/status.h"
#include "store/db.h"
#include "store/migrations.h"
#include "store/txn.h"

namespace store::testing {

// A fresh directory under $TMPDIR, removed (with its contents) on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "edgeclass-store-XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
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
