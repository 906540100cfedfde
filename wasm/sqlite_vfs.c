/* A SQLite VFS for wasm32-wasi ("wasi"), the only one in the wasm build's SQLite
 * (SQLITE_OS_OTHER=1: SQLite 3.40's unix VFS needs fcntl locks, fchown and mmap, which WASI
 * lacks). Files are plain WASI files through wasi-libc: pread/pwrite, ftruncate, fsync
 * (WASI fd_sync), unlink.
 *
 * What it does not do, and what that asks of its users:
 *  - No locks. WASI has no advisory locks. Every database is opened in EXCLUSIVE locking mode
 *    (SQLITE_DEFAULT_LOCKING_MODE=1) and must have one connection only, in one process: a
 *    second connection (here or in another process) would neither wait for the first one's
 *    locks nor, with its own heap WAL index, see its commits (one pod owns one data
 *    directory, as with the native server; a Wasm server reads and writes through one Db).
 *  - No shared memory (xShm*). WAL still works: in EXCLUSIVE mode SQLite keeps the WAL index
 *    on the heap and never asks the VFS for shared memory. On a clean close the WAL is
 *    checkpointed and removed, so the native server opens the same file.
 *  - No temporary files: SQLITE_TEMP_STORE=3 keeps them in memory.
 * Durability: xSync is fsync (WASI fd_sync), so with synchronous=FULL a committed transaction
 * is on disk when the commit returns, as far as the host runtime's fd_sync reaches the disk
 * (WasmEdge calls fsync). Directory syncs are not possible in WASI; a crash right after a
 * journal or WAL file is created may lose that file's directory entry (the same as the unix
 * VFS on a file system that needs a directory fsync and a host that ignores it). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sqlite3.h"

typedef struct WasiFile {
  sqlite3_file base; /* must be first: SQLite's view of the file */
  int fd;
  char* delete_on_close; /* path to unlink on close, or NULL */
} WasiFile;

static int wasi_close(sqlite3_file* f) {
  WasiFile* p = (WasiFile*)f;
  close(p->fd);
  if (p->delete_on_close) {
    unlink(p->delete_on_close);
    sqlite3_free(p->delete_on_close);
  }
  return SQLITE_OK;
}

static int wasi_read(sqlite3_file* f, void* buf, int amt, sqlite3_int64 off) {
  WasiFile* p = (WasiFile*)f;
  int got = 0;
  while (got < amt) {
    ssize_t n = pread(p->fd, (char*)buf + got, (size_t)(amt - got), off + got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return SQLITE_IOERR_READ;
    }
    if (n == 0) break;
    got += (int)n;
  }
  if (got < amt) {
    /* SQLite requires the unread tail to be zeroed on a short read. */
    memset((char*)buf + got, 0, (size_t)(amt - got));
    return SQLITE_IOERR_SHORT_READ;
  }
  return SQLITE_OK;
}

static int wasi_write(sqlite3_file* f, const void* buf, int amt, sqlite3_int64 off) {
  WasiFile* p = (WasiFile*)f;
  int done = 0;
  while (done < amt) {
    ssize_t n = pwrite(p->fd, (const char*)buf + done, (size_t)(amt - done), off + done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == ENOSPC ? SQLITE_FULL : SQLITE_IOERR_WRITE;
    }
    done += (int)n;
  }
  return SQLITE_OK;
}

static int wasi_truncate(sqlite3_file* f, sqlite3_int64 size) {
  return ftruncate(((WasiFile*)f)->fd, size) == 0 ? SQLITE_OK : SQLITE_IOERR_TRUNCATE;
}

static int wasi_sync(sqlite3_file* f, int flags) {
  (void)flags;
  return fsync(((WasiFile*)f)->fd) == 0 ? SQLITE_OK : SQLITE_IOERR_FSYNC;
}

static int wasi_file_size(sqlite3_file* f, sqlite3_int64* size) {
  struct stat st;
  if (fstat(((WasiFile*)f)->fd, &st) != 0) return SQLITE_IOERR_FSTAT;
  *size = st.st_size;
  return SQLITE_OK;
}

/* No locks (see the top): every lock is granted; nobody else holds a reserved lock. */
static int wasi_lock(sqlite3_file* f, int level) {
  (void)f;
  (void)level;
  return SQLITE_OK;
}
static int wasi_unlock(sqlite3_file* f, int level) {
  (void)f;
  (void)level;
  return SQLITE_OK;
}
static int wasi_check_reserved(sqlite3_file* f, int* out) {
  (void)f;
  *out = 0;
  return SQLITE_OK;
}

static int wasi_file_control(sqlite3_file* f, int op, void* arg) {
  (void)f;
  (void)op;
  (void)arg;
  return SQLITE_NOTFOUND;
}

static int wasi_sector_size(sqlite3_file* f) {
  (void)f;
  return 4096;
}

static int wasi_device_characteristics(sqlite3_file* f) {
  (void)f;
  return 0; /* nothing assumed: SQLite journals as for an ordinary disk */
}

static const sqlite3_io_methods kWasiIo = {
    .iVersion = 1, /* no shared memory, no mmap */
    .xClose = wasi_close,
    .xRead = wasi_read,
    .xWrite = wasi_write,
    .xTruncate = wasi_truncate,
    .xSync = wasi_sync,
    .xFileSize = wasi_file_size,
    .xLock = wasi_lock,
    .xUnlock = wasi_unlock,
    .xCheckReservedLock = wasi_check_reserved,
    .xFileControl = wasi_file_control,
    .xSectorSize = wasi_sector_size,
    .xDeviceCharacteristics = wasi_device_characteristics,
};

static int wasi_open(sqlite3_vfs* vfs, const char* name, sqlite3_file* f, int flags,
                     int* out_flags) {
  (void)vfs;
  WasiFile* p = (WasiFile*)f;
  memset(p, 0, sizeof *p);
  if (name == 0) return SQLITE_CANTOPEN; /* temporary files live in memory (TEMP_STORE=3) */
  int oflags = (flags & SQLITE_OPEN_READWRITE) ? O_RDWR : O_RDONLY;
  if (flags & SQLITE_OPEN_CREATE) oflags |= O_CREAT;
  if (flags & SQLITE_OPEN_EXCLUSIVE) oflags |= O_EXCL;
  int fd = open(name, oflags, 0644);
  if (fd < 0 && (flags & SQLITE_OPEN_READWRITE) && errno != ENOENT && errno != EEXIST) {
    /* A read-only file or directory: fall back to reading, as the unix VFS does. */
    fd = open(name, O_RDONLY);
    flags = (flags & ~(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_READONLY;
  }
  if (fd < 0) return SQLITE_CANTOPEN;
  p->fd = fd;
  if (flags & SQLITE_OPEN_DELETEONCLOSE) {
    p->delete_on_close = sqlite3_mprintf("%s", name);
    if (p->delete_on_close == 0) {
      close(fd);
      return SQLITE_NOMEM;
    }
  }
  p->base.pMethods = &kWasiIo;
  if (out_flags) *out_flags = flags;
  return SQLITE_OK;
}

static int wasi_delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  (void)vfs;
  (void)sync_dir; /* WASI cannot fsync a directory */
  if (unlink(name) != 0 && errno != ENOENT) return SQLITE_IOERR_DELETE;
  return SQLITE_OK;
}

static int wasi_access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  (void)vfs;
  struct stat st;
  if (stat(name, &st) != 0) {
    *out = 0;
    return SQLITE_OK;
  }
  if (flags == SQLITE_ACCESS_EXISTS) {
    *out = 1;
  } else {
    *out = access(name, flags == SQLITE_ACCESS_READWRITE ? (R_OK | W_OK) : R_OK) == 0;
  }
  return SQLITE_OK;
}

static int wasi_full_pathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  (void)vfs;
  /* wasi-libc resolves relative names against the preopened directories itself, and the
   * journal and WAL names only need to sit beside the database: the name as given. */
  if ((int)strlen(name) >= n) return SQLITE_CANTOPEN;
  strcpy(out, name);
  return SQLITE_OK;
}

static int wasi_randomness(sqlite3_vfs* vfs, int n, char* out) {
  (void)vfs;
  int done = 0;
  while (done < n) {
    int k = n - done > 256 ? 256 : n - done;
    if (getentropy(out + done, (size_t)k) != 0) break;
    done += k;
  }
  return done;
}

static int wasi_sleep(sqlite3_vfs* vfs, int micros) {
  (void)vfs;
  struct timespec ts = {micros / 1000000, (micros % 1000000) * 1000};
  nanosleep(&ts, 0);
  return micros;
}

static int wasi_current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  (void)vfs;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  /* Julian day number in milliseconds: the Unix epoch is day 2440587.5. */
  *out = (sqlite3_int64)210866760000000LL + (sqlite3_int64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  return SQLITE_OK;
}

static int wasi_current_time(sqlite3_vfs* vfs, double* out) {
  sqlite3_int64 ms;
  wasi_current_time_int64(vfs, &ms);
  *out = ms / 86400000.0;
  return SQLITE_OK;
}

static int wasi_get_last_error(sqlite3_vfs* vfs, int n, char* out) {
  (void)vfs;
  if (n > 0) out[0] = 0;
  return errno;
}

static sqlite3_vfs wasi_vfs = {
    .iVersion = 2, /* has xCurrentTimeInt64 */
    .szOsFile = sizeof(WasiFile),
    .mxPathname = 1024,
    .zName = "wasi",
    .xOpen = wasi_open,
    .xDelete = wasi_delete,
    .xAccess = wasi_access,
    .xFullPathname = wasi_full_pathname,
    .xRandomness = wasi_randomness,
    .xSleep = wasi_sleep,
    .xCurrentTime = wasi_current_time,
    .xGetLastError = wasi_get_last_error,
    .xCurrentTimeInt64 = wasi_current_time_int64,
};

/* With SQLITE_OS_OTHER, SQLite calls these at sqlite3_initialize / sqlite3_shutdown. */
int sqlite3_os_init(void) { return sqlite3_vfs_register(&wasi_vfs, 1); }
int sqlite3_os_end(void) { return SQLITE_OK; }
