// Segment names (UTC start time) and the retention choice (oldest first).
#include <gtest/gtest.h>

#include "veter/relay/record/recorder.hpp"

namespace veter::relay {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

Clock::time_point at(std::int64_t unix_us) { return Clock::time_point(std::chrono::microseconds(unix_us)); }

TEST(SegmentNames, UtcStartTimeWithMicroseconds) {
  const auto t = at(1'764'625'200'123'456);  // 2025-12-01T21:40:00.123456Z
  EXPECT_EQ(segment_file_name(t), "2025-12-01_21-40-00-123456.mp4");
  EXPECT_EQ(parse_segment_file_name("2025-12-01_21-40-00-123456.mp4"), t);
}

TEST(SegmentNames, OtherNamesAreNotSegments) {
  for (const std::string n : {"", "notes.txt", "2025-12-01_21-40-00-123456.mp", "2025-13-01_21-40-00-123456.mp4",
                              "2025-12-01_21-40-00-123456.mp4.tmp", "x025-12-01_21-40-00-123456.mp4"}) {
    EXPECT_FALSE(parse_segment_file_name(n)) << n;
  }
}

std::vector<SegmentFile> segments(int n, std::uint64_t bytes_each, Clock::time_point first, Clock::duration step) {
  std::vector<SegmentFile> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(SegmentFile{"/r/" + std::to_string(i), first + i * step, bytes_each});
  }
  return out;
}

TEST(Retention, OldestFirstUntilTheRestFits) {
  const auto now = at(1'764'625'200'000'000);
  const auto segs = segments(5, 100, now - 5min, 1min);
  RecordRetention r{0ms, 250};
  const auto del = segments_to_delete(segs, r, now, "/r/4");
  ASSERT_EQ(del.size(), 3U);
  EXPECT_EQ(del[0].path, "/r/0");
  EXPECT_EQ(del[1].path, "/r/1");
  EXPECT_EQ(del[2].path, "/r/2");
}

TEST(Retention, ByAge) {
  const auto now = at(1'764'625'200'000'000);
  const auto segs = segments(4, 100, now - 10min, 3min);  // -10, -7, -4, -1 minutes
  const auto del = segments_to_delete(segs, RecordRetention{5min, 0}, now, "");
  ASSERT_EQ(del.size(), 2U);
  EXPECT_EQ(del[0].path, "/r/0");
  EXPECT_EQ(del[1].path, "/r/1");
}

TEST(Retention, NeverTheSegmentBeingWrittenAndNothingWithinLimits) {
  const auto now = at(1'764'625'200'000'000);
  const auto segs = segments(1, 1000, now - 1h, 1min);
  EXPECT_TRUE(segments_to_delete(segs, RecordRetention{1min, 10}, now, "/r/0").empty());
  EXPECT_TRUE(segments_to_delete(segments(3, 10, now - 3min, 1min), RecordRetention{1h, 1000}, now, "").empty());
}

}  // namespace
}  // namespace veter::relay
