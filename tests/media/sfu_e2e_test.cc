// The whole media plane in memory: two fake browsers (our own DTLS client, SRTP and STUN,
// with Chromium's SDP) publish and subscribe through Sfu::on_udp_packet. Datagrams travel
// through queues, so nothing re-enters the Sfu while it is sending.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <fstream>
#include <map>
#include <sstream>

#include "fake_browser.h"
#include "media/rtcp/rtcp_packet.h"
#include "media/rtp/rtp_packet.h"
#include "media/sfu/sfu.h"
#include "media/stun/stun_packet.h"
#include "media_test_util.h"

namespace media {
namespace {

using media::testing::count_rtcp;
using media::testing::Datagram;
using media::testing::FakeBrowser;
using media::testing::read_fixture;
using media::testing::replace_all;
using media::testing::vp8_packet;

class SfuE2eTest : public ::testing::Test, public Sfu::Listener, public Sfu::PacketSender {
 protected:
  SfuE2eTest()
      : random_(7),
        sfu_(SfuConfig{}, this, this, &clock_, &random_, *DtlsCertificate::generate()),
        teacher_(SocketAddress::ipv4(10, 0, 0, 1, 50001), &to_sfu_),
        student_(SocketAddress::ipv4(10, 0, 0, 2, 50002), &to_sfu_) {}

  void OnSfuTrackAdded(const std::string& room, const std::string& feed, const std::string& who,
                       MediaKind kind) override {
    events.push_back("+" + room + "/" + feed + "/" + who + "/" + to_string(kind));
  }
  void OnSfuTrackRemoved(const std::string& room, const std::string& feed, const std::string& who,
                         MediaKind kind) override {
    events.push_back("-" + room + "/" + feed + "/" + who + "/" + to_string(kind));
  }
  // "x<room>/<who>/publish/<feed>" or "x<room>/<who>/subscribe".
  void OnSfuParticipantDisconnected(const std::string& room, const std::string& who,
                                    bool publishing, const std::string& feed,
                                    std::string_view) override {
    events.push_back("x" + room + "/" + who + (publishing ? "/publish/" + feed : "/subscribe"));
  }
  void OnSfuTransportFailed(const std::string& room, const std::string& who, bool publishing,
                            const std::string& feed, WebRtcTransport::Failure failure,
                            std::string_view) override {
    events.push_back("!" + room + "/" + who +
                     (publishing ? "/publish/" + feed + "/" : "/subscribe/") + to_string(failure));
  }
  void send_udp(ByteSpan d, const SocketAddress& to) override {
    to_browsers_.push_back({{}, to, {d.begin(), d.end()}});
  }

  // The teacher publishes the recorded Chromium offer into room1's "main" feed and completes
  // ICE and DTLS with it (callers wrap it in ASSERT_NO_FATAL_FAILURE).
  void connect_teacher() {
    auto pub = sfu_.publish("room1", "teacher", "main",
                            teacher_.offer("chromium_publish_offer.sdp", kPubFp, "Zq8H"));
    ASSERT_TRUE(pub.is_ok()) << pub.status().to_string();
    teacher_.set_answer(*pub);
    teacher_.connect();
    pump();
    ASSERT_TRUE(teacher_.connected());
  }

  void pump() {
    for (int i = 0; i < 1000 && (!to_sfu_.empty() || !to_browsers_.empty()); ++i) {
      while (!to_sfu_.empty()) {
        Datagram d = std::move(to_sfu_.front());
        to_sfu_.pop_front();
        sfu_.on_udp_packet(d.bytes, d.from, clock_.now_mono_ns());
      }
      while (!to_browsers_.empty()) {
        Datagram d = std::move(to_browsers_.front());
        to_browsers_.pop_front();
        if (d.to == teacher_.addr()) teacher_.receive(std::move(d.bytes));
        if (d.to == student_.addr()) {
          if (drop_next_to_student_ && looks_like_rtp(d.bytes)) {
            drop_next_to_student_ = false;
            continue;
          }
          student_.receive(std::move(d.bytes));
        }
      }
    }
  }

  static constexpr const char* kPubFp =
      "4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:95:FE:8D:2A:4F:9C:2B:8E:1D:47:"
      "3A:10";
  static constexpr const char* kSubFp =
      "11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:"
      "FF:00";

  base::FakeClock clock_;
  base::SeededRandom random_;
  std::deque<Datagram> to_sfu_, to_browsers_;
  Sfu sfu_;
  FakeBrowser teacher_, student_;
  std::vector<std::string> events;
  bool drop_next_to_student_ = false;
};

TEST_F(SfuE2eTest, TeacherToStudentThroughIceDtlsSrtp) {
  auto pub = sfu_.publish("room1", "teacher", "main",
                          teacher_.offer("chromium_publish_offer.sdp", kPubFp, "Zq8H"));
  ASSERT_TRUE(pub.is_ok()) << pub.status().to_string();
  teacher_.set_answer(*pub);
  EXPECT_EQ(events,
            (std::vector<std::string>{"+room1/main/teacher/audio", "+room1/main/teacher/video"}));
  auto sub = sfu_.subscribe("room1", "student",
                            student_.offer("chromium_subscribe_offer.sdp", kSubFp, "pT3c"));
  ASSERT_TRUE(sub.is_ok()) << sub.status().to_string();
  student_.set_answer(*sub);
  EXPECT_EQ(sfu_.transport_count(), 2u);
  EXPECT_EQ(sfu_.subscriber_count("room1"), 1u);

  teacher_.connect();
  student_.connect();
  pump();
  ASSERT_TRUE(teacher_.ice_ok && student_.ice_ok);
  ASSERT_TRUE(teacher_.connected());
  ASSERT_TRUE(student_.connected());

  // The teacher's camera: a key frame on the SSRC its SDP announced, then a packet the
  // network loses on the way to the student.
  teacher_.send_rtp(vp8_packet(2863311530u, 1000, 90000, true));
  pump();
  drop_next_to_student_ = true;
  teacher_.send_rtp(vp8_packet(2863311530u, 1001, 93000, false));
  pump();
  ASSERT_EQ(student_.rtp.size(), 1u);
  auto p = RtpPacket::parse(student_.rtp[0]);
  ASSERT_TRUE(p.is_ok());
  uint32_t video_ssrc = student_.answer().media[1].ssrcs.at(0);
  EXPECT_EQ(p->ssrc(), video_ssrc);
  EXPECT_EQ(p->payload_type(), 96);
  EXPECT_EQ(p->extension(4).size(), 1u);  // mid, with the student's extmap id
  EXPECT_EQ(std::string(p->payload().end() - 5, p->payload().end()), "frame");

  // The student NACKs the lost one: answered from the cache as RTX (the offer has rtx for
  // VP8, so the answer negotiated it: a=ssrc-group:FID), encrypted again.
  ASSERT_TRUE(student_.answer().media[1].fid);
  uint32_t rtx_ssrc = student_.answer().media[1].fid->second;
  EXPECT_EQ(student_.answer().media[1].fid->first, video_ssrc);
  uint16_t lost = uint16_t(p->sequence_number() + 1);
  student_.send_rtcp(rtcp::serialize({rtcp::Nack{1, video_ssrc, {lost}}}));
  pump();
  ASSERT_EQ(student_.rtp.size(), 2u);
  auto rtx = RtpPacket::parse(student_.rtp[1]);
  ASSERT_TRUE(rtx.is_ok());
  EXPECT_EQ(rtx->ssrc(), rtx_ssrc);
  EXPECT_NE(rtx->payload_type(), 96);
  ASSERT_GE(rtx->payload().size(), 2u);
  EXPECT_EQ(get_u16(rtx->payload().data()), lost);  // RFC 4588: the original sequence number
  EXPECT_EQ(rtx->timestamp(), p->timestamp() + 3000);

  // The student loses the picture: PLI reaches the teacher (coalesced).
  clock_.advance_ms(1500);
  teacher_.rtcp.clear();
  student_.send_rtcp(rtcp::serialize({rtcp::Pli{1, video_ssrc}}));
  pump();
  size_t plis = count_rtcp<rtcp::Pli>(teacher_.rtcp);
  EXPECT_EQ(plis, 1u) << "received " << sfu_.room_counters("room1")->keyframe_requests_received
                      << " sent " << sfu_.room_counters("room1")->keyframe_requests_sent
                      << " teacher rtcp " << teacher_.rtcp.size();

  // Receiver reports and REMB reach the teacher on the timer.
  teacher_.rtcp.clear();
  clock_.advance_ms(1000);
  sfu_.on_timer();
  pump();
  bool remb = count_rtcp<rtcp::Remb>(teacher_.rtcp) > 0;
  EXPECT_TRUE(remb);

  const MediaCounters* c = sfu_.room_counters("room1");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->rtp_packets_in, 2u);
  EXPECT_EQ(c->nacks_received, 1u);
  EXPECT_EQ(c->retransmissions_sent, 1u);

  events.clear();
  sfu_.unpublish("room1", "teacher");
  EXPECT_EQ(events,
            (std::vector<std::string>{"-room1/main/teacher/audio", "-room1/main/teacher/video"}));
  sfu_.leave("room1", "student");
  EXPECT_EQ(sfu_.subscriber_count("room1"), 0u);
}

TEST_F(SfuE2eTest, StageHandOverReportsTheTrackChange) {
  std::string offer = teacher_.offer("chromium_publish_offer.sdp", kPubFp, "Zq8H");
  ASSERT_TRUE(sfu_.publish("room1", "student1", "stage", offer).is_ok());
  // Another browser, other SSRCs.
  std::string offer2 = offer;
  replace_all(offer2, "2863311530", "2863311531");
  replace_all(offer2, "3735928559", "3735928558");
  events.clear();
  ASSERT_TRUE(sfu_.publish("room1", "student2", "stage", offer2).is_ok());
  EXPECT_EQ(events, (std::vector<std::string>{
                        "-room1/stage/student1/audio", "-room1/stage/student1/video",
                        "+room1/stage/student2/audio", "+room1/stage/student2/video"}));
  // The same SSRCs a second time in one room are refused.
  EXPECT_FALSE(sfu_.publish("room1", "student3", "main", offer2).is_ok());
  // Unpublishing the former stage holder does not remove the current one's tracks.
  events.clear();
  sfu_.unpublish("room1", "student1");
  EXPECT_TRUE(events.empty());
}

TEST_F(SfuE2eTest, ExtraRecvonlySectionsAreInactiveAndRoomsAreVisited) {
  // Four recvonly video sections for three feeds (main, stage, screen): the fourth is
  // answered inactive.
  std::string offer = student_.offer("chromium_subscribe_offer.sdp", kSubFp, "pT3c");
  size_t video = offer.find("m=video");
  size_t app = offer.find("m=application");
  std::string section = offer.substr(video, app - video);
  std::string extra;
  for (const char* mid : {"3", "4", "5"}) {
    std::string s = section;
    replace_all(s, "a=mid:1", std::string("a=mid:") + mid);
    extra += s;
  }
  offer.insert(app, extra);
  replace_all(offer, "a=group:BUNDLE 0 1 2", "a=group:BUNDLE 0 1 2 3 4 5");
  auto answer = sfu_.subscribe("room1", "student", offer);
  ASSERT_TRUE(answer.is_ok()) << answer.status().to_string();
  auto parsed = sdp::parse(*answer);
  ASSERT_TRUE(parsed.is_ok());
  ASSERT_EQ(parsed->media.size(), 6u);
  EXPECT_EQ(parsed->media[1].direction, sdp::Direction::kSendOnly);  // main
  EXPECT_EQ(parsed->media[2].direction, sdp::Direction::kSendOnly);  // stage
  EXPECT_EQ(parsed->media[3].direction, sdp::Direction::kSendOnly);  // screen
  EXPECT_EQ(parsed->media[4].direction, sdp::Direction::kInactive);  // no fourth feed
  EXPECT_EQ(parsed->media[5].port, 0);                               // data channel
  EXPECT_NE(answer->find("a=msid:stage stage-video"), std::string::npos);
  EXPECT_NE(answer->find("a=msid:screen screen-video"), std::string::npos);
  std::vector<std::string> rooms;
  sfu_.for_each_room([&](const std::string& id, const MediaCounters&, size_t subscribers) {
    rooms.push_back(id + ":" + std::to_string(subscribers));
  });
  EXPECT_EQ(rooms, (std::vector<std::string>{"room1:1"}));
  EXPECT_EQ(sfu_.room_count(), 1u);
}

TEST_F(SfuE2eTest, MediaFromUnknownAddressIsNotRouted) {
  auto pub = sfu_.publish("room1", "teacher", "main",
                          teacher_.offer("chromium_publish_offer.sdp", kPubFp, "Zq8H"));
  ASSERT_TRUE(pub.is_ok());
  std::vector<uint8_t> junk = vp8_packet(1, 1, 1, true);
  sfu_.on_udp_packet(junk, SocketAddress::ipv4(6, 6, 6, 6, 6), 0);
  EXPECT_EQ(sfu_.unroutable_packets(), 1u);
}

TEST_F(SfuE2eTest, ConsentLossDisconnects) {
  ASSERT_NO_FATAL_FAILURE(connect_teacher());
  clock_.advance_ms(31'000);
  sfu_.on_timer();
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[events.size() - 2], "!room1/teacher/publish/main/consent_expired");
  EXPECT_EQ(events.back(), "xroom1/teacher/publish/main");
  EXPECT_EQ(sfu_.consent_expirations(), 1u);
  EXPECT_EQ(sfu_.ice_timeouts(), 0u);
  EXPECT_EQ(sfu_.dtls_failures(), 0u);
  sfu_.on_timer();  // frees the dead transport
  EXPECT_EQ(sfu_.transport_count(), 0u);
}

// A browser that never sends a valid connectivity check (the candidates did not reach us):
// after WebRtcTransport::kIceTimeoutMs the transport is closed as an ICE failure, counted,
// and reported before the disconnect.
TEST_F(SfuE2eTest, NoConnectivityCheckIsAnIceFailure) {
  auto sub = sfu_.subscribe("room1", "student",
                            student_.offer("chromium_subscribe_offer.sdp", kSubFp, "pT3c"));
  ASSERT_TRUE(sub.is_ok()) << sub.status().to_string();
  clock_.advance_ms(WebRtcTransport::kIceTimeoutMs - 1'000);
  sfu_.on_timer();
  EXPECT_EQ(sfu_.ice_timeouts(), 0u);
  EXPECT_TRUE(events.empty());
  clock_.advance_ms(1'000);
  sfu_.on_timer();
  EXPECT_EQ(sfu_.ice_timeouts(), 1u);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], "!room1/student/subscribe/ice_timeout");
  EXPECT_EQ(events[1], "xroom1/student/subscribe");
  sfu_.on_timer();
  EXPECT_EQ(sfu_.transport_count(), 0u);

  // A browser that connected in time is not an ICE failure later.
  ASSERT_NO_FATAL_FAILURE(connect_teacher());
  clock_.advance_ms(WebRtcTransport::kIceTimeoutMs / 2);
  teacher_.connect();  // a consent check
  pump();
  clock_.advance_ms(WebRtcTransport::kIceTimeoutMs / 2 + 1'000);
  sfu_.on_timer();
  EXPECT_EQ(sfu_.ice_timeouts(), 1u);
  EXPECT_EQ(sfu_.transport_count(), 1u);
}

// The browser's certificate does not match the fingerprint of its offer: the handshake
// fails on our side, which counts a DTLS failure and reports it.
TEST_F(SfuE2eTest, FingerprintMismatchIsADtlsFailure) {
  // The fixture's own fingerprint stays in the offer; the browser has another certificate.
  auto pub =
      sfu_.publish("room1", "teacher", "main",
                   teacher_.offer("chromium_publish_offer.sdp", "no such fingerprint", "Zq8H"));
  ASSERT_TRUE(pub.is_ok()) << pub.status().to_string();
  teacher_.expect_dtls_failure = true;
  teacher_.set_answer(*pub);
  teacher_.connect();
  pump();
  // (The browser may count itself connected: we check its certificate once our side of the
  // handshake is done.)
  EXPECT_EQ(sfu_.dtls_failures(), 1u);
  EXPECT_EQ(sfu_.ice_timeouts(), 0u);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[events.size() - 2], "!room1/teacher/publish/main/dtls");
  EXPECT_EQ(events.back(), "xroom1/teacher/publish/main");
}

// The page closes its own PeerConnection (it replaces a stalled subscription, reloads, or
// stops the camera): the close_notify ends the transport and its tracks, but it is not
// reported as a disconnect, which would make the page tear down the replacement it is
// already negotiating (web/video.js).
TEST_F(SfuE2eTest, BrowserClosingItsPeerConnectionIsNotADisconnect) {
  ASSERT_NO_FATAL_FAILURE(connect_teacher());
  events.clear();
  teacher_.close();
  pump();
  sfu_.on_timer();  // frees the closed transport
  EXPECT_EQ(sfu_.transport_count(), 0u);
  std::vector<std::string> want = {"-room1/main/teacher/audio", "-room1/main/teacher/video"};
  std::sort(events.begin(), events.end());
  EXPECT_EQ(events, want);
  EXPECT_EQ(sfu_.ice_timeouts() + sfu_.consent_expirations() + sfu_.dtls_failures(), 0u);
}

// A shared screen is a second publishing PeerConnection of the same participant, in feed
// "screen": it starts and stops without touching the camera's, and unpublish() without a
// feed (the stage taken back, the session over) ends both.
TEST_F(SfuE2eTest, ScreenShareIsASecondPublishingPeerConnection) {
  FakeBrowser screen(SocketAddress::ipv4(10, 0, 0, 1, 50003), &to_sfu_);
  auto cam = sfu_.publish("room1", "teacher", "main",
                          teacher_.offer("chromium_publish_offer.sdp", kPubFp, "Zq8H"));
  ASSERT_TRUE(cam.is_ok()) << cam.status().to_string();
  std::string offer = screen.offer("chromium_publish_offer.sdp", kPubFp, "Zq8H");
  for (const char* ssrc : {"3735928559", "2863311530", "1431655765"}) {
    replace_all(offer, std::string("a=ssrc:") + ssrc, std::string("a=ssrc:1") + (ssrc + 1));
    replace_all(offer, std::string(" ") + ssrc, std::string(" 1") + (ssrc + 1));
  }
  auto scr = sfu_.publish("room1", "teacher", "screen", offer);
  ASSERT_TRUE(scr.is_ok()) << scr.status().to_string();
  EXPECT_EQ(sfu_.transport_count(), 2u);
  EXPECT_EQ(std::count(events.begin(), events.end(), "+room1/screen/teacher/video"), 1);

  events.clear();
  sfu_.unpublish("room1", "teacher", "screen");
  std::sort(events.begin(), events.end());
  EXPECT_EQ(events, (std::vector<std::string>{"-room1/screen/teacher/audio",
                                              "-room1/screen/teacher/video"}));
  EXPECT_EQ(sfu_.transport_count(), 1u);

  // Sharing again, then everything goes at once.
  scr = sfu_.publish("room1", "teacher", "screen", offer);
  ASSERT_TRUE(scr.is_ok()) << scr.status().to_string();
  events.clear();
  sfu_.unpublish("room1", "teacher");
  std::sort(events.begin(), events.end());
  EXPECT_EQ(events, (std::vector<std::string>{
                        "-room1/main/teacher/audio", "-room1/main/teacher/video",
                        "-room1/screen/teacher/audio", "-room1/screen/teacher/video"}));
  EXPECT_EQ(sfu_.transport_count(), 0u);
}

// When one of a participant's two publishing PeerConnections dies, the report names its feed,
// so the page publishes only that one again (the camera's students see no glitch when the
// screen's transport fails).
TEST_F(SfuE2eTest, DeadScreenTransportIsReportedWithItsFeed) {
  FakeBrowser screen(SocketAddress::ipv4(10, 0, 0, 1, 50003), &to_sfu_);
  ASSERT_NO_FATAL_FAILURE(connect_teacher());
  std::string offer = screen.offer("chromium_publish_offer.sdp", kPubFp, "Zq8H");
  for (const char* ssrc : {"3735928559", "2863311530", "1431655765"}) {
    replace_all(offer, std::string("a=ssrc:") + ssrc, std::string("a=ssrc:1") + (ssrc + 1));
    replace_all(offer, std::string(" ") + ssrc, std::string(" 1") + (ssrc + 1));
  }
  // The screen's browser never sends a connectivity check; the camera's keeps its consent.
  ASSERT_TRUE(sfu_.publish("room1", "teacher", "screen", offer).is_ok());
  events.clear();
  clock_.advance_ms(WebRtcTransport::kIceTimeoutMs / 2);
  teacher_.connect();
  pump();
  clock_.advance_ms(WebRtcTransport::kIceTimeoutMs / 2 + 1'000);
  sfu_.on_timer();
  std::vector<std::string> reports;
  for (const auto& ev : events) {
    if (ev[0] == 'x' || ev[0] == '!') reports.push_back(ev);
  }
  EXPECT_EQ(reports, (std::vector<std::string>{"!room1/teacher/publish/screen/ice_timeout",
                                               "xroom1/teacher/publish/screen"}));
  EXPECT_EQ(std::count(events.begin(), events.end(), "-room1/main/teacher/video"), 0);
  sfu_.on_timer();
  EXPECT_EQ(sfu_.transport_count(), 1u);  // the camera's
}

TEST_F(SfuE2eTest, BadOfferIsRejectedWithoutLeak) {
  auto r = sfu_.publish("room1", "teacher", "main", "v=0\r\nm=audio 9 RTP/AVP 0\r\n");
  EXPECT_FALSE(r.is_ok());
  EXPECT_EQ(sfu_.transport_count(), 0u);
  EXPECT_FALSE(sfu_.subscribe("room1", "s", "garbage").is_ok());
}

TEST(SfuConfig, FromEnv) {
  setenv("EDGECLASS_MEDIA_PORT", "40000", 1);
  setenv("EDGECLASS_PUBLIC_IP", "203.0.113.9", 1);
  setenv("VIDEO_QUALITY", "480p", 1);
  auto c = SfuConfig::from_env();
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->port, 40000);
  EXPECT_EQ(c->public_ip, "203.0.113.9");
  EXPECT_EQ(c->video_bitrate_cap_bps, 1'000'000u);
  setenv("EDGECLASS_MEDIA_PORT", "70000", 1);
  EXPECT_FALSE(SfuConfig::from_env().is_ok());
  setenv("EDGECLASS_MEDIA_PORT", "7882", 1);
  setenv("EDGECLASS_PUBLIC_IP", "not-an-ip", 1);
  EXPECT_FALSE(SfuConfig::from_env().is_ok());
  unsetenv("EDGECLASS_MEDIA_PORT");
  unsetenv("EDGECLASS_PUBLIC_IP");
  unsetenv("VIDEO_QUALITY");
}

}  // namespace
}  // namespace media
