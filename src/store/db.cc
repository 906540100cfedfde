#include "store/db.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace store {

namespace {

// Maps a SQLite result code to the canonical code a caller can act on.
base::Status status_for(int rc, std::string msg) {
  int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return base::unavailable(msg + " (another connection holds the lock)", "database_busy");
  }
  if (primary == SQLITE_CONSTRAINT) return base::conflict(std::move(msg), "constraint_violation");
  if (primary == SQLITE_FULL) return base::unavailable(std::move(msg), "disk_full");
  if (primary == SQLITE_READONLY) return base::internal_error(std::move(msg), "database_read_only");
  return base::internal_error(std::move(msg));
}

// `sql` in quotes for an error message, whitespace runs collapsed and cut short, so a
// failing migration step does not paste the whole schema into the log.
std::string sql_for_message(std::string_view sql) {
  constexpr size_t kMax = 160;
  std::string out = "\"";
  bool space = false;
  for (char c : sql) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = out.size() > 1;
      continue;
    }
    if (space) out += ' ';
    space = false;
    if (out.size() > kMax) {
      out += "...";
      break;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

// ---- Stmt ----------------------------------------------------------------------------

Stmt::Stmt(Stmt&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      in_use_(std::exchange(other.in_use_, nullptr)),
      bind_error_(other.bind_error_),
      last_rc_(other.last_rc_) {}

Stmt& Stmt::operator=(Stmt&& other) noexcept {
  if (this != &other) {
    release();
    stmt_ = std::exchange(other.stmt_, nullptr);
    in_use_ = std::exchange(other.in_use_, nullptr);
    bind_error_ = other.bind_error_;
    last_rc_ = other.last_rc_;
  }
  return *this;
}

Stmt::~Stmt() { release(); }

void Stmt::release() {
  if (!stmt_) return;
  if (in_use_) {
    // Reset ends the statement's read of the database (so a reader does not pin an old WAL
    // snapshot) and clear_bindings drops copies of bound text.
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    *in_use_ = false;
  } else {
    sqlite3_finalize(stmt_);
  }
  stmt_ = nullptr;
  in_use_ = nullptr;
}

Stmt& Stmt::bind(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
  return *this;
}

Stmt& Stmt::bind(int index, std::string_view value) {
  // A non-null pointer even for "" so the value is an empty TEXT, not NULL.
  const char* p = value.data() ? value.data() : "";
  int rc = sqlite3_bind_text64(stmt_, index, p, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
  return *this;
}

Stmt& Stmt::bind(int index, std::nullopt_t) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
  return *this;
}

Stmt& Stmt::bind(int index, const std::optional<int64_t>& value) {
  return value ? bind(index, *value) : bind(index, std::nullopt);
}

Stmt& Stmt::bind(int index, const std::optional<std::string>& value) {
  return value ? bind(index, std::string_view(*value)) : bind(index, std::nullopt);
}

base::Result<bool> Stmt::step() {
  sqlite3* db = sqlite3_db_handle(stmt_);
  if (bind_error_ != 0) {
    last_rc_ = bind_error_;
    return base::internal_error("binding a parameter of " + sql_for_message(sqlite3_sql(stmt_)) +
                                ": " + sqlite3_errstr(bind_error_));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  last_rc_ = sqlite3_extended_errcode(db);
  std::string what = "running " + sql_for_message(sqlite3_sql(stmt_));
  const char* file = sqlite3_db_filename(db, "main");
  std::string msg = what + " on " + (file && *file ? file : ":memory:") + ": " + sqlite3_errmsg(db);
  // Reset now so the connection's error state and locks are released immediately.
  sqlite3_reset(stmt_);
  return status_for(last_rc_, std::move(msg));
}

base::Status Stmt::run() {
  return each_row([](const Stmt&) {});
}

void Stmt::reset() {
  sqlite3_reset(stmt_);
  bind_error_ = 0;
  last_rc_ = 0;
}

int64_t Stmt::column_int(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Stmt::column_text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), size_t(n)) : std::string();
}

bool Stmt::column_is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

std::optional<int64_t> Stmt::column_opt_int(int col) const {
  if (column_is_null(col)) return std::nullopt;
  return column_int(col);
}

// ---- Db ------------------------------------------------------------------------------

namespace {

// SQLite's configuration, once, before its first connection. No bulk page-cache allocation per
// connection: by default each connection's first page read allocates room for 20 pages and
// writes a header into every one (~22 memory pages touched), which a cold start pays for each
// of its connections (a first touch of a page costs tens of microseconds on a virtual machine);
// without it, pages are allocated as they are read.
void configure_sqlite_once() {
  static const bool configured = [] {
    // SQLITE_MISUSE if SQLite was already started by someone else: then its default stays,
    // which only costs start-up time.
    (void)sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, 0, 0);
    return true;
  }();
  (void)configured;
}

bool is_special_path(const std::string& path) {
  return path.empty() || path == ":memory:" || path.rfind("file:", 0) == 0;
}

// mkdir -p `dir` with POSIX calls (the wasm32-wasi build's libc++ has no std::filesystem):
// creates the missing directories from the deepest existing one down, so it never touches
// ancestors that already exist (under WASI they may lie outside every preopened directory).
bool make_dirs(const std::string& dir) {
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return true;
    errno = ENOTDIR;
    return false;
  }
  size_t slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0 && !make_dirs(dir.substr(0, slash))) return false;
  return mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST;
}

// Creates the directory part of `path`; an error names the directory and the reason.
base::Status make_parent_dirs(const std::string& path) {
  size_t end = path.rfind('/');
  if (end == std::string::npos || end == 0) return base::Status();
  std::string parent = path.substr(0, end);
  if (make_dirs(parent)) return base::Status();
  return base::internal_error("cannot create the directory " + parent + " for database " + path +
                              ": " + std::strerror(errno) +
                              " (check the data dir setting and its permissions)");
}

}  // namespace

base::Result<std::unique_ptr<Db>> Db::open(const std::string& path, OpenMode mode,
                                           const DbOptions& options) {
  if (mode == OpenMode::kReadWrite && !is_special_path(path)) {
    EC_RETURN_IF_ERROR(make_parent_dirs(path));
  }
  std::unique_ptr<Db> db(new Db(path, mode, options));  // private constructor: make_unique can't
  if (mode == OpenMode::kReadOnly && options.connect_on_first_use) return db;
  EC_RETURN_IF_ERROR(db->connect());
  return db;
}

base::Status Db::connect() {
  if (db_) return base::Status::ok();
  const std::string& path = path_;
  const OpenMode mode = mode_;
  const DbOptions& options = options_;
  configure_sqlite_once();
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
  flags |= mode == OpenMode::kReadWrite ? (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
                                        : SQLITE_OPEN_READONLY;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg =
        "cannot open database " + path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    sqlite3_close_v2(raw);
    if (mode == OpenMode::kReadOnly) msg += " (readers need the file to exist: migrate first)";
    return base::unavailable(std::move(msg), "database_unavailable");
  }
  db_ = raw;
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  // A connection whose pragmas failed is closed again: the next connect() starts over.
  base::Status st = apply_pragmas();
  if (!st.is_ok()) {
    for (auto& [sql, entry] : cache_) sqlite3_finalize(entry.stmt);
    cache_.clear();
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }
  return st;
}

base::Status Db::apply_pragmas() {
  const std::string& path = path_;
  const OpenMode mode = mode_;
  const DbOptions& options = options_;
  // Already a WAL database: nothing to set, and the pragma would read the whole schema.
  bool wal_already = false;
  if (mode == OpenMode::kReadWrite && options.defer_schema_pragmas && !is_special_path(path)) {
    EC_ASSIGN_OR_RETURN(wal_already, header_says_wal());
  }
  if (mode == OpenMode::kReadWrite && !wal_already) {
    // journal_mode answers with the mode in force; in-memory databases stay "memory".
    EC_ASSIGN_OR_RETURN(Stmt jm, prepare("PRAGMA journal_mode=WAL"));
    EC_ASSIGN_OR_RETURN(bool row, jm.step());
    std::string got = row ? jm.column_text(0) : "";
    if (got != "wal" && got != "memory") {
      return base::internal_error("database " + path + " refused WAL mode (got \"" + got +
                                  "\"); is it on a filesystem without shared memory?");
    }
  }
  std::string pragmas = "PRAGMA foreign_keys=ON;";
  // After a checkpoint, shrink the WAL back to 64 MiB instead of keeping its peak size.
  if (mode == OpenMode::kReadWrite) pragmas += "PRAGMA journal_size_limit=67108864;";
  // A read-only connection writes nothing, so `synchronous` means nothing to it, and it is the
  // one pragma here that reads the schema: without it a reader's open touches only the file's
  // header, and the schema is read by its first statement (a cold start opens one per thread).
  if (mode == OpenMode::kReadWrite) {
    std::string sync =
        options.synchronous_full ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;";
    if (wal_already) {
      deferred_pragmas_ = std::move(sync);
    } else {
      pragmas += sync;
    }
  }
  if (mode == OpenMode::kReadOnly) pragmas += "PRAGMA query_only=ON;";
  return exec(pragmas);
}

base::Result<bool> Db::header_says_wal() {
  // user_version reads page 1 in a read transaction and not the schema: a file that is not a
  // database, or a WAL file whose shared memory cannot be opened, fails here.
  EC_ASSIGN_OR_RETURN(Stmt st, prepare("PRAGMA user_version"));
  EC_RETURN_IF_ERROR(st.step().status());
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(db_, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || !file ||
      !file->pMethods) {
    return false;
  }
  // The file format's write and read versions (header bytes 18 and 19): 2 for WAL. A new,
  // empty file reads short and is not WAL yet.
  unsigned char header[100];
  if (file->pMethods->xRead(file, header, sizeof header, 0) != SQLITE_OK) return false;
  return header[18] == 2 && header[19] == 2;
}

base::Status Db::finish_open() {
  if (deferred_pragmas_.empty()) return base::Status::ok();
  EC_RETURN_IF_ERROR(exec(deferred_pragmas_));
  deferred_pragmas_.clear();
  return base::Status::ok();
}

Db::~Db() {
  for (auto& [sql, entry] : cache_) sqlite3_finalize(entry.stmt);
  cache_.clear();
  sqlite3_close_v2(db_);
}

base::Status Db::exec(std::string_view sql) {
  EC_RETURN_IF_ERROR(connect());
  if (pending_read_) begin_pending_read();
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return base::Status::ok();
  std::string what = "running " + sql_for_message(text);
  base::Status st = error(rc, what);
  sqlite3_free(err);
  return st;
}

base::Result<Stmt> Db::prepare(std::string_view sql) {
  EC_RETURN_IF_ERROR(connect());
  if (pending_read_) begin_pending_read();
  auto it = cache_.find(sql);
  if (it != cache_.end() && !it->second.in_use) {
    it->second.in_use = true;
    return Stmt(it->second.stmt, &it->second.in_use);
  }
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), int(sql.size()),
                              it == cache_.end() ? SQLITE_PREPARE_PERSISTENT : 0, &raw, nullptr);
  if (rc != SQLITE_OK) {
    return error(rc, "preparing " + sql_for_message(sql));
  }
  if (!raw) return base::internal_error("preparing " + sql_for_message(sql) + ": no statement");
  if (it != cache_.end()) return Stmt(raw, nullptr);  // nested use of a checked-out statement
  auto [ins, _] = cache_.emplace(std::string(sql), CacheEntry{raw, true});
  return Stmt(raw, &ins->second.in_use);
}

int64_t Db::changes() const { return db_ ? sqlite3_changes64(db_) : 0; }

bool Db::autocommit() const { return !db_ || sqlite3_get_autocommit(db_) != 0; }

base::Status Db::error(int rc, std::string_view what) const {
  int ext = db_ ? sqlite3_extended_errcode(db_) : 0;
  const char* detail = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  if (ext == 0 || (ext & 0xff) != (rc & 0xff)) detail = sqlite3_errstr(rc);
  std::string msg =
      std::string(what) + " on " + (path_.empty() ? ":memory:" : path_) + ": " + detail;
  return status_for(rc, std::move(msg));
}

ReadScope::ReadScope(Db& db) : db_(db) {
  if (db.pending_read_ != nullptr || !db.autocommit()) return;  // inside another scope or txn
  db.pending_read_ = this;
}

ReadScope::~ReadScope() {
  if (db_.pending_read_ == this) {  // no statement came: nothing was begun
    db_.pending_read_ = nullptr;
    return;
  }
  if (!began_ || db_.autocommit()) return;
  auto commit = db_.prepare("COMMIT");
  if (!commit.is_ok() || !commit->run().is_ok()) (void)db_.exec("ROLLBACK");
}

void Db::begin_pending_read() {
  ReadScope* scope = std::exchange(pending_read_, nullptr);  // the BEGIN below is not held
  if (!autocommit()) return;  // a transaction already began meanwhile: the scope joins it
  auto begin = prepare("BEGIN");
  scope->began_ = begin.is_ok() && begin->run().is_ok();
  // Otherwise each read runs on its own, as without the scope.
}

}  // namespace store
