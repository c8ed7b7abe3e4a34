#include "veter/probe/frame_timeline.hpp"

#include <algorithm>

#include "veter/probe/latency_stats.hpp"

namespace veter::probe {

void FrameTimeline::add(std::int64_t arrival_us, std::size_t bytes, std::optional<std::uint32_t> rtp_ts) {
  arrivals_.push_back(arrival_us);
  bytes_ += bytes;
  if (rtp_ts) {
    if (last_rtp_ts_) {
      // Unsigned difference handles the 32-bit wrap; a step back (reordering,
      // a new publisher) shows up as a huge value and is ignored.
      const std::uint32_t step = *rtp_ts - *last_rtp_ts_;
      if (step > 0 && step < 90000U * 10U) {
        rtp_steps_ms_.push_back(static_cast<double>(step) / 90.0);
      }
    }
    last_rtp_ts_ = rtp_ts;
  }
}

std::optional<double> FrameTimeline::frame_period_ms() const {
  if (!rtp_steps_ms_.empty()) {
    auto steps = rtp_steps_ms_;
    std::sort(steps.begin(), steps.end());
    return quantile_sorted(steps, 0.5);
  }
  if (arrivals_.size() < 2) {
    return std::nullopt;
  }
  std::vector<double> gaps;
  gaps.reserve(arrivals_.size() - 1);
  for (std::size_t i = 1; i < arrivals_.size(); ++i) {
    gaps.push_back(static_cast<double>(arrivals_[i] - arrivals_[i - 1]) / 1000.0);
  }
  std::sort(gaps.begin(), gaps.end());
  return quantile_sorted(gaps, 0.5);
}

double FrameTimeline::fps() const {
  if (arrivals_.size() < 2) {
    return 0;
  }
  const double span_s = static_cast<double>(arrivals_.back() - arrivals_.front()) / 1e6;
  return span_s > 0 ? static_cast<double>(arrivals_.size() - 1) / span_s : 0;
}

double FrameTimeline::bitrate_kbps() const {
  if (arrivals_.size() < 2) {
    return 0;
  }
  const double span_s = static_cast<double>(arrivals_.back() - arrivals_.front()) / 1e6;
  return span_s > 0 ? static_cast<double>(bytes_) * 8.0 / 1000.0 / span_s : 0;
}

FreezeSummary FrameTimeline::freezes(std::optional<std::int64_t> until_us,
                                     std::optional<double> period_ms) const {
  FreezeSummary f;
  const auto period = period_ms ? period_ms : frame_period_ms();
  if (!period || *period <= 0) {
    return f;
  }
  f.threshold_ms = 2.0 * *period;
  auto account = [&f](double gap_ms) {
    if (gap_ms > f.threshold_ms) {
      ++f.count;
      f.total_ms += gap_ms;
      f.longest_ms = std::max(f.longest_ms, gap_ms);
    }
  };
  for (std::size_t i = 1; i < arrivals_.size(); ++i) {
    account(static_cast<double>(arrivals_[i] - arrivals_[i - 1]) / 1000.0);
  }
  if (until_us && !arrivals_.empty() && *until_us > arrivals_.back()) {
    account(static_cast<double>(*until_us - arrivals_.back()) / 1000.0);
  }
  return f;
}

}  // namespace veter::probe
