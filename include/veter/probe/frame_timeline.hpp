// What a viewer saw over time: frame arrivals, from which the probe derives
// fps, bitrate and frozen intervals (gaps longer than two frame periods).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace veter::probe {

struct FreezeSummary {
  double threshold_ms = 0;  // a gap longer than this is a freeze (2 frame periods)
  std::size_t count = 0;
  double total_ms = 0;      // sum of the frozen gaps
  double longest_ms = 0;
};

class FrameTimeline {
 public:
  /// A frame arrived at `arrival_us` (monotonic µs) carrying `bytes` of payload.
  /// `rtp_ts` is its 90 kHz RTP timestamp when known (used for the nominal frame period).
  void add(std::int64_t arrival_us, std::size_t bytes, std::optional<std::uint32_t> rtp_ts = std::nullopt);

  [[nodiscard]] std::size_t frames() const { return arrivals_.size(); }
  [[nodiscard]] std::uint64_t bytes() const { return bytes_; }
  /// The nominal frame period: median of the RTP timestamp steps between frames when
  /// known, else the median arrival gap; std::nullopt with fewer than 2 frames.
  [[nodiscard]] std::optional<double> frame_period_ms() const;
  /// Frames per second between the first and the last frame.
  [[nodiscard]] double fps() const;
  /// Payload bit rate (kbit/s) over [first frame, last frame].
  [[nodiscard]] double bitrate_kbps() const;
  /// Gaps between consecutive frames longer than two frame periods (`period_ms`, or
  /// frame_period_ms() when not given); with `until_us` the gap from the last frame to
  /// that instant counts too (a stream that stopped).
  [[nodiscard]] FreezeSummary freezes(std::optional<std::int64_t> until_us = std::nullopt,
                                      std::optional<double> period_ms = std::nullopt) const;

 private:
  std::vector<std::int64_t> arrivals_;
  std::vector<double> rtp_steps_ms_;
  std::optional<std::uint32_t> last_rtp_ts_;
  std::uint64_t bytes_ = 0;
};

}  // namespace veter::probe
