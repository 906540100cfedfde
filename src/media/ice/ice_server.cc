#include "media/ice/ice_server.h"

#include <algorithm>

namespace media {

IceServer::IceServer(Listener* listener, const base::Clock* clock, std::string local_ufrag,
                     std::string local_password)
    : listener_(listener),
      clock_(clock),
      local_ufrag_(std::move(local_ufrag)),
      local_password_(std::move(local_password)) {}

std::string_view IceServer::local_ufrag_of(const stun::StunMessage& msg) {
  if (!msg.username) return {};
  std::string_view u = *msg.username;
  size_t colon = u.find(':');
  return colon == std::string_view::npos ? u : u.substr(0, colon);
}

void IceServer::process_stun(ByteSpan data, const stun::StunMessage& msg,
                             const SocketAddress& from) {
  if (msg.cls != stun::Class::kRequest) return;  // a lite agent sends no requests
  if (msg.method != stun::kMethodBinding) {
    send_error(msg, from, 400, "Bad Request", false);
    return;
  }
  // RFC 8445 section 7.3 / RFC 5389 section 10.1.2: no USERNAME or no MESSAGE-INTEGRITY is
  // 400; a wrong username or a bad MAC is 401, both without MESSAGE-INTEGRITY.
  if (!msg.username || !msg.has_integrity() || !msg.has_fingerprint) {
    send_error(msg, from, 400, "Bad Request", false);
    return;
  }
  std::string_view user = *msg.username;
  std::string expected_prefix = local_ufrag_ + ":";
  if (user.substr(0, expected_prefix.size()) != expected_prefix ||
      (!remote_ufrag_.empty() && user.substr(expected_prefix.size()) != remote_ufrag_) ||
      !stun::verify_integrity(data, msg, local_password_)) {
    send_error(msg, from, 401, "Unauthorized", false);
    return;
  }
  if (!msg.unknown_required.empty()) {
    send_error(msg, from, 420, "Unknown Attribute", true);
    return;
  }
  // A lite agent is always controlled; a peer that also claims to be controlled is in
  // conflict and must switch (RFC 8445 section 7.3.1.1).
  if (msg.ice_controlled) {
    send_error(msg, from, 487, "Role Conflict", true);
    return;
  }
  if (!msg.priority) {
    send_error(msg, from, 400, "Bad Request", true);
    return;
  }

  stun::StunMessage resp;
  resp.cls = stun::Class::kSuccessResponse;
  resp.method = stun::kMethodBinding;
  resp.transaction_id = msg.transaction_id;
  resp.xor_mapped_address = from;
  std::vector<uint8_t> bytes = stun::serialize(resp, local_password_, true);
  listener_->OnIceServerSendStunPacket(this, bytes, from);

  remember_tuple(from);
  int64_t now = clock_->now_mono_ns();
  if (msg.use_candidate && (!has_selected_ || !(selected_ == from))) {
    selected_ = from;
    has_selected_ = true;
    last_consent_ns_ = now;
    listener_->OnIceServerSelectedTuple(this, from);
    set_state(State::kCompleted);
  } else if (has_selected_ && selected_ == from) {
    last_consent_ns_ = now;
    if (state_ == State::kDisconnected) set_state(State::kCompleted);
  } else if (state_ == State::kNew) {
    set_state(State::kConnected);
  }
}

void IceServer::on_timer() {
  if (!has_selected_ || state_ == State::kDisconnected) return;
  if (clock_->now_mono_ns() - last_consent_ns_ > kConsentTimeoutMs * 1'000'000) {
    set_state(State::kDisconnected);
  }
}

bool IceServer::has_tuple(const SocketAddress& addr) const {
  return std::find(tuples_.begin(), tuples_.end(), addr) != tuples_.end();
}

void IceServer::send_error(const stun::StunMessage& req, const SocketAddress& to, uint16_t code,
                           std::string_view reason, bool with_integrity) {
  stun::StunMessage resp;
  resp.cls = stun::Class::kErrorResponse;
  resp.method = req.method;
  resp.transaction_id = req.transaction_id;
  resp.error_code = code;
  resp.error_reason = std::string(reason);
  if (code == 420) resp.unknown_required = req.unknown_required;
  std::vector<uint8_t> bytes =
      stun::serialize(resp, with_integrity ? std::string_view(local_password_) : "", true);
  listener_->OnIceServerSendStunPacket(this, bytes, to);
}

void IceServer::set_state(State s) {
  if (s == state_) return;
  state_ = s;
  listener_->OnIceServerStateChanged(this, s);
}

void IceServer::remember_tuple(const SocketAddress& addr) {
  if (has_tuple(addr)) return;
  if (tuples_.size() == kMaxTuples) {
    // Never forget the selected tuple.
    auto victim = std::find_if(tuples_.begin(), tuples_.end(), [&](const SocketAddress& t) {
      return !(has_selected_ && t == selected_);
    });
    SocketAddress gone = *victim;
    tuples_.erase(victim);
    listener_->OnIceServerTupleRemoved(this, gone);
  }
  tuples_.push_back(addr);
  listener_->OnIceServerTupleAdded(this, addr);
}

const char* to_string(IceServer::State state) {
  switch (state) {
    case IceServer::State::kNew:
      return "new";
    case IceServer::State::kConnected:
      return "connected";
    case IceServer::State::kCompleted:
      return "completed";
    case IceServer::State::kDisconnected:
      return "disconnected";
  }
  return "?";
}

}  // namespace media
