#include <gtest/gtest.h>

#include "veter/relay/ingest/packet_filter.hpp"
#include "veter/relay/ingest/ingest_repair.hpp"
#include "veter/relay/rtp/rtcp_packets.hpp"

using namespace veter::relay;

TEST(Rtcp, ReceiverReportIsValidCompound) {
  ReportBlock b;
  b.ssrc = 0xAABBCCDD;
  b.fraction_lost = 3;
  b.cumulative_lost = -2;
  b.ext_highest_seq = 70000;
  b.jitter = 12;
  b.lsr = 0x11112222;
  b.dlsr = 65536;
  const auto rr = build_receiver_report(0x01020304, b, "veter-relay");
  EXPECT_FALSE(check_rtcp(rr));
  ASSERT_GE(rr.size(), 32U);
  EXPECT_EQ(rr[0], 0x81);
  EXPECT_EQ(rr[1], 201);
  EXPECT_EQ(rr[3], 7);
  EXPECT_EQ(rr[8], 0xAA);
  EXPECT_EQ(rr[12], 3);
  EXPECT_EQ(rr[13], 0xFF);  // -2 in 24 bits
  EXPECT_EQ(rr[15], 0xFE);
  EXPECT_EQ(rr[32 + 1], 202);  // SDES follows
  EXPECT_EQ(rr.size() % 4, 0U);
  const auto empty = build_receiver_report(1, std::nullopt, "x");
  EXPECT_FALSE(check_rtcp(empty));
  EXPECT_EQ(empty[3], 1);
}

TEST(Rtcp, PliLayout) {
  const auto pli = build_pli(1, 0x0A0B0C0D);
  const std::vector<std::uint8_t> want = {0x81, 206, 0, 2, 0, 0, 0, 1, 0x0A, 0x0B, 0x0C, 0x0D};
  EXPECT_EQ(pli, want);
  EXPECT_TRUE(contains_keyframe_request(pli));
  auto compound = build_receiver_report(1, std::nullopt, "veter-relay");
  EXPECT_FALSE(contains_keyframe_request(compound));
  compound.insert(compound.end(), pli.begin(), pli.end());
  EXPECT_FALSE(check_rtcp(compound));
  EXPECT_TRUE(contains_keyframe_request(compound));
}

TEST(Rtcp, FindsSenderReport) {
  std::vector<std::uint8_t> sr = {0x80, 200, 0, 6, 0, 0, 0, 9,          // SR, SSRC 9
                                  0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0,  // NTP
                                  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  const auto info = find_sender_report(sr);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->ssrc, 9U);
  EXPECT_EQ(info->ntp_middle, 0x56789ABCU);
  sr.pop_back();
  EXPECT_FALSE(find_sender_report(sr));
}

TEST(Rtcp, NackPacksNeighboursIntoTheBitmaskAndSurvivesWrap) {
  const auto nack = build_nack(1, 0x0A0B0C0D, {10, 12, 11, 26, 27, 10});
  // 10 + bits for 11, 12, 26 (offset 16); 27 starts a new FCI entry.
  const std::vector<std::uint8_t> want = {0x81, 205, 0,    4, 0, 0, 0, 1, 0x0A, 0x0B, 0x0C, 0x0D,
                                          0,    10,  0x80, 0x03, 0, 27, 0, 0};
  EXPECT_EQ(nack, want);
  auto compound = build_receiver_report(1, std::nullopt, "veter-relay");
  compound.insert(compound.end(), nack.begin(), nack.end());
  EXPECT_FALSE(check_rtcp(compound));
  EXPECT_EQ(nacked_sequence_numbers(compound, 0x0A0B0C0D), (std::vector<std::uint16_t>{10, 11, 12, 26, 27}));
  EXPECT_TRUE(nacked_sequence_numbers(compound, 7).empty());
  const auto wrap = build_nack(1, 2, {1, 65535, 0});
  EXPECT_EQ(nacked_sequence_numbers(wrap, 2), (std::vector<std::uint16_t>{65535, 0, 1}));
  EXPECT_EQ(wrap.size(), 16u);  // one FCI entry
  EXPECT_TRUE(build_nack(1, 2, {}).empty());
}

TEST(Repair, AutoWindowFollowsTheRoundTripWithinBounds) {
  using namespace std::chrono_literals;
  EXPECT_EQ(auto_repair_window(std::nullopt), 150ms);  // nothing measured yet: the cap
  EXPECT_EQ(auto_repair_window(std::chrono::microseconds(0)), 60ms);
  EXPECT_EQ(auto_repair_window(std::chrono::microseconds(50'000)), 135ms);
  EXPECT_EQ(auto_repair_window(std::chrono::microseconds(150'000)), 150ms);
}
