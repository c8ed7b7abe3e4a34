#include <gtest/gtest.h>

#include "veter/relay/h264_scan.hpp"
#include "veter/relay/packet_filter.hpp"
#include "veter/relay/rtcp_packets.hpp"

using namespace veter::relay;

TEST(H264Scan, FindsParameterSetsAndIdr) {
  const std::vector<std::uint8_t> idr_au = {0, 0, 0, 1, 0x67, 0x42, 0, 0x1f, 0, 0, 0, 1, 0x68, 0xce,
                                            0, 0, 1,    0x06, 5,    1, 0,    0, 0, 1, 0x65, 0x88, 0x84};
  auto info = scan_access_unit(idr_au);
  EXPECT_TRUE(info.sps);
  EXPECT_TRUE(info.pps);
  EXPECT_TRUE(info.idr);
  EXPECT_EQ(info.nal_units, 4);
  const std::vector<std::uint8_t> p_au = {0, 0, 0, 1, 0x41, 0x9a, 0x00, 0x00, 0x03, 0x01};
  info = scan_access_unit(p_au);
  EXPECT_FALSE(info.sps || info.pps || info.idr);
  EXPECT_EQ(info.nal_units, 1);
  EXPECT_EQ(scan_access_unit({}).nal_units, 0);
  const std::vector<std::uint8_t> cut = {0, 0, 1};
  EXPECT_EQ(scan_access_unit(cut).nal_units, 0);
}

TEST(H264Scan, ExtractsParameterSets) {
  const std::vector<std::uint8_t> au = {0, 0, 0, 1, 0x09, 0xF0,                 // AUD
                                        0, 0, 0, 1, 0x67, 0x42, 0, 0x1f,         // SPS
                                        0, 0, 1,    0x68, 0xce, 0x3c, 0x80,      // PPS (3-byte start code)
                                        0, 0, 0, 1, 0x65, 0x88, 0x84, 0, 0, 3};  // IDR slice
  const std::vector<std::uint8_t> want = {0, 0, 0, 1, 0x67, 0x42, 0, 0x1f, 0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80};
  EXPECT_EQ(extract_parameter_sets(au), want);
  const std::vector<std::uint8_t> p = {0, 0, 0, 1, 0x41, 0x9a};
  EXPECT_TRUE(extract_parameter_sets(p).empty());
}

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
