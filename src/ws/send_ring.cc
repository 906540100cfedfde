#include "ws/send_ring.h"

#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "base/log.h"

namespace ws {

namespace {

int ring_setup(unsigned entries, io_uring_params* p) {
  return int(::syscall(__NR_io_uring_setup, entries, p));
}

int ring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags, void* arg,
               size_t arg_size) {
  return int(::syscall(__NR_io_uring_enter, fd, to_submit, min_complete, flags, arg, arg_size));
}

int ring_register(int fd, unsigned op, void* arg, unsigned n) {
  return int(::syscall(__NR_io_uring_register, fd, op, arg, n));
}

unsigned load_acquire(const unsigned* p) {
  return std::atomic_ref<const unsigned>(*p).load(std::memory_order_acquire);
}
void store_release(unsigned* p, unsigned v) {
  std::atomic_ref<unsigned>(*p).store(v, std::memory_order_release);
}

// Sends per ring (one io_uring_enter): a room's fan-out goes out in chunks of this many.
constexpr unsigned kRingEntries = 256;

// Does a MSG_DONTWAIT sendmsg on a full socket complete at once with -EAGAIN (instead of
// being parked until the socket drains, as older kernels did)? The ring relies on every
// entry being complete when io_uring_enter returns.
bool full_socket_fails_at_once(SendRing& ring) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) return false;
  int small = 4096;
  ::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  char buf[4096] = {};
  while (::send(sv[0], buf, sizeof buf, MSG_DONTWAIT | MSG_NOSIGNAL) > 0) {
  }
  // Both kinds of entry: a plain send (one buffer) and a gathering sendmsg.
  iovec iov[2] = {{buf, sizeof buf / 2}, {buf + sizeof buf / 2, sizeof buf / 2}};
  ring.add(sv[0], iov, 1, 7);
  ring.add(sv[0], iov, 2, 8);
  size_t failed_at_once = 0;
  size_t results = 0;
  ring.submit([&](uint64_t tag, int res) {
    ++results;
    if ((tag == 7 || tag == 8) && res == -EAGAIN) ++failed_at_once;
  });
  ::close(sv[0]);
  ::close(sv[1]);
  return failed_at_once == 2 && results == 2;
}

bool env_allows() {
  const char* e = std::getenv("EDGECLASS_LIVE_IO_URING");
  return !(e && (std::strcmp(e, "0") == 0 || std::strcmp(e, "off") == 0));
}

}  // namespace

std::shared_ptr<SendRing> SendRing::create(unsigned entries) {
  io_uring_params p{};
  // Submit every entry even when one fails (a closed descriptor), and no interrupt to run
  // completion work: every entry completes inline anyway.
  p.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN;
  int fd = ring_setup(entries, &p);
  if (fd < 0 && errno == EINVAL) {
    p = {};
    fd = ring_setup(entries, &p);
  }
  if (fd < 0) return nullptr;
  std::shared_ptr<SendRing> r(new SendRing());
  r->fd_ = fd;
  r->entries_ = p.sq_entries;
  // The timed wait in submit_and_reap needs IORING_FEAT_EXT_ARG (Linux 5.11).
  if (!(p.features & IORING_FEAT_EXT_ARG)) return nullptr;
  r->sq_len_ = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  r->cq_len_ = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
  r->sqes_len_ = p.sq_entries * sizeof(io_uring_sqe);
  r->sq_ptr_ = ::mmap(nullptr, r->sq_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                      IORING_OFF_SQ_RING);
  r->cq_ptr_ = ::mmap(nullptr, r->cq_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                      IORING_OFF_CQ_RING);
  r->sqes_ptr_ = ::mmap(nullptr, r->sqes_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                        fd, IORING_OFF_SQES);
  if (r->sq_ptr_ == MAP_FAILED || r->cq_ptr_ == MAP_FAILED || r->sqes_ptr_ == MAP_FAILED) {
    if (r->sq_ptr_ == MAP_FAILED) r->sq_ptr_ = nullptr;
    if (r->cq_ptr_ == MAP_FAILED) r->cq_ptr_ = nullptr;
    if (r->sqes_ptr_ == MAP_FAILED) r->sqes_ptr_ = nullptr;
    return nullptr;
  }
  auto* sq = static_cast<char*>(r->sq_ptr_);
  auto* cq = static_cast<char*>(r->cq_ptr_);
  r->sq_head_ = reinterpret_cast<unsigned*>(sq + p.sq_off.head);
  r->sq_tail_ = reinterpret_cast<unsigned*>(sq + p.sq_off.tail);
  r->sq_mask_ = *reinterpret_cast<unsigned*>(sq + p.sq_off.ring_mask);
  r->sq_array_ = reinterpret_cast<unsigned*>(sq + p.sq_off.array);
  r->cq_head_ = reinterpret_cast<unsigned*>(cq + p.cq_off.head);
  r->cq_tail_ = reinterpret_cast<unsigned*>(cq + p.cq_off.tail);
  r->cq_mask_ = *reinterpret_cast<unsigned*>(cq + p.cq_off.ring_mask);
  r->cqes_ = cq + p.cq_off.cqes;

  // The kernel must know IORING_OP_SENDMSG (Linux 5.3; the probe itself is 5.6).
  constexpr unsigned kOps = 256;
  std::vector<char> probe_mem(sizeof(io_uring_probe) + kOps * sizeof(io_uring_probe_op), 0);
  auto* probe = reinterpret_cast<io_uring_probe*>(probe_mem.data());
  if (ring_register(fd, IORING_REGISTER_PROBE, probe, kOps) < 0 ||
      probe->last_op < IORING_OP_SENDMSG ||
      !(probe->ops[IORING_OP_SENDMSG].flags & IO_URING_OP_SUPPORTED)) {
    return nullptr;
  }
  r->plain_send_ = probe->last_op >= IORING_OP_SEND &&
                   (probe->ops[IORING_OP_SEND].flags & IO_URING_OP_SUPPORTED);
  r->tags_.reserve(r->entries_);
  r->batch_.reserve(r->entries_);
  r->headers_.resize(r->entries_);
  r->results_.reserve(r->entries_);
  if (!full_socket_fails_at_once(*r) || r->failed_) return nullptr;
  // An empty file table of one slot per possible descriptor (up to kMaxRegistered; sparse
  // tables are Linux 5.19): sockets are registered one by one as they first send.
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur > 0) {
    io_uring_rsrc_register reg{};
    reg.nr = unsigned(std::min<rlim_t>(nofile.rlim_cur, kMaxRegistered));
    reg.flags = IORING_RSRC_REGISTER_SPARSE;
    if (ring_register(fd, IORING_REGISTER_FILES2, &reg, sizeof reg) == 0)
      r->registered_slots_ = reg.nr;
  }
  return r;
}

SendRing::~SendRing() {
  shut();
  if (fd_ >= 0) ::close(fd_);  // releases whatever is still registered
}

void SendRing::shut() {
  if (sqes_ptr_) ::munmap(sqes_ptr_, sqes_len_);
  if (cq_ptr_) ::munmap(cq_ptr_, cq_len_);
  if (sq_ptr_) ::munmap(sq_ptr_, sq_len_);
  sqes_ptr_ = cq_ptr_ = sq_ptr_ = nullptr;
  failed_ = true;
}

bool SendRing::set_slot(unsigned slot, int file) {
  io_uring_files_update up{};
  up.offset = slot;
  up.fds = reinterpret_cast<uint64_t>(&file);
  return ring_register(fd_, IORING_REGISTER_FILES_UPDATE, &up, 1) == 1;
}

bool SendRing::register_fd(int fd) {
  if (failed_ || fd < 0 || unsigned(fd) >= registered_slots_) return false;
  return set_slot(unsigned(fd), fd);
}

void SendRing::unregister_fd(int fd) {
  if (fd < 0 || unsigned(fd) >= registered_slots_) return;
  if (!set_slot(unsigned(fd), -1)) {
    // The socket would stay open while the ring lives: say so (never seen; a bug).
    base::log::warn("live.send_ring_unregister").kv("fd", fd).kv("errno", errno);
  }
}

bool SendRing::enabled() {
  static const bool on = [] {
    const bool allowed = env_allows();
    const bool usable = allowed && create(8) != nullptr;
    // Once per process, at the first live write: which path the live fan-out takes.
    base::log::info("live.send_path")
        .kv("path", usable ? "io_uring" : "sendmsg")
        .kv("why", usable    ? "one io_uring_enter per burst of sends"
                   : allowed ? "io_uring unavailable (kernel or seccomp profile)"
                             : "EDGECLASS_LIVE_IO_URING=0");
    return usable;
  }();
  return on;
}

SendRing* SendRing::for_this_thread() {
  if (!enabled()) return nullptr;
  // Shared with the connections registered with it (they unregister before closing, perhaps
  // after this thread has ended).
  thread_local std::shared_ptr<SendRing> ring;
  thread_local bool tried = false;
  if (!tried) {
    tried = true;
    ring = create(kRingEntries);
  }
  if (ring && ring->failed_) ring.reset();  // failed and shut: the ordinary writes from now on
  return ring.get();
}

void SendRing::add(int fd, const iovec* iov, size_t n, uint64_t tag, bool registered) {
  batch_.push_back(Entry{fd, registered, iovs_.size(), n});
  iovs_.insert(iovs_.end(), iov, iov + n);
  tags_.push_back(tag);
}

size_t SendRing::reap() {
  auto* cqes = static_cast<io_uring_cqe*>(cqes_);
  unsigned head = *cq_head_;
  const unsigned tail = load_acquire(cq_tail_);
  size_t n = 0;
  for (; head != tail; ++head, ++n) {
    const io_uring_cqe& c = cqes[head & cq_mask_];
    results_.push_back(Result{tags_[size_t(c.user_data)], c.res});
  }
  store_release(cq_head_, head);
  return n;
}

void SendRing::submit_and_reap() {
  const size_t k = batch_.size();
  if (k == 0) return;
  if (failed_) {
    for (uint64_t t : tags_) results_.push_back(Result{t, kNotSubmitted});
  } else {
    auto* sqes = static_cast<io_uring_sqe*>(sqes_ptr_);
    const unsigned tail = *sq_tail_;
    for (size_t j = 0; j < k; ++j) {
      const Entry& e = batch_[j];
      const unsigned idx = (tail + unsigned(j)) & sq_mask_;
      io_uring_sqe& s = sqes[idx];
      std::memset(&s, 0, sizeof s);
      s.fd = e.fd;  // registered: its slot, the same number
      if (e.registered) s.flags = IOSQE_FIXED_FILE;
      s.msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL;
      if (e.iov_count == 1 && plain_send_) {
        const iovec& v = iovs_[e.iov_begin];
        s.opcode = IORING_OP_SEND;
        s.addr = reinterpret_cast<uint64_t>(v.iov_base);
        s.len = unsigned(v.iov_len);
      } else {
        msghdr& mh = headers_[j];
        mh = msghdr{};
        mh.msg_iov = iovs_.data() + e.iov_begin;
        mh.msg_iovlen = e.iov_count;
        s.opcode = IORING_OP_SENDMSG;
        s.addr = reinterpret_cast<uint64_t>(&mh);
        s.len = 1;
      }
      s.user_data = j;
      sq_array_[idx] = idx;
    }
    store_release(sq_tail_, tail + unsigned(k));

    // Submit (the kernel may take fewer than asked: it stops at an entry it cannot prepare
    // without IORING_SETUP_SUBMIT_ALL; the rest is submitted again).
    size_t submitted = 0;
    bool failed = false;
    while (submitted < k) {
      const int r = ring_enter(fd_, unsigned(k - submitted), 0, 0, nullptr, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EBUSY) && reap() > 0) continue;
      if (r <= 0) {
        failed = true;
        break;
      }
      submitted += size_t(r);
    }
    // Every submitted entry completes inline (MSG_DONTWAIT, checked at creation); wait a
    // little in case one does not, rather than leave it in flight.
    size_t completed = reap();
    for (int waits = 0; completed < submitted && waits < 100; ++waits) {
      __kernel_timespec ts{0, 10'000'000};  // 10 ms
      io_uring_getevents_arg arg{};
      arg.ts = reinterpret_cast<uint64_t>(&ts);
      const int r = ring_enter(fd_, 0, unsigned(submitted - completed),
                               IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
      if (r < 0 && errno != EINTR && errno != ETIME) break;
      completed += reap();
    }
    if (failed || completed < submitted) {
      // The ring itself failed: what never reached the kernel is written the ordinary way,
      // what did not complete counts as a failed send; the ring is shut for good.
      std::vector<char> seen(k, 0);
      for (const Result& r : results_) {
        for (size_t j = 0; j < k; ++j) {
          if (tags_[j] == r.tag) seen[j] = 1;
        }
      }
      for (size_t j = 0; j < k; ++j) {
        if (!seen[j]) results_.push_back(Result{tags_[j], j < submitted ? -EIO : kNotSubmitted});
      }
      shut();
    }
  }
  tags_.clear();
  batch_.clear();
  iovs_.clear();
  // Keep the vectors' memory: the next burst needs about as much.
}

}  // namespace ws
