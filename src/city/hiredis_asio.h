// Binds a hiredis asynchronous context to an Asio io_context: the part hiredis's own
// adapters/*.h (libevent, libuv, ae, ...) do for their loops, which hiredis 0.14 does not
// ship for Asio.
//
// hiredis tells the adapter when it wants to read or write (addRead/delRead/addWrite/delWrite)
// and when the context goes away (cleanup). We watch the context's socket with a
// posix::stream_descriptor's async_wait (readiness, not data: hiredis does the reading and
// writing itself) and call redisAsyncHandleRead/Write when it is ready. hiredis owns and
// closes the socket; the descriptor is released, never closed, by the adapter.
#pragma once

#include <hiredis/async.h>

#include <boost/asio/io_context.hpp>

#include "base/status.h"

namespace city {

// Attaches `ac` (fresh from redisAsyncConnect, with no adapter yet) to `ioc`. Everything
// hiredis then does for this context runs on `ioc`'s thread, which must be the only thread
// that touches `ac`. The binding ends when hiredis frees the context (cleanup hook).
base::Status attach_hiredis_to_asio(redisAsyncContext* ac, boost::asio::io_context& ioc);

}  // namespace city
