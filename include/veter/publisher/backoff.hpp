// Restart delays: 0.5 s doubling to 10 s, back to 0.5 s after 30 s of healthy streaming.
#pragma once

#include <chrono>
#include <optional>

namespace veter::publisher {

class Backoff {
 public:
  using Clock = std::chrono::steady_clock;
  using ms = std::chrono::milliseconds;

  explicit Backoff(ms initial = ms(500), ms max = ms(10000), ms healthy_after = ms(30000))
      : initial_(initial), max_(max), healthy_after_(healthy_after), next_(initial) {}

  /// Frames started flowing at `t` (after a (re)start).
  void streaming_since(Clock::time_point t) { streaming_since_ = t; }
  /// The pipeline failed at `t`: the delay before the next attempt.
  ms on_failure(Clock::time_point t) {
    if (streaming_since_ && t - *streaming_since_ >= healthy_after_) {
      next_ = initial_;
    }
    streaming_since_.reset();
    const ms delay = next_;
    next_ = std::min(max_, next_ * 2);
    return delay;
  }
  [[nodiscard]] ms next_delay() const { return next_; }

 private:
  ms initial_;
  ms max_;
  ms healthy_after_;
  ms next_;
  std::optional<Clock::time_point> streaming_since_;
};

}  // namespace veter::publisher
