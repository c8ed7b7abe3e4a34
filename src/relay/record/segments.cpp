// Segment files on disk: UTC-start-time names, listing, the retention choice.
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include <fmt/format.h>

#include "veter/relay/record/recorder.hpp"

namespace veter::relay {

std::string recording_directory(const std::string& path_name, const RecordConfig& cfg) {
  return (std::filesystem::path(cfg.dir) / path_name).string();
}

std::string segment_file_name(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto us = duration_cast<microseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}_{:02}-{:02}-{:02}-{:06}.mp4", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, us % 1'000'000);
}

std::optional<std::chrono::system_clock::time_point> parse_segment_file_name(const std::string& name) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  long us = 0;
  int consumed = 0;
  if (name.size() != 30 ||
      std::sscanf(name.c_str(), "%4d-%2d-%2d_%2d-%2d-%2d-%6ld.mp4%n", &y, &mo, &d, &h, &mi, &s, &us, &consumed) != 7 ||
      consumed != 30 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 || us < 0) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  const std::time_t secs = timegm(&tm);
  return std::chrono::system_clock::time_point(std::chrono::seconds(secs) + std::chrono::microseconds(us));
}

std::vector<SegmentFile> list_segments(const std::string& dir) {
  std::vector<SegmentFile> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    const auto start = parse_segment_file_name(name);
    std::error_code size_ec;
    const auto bytes = e.is_regular_file(size_ec) ? e.file_size(size_ec) : 0;
    if (start && !size_ec) {
      out.push_back(SegmentFile{e.path().string(), *start, bytes});
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
  return out;
}

std::vector<SegmentFile> segments_to_delete(const std::vector<SegmentFile>& segments, const RecordRetention& r,
                                            std::chrono::system_clock::time_point now, const std::string& keep) {
  std::uint64_t total = 0;
  for (const auto& s : segments) {
    total += s.bytes;
  }
  std::vector<SegmentFile> out;
  for (const auto& s : segments) {  // oldest first
    if (s.path == keep) {
      continue;
    }
    const bool too_old = r.max_age.count() > 0 && s.start < now - r.max_age;
    const bool too_big = r.max_bytes > 0 && total > r.max_bytes;
    if (!too_old && !too_big) {
      break;
    }
    out.push_back(s);
    total -= s.bytes;
  }
  return out;
}

}  // namespace veter::relay
