// store_db_probe: adds and lists courses in a database file through the store's own code, so
// that tests/scripts/wasm_core.sh can check that the native build and the wasm32-wasi build
// read and write each other's files (the same schema, migrations and SQLite format).
//   store_db_probe add PATH ID TITLE    migrate, then insert a course
//   store_db_probe list PATH            migrate, then print "journal_mode=..." and "ID TITLE" lines
#include <cstdio>
#include <cstring>
#include <string>

#include "base/clock.h"
#include "store/courses.h"
#include "store/db.h"
#include "store/migrations.h"
#include "store/txn.h"

namespace {

int fail(const base::Status& s) {
  std::fprintf(stderr, "store_db_probe: %s\n", s.to_string().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  bool add = argc == 5 && std::strcmp(argv[1], "add") == 0;
  bool list = argc == 3 && std::strcmp(argv[1], "list") == 0;
  if (!add && !list) {
    std::fprintf(stderr, "usage: store_db_probe add PATH ID TITLE | list PATH\n");
    return 2;
  }
  auto db = store::Db::open(argv[2], store::OpenMode::kReadWrite);
  if (!db.is_ok()) return fail(db.status());
  if (base::Status s = store::migrate(**db); !s.is_ok()) return fail(s);
  if (add) {
    store::Course c;
    c.id = argv[3];
    c.title = argv[4];
    c.teacher_id = "t1";
    c.teacher_name = "Teacher";
    c.capacity = 30;
    c.created_at = c.updated_at = base::SystemClock::instance().now_unix_ms();
    base::Status s =
        store::transact(**db, [&](store::Txn& txn) { return store::insert_course(txn, c); });
    return s.is_ok() ? 0 : fail(s);
  }
  auto mode = (*db)->prepare("PRAGMA journal_mode");
  if (!mode.is_ok()) return fail(mode.status());
  auto row = mode->step();
  if (!row.is_ok()) return fail(row.status());
  std::printf("journal_mode=%s\n", *row ? mode->column_text(0).c_str() : "?");
  auto page = store::list_courses(**db, {}, "", store::kMaxPageLimit);
  if (!page.is_ok()) return fail(page.status());
  for (const store::Course& c : page->items) std::printf("%s %s\n", c.id.c_str(), c.title.c_str());
  return 0;
}
