#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "media/sdp/session_description.h"
#include "media_test_util.h"

namespace media::sdp {
namespace {

using media::testing::read_fixture;

AnswerOptions options() {
  AnswerOptions o;
  o.ice_ufrag = "srvU";
  o.ice_pwd = "serverpassword0123456789";
  o.fingerprint_sha256 = "AA:BB:CC";
  o.candidate_ip = "203.0.113.7";
  o.candidate_port = 7882;
  return o;
}

bool has_line(const std::string& sdp, const std::string& l) {
  return sdp.find(l + "\r\n") != std::string::npos;
}

TEST(Sdp, ParsesChromiumPublishOffer) {
  std::string text = read_fixture("chromium_publish_offer.sdp");
  ASSERT_FALSE(text.empty());
  auto s = parse(text);
  ASSERT_TRUE(s.is_ok()) << s.status().to_string();
  EXPECT_EQ(s->bundle_mids, (std::vector<std::string>{"0", "1"}));
  EXPECT_TRUE(s->extmap_allow_mixed);
  ASSERT_EQ(s->media.size(), 2u);
  const MediaSection& audio = s->media[0];
  EXPECT_EQ(audio.kind, "audio");
  EXPECT_EQ(audio.mid, "0");
  EXPECT_EQ(audio.ice_ufrag, "Zq8H");
  EXPECT_EQ(audio.setup, "actpass");
  EXPECT_EQ(audio.fingerprint_algorithm, "sha-256");
  EXPECT_TRUE(audio.rtcp_mux);
  const Codec* opus = audio.find_codec("opus");
  ASSERT_NE(opus, nullptr);
  EXPECT_EQ(opus->payload_type, 111);
  EXPECT_EQ(opus->clock_rate, 48000u);
  EXPECT_EQ(opus->channels, 2);
  EXPECT_EQ(opus->fmtp, "minptime=10;useinbandfec=1");
  EXPECT_EQ(audio.extmap_id(kExtMid), 4);
  EXPECT_EQ(audio.ssrcs, (std::vector<uint32_t>{3735928559u}));
  const MediaSection& video = s->media[1];
  EXPECT_EQ(video.codecs.size(), 25u);
  const Codec* vp8 = video.find_codec("vp8");
  ASSERT_NE(vp8, nullptr);
  EXPECT_EQ(vp8->rtcp_fb.size(), 5u);
  ASSERT_TRUE(video.fid);
  EXPECT_EQ(video.fid->first, 2863311530u);
  EXPECT_EQ(video.fid->second, 1431655765u);
  EXPECT_EQ(video.cname, "k9Bd2xQp0vT5Lm1R");
  EXPECT_TRUE(video.rtcp_rsize);
}

TEST(Sdp, AnswersPublisherRecvonlyWithEchoedIds) {
  auto offer = parse(read_fixture("chromium_publish_offer.sdp"));
  ASSERT_TRUE(offer.is_ok());
  auto a = build_answer(*offer, options());
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  const std::string& sdp = a->sdp;
  EXPECT_TRUE(has_line(sdp, "a=ice-lite"));
  EXPECT_TRUE(has_line(sdp, "a=group:BUNDLE 0 1"));
  EXPECT_TRUE(has_line(sdp, "m=audio 7882 UDP/TLS/RTP/SAVPF 111"));
  EXPECT_TRUE(has_line(sdp, "m=video 7882 UDP/TLS/RTP/SAVPF 96"));
  EXPECT_TRUE(has_line(sdp, "a=setup:passive"));
  EXPECT_TRUE(has_line(sdp, "a=fingerprint:sha-256 AA:BB:CC"));
  EXPECT_TRUE(has_line(sdp, "a=ice-ufrag:srvU"));
  EXPECT_TRUE(has_line(sdp, "a=recvonly"));
  EXPECT_TRUE(has_line(sdp, "a=rtcp-mux"));
  EXPECT_TRUE(has_line(sdp, "a=rtpmap:111 opus/48000/2"));
  EXPECT_TRUE(has_line(sdp, "a=fmtp:111 minptime=10;useinbandfec=1"));
  EXPECT_TRUE(has_line(sdp, "a=rtpmap:96 VP8/90000"));
  EXPECT_TRUE(has_line(sdp, "a=rtcp-fb:96 nack pli"));
  EXPECT_TRUE(has_line(sdp, "a=rtcp-fb:96 goog-remb"));
  EXPECT_FALSE(has_line(sdp, "a=rtcp-fb:96 transport-cc"));
  EXPECT_TRUE(has_line(sdp, "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid"));
  EXPECT_TRUE(
      has_line(sdp, "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"));
  EXPECT_TRUE(has_line(sdp, "a=candidate:1 1 udp 2130706431 203.0.113.7 7882 typ host"));
  EXPECT_EQ(sdp.find("rtx"), std::string::npos);
  ASSERT_EQ(a->media.size(), 2u);
  EXPECT_TRUE(a->media[1].accepted);
  EXPECT_EQ(a->media[1].codec.payload_type, 96);
  EXPECT_EQ(a->media[1].ext_mid, 4);
  EXPECT_EQ(a->media[1].remote_ssrcs, (std::vector<uint32_t>{2863311530u}));
  EXPECT_EQ(a->remote_ufrag, "Zq8H");
  EXPECT_EQ(a->remote_fingerprint.substr(0, 5), "4A:AD");
  // The answer is itself valid SDP that this parser reads back.
  auto back = parse(sdp);
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(back->media[0].setup, "passive");
  EXPECT_EQ(back->media[1].direction, Direction::kRecvOnly);
}

TEST(Sdp, AnswersSubscriberSendonlyAndRejectsDataChannel) {
  auto offer = parse(read_fixture("chromium_subscribe_offer.sdp"));
  ASSERT_TRUE(offer.is_ok()) << offer.status().to_string();
  AnswerOptions o = options();
  o.media = {{1111, "class teacher-audio"}, {2222, "class teacher-video"}};
  auto a = build_answer(*offer, o);
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  const std::string& sdp = a->sdp;
  EXPECT_TRUE(has_line(sdp, "a=group:BUNDLE 0 1"));
  EXPECT_TRUE(has_line(sdp, "a=sendonly"));
  EXPECT_TRUE(has_line(sdp, "a=ssrc:2222 cname:edgeclass"));
  EXPECT_TRUE(has_line(sdp, "a=msid:class teacher-video"));
  EXPECT_TRUE(has_line(sdp, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel"));
  EXPECT_FALSE(a->media[2].accepted);
  EXPECT_EQ(a->media[1].our_direction, Direction::kSendOnly);
}

// Chromium's publish offer as it reads with three sendEncodings (rid q, h, f): no a=ssrc for
// the video, a=rid send lines and a=simulcast:send (a paused layer marked with ~).
std::string simulcast_offer() {
  std::string text = read_fixture("chromium_publish_offer.sdp");
  std::string out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    if (l.rfind("a=ssrc-group:FID", 0) == 0 || l.rfind("a=ssrc:2863311530", 0) == 0 ||
        l.rfind("a=ssrc:1431655765", 0) == 0) {
      continue;
    }
    out += l + "\r\n";
    if (l == "a=rtcp-rsize" && out.find("m=video") != std::string::npos &&
        out.find("a=rid:") == std::string::npos) {
      out += "a=rid:q send\r\na=rid:h send\r\na=rid:f send\r\na=simulcast:send q;h;~f\r\n";
    }
  }
  return out;
}

TEST(Sdp, AnswersRidSimulcastWithTheSameLayers) {
  auto offer = parse(simulcast_offer());
  ASSERT_TRUE(offer.is_ok()) << offer.status().to_string();
  EXPECT_EQ(offer->media[1].rids_send, (std::vector<std::string>{"q", "h", "f"}));
  EXPECT_EQ(offer->media[1].simulcast_send, (std::vector<std::string>{"q", "h", "f"}));
  auto a = build_answer(*offer, options());
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  const NegotiatedMedia& v = a->media[1];
  EXPECT_EQ(v.rids, (std::vector<std::string>{"q", "h", "f"}));
  EXPECT_TRUE(v.remote_ssrcs.empty());
  EXPECT_EQ(v.ext_rid, 10);
  EXPECT_TRUE(has_line(a->sdp, "a=rid:q recv"));
  EXPECT_TRUE(has_line(a->sdp, "a=rid:f recv"));
  EXPECT_TRUE(has_line(a->sdp, "a=simulcast:recv q;h;f"));
  EXPECT_TRUE(has_line(a->sdp, "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"));
  // Not without the RID extension (the layers could not be told apart).
  std::string no_ext = simulcast_offer();
  no_ext.erase(no_ext.find("a=extmap:10 "),
               no_ext.find("a=extmap:11 ") - no_ext.find("a=extmap:10 "));
  auto a2 = build_answer(*parse(no_ext), options());
  ASSERT_TRUE(a2.is_ok());
  EXPECT_TRUE(a2->media[1].rids.empty());
  EXPECT_FALSE(has_line(a2->sdp, "a=simulcast:recv q;h;f"));
  // A malformed a=rid fails the parse.
  std::string bad = simulcast_offer();
  bad.replace(bad.find("a=rid:q send"), 12, "a=rid:q sideways");
  EXPECT_FALSE(parse(bad).is_ok());
}

// The teacher's page's offer as Chromium 156 wrote it (tests/e2e/live_network.mjs saves it):
// three sendEncodings, no a=ssrc for the video.
TEST(Sdp, AnswersChromiumsOwnSimulcastOffer) {
  auto offer = parse(read_fixture("chromium_simulcast_offer.sdp"));
  ASSERT_TRUE(offer.is_ok()) << offer.status().to_string();
  EXPECT_TRUE(offer->media[1].ssrcs.empty());
  auto a = build_answer(*offer, options());
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  EXPECT_EQ(a->media[1].rids, (std::vector<std::string>{"q", "h", "f"}));
  EXPECT_EQ(a->media[1].ext_rid, 10);
  EXPECT_EQ(a->media[1].codec.name, "VP8");
  EXPECT_TRUE(has_line(a->sdp, "a=simulcast:recv q;h;f"));
  EXPECT_FALSE(a->media[0].remote_ssrcs.empty());  // the audio still names its SSRC
}

TEST(Sdp, SubscriberVideoGetsRtxWhenOffered) {
  auto offer = parse(read_fixture("chromium_subscribe_offer.sdp"));
  ASSERT_TRUE(offer.is_ok());
  AnswerOptions o = options();
  o.media = {{1111, "class teacher-audio"}, {2222, "class teacher-video", 3333}};
  auto a = build_answer(*offer, o);
  ASSERT_TRUE(a.is_ok());
  uint8_t rtx = a->media[1].rtx_payload_type;
  ASSERT_NE(rtx, 0);
  uint8_t vp8 = a->media[1].codec.payload_type;
  EXPECT_TRUE(has_line(a->sdp, "a=rtpmap:" + std::to_string(rtx) + " rtx/90000"));
  EXPECT_TRUE(has_line(a->sdp, "a=fmtp:" + std::to_string(rtx) + " apt=" + std::to_string(vp8)));
  EXPECT_TRUE(has_line(a->sdp, "a=ssrc-group:FID 2222 3333"));
  EXPECT_TRUE(has_line(a->sdp, "a=ssrc:3333 cname:edgeclass"));
  // What the answer says is what Chromium reads back: FID pairs the two SSRCs.
  auto back = parse(a->sdp);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(back->media[1].fid, (std::pair<uint32_t, uint32_t>{2222, 3333}));
  // Without an RTX SSRC, none.
  o.media[1].send_rtx_ssrc = 0;
  auto plain = build_answer(*offer, o);
  EXPECT_EQ(plain->media[1].rtx_payload_type, 0);
  EXPECT_EQ(plain->sdp.find("rtx/90000"), std::string::npos);
}

TEST(Sdp, AnswersFirefoxPublishOffer) {
  // Firefox differs from Chromium: session-level fingerprint, a=fmtp before a=rtpmap,
  // extmap directions ("2/recvonly"), Opus on 109 and VP8 on 120.
  auto offer = parse(read_fixture("firefox_publish_offer.sdp"));
  ASSERT_TRUE(offer.is_ok()) << offer.status().to_string();
  EXPECT_EQ(offer->media[1].fingerprint_algorithm, "sha-256");
  EXPECT_EQ(offer->media[0].extmap_id("urn:ietf:params:rtp-hdrext:csrc-audio-level"), 2);
  const Codec* opus = offer->media[0].find_codec("opus");
  ASSERT_NE(opus, nullptr);
  EXPECT_EQ(opus->fmtp, "maxplaybackrate=48000;stereo=1;useinbandfec=1");
  auto a = build_answer(*offer, options());
  ASSERT_TRUE(a.is_ok()) << a.status().to_string();
  EXPECT_TRUE(has_line(a->sdp, "m=audio 7882 UDP/TLS/RTP/SAVPF 109"));
  EXPECT_TRUE(has_line(a->sdp, "m=video 7882 UDP/TLS/RTP/SAVPF 120"));
  EXPECT_TRUE(has_line(a->sdp, "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid"));
  EXPECT_TRUE(
      has_line(a->sdp, "a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"));
  EXPECT_TRUE(has_line(a->sdp, "a=fmtp:120 max-fs=12288;max-fr=60"));
  EXPECT_EQ(a->media[1].remote_ssrcs, (std::vector<uint32_t>{1640310289u}));
  EXPECT_EQ(a->remote_fingerprint.substr(0, 5), "F2:A7");
  EXPECT_EQ(a->remote_ufrag, "7f3c2a1b");
}

TEST(Sdp, H264WhenNoVp8) {
  std::string text = read_fixture("chromium_publish_offer.sdp");
  size_t at;
  while ((at = text.find("VP8/90000")) != std::string::npos) text.replace(at, 3, "VPX");
  auto offer = parse(text);
  ASSERT_TRUE(offer.is_ok());
  auto a = build_answer(*offer, options());
  ASSERT_TRUE(a.is_ok());
  EXPECT_TRUE(has_line(a->sdp, "m=video 7882 UDP/TLS/RTP/SAVPF 102"));
  EXPECT_EQ(a->media[1].codec.name, "H264");
  AnswerOptions no264 = options();
  no264.allow_h264 = false;
  auto b = build_answer(*offer, no264);
  ASSERT_TRUE(b.is_ok());
  EXPECT_FALSE(b->media[1].accepted);
}

TEST(Sdp, RejectsOffersTheServerCannotServe) {
  std::string text = read_fixture("chromium_publish_offer.sdp");
  auto without = [&](const std::string& needle) {
    std::string t = text;
    size_t at;
    while ((at = t.find(needle)) != std::string::npos) {
      size_t end = t.find("\r\n", at);
      t.erase(at, end + 2 - at);
    }
    return t;
  };
  for (const char* line : {"a=rtcp-mux", "a=fingerprint:", "a=ice-pwd:", "a=group:BUNDLE"}) {
    auto offer = parse(without(line));
    ASSERT_TRUE(offer.is_ok()) << line;
    EXPECT_FALSE(build_answer(*offer, options()).is_ok()) << "accepted an offer without " << line;
  }
  std::string passive = text;
  size_t at;
  while ((at = passive.find("setup:actpass")) != std::string::npos)
    passive.replace(at, 13, "setup:passive");
  auto offer = parse(passive);
  ASSERT_TRUE(offer.is_ok());
  EXPECT_FALSE(build_answer(*offer, options()).is_ok());
}

TEST(Sdp, ParseErrors) {
  EXPECT_FALSE(parse("").is_ok());
  EXPECT_FALSE(parse("o=- 1 1 IN IP4 0.0.0.0\r\n").is_ok());
  EXPECT_FALSE(parse("v=0\r\nm=audio x UDP 1\r\n").is_ok());
  EXPECT_FALSE(parse("v=0\r\nm=audio 9 UDP 111\r\na=rtpmap:111 opus\r\n").is_ok());
  EXPECT_FALSE(parse("v=0\r\nm=audio 9 UDP 111\r\na=rtpmap:112 opus/48000\r\n").is_ok());
  EXPECT_FALSE(parse("v=0\r\nm=audio 9 UDP 111\r\na=extmap:0 urn:x\r\n").is_ok());
  EXPECT_FALSE(parse("v=0\r\ngarbage\r\n").is_ok());
  EXPECT_TRUE(parse("v=0\nm=audio 9 UDP 111\na=rtpmap:111 opus/48000/2\n").is_ok());
}

}  // namespace
}  // namespace media::sdp
