#include "veter/probe/latency_stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace veter::probe {

double quantile_sorted(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) {
    return 0;
  }
  q = std::clamp(q, 0.0, 1.0);
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

std::optional<LatencySummary> summarize(std::vector<double> samples) {
  if (samples.empty()) {
    return std::nullopt;
  }
  std::sort(samples.begin(), samples.end());
  LatencySummary s;
  s.count = samples.size();
  s.min = samples.front();
  s.max = samples.back();
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(samples.size());
  s.p50 = quantile_sorted(samples, 0.50);
  s.p95 = quantile_sorted(samples, 0.95);
  s.p99 = quantile_sorted(samples, 0.99);
  return s;
}

}  // namespace veter::probe
