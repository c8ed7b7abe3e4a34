// Pure pieces of the running publisher: restart backoff and the stats line.
#include <gtest/gtest.h>

#include "veter/publisher/backoff.hpp"
#include "veter/publisher/stats.hpp"

using namespace veter::publisher;
using namespace std::chrono_literals;

TEST(Backoff, DoublesFromHalfASecondToTenSeconds) {
  Backoff b;
  const auto t0 = Backoff::Clock::now();
  std::vector<long> delays;
  for (int i = 0; i < 8; ++i) {
    delays.push_back(static_cast<long>(b.on_failure(t0 + std::chrono::seconds(i)).count()));
  }
  EXPECT_EQ(delays, (std::vector<long>{500, 1000, 2000, 4000, 8000, 10000, 10000, 10000}));
}

TEST(Backoff, ResetsOnlyAfterThirtySecondsOfHealthyStreaming) {
  Backoff b;
  const auto t0 = Backoff::Clock::now();
  b.on_failure(t0);
  b.on_failure(t0);
  b.on_failure(t0);  // next would be 4 s
  b.streaming_since(t0);
  EXPECT_EQ(b.on_failure(t0 + 29s).count(), 4000);  // 29 s healthy: no reset
  b.streaming_since(t0 + 30s);
  EXPECT_EQ(b.on_failure(t0 + 60s).count(), 500);  // 30 s healthy: reset
  EXPECT_EQ(b.on_failure(t0 + 61s).count(), 1000);
}

TEST(Stats, LineWithAndWithoutReceiverReports) {
  StatsInterval s;
  s.seconds = 10;
  s.frames = 300;
  s.bytes = 2500000;
  s.forced_idrs = 1;
  s.periodic_idrs = 10;
  EXPECT_EQ(format_stats_line(s), "stats: 300 frames 30.0 fps 2000 kbit/s, IDRs forced 1 periodic 10, relay RR: none");
  s.rr = ReceiverReport{0.25, 12, 1.25, 0.5};
  EXPECT_EQ(format_stats_line(s),
            "stats: 300 frames 30.0 fps 2000 kbit/s, IDRs forced 1 periodic 10, relay RR: lost 25.0% (12) jitter 1.2 "
            "ms rtt 0.5 ms");
  s.rr.reset();
  s.rtcp_rejected = 4;  // RTCP that did not authenticate with srtp_key_file
  EXPECT_EQ(format_stats_line(s), "stats: 300 frames 30.0 fps 2000 kbit/s, IDRs forced 1 periodic 10, relay RR: none, "
                                  "RTCP dropped (not authenticated) 4");
}
