#include "ws/room_shard.h"

#include <boost/asio/post.hpp>

#include "ws/live_session.h"
#include "ws/live_traffic.h"

namespace ws {

namespace asio = boost::asio;

RoomShard::RoomShard(asio::io_context& ioc, int thread_index, LiveTraffic* traffic)
    : ioc_(ioc),
      thread_index_(thread_index),
      traffic_(traffic),
      flush_(std::make_shared<FlushList>(ioc.get_executor())) {}

void RoomShard::post(Op op) {
  asio::post(ioc_, [self = shared_from_this(), op = std::move(op)]() mutable { self->apply(op); });
}

void RoomShard::apply(Op& op) {
  using K = Op::Kind;
  switch (op.kind) {
    case K::kBroadcast: {
      uint64_t receivers = 0;
      for (const auto& s : conns_) {
        if (op.audience.includes(s->who().role, s->who().user_id)) {
          s->send_frame(op.frame);
          ++receivers;
        }
      }
      traffic_->count_out_type(op.out_type, receivers);
      break;
    }
    case K::kSend:
      op.session->send_frame(std::move(op.frame));
      break;
    case K::kJoined:
      // A connection that ended while its join was on the way is not kept: the room hears of
      // its end after the join (posted later from this thread), and lets it go then.
      if (op.session->ended()) break;
      op.session->shard_index = conns_.size();
      conns_.push_back(op.session);
      op.session->start_in_room(std::move(op.frames));
      break;
    case K::kClose:
      op.session->close(op.code, std::move(op.reason));
      break;
    case K::kCloseAll:
      for (const auto& s : conns_) s->close(op.code, op.reason);
      break;
  }
}

void RoomShard::remove(LiveSession& s) {
  const size_t i = s.shard_index;
  if (i >= conns_.size() || conns_[i].get() != &s) return;
  auto keep = conns_[i];  // `s` stays alive until this function returns
  if (i + 1 != conns_.size()) {
    conns_[i] = std::move(conns_.back());
    conns_[i]->shard_index = i;
  }
  conns_.pop_back();
}

void RoomShard::release() {
  conns_.clear();
  flush_->clear();
}

}  // namespace ws
