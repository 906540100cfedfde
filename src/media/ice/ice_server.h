// The ICE-lite agent of one WebRtcTransport (RFC 8445 section 2.5, lite implementation).
//
// A lite agent never sends connectivity checks: it answers the browser's STUN Binding
// requests on its one host candidate, learns the browser's addresses (tuples) from valid
// requests, and takes the pair the browser nominates (USE-CANDIDATE) as the selected tuple.
// A nominated request from a new address moves the selected tuple there (the browser changed
// networks). Consent freshness (RFC 7675) is judged from the browser's side: it keeps sending
// Binding requests, and when none has been answered on the selected tuple for
// kConsentTimeoutMs the agent reports disconnected.
//
// Pure logic: bytes in, bytes out through the Listener, time through base::Clock. Not
// thread-safe; owned by the transport that owns it, on that transport's thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "media/common/bytes.h"
#include "media/common/socket_address.h"
#include "media/stun/stun_packet.h"

namespace media {

class IceServer {
 public:
  enum class State { kNew, kConnected, kCompleted, kDisconnected };

  class Listener {
   public:
    virtual ~Listener() = default;
    // Send `packet` (a STUN response) to `to` over the shared UDP socket.
    virtual void OnIceServerSendStunPacket(const IceServer* ice, ByteSpan packet,
                                           const SocketAddress& to) = 0;
    // The selected tuple is now `remote` (first nomination or an address change).
    virtual void OnIceServerSelectedTuple(const IceServer* ice, const SocketAddress& remote) = 0;
    // The state changed to kConnected, kCompleted or kDisconnected.
    virtual void OnIceServerStateChanged(const IceServer* ice, State state) = 0;
    // `remote` sent its first valid request (the UDP server routes it here from now on), or
    // was forgotten to make room for a newer one.
    virtual void OnIceServerTupleAdded(const IceServer* ice, const SocketAddress& remote) {}
    virtual void OnIceServerTupleRemoved(const IceServer* ice, const SocketAddress& remote) {}
  };

  // No consent check answered on the selected tuple for this long means the peer is gone
  // (RFC 7675 section 5.1 suggests 30 s).
  static constexpr int64_t kConsentTimeoutMs = 30'000;
  // At most this many remote tuples are remembered; the oldest is forgotten first.
  static constexpr size_t kMaxTuples = 8;

  // `local_ufrag` and `local_password` are this agent's credentials, as announced in the SDP
  // answer. `listener` and `clock` must outlive this object.
  IceServer(Listener* listener, const base::Clock* clock, std::string local_ufrag,
            std::string local_password);

  // Sets the browser's ufrag from its offer; when set, USERNAME must be "<local>:<remote>".
  void set_remote_ufrag(std::string ufrag) { remote_ufrag_ = std::move(ufrag); }

  // Handles one STUN message that arrived from `from`. `data` must be the exact datagram
  // `msg` was parsed from. Requests are answered through the Listener (success, or 400, 401,
  // 420, 487 errors); other classes are ignored.
  void process_stun(ByteSpan data, const stun::StunMessage& msg, const SocketAddress& from);

  // Re-evaluates consent freshness; call periodically (e.g. every second).
  void on_timer();

  // True when `addr` sent a valid Binding request (media and DTLS from it are accepted).
  bool has_tuple(const SocketAddress& addr) const;

  State state() const { return state_; }
  // Valid only in kConnected or kCompleted with a nomination.
  const SocketAddress& selected_tuple() const { return selected_; }
  bool has_selected_tuple() const { return has_selected_; }
  const std::string& local_ufrag() const { return local_ufrag_; }
  const std::string& local_password() const { return local_password_; }

  // The local ufrag a Binding request is addressed to: USERNAME up to the first ':'.
  static std::string_view local_ufrag_of(const stun::StunMessage& msg);

 private:
  void send_error(const stun::StunMessage& req, const SocketAddress& to, uint16_t code,
                  std::string_view reason, bool with_integrity);
  void set_state(State s);
  void remember_tuple(const SocketAddress& addr);

  Listener* listener_;        // not owned
  const base::Clock* clock_;  // not owned
  std::string local_ufrag_;
  std::string local_password_;
  std::string remote_ufrag_;  // empty until the offer is known

  State state_ = State::kNew;
  std::vector<SocketAddress> tuples_;  // validated remote addresses, oldest first
  SocketAddress selected_;
  bool has_selected_ = false;
  int64_t last_consent_ns_ = 0;  // when the selected tuple last sent a valid request
};

const char* to_string(IceServer::State state);

}  // namespace media
