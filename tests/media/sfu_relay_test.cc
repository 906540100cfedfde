// A class relayed between two replicas' SFUs, in one process: the teacher's page publishes
// simulcast on the home's Sfu, six students subscribe on the edge's Sfu, and one relay leg
// (SRTP over the "network" between the two media sockets, keyed by the edge's RelayOffer)
// brings every layer once. The edge picks each student's layer itself; its students' key
// frame requests and the leg's losses go up the leg; every student sees one continuous stream.
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <set>

#include "fake_browser.h"
#include "media/rtcp/rtcp_packet.h"
#include "media/rtp/rtp_packet.h"
#include "media/sfu/sfu.h"
#include "media_test_util.h"

namespace media {
namespace {

using media::testing::Datagram;
using media::testing::FakeBrowser;

constexpr const char* kSimulcastFp =
    "72:54:70:9E:63:C9:04:E3:70:E8:51:FA:75:B5:53:72:FA:52:38:E4:69:84:49:FA:4E:FE:97:2C:5C:E9:"
    "4E:A4";
constexpr const char* kSubscribeFp =
    "11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:"
    "FF:00";
constexpr int kStudents = 6;
const char* const kRids[3] = {"q", "h", "f"};

// A VP8 packet of one simulcast layer: the RID header extension (id 10 in
// chromium_simulcast_offer.sdp), a descriptor with a 15-bit picture id, then `pad` bytes so
// that the layers' rates differ (layer L: about 100 * (L + 1) bytes a frame).
std::vector<uint8_t> layer_packet(uint32_t ssrc, uint16_t seq, uint32_t ts, bool key, uint16_t pid,
                                  const std::string& rid, size_t pad) {
  std::vector<uint8_t> p = {0x90, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  set_u16(&p[2], seq);
  set_u32(&p[4], ts);
  set_u32(&p[8], ssrc);
  std::vector<uint8_t> ext = {uint8_t(10 << 4 | (rid.size() - 1))};
  ext.insert(ext.end(), rid.begin(), rid.end());
  while (ext.size() % 4) ext.push_back(0);
  p.push_back(0xBE), p.push_back(0xDE);
  put_u16(p, uint16_t(ext.size() / 4));
  p.insert(p.end(), ext.begin(), ext.end());
  std::vector<uint8_t> vp8 = {
      0x90, 0x80, uint8_t(0x80 | (pid >> 8 & 0x7F)), uint8_t(pid), uint8_t(key ? 0 : 1), 0x9d,
      0x01, 0x2a};
  p.insert(p.end(), vp8.begin(), vp8.end());
  p.insert(p.end(), pad, 0x55);
  return p;
}

uint16_t picture_id_of(const RtpPacket& p) {
  auto pl = p.payload();
  return uint16_t((pl[2] & 0x7F) << 8 | pl[3]);
}

// One replica's media socket on the test's wire.
struct Wire : Sfu::PacketSender {
  Wire(SocketAddress a, std::deque<Datagram>* q) : self(a), queue(q) {}
  void send_udp(ByteSpan d, const SocketAddress& to) override {
    queue->push_back({self, to, {d.begin(), d.end()}});
  }
  SocketAddress self;
  std::deque<Datagram>* queue;
};

SfuConfig replica_config(const std::string& ip) {
  SfuConfig c;
  c.public_ip = ip;
  c.port = 7882;
  c.subscribe_feeds = {"main", "stage"};
  return c;
}

class SfuRelayTest : public ::testing::Test, public Sfu::Listener {
 protected:
  SfuRelayTest()
      : home_addr_(SocketAddress::ipv4(10, 0, 1, 1, 7882)),
        edge_addr_(SocketAddress::ipv4(10, 0, 2, 1, 7882)),
        home_wire_(home_addr_, &net_),
        edge_wire_(edge_addr_, &net_),
        home_random_(21),
        edge_random_(22),
        home_(replica_config("10.0.1.1"), this, &home_wire_, &clock_, &home_random_,
              *DtlsCertificate::generate()),
        edge_(replica_config("10.0.2.1"), this, &edge_wire_, &clock_, &edge_random_,
              *DtlsCertificate::generate()),
        teacher_(SocketAddress::ipv4(10, 0, 9, 1, 40000), &to_home_) {
    edge_.set_relay_requester([this](const std::string& home, uint64_t id, const RelayOffer& o) {
      EXPECT_EQ(home, "home-a");
      asked_.push_back({id, o});
    });
    for (int i = 0; i < kStudents; ++i) {
      students_.push_back(std::make_unique<FakeBrowser>(
          SocketAddress::ipv4(10, 0, 3, uint8_t(i + 1), uint16_t(50000 + i)), &to_edge_));
    }
  }

  void OnSfuTrackAdded(const std::string&, const std::string&, const std::string&,
                       MediaKind) override {}
  void OnSfuTrackRemoved(const std::string&, const std::string&, const std::string&,
                         MediaKind) override {}
  void OnSfuParticipantDisconnected(const std::string&, const std::string&, bool,
                                    const std::string&, std::string_view) override {}

  // What the replicas' HTTP does: the offer goes to the home, its answer back to the edge.
  void serve_offers() {
    while (served_ < asked_.size()) {
      auto [id, offer] = asked_[served_++];
      offer.edge = "edge-b";
      edge_.relay_answered(offer.room_id, id, home_.relay_serve(offer));
    }
  }

  void pump() {
    for (int i = 0; i < 10000 && (!to_home_.empty() || !to_edge_.empty() || !net_.empty()); ++i) {
      while (!to_home_.empty()) {
        Datagram d = std::move(to_home_.front());
        to_home_.pop_front();
        home_.on_udp_packet(d.bytes, d.from, clock_.now_mono_ns());
      }
      while (!to_edge_.empty()) {
        Datagram d = std::move(to_edge_.front());
        to_edge_.pop_front();
        edge_.on_udp_packet(d.bytes, d.from, clock_.now_mono_ns());
      }
      while (!net_.empty()) {
        Datagram d = std::move(net_.front());
        net_.pop_front();
        if (drop_ && drop_(d)) continue;
        if (d.to == home_addr_) {
          home_.on_udp_packet(d.bytes, d.from, clock_.now_mono_ns());
        } else if (d.to == edge_addr_) {
          if (d.from == home_addr_ && looks_like_rtp(d.bytes)) ++relayed_datagrams_;
          edge_.on_udp_packet(d.bytes, d.from, clock_.now_mono_ns());
        } else if (d.to == teacher_.addr()) {
          teacher_.receive(std::move(d.bytes));
        } else if (publisher_ && d.to == publisher_->addr()) {
          publisher_->receive(std::move(d.bytes));
        } else {
          for (auto& s : students_) {
            if (d.to == s->addr()) s->receive(std::move(d.bytes));
          }
        }
      }
    }
    serve_offers();
  }

  void tick_timers() {
    home_.on_timer();
    edge_.on_timer();
    pump();
  }

  // Connects the teacher (simulcast, on the home) and the students (on the edge).
  void join_everyone() {
    auto pub = home_.publish("room1", "teacher", "main",
                             teacher_.offer("chromium_simulcast_offer.sdp", kSimulcastFp, "jRDl"));
    ASSERT_TRUE(pub.is_ok()) << pub.status().to_string();
    teacher_.set_answer(*pub);
    teacher_.connect();
    pump();
    ASSERT_TRUE(teacher_.connected());
    for (int i = 0; i < kStudents; ++i) {
      FakeBrowser& s = *students_[size_t(i)];
      std::string offer = s.offer("chromium_subscribe_offer.sdp", kSubscribeFp, "pT3c");
      if (with_stage_) offer = with_stage_sections(offer);
      auto sub = edge_.subscribe_relayed("room1", "s" + std::to_string(i), "home-a", offer);
      ASSERT_TRUE(sub.is_ok()) << sub.status().to_string();
      s.set_answer(*sub);
      s.connect();
      pump();
      ASSERT_TRUE(s.connected()) << "student " << i;
    }
  }

  // One frame on each layer; a layer whose key frame was asked for (PLI) sends one.
  void send_frame() {
    FakeBrowser& teacher = publisher_ ? *publisher_ : teacher_;
    for (const auto& compound : teacher.rtcp) {
      auto parsed = rtcp::parse_compound(compound);
      if (!parsed.is_ok()) continue;
      for (const auto& p : *parsed) {
        if (auto* pli = std::get_if<rtcp::Pli>(&p)) key_wanted_.insert(pli->media_ssrc);
      }
    }
    teacher.rtcp.clear();
    ts_ += 3000;
    for (int l = 0; l < 3; ++l) {
      uint32_t ssrc = ssrc_base_ + uint32_t(l);
      bool key = frames_ == 0 || key_wanted_.erase(ssrc) > 0;
      teacher.send_rtp(layer_packet(ssrc, uint16_t(700 * l + frames_), ts_, key,
                                    uint16_t(1000 * l + frames_), kRids[l], 100 * size_t(l + 1)));
      ++teacher_packets_;
    }
    ++frames_;
    pump();
  }

  // Runs `ms` of class at 30 frames a second, timers every 100 ms.
  void run_ms(int ms, const std::function<void()>& every_second = nullptr) {
    for (int t = 0; t < ms; t += 33) {
      send_frame();
      clock_.advance_ms(33);
      if ((t / 33) % 3 == 2) tick_timers();
      if (every_second && (t / 33) % 30 == 29) every_second();
    }
  }

  // The relay SSRC the home sends layer `layer` of main's video on, from the edge's offer.
  uint32_t relay_ssrc(size_t offer, int layer) const {
    for (const RelayStream& s : asked_.at(offer).second.streams) {
      if (s.feed == "main" && s.kind == MediaKind::kVideo && s.layer == layer) return s.ssrc;
    }
    return 0;
  }

  // The student's video packets in sequence order, checked for one SSRC, no hole and picture
  // ids that go up by one a frame (one packet per frame here). Returns them.
  std::vector<RtpPacket> continuous_video(int i, std::string* why) {
    FakeBrowser& s = *students_[size_t(i)];
    uint32_t ssrc = s.answer().media[1].ssrcs.at(0);
    std::map<uint32_t, RtpPacket> by_seq;  // unwrapped
    std::set<uint32_t> ssrcs;
    for (auto& bytes : s.rtp) {
      auto p = RtpPacket::parse(bytes);
      if (!p.is_ok() || p->payload_type() != 96) continue;
      ssrcs.insert(p->ssrc());
      by_seq.emplace(p->sequence_number(), *p);
    }
    std::vector<RtpPacket> out;
    if (ssrcs != std::set<uint32_t>{ssrc}) {
      *why = "student " + std::to_string(i) + ": " + std::to_string(ssrcs.size()) + " SSRCs";
      return out;
    }
    for (auto& [seq, p] : by_seq) {
      if (!out.empty()) {
        uint16_t prev_seq = out.back().sequence_number();
        if (uint16_t(prev_seq + 1) != p.sequence_number()) {
          *why = "student " + std::to_string(i) + ": hole after seq " + std::to_string(prev_seq) +
                 " (next " + std::to_string(p.sequence_number()) + ")";
          return out;
        }
        uint16_t prev_pid = picture_id_of(out.back());
        if (uint16_t((prev_pid + 1) & 0x7FFF) != picture_id_of(p)) {
          *why = "student " + std::to_string(i) + ": picture id " + std::to_string(prev_pid) +
                 " then " + std::to_string(picture_id_of(p)) + " at seq " +
                 std::to_string(p.sequence_number());
          return out;
        }
      }
      out.push_back(p);
    }
    return out;
  }

  // The subscribe offer with a second audio and video section (mids 3 and 4): feed "stage",
  // media sections 3 and 4 of the answer.
  static std::string with_stage_sections(std::string sdp) {
    size_t audio = sdp.find("m=audio"), app = sdp.find("m=application");
    std::string av = sdp.substr(audio, app - audio);
    for (auto [from, to] : {std::pair{"a=mid:0", "a=mid:3"}, std::pair{"a=mid:1", "a=mid:4"}}) {
      av.replace(av.find(from), 7, to);
    }
    sdp.replace(sdp.find("a=group:BUNDLE 0 1 2"), 20, "a=group:BUNDLE 0 1 2 3 4");
    return sdp + av;
  }

  base::FakeClock clock_;
  bool with_stage_ = false;  // join_everyone: students watch "stage" too
  SocketAddress home_addr_, edge_addr_;
  std::deque<Datagram> net_, to_home_, to_edge_;
  Wire home_wire_, edge_wire_;
  base::SeededRandom home_random_, edge_random_;
  Sfu home_, edge_;
  FakeBrowser teacher_;
  std::vector<std::unique_ptr<FakeBrowser>> students_;
  std::vector<std::pair<uint64_t, RelayOffer>> asked_;
  size_t served_ = 0;
  std::function<bool(const Datagram&)> drop_;
  std::set<uint32_t> key_wanted_;
  std::unique_ptr<FakeBrowser> publisher_;  // the teacher's page after a reload, when set
  uint32_t ssrc_base_ = 5000;
  uint32_t ts_ = 0;
  int frames_ = 0;
  uint64_t teacher_packets_ = 0;
  uint64_t relayed_datagrams_ = 0;
};

TEST_F(SfuRelayTest, OneLegServesEveryStudentOnTheEdgeWithItsOwnLayer) {
  join_everyone();
  // Six students, one leg: asked for once, when the first subscribed.
  ASSERT_EQ(asked_.size(), 1u);
  EXPECT_EQ(asked_[0].second.streams.size(), 2u * (1 + kRelayVideoLayers));  // main, stage
  EXPECT_EQ(home_.relay_counters().legs_out, 1u);
  EXPECT_EQ(edge_.relay_counters().legs_in, 1u);
  EXPECT_EQ(home_.subscriber_count("room1"), 0u);  // a leg is not a subscriber
  EXPECT_EQ(edge_.subscriber_count("room1"), size_t(kStudents));

  // Student 0 is on a thin link (its browser estimates 35 kbit/s, and no more than it gets): only
  // the lowest layer (about 29 kbit/s) fits; the others have no estimate yet and may take the top
  // one.
  FakeBrowser& thin = *students_[0];
  uint32_t thin_ssrc = thin.answer().media[1].ssrcs.at(0);
  auto remb = [&] { thin.send_rtcp(rtcp::serialize({rtcp::Remb{1, 35'000, {thin_ssrc}}})); };
  remb();
  run_ms(4000, remb);
  // The leg loses one packet of the lowest and one of the top layer on the way to the edge:
  // the edge NACKs them up the leg and the home resends them from its cache.
  const uint32_t low = relay_ssrc(0, 0), top = relay_ssrc(0, 2);
  ASSERT_NE(low, 0u);
  std::set<uint32_t> to_lose = {low, top};
  drop_ = [&](const Datagram& d) {
    if (d.from != home_addr_ || !looks_like_rtp(d.bytes) || d.bytes.size() < 12) return false;
    return to_lose.erase(get_u32(d.bytes.data() + 8)) > 0;
  };
  run_ms(4000, remb);
  EXPECT_TRUE(to_lose.empty());

  // Every layer crossed once, however many students: the home sent what the teacher sent
  // (less what came before the first key frames, plus the two resends), not six times that.
  auto hr = home_.relay_counters();
  auto er = edge_.relay_counters();
  EXPECT_LE(hr.packets_out, teacher_packets_ + 2) << "teacher sent " << teacher_packets_;
  EXPECT_GE(hr.packets_out, teacher_packets_ * 9 / 10) << "teacher sent " << teacher_packets_;
  EXPECT_EQ(er.packets_in, hr.packets_out - 2);                       // two were lost on the way...
  EXPECT_GE(home_.room_counters("room1")->retransmissions_sent, 2u);  // ...and resent
  EXPECT_GE(edge_.room_counters("room1")->nacks_sent, 2u);
  EXPECT_EQ(er.srtp_failures, 0u);
  EXPECT_EQ(hr.srtp_failures, 0u);
  // The home never switches a leg's layers; the edge switched its students'.
  EXPECT_EQ(home_.room_counters("room1")->layer_switches, 0u);
  EXPECT_GE(edge_.room_counters("room1")->layer_switches, uint64_t(kStudents - 1));
  // Key frames for the switches were asked up the leg and reached the teacher.
  EXPECT_GE(home_.room_counters("room1")->keyframe_requests_received, 1u);

  for (int i = 0; i < kStudents; ++i) {
    std::string why;
    std::vector<RtpPacket> got = continuous_video(i, &why);
    ASSERT_TRUE(why.empty()) << why;
    ASSERT_GE(got.size(), 180u) << "student " << i;
    // The layer it ends on, by packet size: the thin student the lowest, the others the top.
    size_t last = got.back().payload().size();
    if (i == 0) {
      EXPECT_LT(last, 150u) << "the thin student left the lowest layer";
    } else {
      EXPECT_GT(last, 250u) << "student " << i << " is not on the top layer";
    }
  }

  // The last student leaves: the edge says goodbye on the leg and the home drops it at once.
  for (int i = 0; i < kStudents; ++i) edge_.leave("room1", "s" + std::to_string(i));
  pump();
  EXPECT_EQ(edge_.relay_counters().legs_in, 0u);
  EXPECT_EQ(home_.relay_counters().legs_out, 0u);
  EXPECT_EQ(edge_.room_count(), 0u);
  EXPECT_EQ(home_.room_count(), 1u);  // the teacher's
}

TEST_F(SfuRelayTest, ASilentHomeIsAskedAgainAndTheStudentsStreamContinues) {
  join_everyone();
  run_ms(2000);
  ASSERT_EQ(asked_.size(), 1u);
  // The home replica vanishes (restarted: its legs are gone) and the network drops what it
  // still sends; the edge hears nothing, not even the keep-alive, and asks again.
  drop_ = [&](const Datagram& d) { return d.from == home_addr_; };
  RelayOffer first = asked_[0].second;
  run_ms(int(kRelaySilentNs / 1'000'000) + 1000);
  ASSERT_EQ(asked_.size(), 2u) << "the edge did not ask for a new leg";
  EXPECT_NE(asked_[1].second.up_key, first.up_key);  // fresh keys
  drop_ = nullptr;
  run_ms(2000);
  EXPECT_EQ(edge_.relay_counters().legs_in, 1u);
  // The home still held the first leg (the edge's keep-alives kept reaching it): the same
  // edge's new offer replaced it.
  EXPECT_EQ(home_.relay_counters().legs_out, 1u);
  // Every student's stream went on after the gap: same SSRC, sequence numbers without a
  // jump, picture ids one apart (it resumed at a key frame the edge asked for).
  for (int i = 0; i < kStudents; ++i) {
    std::string why;
    std::vector<RtpPacket> got = continuous_video(i, &why);
    EXPECT_TRUE(why.empty()) << why;
    EXPECT_GE(got.size(), 60u) << "student " << i;
  }
}

TEST_F(SfuRelayTest, ATeacherWhoPublishesAgainReachesTheEdgeOverTheSameLeg) {
  join_everyone();
  run_ms(2500);
  // The teacher reloads: a new PeerConnection with new SSRCs replaces the old one in "main".
  publisher_ = std::make_unique<FakeBrowser>(SocketAddress::ipv4(10, 0, 9, 2, 40001), &to_home_);
  auto pub = home_.publish("room1", "teacher", "main",
                           publisher_->offer("chromium_simulcast_offer.sdp", kSimulcastFp, "jRDl"));
  ASSERT_TRUE(pub.is_ok()) << pub.status().to_string();
  publisher_->set_answer(*pub);
  publisher_->connect();
  pump();
  ASSERT_TRUE(publisher_->connected());
  ssrc_base_ = 6000;
  frames_ = 0;  // its first frame is a key frame on every layer
  ts_ += 900000;
  run_ms(3000);
  // The leg did not change: the home's pinned consumers belong to the feed, not the
  // publisher, and carried on with the new one.
  EXPECT_EQ(asked_.size(), 1u);
  EXPECT_EQ(home_.relay_counters().legs_out, 1u);
  EXPECT_EQ(edge_.relay_counters().legs_in, 1u);
  for (int i = 0; i < kStudents; ++i) {
    std::string why;
    std::vector<RtpPacket> got = continuous_video(i, &why);
    EXPECT_TRUE(why.empty()) << why;
    EXPECT_GE(got.size(), 120u) << "student " << i;  // before and after the reload
  }
}

// Packets on the student's stream of media section `m` (1: main video, 4: stage video).
size_t packets_on(FakeBrowser& s, size_t m) {
  uint32_t ssrc = s.answer().media[m].ssrcs.at(0);
  size_t n = 0;
  for (auto& bytes : s.rtp) {
    auto p = RtpPacket::parse(bytes);
    if (p.is_ok() && p->ssrc() == ssrc) ++n;
  }
  return n;
}

TEST_F(SfuRelayTest, AStudentOnStageOnTheEdgeDoesNotGetItsOwnStreamBack) {
  with_stage_ = true;
  join_everyone();
  run_ms(1000);
  // Student s0, whose socket is on the edge, takes the stage: its page publishes on the home
  // (which decides who may publish). The home tells the edge over the leg who publishes the
  // feed, so the edge's Room leaves s0 out of the stage stream, as the home's would.
  auto stage_of = [&](const std::string& who, uint16_t port) {
    publisher_ = std::make_unique<FakeBrowser>(SocketAddress::ipv4(10, 0, 9, 3, port), &to_home_);
    // Its own audio SSRC (the fixture's is the teacher's).
    std::string sdp = publisher_->offer("chromium_simulcast_offer.sdp", kSimulcastFp, "jRDl");
    for (size_t at; (at = sdp.find("1874741960")) != std::string::npos;) {
      sdp.replace(at, 10, std::to_string(1874740000 + port));
    }
    auto pub = home_.publish("room1", who, "stage", sdp);
    ASSERT_TRUE(pub.is_ok()) << pub.status().to_string();
    publisher_->set_answer(*pub);
    publisher_->connect();
    pump();
    ASSERT_TRUE(publisher_->connected());
    ssrc_base_ += 1000;
    frames_ = 0;
    ts_ += 900000;
  };
  stage_of("s0", 40002);
  std::vector<size_t> before;
  for (auto& st : students_) before.push_back(packets_on(*st, 4));
  run_ms(2000);
  EXPECT_EQ(packets_on(*students_[0], 4), before[0]) << "s0 got its own stage stream back";
  for (int i = 1; i < kStudents; ++i) {
    EXPECT_GE(packets_on(*students_[size_t(i)], 4), before[size_t(i)] + 30) << "student " << i;
  }
  // The stage passes to s1: now s0 watches it and s1 does not get its own.
  stage_of("s1", 40003);
  before.clear();
  for (auto& st : students_) before.push_back(packets_on(*st, 4));
  run_ms(2000);
  EXPECT_GE(packets_on(*students_[0], 4), before[0] + 30) << "s0 no longer sees the stage";
  EXPECT_EQ(packets_on(*students_[1], 4), before[1]) << "s1 got its own stage stream back";
  EXPECT_GE(packets_on(*students_[2], 4), before[2] + 30);
  EXPECT_EQ(edge_.relay_counters().srtp_failures, 0u);
}

TEST(RelayWireTest, OwnersRoundTripInACompoundAndMalformedOnesAreIgnored) {
  RelayOwners owners = {{"main", "u_teacher"}, {"stage", "u_student_7"}, {"screen", ""}};
  std::vector<uint8_t> app = relay_owners_packet(0x11223344, owners);
  ASSERT_EQ(app.size() % 4, 0u);
  EXPECT_EQ(app[1], 204);
  // After an RR, as the home sends it.
  std::vector<uint8_t> compound = {0x80, 201, 0, 1, 0x11, 0x22, 0x33, 0x44};
  compound.insert(compound.end(), app.begin(), app.end());
  auto got = parse_relay_owners(compound);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, owners);
  EXPECT_TRUE(rtcp::parse_compound(compound).is_ok());  // still a valid compound for the Room
  // Nobody publishes: an empty list, not "no news".
  auto none = parse_relay_owners(relay_owners_packet(1, {}));
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());
  // No ECOW packet, a name that overruns the packet, a length past the datagram.
  EXPECT_FALSE(parse_relay_owners(std::vector<uint8_t>(compound.begin(), compound.begin() + 8)));
  std::vector<uint8_t> bad = app;
  bad[12] = 200;  // the first feed's length
  EXPECT_FALSE(parse_relay_owners(bad));
  bad = app;
  bad[3] = uint8_t(bad[3] + 1);
  EXPECT_FALSE(parse_relay_owners(bad));
  // Routing: RTP by its SSRC, RTCP by the sender SSRC; garbage not at all.
  std::vector<uint8_t> rtp = layer_packet(0xABCDEF01, 1, 2, true, 3, "q", 0);
  ASSERT_TRUE(relay_route(rtp));
  EXPECT_EQ(relay_route(rtp)->ssrc, 0xABCDEF01u);
  EXPECT_FALSE(relay_route(rtp)->rtcp);
  EXPECT_EQ(relay_route(compound)->ssrc, 0x11223344u);
  EXPECT_TRUE(relay_route(compound)->rtcp);
  EXPECT_FALSE(relay_route(std::vector<uint8_t>{0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_FALSE(relay_route(std::vector<uint8_t>(12, 0)));
}

TEST_F(SfuRelayTest, TheHomeRefusesMalformedOffersAndDuplicateSsrcs) {
  RelayOffer o;
  o.room_id = "room1";
  o.edge = "edge-b";
  o.edge_address = SocketAddress::ipv4(10, 0, 2, 1, 7882);
  o.up_key.assign(28, 1);
  o.down_key.assign(28, 2);
  o.up_ssrc = 77;
  o.streams = {{"main", MediaKind::kVideo, 0, 1234}};
  EXPECT_TRUE(home_.relay_serve(o).is_ok());
  RelayOffer bad = o;
  bad.down_key.resize(16);
  EXPECT_EQ(home_.relay_serve(bad).status().reason(), "bad_relay_offer");
  bad = o;
  bad.streams[0].layer = kRelayVideoLayers;
  EXPECT_FALSE(home_.relay_serve(bad).is_ok());
  bad = o;
  bad.edge = "edge-c";  // another edge with the same up SSRC
  EXPECT_FALSE(home_.relay_serve(bad).is_ok());
  EXPECT_EQ(home_.relay_counters().legs_out, 1u);
  // The same edge asking again replaces its leg.
  EXPECT_TRUE(home_.relay_serve(o).is_ok());
  EXPECT_EQ(home_.relay_counters().legs_out, 1u);
}

}  // namespace
}  // namespace media
