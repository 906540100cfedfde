// ws::SendRing — one I/O thread's non-blocking sends to many sockets in one system call.
//
// A room event's fan-out is one small write to each of its receivers. Each write on its own
// is a system call, and on a virtual machine the entry and exit of a system call cost as
// much as the TCP work of a small send (bench/fanout, docs/live-performance.md). The flush
// list (ws/live_session.h) therefore hands a burst's writes to this ring: each connection's
// gathering sendmsg becomes one io_uring submission entry, and one io_uring_enter submits
// them all. Every entry is MSG_DONTWAIT, so the kernel issues it inline and completes it
// before io_uring_enter returns: it is exactly the sendmsg the connection would have made
// (bytes sent, possibly fewer than asked; -EAGAIN when the socket is full; -errno on a
// failed socket), only without one kernel entry per socket. Nothing is left in flight after
// submit(): the caller's buffers need to live only until it returns.
//
// Linux io_uring through its system calls (no liburing); where it cannot be used — an old
// kernel, a seccomp profile that forbids it, EDGECLASS_LIVE_IO_URING=0 — for_this_thread()
// is null and the caller writes each socket with its own sendmsg, as before.
// Sockets can be registered with the ring (io_uring's fixed files, the slot being the
// descriptor's number): a registered socket's sends skip the kernel's descriptor lookup and
// the reference it takes on the socket's file for every send (fget and fput, 2 % of the I/O
// thread's samples at 1,000 x 100/s). A registered socket stays open while the ring holds it,
// even after close(): unregister it before closing its descriptor.
// No Asio. One ring per thread, used by that thread only (unregister_fd excepted).
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace ws {

class SendRing : public std::enable_shared_from_this<SendRing> {
 public:
  // The result given for an entry that never reached the kernel (the ring failed and was
  // shut): nothing of it was sent, write it the ordinary way.
  static constexpr int kNotSubmitted = -125;  // -ECANCELED

  // The calling thread's ring (created at the first call), or null where io_uring cannot be
  // used or is switched off (EDGECLASS_LIVE_IO_URING=0).
  static SendRing* for_this_thread();
  // Whether this process uses rings at all (the environment and the kernel, checked once).
  static bool enabled();

  // A ring of `entries` submissions (a power of two); null if io_uring is unavailable.
  static std::shared_ptr<SendRing> create(unsigned entries);
  ~SendRing();
  SendRing(const SendRing&) = delete;
  SendRing& operator=(const SendRing&) = delete;

  // How many sends one submit() takes at most.
  size_t capacity() const { return entries_; }
  size_t pending() const { return tags_.size(); }
  bool full() const { return tags_.size() >= entries_; }

  // Adds a gathering send of iov[0..n) on `fd` (MSG_DONTWAIT | MSG_NOSIGNAL); the iovec array
  // is copied, the bytes it points to must stay until submit() returns. `tag` comes back with
  // the result. `registered`: `fd` is registered with this ring (register_fd). Only while
  // !full().
  void add(int fd, const iovec* iov, size_t n, uint64_t tag, bool registered = false);

  // Registers the socket `fd` with the ring (one io_uring_register); false where the kernel
  // has no sparse file table (before 5.19), `fd` is beyond the table (RLIMIT_NOFILE, at most
  // kMaxRegistered) or the ring has failed: then send to it unregistered. The ring's thread.
  bool register_fd(int fd);
  // Unregisters `fd`, which must still be open (it is this socket's slot, and no other
  // socket can have its number yet). Any thread: the caller keeps the ring alive (a
  // shared_ptr), and only the kernel's table is touched.
  void unregister_fd(int fd);
  static constexpr unsigned kMaxRegistered = 1u << 16;

  // Submits everything added and calls done(tag, result) once for each (result: bytes sent,
  // or -errno, or kNotSubmitted), in no particular order. `done` must not call add().
  template <class Done>
  void submit(Done&& done) {
    submit_and_reap();
    for (const auto& r : results_) done(r.tag, r.res);
    results_.clear();
  }

 private:
  struct Result {
    uint64_t tag;
    int res;
  };
  struct Entry {
    int fd;
    bool registered;
    size_t iov_begin;
    size_t iov_count;
  };

  SendRing() = default;
  // Submits the added entries and collects every completion into results_.
  void submit_and_reap();
  // Moves the completions in the ring into results_; returns how many.
  size_t reap();
  // Puts `file` (-1: none) in slot `slot` of the ring's file table; false if the kernel refused.
  bool set_slot(unsigned slot, int file);
  // A failure of the ring itself: unmap it, so for_this_thread() falls back. The ring's
  // descriptor stays open until the ring is destroyed, so that registered sockets can still be
  // unregistered (and are released with it).
  void shut();

  int fd_ = -1;
  bool failed_ = false;
  // Slots in the ring's file table (descriptors 0 .. registered_slots_ - 1 can be registered);
  // 0: none.
  unsigned registered_slots_ = 0;
  unsigned entries_ = 0;
  // The kernel has IORING_OP_SEND (5.6): a send of one buffer (one frame queued, the usual
  // case of a fan-out) goes as a plain send, without a msghdr for the kernel to copy and an
  // iovec to import.
  bool plain_send_ = false;
  // The mapped rings (see io_uring_setup(2)).
  void* sq_ptr_ = nullptr;
  size_t sq_len_ = 0;
  void* cq_ptr_ = nullptr;
  size_t cq_len_ = 0;
  void* sqes_ptr_ = nullptr;
  size_t sqes_len_ = 0;
  unsigned* sq_head_ = nullptr;
  unsigned* sq_tail_ = nullptr;
  unsigned sq_mask_ = 0;
  unsigned* sq_array_ = nullptr;
  unsigned* cq_head_ = nullptr;
  unsigned* cq_tail_ = nullptr;
  unsigned cq_mask_ = 0;
  void* cqes_ = nullptr;  // io_uring_cqe[]

  // The batch being built: one entry per send, the iovecs of all (kept until submit_and_reap
  // returns: the kernel copies them when it issues the send), the message headers.
  std::vector<uint64_t> tags_;
  std::vector<Entry> batch_;
  std::vector<iovec> iovs_;
  std::vector<struct msghdr> headers_;
  std::vector<Result> results_;
};

}  // namespace ws
