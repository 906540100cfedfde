// Awaiting a group commit from a coroutine: the op runs on the writer thread inside the
// group's transaction; the coroutine resumes on its own executor once the group committed.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/post.hpp>
#include <memory>

#include "classroom/reader.h"
#include "store/writer.h"

namespace http {

//
// `invalidates`: the op may change courses, enrollments, sessions or quizzes, so the catalog
// generation is bumped after the commit and before the caller resumes (read caches then
// never serve a row older than an acknowledged write).
template <typename CompletionToken>
auto async_commit(store::Writer& writer, store::WriteOp op, bool invalidates,
                  CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, void(base::Status)>(
      [&writer, invalidates](auto handler, store::WriteOp op) {
        auto ex = boost::asio::get_associated_executor(handler);
        auto h = std::make_shared<std::decay_t<decltype(handler)>>(std::move(handler));
        base::Status s = writer.submit(std::move(op), [h, ex, invalidates](base::Status st) {
          if (invalidates) classroom::bump_catalog_generation();
          boost::asio::post(ex, [h, st = std::move(st)]() mutable { (*h)(std::move(st)); });
        });
        if (!s.is_ok()) {
          boost::asio::post(ex, [h, s = std::move(s)]() mutable { (*h)(std::move(s)); });
        }
      },
      token, std::move(op));
}

}  // namespace http
