#include "media/srtp/srtp_session.h"

#include <srtp2/srtp.h>

#include <cstring>
#include <mutex>
#include <string>

namespace media {
namespace {

static_assert(SrtpSession::kMaxOverhead >= SRTP_MAX_TRAILER_LEN + 4,
              "kMaxOverhead must cover libsrtp2's trailer and the SRTCP index");

base::Status srtp_init_once() {
  static std::once_flag once;
  static srtp_err_status_t status = srtp_err_status_ok;
  std::call_once(once, [] { status = srtp_init(); });
  if (status != srtp_err_status_ok) {
    return base::internal_error("srtp: srtp_init failed (" + std::to_string(int(status)) + ")");
  }
  return base::Status::ok();
}

base::Status srtp_error(const char* what, srtp_err_status_t s) {
  const char* reason = s == srtp_err_status_auth_fail     ? "authentication failed"
                       : s == srtp_err_status_replay_fail ? "replayed packet"
                       : s == srtp_err_status_replay_old  ? "packet too old"
                                                          : "error";
  return base::invalid_argument(std::string("srtp: ") + what + ": " + reason + " (" +
                                std::to_string(int(s)) + ")");
}

}  // namespace

struct SrtpSession::Impl {
  srtp_t session = nullptr;
  ~Impl() {
    if (session) srtp_dealloc(session);
  }
};

SrtpSession::SrtpSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SrtpSession::~SrtpSession() = default;

base::Result<std::unique_ptr<SrtpSession>> SrtpSession::create(Direction direction,
                                                               SrtpProfile profile,
                                                               ByteSpan master) {
  EC_RETURN_IF_ERROR(srtp_init_once());
  if (profile == SrtpProfile::kNone || master.size() != srtp_master_length(profile)) {
    return base::invalid_argument("srtp: master key length does not match the profile");
  }
  srtp_policy_t policy;
  std::memset(&policy, 0, sizeof policy);
  if (profile == SrtpProfile::kAeadAes128Gcm) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
  } else {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
  }
  policy.ssrc.type = direction == Direction::kInbound ? ssrc_any_inbound : ssrc_any_outbound;
  policy.ssrc.value = 0;
  // libsrtp copies the key during srtp_create.
  std::vector<uint8_t> key(master.begin(), master.end());
  policy.key = key.data();
  policy.window_size = 1024;   // tolerate reordering on the path
  policy.allow_repeat_tx = 1;  // NACK replies resend a sequence number already protected
  policy.next = nullptr;
  auto impl = std::make_unique<Impl>();
  srtp_err_status_t s = srtp_create(&impl->session, &policy);
  std::memset(key.data(), 0, key.size());
  if (s != srtp_err_status_ok) {
    impl->session = nullptr;
    return srtp_error("srtp_create", s);
  }
  return std::unique_ptr<SrtpSession>(new SrtpSession(std::move(impl)));
}

base::Status SrtpSession::protect_rtp(std::span<uint8_t> buffer, size_t* len) {
  if (*len > buffer.size() || buffer.size() - *len < kMaxOverhead) {
    return base::invalid_argument("srtp: no room for the trailer");
  }
  int n = int(*len);
  srtp_err_status_t s = srtp_protect(impl_->session, buffer.data(), &n);
  if (s != srtp_err_status_ok) return srtp_error("protect", s);
  *len = size_t(n);
  return base::Status::ok();
}

base::Status SrtpSession::protect_rtcp(std::span<uint8_t> buffer, size_t* len) {
  if (*len > buffer.size() || buffer.size() - *len < kMaxOverhead) {
    return base::invalid_argument("srtp: no room for the trailer");
  }
  int n = int(*len);
  srtp_err_status_t s = srtp_protect_rtcp(impl_->session, buffer.data(), &n);
  if (s != srtp_err_status_ok) return srtp_error("protect rtcp", s);
  *len = size_t(n);
  return base::Status::ok();
}

base::Status SrtpSession::unprotect_rtp(std::span<uint8_t> buffer, size_t* len) {
  if (*len > buffer.size() || *len < 12) return base::invalid_argument("srtp: short packet");
  int n = int(*len);
  srtp_err_status_t s = srtp_unprotect(impl_->session, buffer.data(), &n);
  if (s != srtp_err_status_ok) return srtp_error("unprotect", s);
  *len = size_t(n);
  return base::Status::ok();
}

base::Status SrtpSession::unprotect_rtcp(std::span<uint8_t> buffer, size_t* len) {
  if (*len > buffer.size() || *len < 8) return base::invalid_argument("srtp: short packet");
  int n = int(*len);
  srtp_err_status_t s = srtp_unprotect_rtcp(impl_->session, buffer.data(), &n);
  if (s != srtp_err_status_ok) return srtp_error("unprotect rtcp", s);
  *len = size_t(n);
  return base::Status::ok();
}

}  // namespace media
