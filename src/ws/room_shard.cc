#include "ws/room_shard.h"

#include <boost/asio/post.hpp>

#include "ws/close_codes.h"
#include "ws/live_session.h"
#include "ws/live_traffic.h"

namespace ws {

namespace asio = boost::asio;

namespace {

// Queues `frame` on each of `sessions` that hears `audience`, asking the CPU for each session's
// send path state a few sessions ahead (LiveSession::prefetch); how many were sent it.
uint64_t send_to_audience(const std::vector<std::shared_ptr<LiveSession>>& sessions,
                          const Frame& frame, const classroom::Audience& audience) {
  uint64_t receivers = 0;
  const size_t n = sessions.size();
  for (size_t i = 0; i < n; ++i) {
    if (i + LiveSession::kPrefetchAhead < n)
      LiveSession::prefetch(sessions[i + LiveSession::kPrefetchAhead].get());
    LiveSession& s = *sessions[i];
    if (s.hears(audience)) {
      s.send_frame(frame);
      ++receivers;
    }
  }
  return receivers;
}

}  // namespace

RoomShard::RoomShard(asio::io_context& ioc, int thread_index, LiveTraffic* traffic)
    : ioc_(ioc),
      thread_index_(thread_index),
      traffic_(traffic),
      flush_(std::make_shared<FlushList>(ioc.get_executor())) {}

void RoomShard::post(Op op) {
  asio::post(ioc_, [self = shared_from_this(), op = std::move(op)]() mutable { self->apply(op); });
}

void RoomShard::answer_join(const std::shared_ptr<LiveSession>& s,
                            const base::Result<classroom::JoinReply>& reply, LiveTraffic& traffic) {
  Op op;
  op.session = s;
  if (!reply.is_ok()) {
    op.kind = Op::Kind::kClose;
    op.code = close_code_for(reply.status());
    op.reason = reply.status().message();
  } else {
    op.kind = Op::Kind::kJoined;
    // Counted here, as a connection on the room's thread counts its own
    // (LiveSession::send_welcome).
    op.frames = LiveSession::welcome_frames(reply->welcome, reply->replay, &traffic);
  }
  post(std::move(op));
}

void RoomShard::apply(Op& op) {
  using K = Op::Kind;
  switch (op.kind) {
    case K::kBroadcast:
      traffic_->count_out_type(op.out_type, send_to_audience(conns_, op.frame, op.audience));
      break;
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

// ---- RoomConnections ------------------------------------------------------------------------

RoomConnections::RoomConnections(asio::io_context& ioc, int thread_index,
                                 const std::vector<asio::io_context*>& spread_over,
                                 LiveTraffic* traffic)
    : traffic_(traffic), flush_(std::make_shared<FlushList>(ioc.get_executor())) {
  if (spread_over.size() > 1) {
    shards_.resize(spread_over.size());
    shard_members_.assign(spread_over.size(), 0);
    for (size_t t = 0; t < shards_.size(); ++t) {
      if (int(t) != thread_index)
        shards_[t] = std::make_shared<RoomShard>(*spread_over[t], int(t), traffic_);
    }
  }
}

void RoomConnections::add(const std::shared_ptr<LiveSession>& s) {
  auto& list = s->on_shard() ? spread_ : local_;
  s->host_index = list.size();
  list.push_back(s);
  if (s->on_shard()) ++shard_members_[size_t(s->shard()->thread_index())];
}

bool RoomConnections::contains(const LiveSession& s) const {
  const auto& list = s.on_shard() ? spread_ : local_;
  return s.host_index < list.size() && list[s.host_index].get() == &s;
}

bool RoomConnections::remove(LiveSession& s) {
  if (!contains(s)) return false;
  auto& list = s.on_shard() ? spread_ : local_;
  const size_t i = s.host_index;
  auto keep = list[i];  // `s` stays alive until this function returns
  if (i + 1 != list.size()) {
    list[i] = std::move(list.back());
    list[i]->host_index = i;
  }
  list.pop_back();
  if (s.on_shard()) --shard_members_[size_t(s.shard()->thread_index())];
  return true;
}

void RoomConnections::broadcast(const Frame& frame, const classroom::Audience& audience,
                                size_t out_type) {
  for (size_t t = 0; t < shards_.size(); ++t) {
    if (shard_members_[t] == 0) continue;
    RoomShard::Op op;
    op.kind = RoomShard::Op::Kind::kBroadcast;
    op.frame = frame;
    op.audience = audience;
    op.out_type = out_type;
    shards_[t]->post(std::move(op));
  }
  traffic_->count_out_type(out_type, send_to_audience(local_, frame, audience));
}

void RoomConnections::deliver(LiveSession& s, Frame frame) {
  if (!s.on_shard()) {
    s.send_frame(std::move(frame));
    return;
  }
  RoomShard::Op op;
  op.kind = RoomShard::Op::Kind::kSend;
  op.frame = std::move(frame);
  op.session = s.shared_from_this();
  s.shard()->post(std::move(op));
}

void RoomConnections::close(LiveSession& s, uint16_t code, std::string reason) {
  if (!s.on_shard()) {
    s.close(code, std::move(reason));
    return;
  }
  RoomShard::Op op;
  op.kind = RoomShard::Op::Kind::kClose;
  op.session = s.shared_from_this();
  op.code = code;
  op.reason = std::move(reason);
  s.shard()->post(std::move(op));
}

void RoomConnections::close_all(uint16_t code, std::string_view reason) {
  for (size_t t = 0; t < shards_.size(); ++t) {
    if (shard_members_[t] == 0) continue;
    RoomShard::Op op;
    op.kind = RoomShard::Op::Kind::kCloseAll;
    op.code = code;
    op.reason = std::string(reason);
    shards_[t]->post(std::move(op));
  }
  // Closing does not leave synchronously, but keep the loop independent of the list anyway.
  auto local = local_;
  for (const auto& s : local) s->close(code, std::string(reason));
}

void RoomConnections::release() {
  local_.clear();
  spread_.clear();
  flush_->clear();
  for (auto& sh : shards_) {
    if (sh) sh->release();
  }
}

}  // namespace ws
