// The impaired-link model: each impairment does what it says, at the rate it says, and the same
// seed gives the same decisions whatever the timing.
#include <gtest/gtest.h>

#include <stdexcept>

#include "impairment.hpp"

using namespace veter::bench;

namespace {

constexpr std::int64_t kStep = 1000;  // one datagram per ms

std::vector<Fate> fates(ImpairmentModel& m, int n, std::int64_t step = kStep) {
  std::vector<Fate> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(m.on_datagram(1'000'000 + i * step, 1200).fate);
  }
  return out;
}

}  // namespace

TEST(Impairment, CleanPathSendsEverythingAtOnce) {
  ImpairmentModel m(ImpairmentParams{});
  for (int i = 0; i < 100; ++i) {
    const auto d = m.on_datagram(i * kStep, 1200);
    ASSERT_EQ(d.fate, Fate::sent);
    ASSERT_EQ(d.release_us, std::vector<std::int64_t>{i * kStep});
  }
  EXPECT_EQ(m.counters().sent, 100u);
}

TEST(Impairment, DelayAndJitterStayInBoundsAndKeepOrder) {
  ImpairmentParams p;
  p.delay_ms = 25;
  p.jitter_ms = 5;
  ImpairmentModel m(p);
  std::int64_t last = 0;
  bool some_jitter = false;
  for (int i = 0; i < 2000; ++i) {
    const std::int64_t now = i * 100;  // faster than the jitter: order must still hold
    const auto d = m.on_datagram(now, 1200);
    ASSERT_EQ(d.release_us.size(), 1u);
    const std::int64_t r = d.release_us[0];
    ASSERT_GE(r, now + 25'000);
    ASSERT_GE(r, last) << "jitter reordered datagram " << i;
    if (r - now > 26'000) {
      some_jitter = true;
    }
    ASSERT_LE(r - now, 30'000 + 5'000);  // jitter plus the order-keeping wait behind a late one
    last = r;
  }
  EXPECT_TRUE(some_jitter);
}

TEST(Impairment, RandomLossHasTheConfiguredRate) {
  ImpairmentParams p;
  p.loss = 0.03;
  p.seed = 11;
  ImpairmentModel m(p);
  fates(m, 100000);
  const double rate = static_cast<double>(m.counters().lost_random) / 100000.0;
  EXPECT_NEAR(rate, 0.03, 0.003);
}

TEST(Impairment, GilbertElliottLosesInBurstsOfTheMeanLength) {
  ImpairmentParams p;
  p.ge_r = 1.0 / 3;                  // bursts of 3 on average
  p.ge_p = 0.03 * p.ge_r / 0.97;     // 3 % of datagrams in the bad state
  p.seed = 5;
  ImpairmentModel m(p);
  const auto f = fates(m, 200000);
  int bursts = 0;
  int lost = 0;
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] == Fate::lost_burst) {
      ++lost;
      if (i == 0 || f[i - 1] != Fate::lost_burst) {
        ++bursts;
      }
    }
  }
  EXPECT_NEAR(lost / 200000.0, 0.03, 0.005);
  EXPECT_NEAR(static_cast<double>(lost) / bursts, 3.0, 0.3);
}

TEST(Impairment, SameSeedSameDecisionsWhateverTheTiming) {
  ImpairmentParams p;
  p.loss = 0.05;
  p.ge_p = 0.01;
  p.ge_r = 0.3;
  p.duplicate = 0.02;
  p.seed = 42;
  ImpairmentModel a(p);
  ImpairmentModel b(p);
  EXPECT_EQ(fates(a, 5000, 1000), fates(b, 5000, 37));  // other arrival times, same fates
  ImpairmentModel same_seed(p);
  p.seed = 43;
  ImpairmentModel other_seed(p);
  EXPECT_NE(fates(other_seed, 5000), fates(same_seed, 5000));
}

TEST(Impairment, ReorderingLetsLaterDatagramsOvertake) {
  ImpairmentParams p;
  p.reorder = 0.1;
  p.reorder_ms = 10;
  p.seed = 3;
  ImpairmentModel m(p);
  std::vector<std::int64_t> rel;
  for (int i = 0; i < 1000; ++i) {
    rel.push_back(m.on_datagram(i * kStep, 1200).release_us.at(0));
  }
  int overtaken = 0;
  for (std::size_t i = 0; i + 1 < rel.size(); ++i) {
    if (rel[i] > rel[i + 1]) {
      ++overtaken;
    }
  }
  EXPECT_NEAR(m.counters().reordered, 100u, 35u);
  EXPECT_GT(overtaken, 50);
}

TEST(Impairment, DuplicationSendsTwoCopies) {
  ImpairmentParams p;
  p.duplicate = 0.5;
  ImpairmentModel m(p);
  int twice = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto d = m.on_datagram(i * kStep, 100);
    twice += d.release_us.size() == 2 ? 1 : 0;
  }
  EXPECT_EQ(static_cast<std::uint64_t>(twice), m.counters().duplicated);
  EXPECT_NEAR(twice, 500, 80);
  EXPECT_EQ(m.counters().sent, 1000u + static_cast<std::uint64_t>(twice));
}

TEST(Impairment, RateCapSerialisesAndDropsTailWhenTheQueueIsFull) {
  ImpairmentParams p;
  p.rate = {{0, 1000}};  // 1 Mbit/s: a 1250-byte datagram takes 10 ms
  p.queue_bytes = 12500;  // 100 ms of queue
  ImpairmentModel m(p);
  // 2 Mbit/s offered for one second: half gets through, the queue never exceeds 100 ms.
  std::int64_t last = 0;
  for (int i = 0; i < 200; ++i) {
    const std::int64_t now = i * 5000;
    const auto d = m.on_datagram(now, 1250);
    if (d.fate == Fate::sent) {
      ASSERT_LE(d.release_us[0] - now, 100'000 + 10'000);
      ASSERT_GE(d.release_us[0] - last, 10'000 - 1);
      last = d.release_us[0];
    } else {
      ASSERT_EQ(d.fate, Fate::dropped_queue);
    }
  }
  EXPECT_NEAR(static_cast<double>(m.counters().sent), 100 + 10, 3);  // the rate plus the queue's worth
}

TEST(Impairment, RateScheduleChangesTheCap) {
  const auto s = parse_rate_schedule("2500@0,800@10,2500@20");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[1], (RateStep{10'000'000, 800}));
  ImpairmentParams p;
  p.rate = s;
  ImpairmentModel m(p);
  m.on_datagram(0, 100);
  EXPECT_EQ(m.rate_kbps_at(5'000'000), 2500);
  EXPECT_EQ(m.rate_kbps_at(10'000'000), 800);
  EXPECT_EQ(m.rate_kbps_at(25'000'000), 2500);
  EXPECT_EQ(parse_rate_schedule("900"), (std::vector<RateStep>{{0, 900}}));
  for (const char* bad : {"", "fast", "100@x", "800@10,900@5", "-5", "800@"}) {
    EXPECT_THROW(parse_rate_schedule(bad), std::invalid_argument) << bad;
  }
}
