#include "veter/probe/latency_stats.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

using veter::probe::quantile_sorted;
using veter::probe::summarize;

TEST(LatencyStats, EmptyHasNoSummary) { EXPECT_FALSE(summarize({}).has_value()); }

TEST(LatencyStats, SingleSample) {
  const auto s = summarize({7.5});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->count, 1U);
  EXPECT_DOUBLE_EQ(s->p50, 7.5);
  EXPECT_DOUBLE_EQ(s->p99, 7.5);
  EXPECT_DOUBLE_EQ(s->max, 7.5);
  EXPECT_DOUBLE_EQ(s->min, 7.5);
}

// 1..100 in shuffled order: linear interpolation between closest ranks (numpy's default).
TEST(LatencyStats, PercentilesOfOneToHundred) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) {
    v.push_back(i);
  }
  std::shuffle(v.begin(), v.end(), std::mt19937(42));
  const auto s = summarize(v);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->count, 100U);
  EXPECT_DOUBLE_EQ(s->min, 1);
  EXPECT_DOUBLE_EQ(s->max, 100);
  EXPECT_DOUBLE_EQ(s->mean, 50.5);
  EXPECT_NEAR(s->p50, 50.5, 1e-9);
  EXPECT_NEAR(s->p95, 95.05, 1e-9);
  EXPECT_NEAR(s->p99, 99.01, 1e-9);
}

TEST(LatencyStats, TailIsSeenByP99NotP50) {
  // 990 frames at 20 ms and 10 frames at 500 ms: p50 and p95 stay at 20, p99 interpolates
  // into the tail (rank 989.01 of 0..999 lies between the last 20 and the first 500).
  std::vector<double> v(990, 20.0);
  v.insert(v.end(), 10, 500.0);
  const auto s = summarize(v);
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->p50, 20.0);
  EXPECT_DOUBLE_EQ(s->p95, 20.0);
  EXPECT_NEAR(s->p99, 20.0 + 0.01 * 480.0, 1e-9);
  EXPECT_DOUBLE_EQ(s->max, 500.0);
  EXPECT_NEAR(s->mean, (990 * 20.0 + 10 * 500.0) / 1000.0, 1e-9);
}

TEST(LatencyStats, NegativeSamplesAreKept) {
  const auto s = summarize({-3, -1, 2});
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->min, -3);
  EXPECT_DOUBLE_EQ(s->p50, -1);
}

TEST(LatencyStats, QuantileEndpoints) {
  const std::vector<double> v{1, 2, 4, 8};
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 0), 1);
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 1), 8);
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 0.5), 3);  // between 2 and 4
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 2.0), 8);  // clamped
}
