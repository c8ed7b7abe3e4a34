#include <gtest/gtest.h>

#include "veter/relay/rtp/rtp_stats.hpp"

using veter::relay::RtpStats;

namespace {
constexpr std::int64_t kMs = 1000000;  // ns
}

TEST(RtpStats, CountsLossAndReorder) {
  RtpStats s;
  std::int64_t t = 0;
  for (std::uint16_t seq : {100, 101, 102, 104, 105, 103, 106}) {
    s.on_packet(1, seq, seq * 3000U, t += 33 * kMs);
  }
  EXPECT_EQ(s.received_total(), 7U);
  EXPECT_EQ(s.lost_total(), 0U);  // 103 came late: reordered, not lost
  EXPECT_EQ(s.reordered_total(), 1U);
  s.on_packet(1, 110, 110 * 3000U, t += 33 * kMs);  // 107..109 missing
  EXPECT_EQ(s.lost_total(), 3U);
}

TEST(RtpStats, SequenceWrapAndReportBlock) {
  RtpStats s;
  std::int64_t t = 0;
  for (std::uint32_t i = 0; i < 10; ++i) {
    s.on_packet(7, static_cast<std::uint16_t>(65530 + i), i * 3000, t += 33 * kMs);
  }
  auto b = s.make_report_block();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->ssrc, 7U);
  EXPECT_EQ(b->ext_highest_seq, 65536U + 3U);
  EXPECT_EQ(b->cumulative_lost, 0);
  EXPECT_EQ(b->fraction_lost, 0);
  // Lose 1 of the next 4: fraction 64/256.
  for (std::uint16_t seq : {4, 5, 7}) {
    s.on_packet(7, seq, seq * 3000U, t += 33 * kMs);
  }
  b = s.make_report_block();
  EXPECT_EQ(b->cumulative_lost, 1);
  EXPECT_EQ(b->fraction_lost, 64);
}

TEST(RtpStats, NewSsrcStartsOverButKeepsTotals) {
  RtpStats s;
  std::int64_t t = 0;
  s.on_packet(1, 10, 0, t += kMs);
  s.on_packet(1, 12, 0, t += kMs);  // 1 lost
  s.on_packet(2, 5000, 0, t += kMs);
  s.on_packet(2, 5001, 0, t += kMs);
  EXPECT_EQ(s.lost_total(), 1U);
  EXPECT_EQ(s.received_total(), 4U);
  EXPECT_EQ(*s.ssrc(), 2U);
  EXPECT_EQ(s.make_report_block()->ext_highest_seq, 5001U);
}

TEST(RtpStats, JitterFollowsArrivalVariation) {
  RtpStats steady;
  RtpStats bumpy;
  std::int64_t t = 0;
  for (std::uint32_t i = 0; i < 200; ++i) {
    t += 33333333;
    steady.on_packet(1, static_cast<std::uint16_t>(i), i * 3000, t);
    bumpy.on_packet(1, static_cast<std::uint16_t>(i), i * 3000, t + ((i % 2) != 0U ? 10 * kMs : 0));
  }
  EXPECT_LT(steady.jitter_ms(), 0.1);
  EXPECT_GT(bumpy.jitter_ms(), 5.0);
  EXPECT_LT(bumpy.jitter_ms(), 11.0);
}
