// A fake browser for the media tests: our own DTLS client, SRTP and STUN with Chromium's
// recorded SDP (tests/media/data), speaking to an Sfu through datagram queues.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "media/common/bytes.h"
#include "media/dtls/dtls_transport.h"
#include "media/rtcp/rtcp_packet.h"
#include "media/rtp/rtp_packet.h"
#include "media/sdp/session_description.h"
#include "media/srtp/srtp_session.h"
#include "media/stun/stun_packet.h"
#include "media_test_util.h"

namespace media::testing {

struct Datagram {
  SocketAddress from, to;
  std::vector<uint8_t> bytes;
};

class FakeBrowser : public DtlsTransport::Listener {
 public:
  FakeBrowser(SocketAddress addr, std::deque<Datagram>* to_sfu) : addr_(addr), to_sfu_(to_sfu) {
    cert_ = *DtlsCertificate::generate();
    dtls_ = DtlsTransport::create(this, cert_, DtlsTransport::Role::kClient).value();
  }

  // Chromium's offer with this browser's fingerprint and ufrag.
  std::string offer(const std::string& fixture, const std::string& old_fp,
                    const std::string& old_ufrag) {
    std::string sdp = read_fixture(fixture);
    replace_all(sdp, old_fp, cert_->fingerprint_sha256());
    replace_all(sdp, "a=ice-ufrag:" + old_ufrag, "a=ice-ufrag:" + ufrag_);
    return sdp;
  }
  void set_answer(const std::string& answer) {
    auto a = sdp::parse(answer);
    ASSERT_TRUE(a.is_ok());
    answer_ = *a;
    server_ufrag_ = answer_.media[0].ice_ufrag;
    server_pwd_ = answer_.media[0].ice_pwd;
    dtls_->set_remote_fingerprint(answer_.media[0].fingerprint);
  }
  const sdp::SessionDescription& answer() const { return answer_; }

  void connect() {
    stun::StunMessage m;
    m.username = server_ufrag_ + ":" + ufrag_;
    m.priority = 1853817087;
    m.ice_controlling = 42;
    m.use_candidate = true;
    m.transaction_id[0] = 1;
    send(stun::serialize(m, server_pwd_, true));
    dtls_->start();
  }

  void receive(std::vector<uint8_t> d) {
    if (stun::is_stun(d)) {
      auto m = stun::parse(d);
      if (m.is_ok() && m->cls == stun::Class::kSuccessResponse &&
          stun::verify_integrity(d, *m, server_pwd_)) {
        ice_ok = true;
      }
    } else if (looks_like_dtls(d)) {
      dtls_->process_data(d);
    } else if (srtp_in_) {
      size_t len = d.size();
      if (looks_like_rtcp(d)) {
        if (srtp_in_->unprotect_rtcp(d, &len).is_ok())
          rtcp.emplace_back(d.begin(), d.begin() + len);
      } else if (srtp_in_->unprotect_rtp(d, &len).is_ok()) {
        rtp.emplace_back(d.begin(), d.begin() + len);
      }
    }
  }

  void send_rtp(std::vector<uint8_t> plain) { send_protected(std::move(plain), false); }
  void send_rtcp(std::vector<uint8_t> plain) { send_protected(std::move(plain), true); }

  void OnDtlsTransportSendData(const DtlsTransport*, ByteSpan d) override {
    send({d.begin(), d.end()});
  }
  void OnDtlsTransportConnected(const DtlsTransport*, const SrtpKeys& k) override {
    srtp_in_ =
        SrtpSession::create(SrtpSession::Direction::kInbound, k.profile, k.remote_master).value();
    srtp_out_ =
        SrtpSession::create(SrtpSession::Direction::kOutbound, k.profile, k.local_master).value();
  }
  void OnDtlsTransportFailed(const DtlsTransport*, std::string_view r) override {
    if (!expect_dtls_failure) ADD_FAILURE() << "browser DTLS failed: " << r;
  }
  void OnDtlsTransportClosed(const DtlsTransport*) override {}

  bool connected() const { return srtp_out_ != nullptr; }
  const SocketAddress& addr() const { return addr_; }
  // What RTCPeerConnection.close() does on the wire: a DTLS close_notify.
  void close() { dtls_->close(); }

  bool ice_ok = false;
  bool expect_dtls_failure = false;  // the test makes the server refuse the handshake
  std::vector<std::vector<uint8_t>> rtp, rtcp;

 private:
  void send(std::vector<uint8_t> d) { to_sfu_->push_back({addr_, {}, std::move(d)}); }
  void send_protected(std::vector<uint8_t> plain, bool is_rtcp) {
    size_t len = plain.size();
    plain.resize(len + SrtpSession::kMaxOverhead);
    auto s = is_rtcp ? srtp_out_->protect_rtcp(plain, &len) : srtp_out_->protect_rtp(plain, &len);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    plain.resize(len);
    send(std::move(plain));
  }

  SocketAddress addr_;
  std::deque<Datagram>* to_sfu_;
  std::string ufrag_ = "brwz";
  std::string server_ufrag_, server_pwd_;
  std::shared_ptr<const DtlsCertificate> cert_;
  std::unique_ptr<DtlsTransport> dtls_;
  std::unique_ptr<SrtpSession> srtp_in_, srtp_out_;
  sdp::SessionDescription answer_;
};

template <typename T>
size_t count_rtcp(const std::vector<std::vector<uint8_t>>& compounds) {
  size_t n = 0;
  for (const auto& bytes : compounds) {
    auto parsed = rtcp::parse_compound(bytes);
    if (!parsed.is_ok()) continue;
    for (const auto& p : *parsed) n += std::holds_alternative<T>(p);
  }
  return n;
}

inline std::vector<uint8_t> vp8_packet(uint32_t ssrc, uint16_t seq, uint32_t ts, bool key) {
  return {0x80,
          0x60,
          uint8_t(seq >> 8),
          uint8_t(seq),
          uint8_t(ts >> 24),
          uint8_t(ts >> 16),
          uint8_t(ts >> 8),
          uint8_t(ts),
          uint8_t(ssrc >> 24),
          uint8_t(ssrc >> 16),
          uint8_t(ssrc >> 8),
          uint8_t(ssrc),
          0x10,
          uint8_t(key ? 0 : 1),
          0x9d,
          0x01,
          0x2a,
          'f',
          'r',
          'a',
          'm',
          'e'};
}

}  // namespace media::testing
