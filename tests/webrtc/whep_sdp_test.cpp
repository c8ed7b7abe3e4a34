#include "veter/relay/webrtc/whep_sdp.hpp"

#include <gtest/gtest.h>

namespace veter::relay {
namespace {

// The shape of Chromium's recvonly video offer (trimmed to what matters).
const std::string kOffer =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 106\r\nc=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\n"
    "a=fingerprint:sha-256 AA:BB\r\na=setup:actpass\r\na=mid:0\r\na=recvonly\r\n"
    "a=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
    "a=rtpmap:102 H264/90000\r\na=fmtp:102 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f\r\n"
    "a=rtpmap:103 H264/90000\r\na=fmtp:103 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f\r\n"
    "a=rtpmap:106 H264/90000\r\na=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n";

TEST(WhepSdp, PicksPacketizationMode1ConstrainedBaseline) {
  std::string error;
  auto info = inspect_offer(kOffer, error);
  ASSERT_TRUE(info) << error;
  EXPECT_EQ(info->h264_pt, 106);
  EXPECT_EQ(info->video_mline, 0u);
  EXPECT_EQ(info->mid, "0");
  EXPECT_EQ(info->ice_ufrag, "abcd");
}

TEST(WhepSdp, RejectsOffersWithoutUsableH264) {
  std::string error;
  std::string vp8_only = kOffer.substr(0, kOffer.find("a=rtpmap:102"));
  EXPECT_FALSE(inspect_offer(vp8_only, error));
  EXPECT_NE(error.find("42e01f"), std::string::npos);
}

TEST(WhepSdp, RejectsGarbageWithAReason) {
  for (const std::string& bad : {std::string(""), std::string("hello"), std::string("v=0\r\nm=audio 9 RTP/AVP 0\r\n"),
                                std::string("v=1\r\n"), std::string("v=0\r\n\x01=x\r\n"),
                                std::string("v=0\r\nm=video 9 RTP/AVP 96\r\n")}) {
    std::string error;
    EXPECT_FALSE(inspect_offer(bad, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
  std::string error;
  std::string no_ice = kOffer;
  no_ice.erase(no_ice.find("a=ice-ufrag"), std::string("a=ice-ufrag:abcd\r\n").size());
  EXPECT_FALSE(inspect_offer(no_ice, error));
  EXPECT_NE(error.find("ice-ufrag"), std::string::npos);
  EXPECT_FALSE(inspect_offer(std::string(kMaxSdpBytes + 1, 'a'), error));
}

TEST(WhepSdp, ParsesTrickleFragments) {
  std::string error;
  auto frag = parse_trickle(
      "a=ice-ufrag:abcd\r\na=ice-pwd:xyz\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n"
      "a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0\r\n"
      "a=candidate:2 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active\r\na=end-of-candidates\r\n",
      error);
  ASSERT_TRUE(frag) << error;
  EXPECT_EQ(frag->ice_ufrag, "abcd");
  ASSERT_EQ(frag->candidates.size(), 2u);
  EXPECT_EQ(frag->candidates[0].mid, "0");
  EXPECT_EQ(frag->candidates[0].candidate.rfind("candidate:1 1 udp", 0), 0u);
  EXPECT_TRUE(frag->end_of_candidates);
}

TEST(WhepSdp, RejectsMalformedCandidates) {
  std::string error;
  EXPECT_FALSE(parse_trickle("a=candidate:1 1 udp\r\n", error));
  EXPECT_FALSE(parse_trickle("a=candidate:1 1 sctp 1 127.0.0.1 5 typ host\r\n", error));
  EXPECT_FALSE(parse_trickle("a=candidate:1 1 udp 1 127.0.0.1 99999 typ host\r\n", error));
  EXPECT_FALSE(parse_trickle("x=1\r\n", error));
}

TEST(WhepSdp, AdditionalHostsAddCandidates) {
  const std::string sdp = "v=0\r\na=candidate:1 1 UDP 2015363327 127.0.0.1 8189 typ host\r\n"
                          "a=candidate:2 1 UDP 1 5.6.7.8 8189 typ srflx raddr 0.0.0.0 rport 0\r\n";
  const auto out = add_host_candidates(sdp, {"203.0.113.7"});
  EXPECT_NE(out.find("a=candidate:1x1 1 UDP 2015363326 203.0.113.7 8189 typ host\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("5.6.7.8 8189 typ host"), std::string::npos);
  EXPECT_EQ(add_host_candidates(sdp, {}), sdp);
}

}  // namespace
}  // namespace veter::relay
