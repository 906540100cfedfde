#include "city/hiredis_asio.h"

#include <boost/asio/posix/stream_descriptor.hpp>
#include <memory>

namespace city {

namespace asio = boost::asio;

namespace {

// Shared by the hooks and the pending waits: a wait that completes after hiredis freed the
// context finds ac == nullptr and does nothing.
struct Binding {
  Binding(asio::io_context& ioc, int fd) : socket(ioc, fd) {}
  ~Binding() {
    if (socket.is_open()) socket.release();  // hiredis closes the fd, not us
  }
  asio::posix::stream_descriptor socket;
  redisAsyncContext* ac = nullptr;  // null once hiredis has freed the context
  bool want_read = false;
  bool want_write = false;
  bool read_armed = false;   // an async_wait(wait_read) is outstanding
  bool write_armed = false;  // an async_wait(wait_write) is outstanding
};

// What ev.data points at: keeps the Binding alive for as long as hiredis may call a hook.
struct Hooks {
  std::shared_ptr<Binding> b;
};

void arm_read(const std::shared_ptr<Binding>& b);
void arm_write(const std::shared_ptr<Binding>& b);

void arm_read(const std::shared_ptr<Binding>& b) {
  if (b->read_armed || !b->ac || !b->want_read) return;
  b->read_armed = true;
  b->socket.async_wait(asio::posix::stream_descriptor::wait_read,
                       [b](const boost::system::error_code& ec) {
                         b->read_armed = false;
                         if (ec || !b->ac || !b->want_read) return;
                         // May free the context (EOF, error): cleanup then clears b->ac.
                         redisAsyncHandleRead(b->ac);
                         arm_read(b);
                       });
}

void arm_write(const std::shared_ptr<Binding>& b) {
  if (b->write_armed || !b->ac || !b->want_write) return;
  b->write_armed = true;
  b->socket.async_wait(asio::posix::stream_descriptor::wait_write,
                       [b](const boost::system::error_code& ec) {
                         b->write_armed = false;
                         if (ec || !b->ac || !b->want_write) return;
                         // The first writable event also completes a non-blocking connect.
                         redisAsyncHandleWrite(b->ac);
                         arm_write(b);
                       });
}

Binding& binding(void* data) { return *static_cast<Hooks*>(data)->b; }

void add_read(void* data) {
  auto& b = static_cast<Hooks*>(data)->b;
  b->want_read = true;
  arm_read(b);
}
void del_read(void* data) { binding(data).want_read = false; }
void add_write(void* data) {
  auto& b = static_cast<Hooks*>(data)->b;
  b->want_write = true;
  arm_write(b);
}
void del_write(void* data) { binding(data).want_write = false; }

// hiredis is freeing the context. Outstanding waits are cancelled by release() and find
// b->ac == nullptr if they were already queued.
void cleanup(void* data) {
  auto* hooks = static_cast<Hooks*>(data);
  hooks->b->ac = nullptr;
  hooks->b->want_read = hooks->b->want_write = false;
  if (hooks->b->socket.is_open()) hooks->b->socket.release();
  delete hooks;
}

}  // namespace

base::Status attach_hiredis_to_asio(redisAsyncContext* ac, asio::io_context& ioc) {
  if (ac->ev.data != nullptr) return base::internal_error("hiredis context already attached");
  auto b = std::make_shared<Binding>(ioc, ac->c.fd);
  b->ac = ac;
  ac->ev.data = new Hooks{std::move(b)};
  ac->ev.addRead = add_read;
  ac->ev.delRead = del_read;
  ac->ev.addWrite = add_write;
  ac->ev.delWrite = del_write;
  ac->ev.cleanup = cleanup;
  return base::Status::ok();
}

}  // namespace city
