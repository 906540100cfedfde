// A caching reader (rest::ThreadCache) and read snapshots (classroom::ReadSnapshot): a row read
// inside a snapshot is kept under the catalog generation from before the snapshot began, so a
// write committed while the snapshot was open (its generation already bumped) is read on the
// next operation, not hidden behind the old row until some later write.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "classroom/reader.h"
#include "rest/read_cache.h"
#include "store/courses.h"
#include "store/db.h"
#include "store/migrations.h"
#include "store/txn.h"

namespace classroom {
namespace {

class ReadSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/ec-read-snapshot-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    const std::string path = dir_ + "/edgeclass.db";
    auto writer = store::Db::open(path, store::OpenMode::kReadWrite);
    ASSERT_TRUE(writer.is_ok()) << writer.status().to_string();
    writer_ = std::move(writer).value();
    ASSERT_TRUE(store::migrate(*writer_).is_ok());
    store::Course c;
    c.id = kCourse;
    c.title = "Algebra";
    c.teacher_id = "t1";
    c.teacher_name = "T";
    c.status = store::CourseStatus::kActive;
    c.capacity = 40;
    ASSERT_TRUE(store::transact(*writer_, [&](store::Txn& t) { return store::insert_course(t, c); })
                    .is_ok());
    auto reader = store::Db::open(path, store::OpenMode::kReadOnly);
    ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();
    reader_ = std::move(reader).value();
  }
  void TearDown() override {
    reader_.reset();
    writer_.reset();
    std::filesystem::remove_all(dir_);
  }
  // A committed write of the course's title, then the generation bumped (as the server's
  // commits do: http/commit.h).
  void retitle(const std::string& title) {
    ASSERT_TRUE(store::transact(*writer_, [&](store::Txn& t) -> base::Status {
                  EC_ASSIGN_OR_RETURN(store::Course c, store::get_course(t.db(), kCourse));
                  c.title = title;
                  return store::update_course(t, c);
                }).is_ok());
    bump_catalog_generation();
  }

  static constexpr const char* kCourse = "crs_aaaaaaaaaaaaa";
  std::string dir_;
  std::unique_ptr<store::Db> writer_;
  std::unique_ptr<store::Db> reader_;
};

TEST_F(ReadSnapshotTest, ARowReadInASnapshotIsNotKeptAsNewerThanTheSnapshot) {
  rest::ThreadCache cache(*reader_);
  {
    ReadSnapshot snapshot(cache);
    // The snapshot begins with its first read; the write below commits after it.
    ASSERT_TRUE(store::count_enrollments(cache.db(), kCourse).is_ok());
    retitle("Geometry");
    auto in_snapshot = cache.course(kCourse);
    ASSERT_TRUE(in_snapshot.is_ok()) << in_snapshot.status().to_string();
    EXPECT_EQ(in_snapshot->title, "Algebra");  // what the snapshot holds: consistent reads
  }
  auto after = cache.course(kCourse);
  ASSERT_TRUE(after.is_ok()) << after.status().to_string();
  EXPECT_EQ(after->title, "Geometry") << "the snapshot's old row was kept as the newest";
}

TEST_F(ReadSnapshotTest, ACachedRowIsServedUntilTheGenerationMoves) {
  rest::ThreadCache cache(*reader_);
  {
    ReadSnapshot snapshot(cache);
    ASSERT_EQ(cache.course(kCourse)->title, "Algebra");
  }
  // Written behind the generation's back: the cache still answers (proof that it serves).
  ASSERT_TRUE(store::transact(*writer_, [&](store::Txn& t) -> base::Status {
                EC_ASSIGN_OR_RETURN(store::Course c, store::get_course(t.db(), kCourse));
                c.title = "Unseen";
                return store::update_course(t, c);
              }).is_ok());
  EXPECT_EQ(cache.course(kCourse)->title, "Algebra");
  retitle("Geometry");
  EXPECT_EQ(cache.course(kCourse)->title, "Geometry");
}

}  // namespace
}  // namespace classroom
