#include "veter/probe/frame_timeline.hpp"

#include <gtest/gtest.h>

using veter::probe::FrameTimeline;

namespace {
// 30 fps: 3000 ticks of 90 kHz, 33333 µs.
void add_frames(FrameTimeline& t, int n, std::int64_t& now_us, std::uint32_t& rtp, std::size_t bytes = 1000) {
  for (int i = 0; i < n; ++i) {
    t.add(now_us, bytes, rtp);
    now_us += 33333;
    rtp += 3000;
  }
}
}  // namespace

TEST(FrameTimeline, SteadyThirtyFps) {
  FrameTimeline t;
  std::int64_t now = 1'000'000;
  std::uint32_t rtp = 0xFFFF0000U;  // wraps on the way
  add_frames(t, 301, now, rtp, 8334);
  EXPECT_EQ(t.frames(), 301U);
  EXPECT_NEAR(t.fps(), 30.0, 0.01);
  ASSERT_TRUE(t.frame_period_ms());
  EXPECT_NEAR(*t.frame_period_ms(), 33.333, 0.001);
  // 301 frames * 8334 bytes over 10 s.
  EXPECT_NEAR(t.bitrate_kbps(), 301.0 * 8334 * 8 / 1000.0 / 10.0, 0.5);
  EXPECT_EQ(t.freezes().count, 0U);
  EXPECT_NEAR(t.freezes().threshold_ms, 66.667, 0.001);
}

TEST(FrameTimeline, GapsLongerThanTwoPeriodsAreFreezes) {
  FrameTimeline t;
  std::int64_t now = 0;
  std::uint32_t rtp = 0;
  add_frames(t, 30, now, rtp);
  now += 60'000;  // a 93 ms gap: frozen
  add_frames(t, 30, now, rtp);
  now += 20'000;  // a 53 ms gap: late frame, not frozen
  add_frames(t, 30, now, rtp);
  now += 466'667;  // 500 ms
  add_frames(t, 30, now, rtp);
  const auto f = t.freezes();
  EXPECT_EQ(f.count, 2U);
  EXPECT_NEAR(f.longest_ms, 500.0, 0.01);
  EXPECT_NEAR(f.total_ms, 93.333 + 500.0, 0.01);
}

TEST(FrameTimeline, StreamThatStoppedCountsUntilTheEnd) {
  FrameTimeline t;
  std::int64_t now = 0;
  std::uint32_t rtp = 0;
  add_frames(t, 10, now, rtp);
  const std::int64_t last = now - 33333;
  EXPECT_EQ(t.freezes(last + 1'000'000).count, 1U);
  EXPECT_NEAR(t.freezes(last + 1'000'000).longest_ms, 1000.0, 0.01);
  EXPECT_EQ(t.freezes(last + 40'000).count, 0U);
}

TEST(FrameTimeline, PeriodFromArrivalsWithoutRtpTimestamps) {
  FrameTimeline t;
  for (int i = 0; i < 11; ++i) {
    t.add(i * 40'000LL, 100);
  }
  ASSERT_TRUE(t.frame_period_ms());
  EXPECT_NEAR(*t.frame_period_ms(), 40.0, 1e-9);
  EXPECT_NEAR(t.fps(), 25.0, 1e-9);
}

TEST(FrameTimeline, ExplicitPeriodOverridesOwnEstimate) {
  FrameTimeline t;
  t.add(0, 0);
  t.add(100'000, 0);
  EXPECT_EQ(t.freezes(std::nullopt, 33.3).count, 1U);
  EXPECT_EQ(t.freezes().count, 0U);  // own estimate: 100 ms period
}

TEST(FrameTimeline, EmptyAndSingle) {
  FrameTimeline t;
  EXPECT_EQ(t.fps(), 0);
  EXPECT_FALSE(t.frame_period_ms());
  t.add(5, 10);
  EXPECT_EQ(t.fps(), 0);
  EXPECT_EQ(t.bitrate_kbps(), 0);
  EXPECT_EQ(t.freezes(1'000'000).count, 0U);  // no period known: nothing to judge by
}
