// http::ReactorRead — a connection's read performed by Asio's epoll reactor itself, so that the
// reactor knows when the socket was drained (internal to http::Transport).
//
// Why: Asio's reactor tries every read on a descriptor with a system call first (a
// "speculative" read) unless its per-descriptor flag try_speculative_ is off; an epoll event
// turns the flag on, and only an operation that reports itself `done_and_exhausted` turns it
// off. Asio's own socket read reports that only at the end of the stream, so a keep-alive
// connection's next read after an answer was a recv that failed with EAGAIN, then the wait: two
// recvfrom per request where nginx, which notes that a read returned less than it asked for,
// makes one. And a readiness wait (async_wait) is worse: the reactor re-arms the descriptor
// with epoll_ctl(EPOLL_CTL_MOD) for every wait that is not speculative, which is what a TLS
// read waiting for its next record paid per request.
//
// This operation is started like Asio's own read (reactor start_op, speculative allowed; a
// read that must wait is queued without epoll_ctl: the descriptor is registered for EPOLLIN,
// edge-triggered, from the start) and performs Transport::read_now (recv, or SSL_read on the
// socket). A read that drained the socket (fewer bytes than asked) reports
// done_and_exhausted, so the reactor turns try_speculative_ off and the next read is queued
// without a recv.
//
// Why no readiness edge is lost (the reactor's code: boost/asio/detail/impl/epoll_reactor.ipp,
// Boost 1.81): the short recv and the flag's clearing happen in one critical section of the
// descriptor's mutex (start_op, or perform_io). Every byte that arrives after that recv wakes
// the socket's waiters, which puts the descriptor on epoll's ready list (EPOLLET: an event per
// wake-up, not per empty-to-readable change). Any later epoll_wait that returns it makes
// perform_io take the same mutex and set try_speculative_ on again before it looks for queued
// operations. So when the next read starts (under the mutex) either the flag is on again, and
// it reads at once, or no event for the descriptor has been taken since the short recv, and the
// event for any byte that came since is still ahead, and will find this read queued. An event
// taken before the short recv but handled after it only turns the flag on: one needless recv,
// never a lost one. The reasoning holds for any number of threads running the io_context.
//
// Under TLS a read is reported drained only when OpenSSL's last read of the socket returned
// fewer bytes than it asked for and OpenSSL holds nothing more (SSL_has_pending: no record
// decrypted or read ahead), so the flag is never off while bytes wait in OpenSSL; bytes that
// reach OpenSSL later came through the socket after the short read, with their own event, as
// above. A read that gets a result at once is posted, as Asio posts its own: a client keeping
// the socket full cannot hold the thread.
#pragma once

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/detail/bind_handler.hpp>
#include <boost/asio/detail/fenced_block.hpp>
#include <boost/asio/detail/handler_alloc_helpers.hpp>
#include <boost/asio/detail/handler_cont_helpers.hpp>
#include <boost/asio/detail/handler_work.hpp>
#include <boost/asio/detail/memory.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/version.hpp>
#include <cstddef>

#if BOOST_VERSION / 100 != 1081 || !defined(BOOST_ASIO_HAS_EPOLL) || \
    defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
// The reasoning above reads the epoll reactor of Boost 1.81; check it again for another one.
#error "http/reactor_read.h relies on Boost 1.81's epoll reactor"
#endif

namespace http::detail {

namespace asio = boost::asio;
using Reactor = asio::detail::epoll_reactor;
using tcp = asio::ip::tcp;

// The socket's reactor registration (basic_socket keeps it in a protected member: a member
// pointer named through a derived class reaches it without a cast).
struct SocketImpl : tcp::socket {
  static auto& of(tcp::socket& s) { return (s.*(&SocketImpl::impl_)).get_implementation(); }
};

// What one attempt of the read did, filled in by the transport's `attempt` (below).
struct ReadAttempt {
  bool again = false;      // nothing now: wait for readability
  bool drained = false;    // the socket had no more bytes, and neither has OpenSSL
  bool want_write = false; // TLS needs the socket writable first: completes with would_block
  size_t bytes = 0;
  boost::system::error_code ec;
};

class ReactorReadBase : public asio::detail::reactor_op {
 public:
  using Attempt = ReadAttempt (*)(void* transport, void* data, size_t size);
  ReactorReadBase(Attempt attempt, void* transport, void* data, size_t size,
                  func_type complete)
      : reactor_op(boost::system::error_code(), &ReactorReadBase::do_perform, complete),
        attempt_(attempt),
        transport_(transport),
        data_(data),
        size_(size) {}

  static status do_perform(reactor_op* base) {
    auto* o = static_cast<ReactorReadBase*>(base);
    ReadAttempt r = o->attempt_(o->transport_, o->data_, o->size_);
    if (r.again) return not_done;
    o->bytes_transferred_ = r.bytes;
    o->ec_ = r.want_write ? boost::system::error_code(asio::error::would_block) : r.ec;
    return r.drained ? done_and_exhausted : done;
  }

 private:
  Attempt attempt_;
  void* transport_;
  void* data_;
  size_t size_;
};

template <class Handler, class IoExecutor>
class ReactorRead : public ReactorReadBase {
 public:
  BOOST_ASIO_DEFINE_HANDLER_PTR(ReactorRead);

  ReactorRead(Attempt attempt, void* transport, void* data, size_t size, Handler& handler,
              const IoExecutor& io_ex)
      : ReactorReadBase(attempt, transport, data, size, &ReactorRead::do_complete),
        handler_(static_cast<Handler&&>(handler)),
        work_(handler_, io_ex) {}

  // As Asio's reactive_socket_recv_op::do_complete.
  static void do_complete(void* owner, asio::detail::operation* base,
                          const boost::system::error_code& /*ec*/, std::size_t /*bytes*/) {
    auto* o = static_cast<ReactorRead*>(base);
    ptr p = {asio::detail::addressof(o->handler_), o, o};
    asio::detail::handler_work<Handler, IoExecutor> w(
        static_cast<asio::detail::handler_work<Handler, IoExecutor>&&>(o->work_));
    asio::detail::binder2<Handler, boost::system::error_code, std::size_t> handler(
        o->handler_, o->ec_, o->bytes_transferred_);
    p.h = asio::detail::addressof(handler.handler_);
    p.reset();
    if (owner) {
      asio::detail::fenced_block b(asio::detail::fenced_block::half);
      w.complete(handler, handler.handler_);
    }
  }

 private:
  Handler handler_;
  asio::detail::handler_work<Handler, IoExecutor> work_;
};

// Per-operation cancellation (a cancellation slot connected to the handler), as Asio's own.
class ReactorReadCancellation {
 public:
  ReactorReadCancellation(Reactor* r, Reactor::per_descriptor_data* d, int fd)
      : reactor_(r), data_(d), fd_(fd) {}
  void operator()(asio::cancellation_type_t type) {
    if (!!(type & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                   asio::cancellation_type::total))) {
      reactor_->cancel_ops_by_key(fd_, *data_, Reactor::read_op, this);
    }
  }

 private:
  Reactor* reactor_;
  Reactor::per_descriptor_data* data_;
  int fd_;
};

// Starts the read of up to `size` bytes into `data` on `socket` (see the top of the file);
// `reactor` is the socket's io_context's. `attempt(transport, data, size)` is called by the
// reactor, now or when the socket is readable, until it does not say `again`. Completes with
// (error, bytes); a zero-size read completes at once with (no error, 0).
template <class Handler>
void start_reactor_read(Reactor& reactor, tcp::socket& socket, ReactorReadBase::Attempt attempt,
                        void* transport, void* data, size_t size, Handler handler) {
  using IoExecutor = tcp::socket::executor_type;
  using Op = ReactorRead<Handler, IoExecutor>;
  auto& impl = SocketImpl::of(socket);
  const bool is_continuation = boost_asio_handler_cont_helpers::is_continuation(handler);
  auto slot = asio::get_associated_cancellation_slot(handler);
  typename Op::ptr p = {asio::detail::addressof(handler), Op::ptr::allocate(handler), 0};
  p.p = new (p.v) Op(attempt, transport, data, size, handler, socket.get_executor());
  if (slot.is_connected()) {
    p.p->cancellation_key_ =
        &slot.template emplace<ReactorReadCancellation>(&reactor, &impl.reactor_data_, impl.socket_);
  }
  if (size == 0) {
    reactor.post_immediate_completion(p.p, is_continuation);
  } else {
    reactor.start_op(Reactor::read_op, impl.socket_, impl.reactor_data_, p.p, is_continuation,
                     true);
  }
  p.v = p.p = 0;
}

// The reactor of the io_context `socket` belongs to.
inline Reactor& reactor_of(tcp::socket& socket) {
  return asio::use_service<Reactor>(
      asio::query(socket.get_executor(), asio::execution::context));
}

}  // namespace http::detail
