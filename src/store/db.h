// store::Db — one SQLite connection, and store::Stmt — a cached prepared statement in use.
//
// A Db is used by one thread at a time (the connection is opened with SQLITE_OPEN_NOMUTEX):
// the writer thread owns the one read-write connection, each I/O thread owns its own
// read-only connection. WAL mode lets readers read a consistent snapshot while the writer
// writes. Portable core: no threads, no exceptions; every failure is a base::Status whose
// message names the database file, what was being done and SQLite's own message.
//
//   EC_ASSIGN_OR_RETURN(Stmt st, db.prepare("SELECT title FROM courses WHERE id = ?"));
//   st.bind_all(id);
//   EC_ASSIGN_OR_RETURN(bool row, st.step());
//   if (row) title = st.column_text(0);
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace store {

enum class OpenMode {
  kReadWrite,  // creates the file (and its parent directories) if missing; the writer's mode
  kReadOnly,   // the file must exist; for per-thread readers
};

struct DbOptions {
  // How long a statement waits on a lock held by another connection before failing with
  // Unavailable. Readers in WAL mode never wait on the writer; this covers a second process
  // (e.g. `edgeclass migrate` while serving) and checkpoints.
  int busy_timeout_ms = 5000;
  // synchronous=FULL: one fsync of the WAL per COMMIT, so an acknowledged write survives
  // kill -9 and power loss. Turning it off (NORMAL) is only for throwaway test databases.
  bool synchronous_full = true;
  // kReadWrite only. When the file is already a WAL database (its header says so), open()
  // reads only the header: `journal_mode` is left as the file has it, and `synchronous`, which
  // reads the whole schema, waits for finish_open(). For a server's writer, so that a cold
  // start does not parse the schema before it listens (store::Writer calls finish_open()
  // before its first group). Any other file is opened as without it.
  bool defer_schema_pragmas = false;
  // kReadOnly only: open() makes the Db without touching the file, and the connection is
  // opened by its first statement (prepare, exec), on the thread that uses it; a file that
  // cannot be opened then fails that statement (and the next one tries again). For a server's
  // per-thread readers, so that a cold start opens none before it listens (the writer's open
  // has checked the file by then).
  bool connect_on_first_use = false;
};

class Db;

// A prepared statement checked out of its connection's cache. Move-only; when destroyed it
// is reset (its read snapshot released) and its bindings cleared, and returns to the cache.
// A Stmt must not outlive its Db, and is used on the Db's thread only.
class Stmt {
 public:
  Stmt(Stmt&& other) noexcept;
  Stmt& operator=(Stmt&& other) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Binds parameter `index` (1-based, as in SQL "?"). A bad index is remembered and reported
  // by the next step()/run(), so binds can be chained without checks.
  Stmt& bind(int index, int64_t value);
  Stmt& bind(int index, int value) { return bind(index, int64_t(value)); }
  Stmt& bind(int index, bool value) { return bind(index, int64_t(value ? 1 : 0)); }
  Stmt& bind(int index, std::string_view value);  // copied by SQLite (SQLITE_TRANSIENT)
  Stmt& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Stmt& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Stmt& bind(int index, std::nullopt_t);  // NULL
  Stmt& bind(int index, const std::optional<int64_t>& value);
  Stmt& bind(int index, const std::optional<std::string>& value);

  // Binds every argument in order to parameters 1..N.
  template <typename... Args>
  Stmt& bind_all(const Args&... args) {
    int i = 0;
    (bind(++i, args), ...);
    return *this;
  }

  // Advances: true when a row is ready to read, false when the statement is done.
  base::Result<bool> step();
  // Steps to completion, ignoring any rows (INSERT/UPDATE/DELETE).
  base::Status run();
  // Steps to completion, calling `on_row(const Stmt&)` at each row.
  template <typename OnRow>
  base::Status each_row(OnRow&& on_row) {
    while (true) {
      EC_ASSIGN_OR_RETURN(bool row, step());
      if (!row) return base::Status::ok();
      on_row(std::as_const(*this));
    }
  }
  // Every row, in order, as `read(const Stmt&)` makes it.
  template <typename Read>
  auto collect(Read&& read) -> base::Result<std::vector<decltype(read(std::declval<const Stmt&>()))>> {
    std::vector<decltype(read(std::declval<const Stmt&>()))> out;
    EC_RETURN_IF_ERROR(each_row([&](const Stmt& st) { out.push_back(read(st)); }));
    return out;
  }
  // Resets so the statement can be stepped again with new bindings.
  void reset();

  // Columns of the current row, 0-based. NULL reads as 0 / "".
  int64_t column_int(int col) const;
  std::string column_text(int col) const;
  bool column_is_null(int col) const;
  std::optional<int64_t> column_opt_int(int col) const;

  // SQLite's extended result code of the last failed step(), 0 when none (store-internal:
  // repositories map e.g. SQLITE_CONSTRAINT_UNIQUE to a domain Status).
  int last_error_code() const { return last_rc_; }

 private:
  friend class Db;
  Stmt(sqlite3_stmt* stmt, bool* in_use) : stmt_(stmt), in_use_(in_use) {}
  void release();

  sqlite3_stmt* stmt_ = nullptr;  // owned by the Db's cache when in_use_ is set, else by this
  bool* in_use_ = nullptr;        // the cache entry's checked-out flag (nodes are stable)
  int bind_error_ = 0;            // first failing sqlite3_bind_* result code, 0 when none
  int last_rc_ = 0;
};

class Db {
 public:
  // Opens (kReadWrite: creates) the database at `path`, creating its parent directories,
  // and applies the pragmas: WAL, synchronous per options, busy_timeout, foreign_keys=ON.
  // ":memory:" opens a private in-memory database (tests).
  static base::Result<std::unique_ptr<Db>> open(const std::string& path, OpenMode mode,
                                                const DbOptions& options = {});
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Applies the pragmas open() deferred (DbOptions::defer_schema_pragmas), which reads and
  // checks the schema: a malformed one fails here. OK at once when nothing was deferred or
  // after it succeeded once; after a failure the next call tries again. Call it before the
  // connection writes.
  base::Status finish_open();

  // Runs one or more ;-separated statements that return no rows (DDL, BEGIN, PRAGMA ...).
  base::Status exec(std::string_view sql);

  // A prepared statement for `sql`, from this connection's cache (prepared on first use).
  // If the cached statement for the same text is already checked out (nested use), a
  // fresh uncached one is returned instead.
  base::Result<Stmt> prepare(std::string_view sql);

  // Rows changed by the most recent INSERT/UPDATE/DELETE on this connection.
  int64_t changes() const;
  // True outside an explicit transaction.
  bool autocommit() const;
  bool read_only() const { return mode_ == OpenMode::kReadOnly; }
  const std::string& path() const { return path_; }

  // A Status for SQLite result code `rc`, with `what` (e.g. "insert course") and SQLite's
  // message for this connection. Busy/locked map to Unavailable, constraint violations to
  // Conflict ("constraint_violation"), everything else to Internal.
  base::Status error(int rc, std::string_view what) const;

  // The raw handle, for store's own .cc files only; null until the connection is open
  // (DbOptions::connect_on_first_use: its first statement).
  sqlite3* handle() const { return db_; }

 private:
  struct CacheEntry {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  Db(std::string path, OpenMode mode, const DbOptions& options)
      : path_(std::move(path)), mode_(mode), options_(options) {}
  // Opens the connection and applies the pragmas (open(), or the first statement with
  // DbOptions::connect_on_first_use); OK at once when it is open.
  base::Status connect();
  // open()'s pragmas on a connection just opened (connect()).
  base::Status apply_pragmas();
  // Whether the file's header says WAL; reads page 1 (not the schema).
  base::Result<bool> header_says_wal();
  friend class Stmt;
  friend class ReadScope;

  // Begins the read transaction a ReadScope left pending (pending_read_), before this
  // connection's first statement inside it.
  void begin_pending_read();

  sqlite3* db_ = nullptr;  // owned; closed in the destructor after finalizing the cache; null
                           // until connect() succeeded
  std::string path_;
  OpenMode mode_;
  DbOptions options_;
  std::string deferred_pragmas_;  // finish_open() runs them; empty once done
  // Prepared statements keyed by SQL text; owned, finalized in the destructor.
  std::unordered_map<std::string, CacheEntry, StringHash, std::equal_to<>> cache_;
  class ReadScope* pending_read_ = nullptr;  // a scope whose BEGIN waits for a statement
};

// One read transaction on `db` for the scope's life, so the reads inside it see one snapshot
// and take the database's locks once: a statement run outside a transaction takes and drops
// them itself (in WAL mode, fcntl calls on the -shm file each time, about a quarter of a live
// answer's reading side when it made three reads). Lazy: the transaction begins with the first
// statement prepared (or exec'd) on `db` inside the scope, so a scope whose reads all came from
// a cache costs nothing (a BEGIN and a COMMIT were ~2,300 instructions of a cached live answer);
// a statement prepared before the scope runs outside it. Does nothing when `db` is already in a
// transaction or another scope. Keep it short: an open read transaction holds back the WAL
// checkpoint past its snapshot.
class ReadScope {
 public:
  explicit ReadScope(Db& db);
  ~ReadScope();
  ReadScope(const ReadScope&) = delete;
  ReadScope& operator=(const ReadScope&) = delete;

 private:
  friend class Db;
  Db& db_;
  bool began_ = false;  // its BEGIN ran: the destructor commits
};

}  // namespace store
