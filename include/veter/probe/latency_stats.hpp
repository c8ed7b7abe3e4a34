// Summary statistics of latency samples (milliseconds): percentiles on known data.
#pragma once

#include <optional>
#include <vector>

namespace veter::probe {

struct LatencySummary {
  std::size_t count = 0;
  double min = 0;
  double mean = 0;
  double p50 = 0;
  double p95 = 0;
  double p99 = 0;
  double max = 0;
};

/// The q-quantile (0 <= q <= 1) of `sorted` (ascending, non-empty), interpolated linearly
/// between the two closest ranks (the definition numpy and R call "type 7").
double quantile_sorted(const std::vector<double>& sorted, double q);

/// Summary of `samples` (any order); std::nullopt when there are none.
std::optional<LatencySummary> summarize(std::vector<double> samples);

}  // namespace veter::probe
