// Congestion-driven bitrate and the retransmission budget: pure units.
#include <gtest/gtest.h>
#include <gst/gst.h>

#include "nvidia_standins.hpp"
#include "veter/common/gst_ptr.hpp"
#include "veter/publisher/bitrate_controller.hpp"
#include "veter/publisher/feedback_guard.hpp"

using namespace veter::publisher;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(BitrateController, CleanPathStaysAtTheCeiling) {
  BitrateController c(300, 2000);
  const auto t0 = Clock::now();
  for (int i = 0; i < 20; ++i) {
    EXPECT_FALSE(c.on_report({0.0, 50, 2000}, t0 + i * 1s));
  }
  EXPECT_EQ(c.target_kbps(), 2000);
  EXPECT_EQ(c.reason(), "start");
}

TEST(BitrateController, HeavyLossCutsBelowWhatGotThroughThenRecoversSlowly) {
  BitrateController c(300, 2000);
  const auto t0 = Clock::now();
  EXPECT_EQ(c.on_report({0.20, 50, 2000}, t0), 1360);  // min(2000 x 0.9, 0.85 x 2000 x 0.8)
  EXPECT_EQ(c.reason(), "loss 20.0%");
  EXPECT_FALSE(c.on_report({0.20, 50, 1360}, t0 + 1s));  // held: the queue needs time to drain
  EXPECT_EQ(c.on_report({0.12, 50, 1360}, t0 + 2s), 971);  // smoothed 16 %: min(1360 x 0.92, 0.85 x 1360 x 0.84)
  EXPECT_FALSE(c.on_report({0.05, 50, 971}, t0 + 3s));     // still 10.5 %, but within 2 s of the cut
  EXPECT_FALSE(c.on_report({0.0, 50, 971}, t0 + 4s));      // 5.3 %: hold
  EXPECT_FALSE(c.on_report({0.0, 50, 971}, t0 + 5s));      // 2.6 %: hold
  EXPECT_EQ(c.on_report({0.0, 50, 971}, t0 + 6s), 1049);   // 1.3 %: +8 %
  EXPECT_EQ(c.reason(), "clean path");
  int t = 7;
  while (c.target_kbps() < 2000 && t < 30) {
    c.on_report({0.0, 50, 2000}, t0 + t++ * 1s);
  }
  EXPECT_EQ(c.target_kbps(), 2000);
}

TEST(BitrateController, ASecondOfRandomLossIsNotCongestion) {
  BitrateController c(300, 2000);
  const auto t0 = Clock::now();
  EXPECT_FALSE(c.on_report({0.03, 50, 2000}, t0));
  EXPECT_FALSE(c.on_report({0.12, 50, 2000}, t0 + 1s));  // smoothed 7.5 %
  EXPECT_FALSE(c.on_report({0.03, 50, 2000}, t0 + 2s));
  EXPECT_EQ(c.target_kbps(), 2000);
}

TEST(BitrateController, RisingRoundTripMeansAQueueAndCutsBelowTheCarriedRate) {
  BitrateController c(300, 2000);
  const auto t0 = Clock::now();
  c.on_report({0.0, 50, 2000}, t0);
  const auto t = c.on_report({0.0, 150, 900}, t0 + 1s);  // +100 ms over the 50 ms minimum
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, 765);  // 85 % of the 900 kbit/s that got through
  EXPECT_EQ(c.reason(), "queueing delay +100 ms");
  EXPECT_EQ(c.on_report({0.0, 70, 765}, t0 + 2s), 826);  // +20 ms is within max(30, 25) ms: clean, +8 %
  EXPECT_FALSE(c.on_report({0.0, 150, 826}, t0 + 2500ms));  // a queue again, within 2 s of the cut: held
  EXPECT_EQ(c.on_report({0.0, 150, 826}, t0 + 3s), 702);
}

TEST(BitrateController, NeverBelowTheFloorNorAboveTheCeiling) {
  BitrateController c(500, 1000);
  const auto t0 = Clock::now();
  for (int i = 0; i < 20; ++i) {
    c.on_report({0.9, 50, 100}, t0 + i * 3s);
  }
  EXPECT_EQ(c.target_kbps(), 500);
  BitrateController inverted(3000, 1000);  // floor above the ceiling: the ceiling wins
  inverted.on_report({0.9, 50, 100}, t0);
  EXPECT_EQ(inverted.target_kbps(), 1000);
}

TEST(EncoderBitrate, SetsEachEncoderInItsOwnUnit) {
  gst_init(nullptr, nullptr);
  veter::test::register_nvidia_standins();
  for (const auto& [factory, want] : {std::pair{"x264enc", 1500u}, std::pair{"nvv4l2h264enc", 1500000u},
                                      std::pair{"openh264enc", 1500000u}}) {
    GstElement* raw = gst_element_factory_make(factory, nullptr);
    if (raw == nullptr) {
      continue;  // not installed here
    }
    auto e = veter::common::adopt_floating(raw);
    ASSERT_TRUE(apply_encoder_bitrate(e.get(), 1500)) << factory;
    guint got = 0;
    g_object_get(e.get(), "bitrate", &got, nullptr);
    EXPECT_EQ(got, want) << factory;
  }
}

TEST(RetransmissionBudget, AtMostTheShareOfTheMediaPlusHalfASecond) {
  RetransmissionBudget b(0.30);
  const auto t0 = Clock::now();
  int allowed = 0;
  // 10 s of 100 packets/s of 1200 bytes, and 1000 requests/s.
  for (int ms = 0; ms < 10000; ++ms) {
    const auto now = t0 + std::chrono::milliseconds(ms);
    if (ms % 10 == 0) {
      b.on_media(1200, now);
    }
    allowed += b.allow(now) ? 1 : 0;
  }
  EXPECT_LE(allowed, 300 + 15 + 1);
  EXPECT_GE(allowed, 280);
}
