#include "veter/publisher/bitrate_controller.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

namespace veter::publisher {

using namespace std::chrono_literals;

namespace {
constexpr double kLossHigh = 0.10;
constexpr double kLossLow = 0.02;
constexpr double kIncrease = 1.08;
constexpr auto kRttWindow = 30s;
constexpr auto kHoldAfterDecrease = 2s;  // let the queue drain before judging the delay again
}  // namespace

BitrateController::BitrateController(int min_kbps, int max_kbps)
    : min_(std::min(min_kbps, max_kbps)), max_(max_kbps), target_(max_kbps) {}

std::optional<int> BitrateController::on_report(const BitrateReport& r, Clock::time_point now) {
  const int before = target_;
  double rtt_min = 0;
  if (r.rtt_ms > 0) {
    rtts_.emplace_back(now, r.rtt_ms);
    while (!rtts_.empty() && now - rtts_.front().first > kRttWindow) {
      rtts_.pop_front();
    }
    rtt_min = std::min_element(rtts_.begin(), rtts_.end(), [](const auto& a, const auto& b) {
                return a.second < b.second;
              })->second;
  }
  // Smoothed over reports (half each): one noisy second of random loss at a few dozen packets a
  // second must not look like congestion.
  loss_ = reports_++ == 0 ? r.fraction_lost : 0.5 * loss_ + 0.5 * r.fraction_lost;
  const double loss = loss_;
  const double queueing = r.rtt_ms > 0 ? r.rtt_ms - rtt_min : 0;
  const double delay_limit = std::max(30.0, rtt_min / 2);
  const bool may_decrease = now - last_decrease_ >= kHoldAfterDecrease;
  double next = target_;
  std::string why;
  if (loss > kLossHigh) {
    if (may_decrease) {
      // GCC's cut, but never above 85 % of what got through (sent x (1 - loss)), so one step
      // gets below a bottleneck instead of settling inside the 2..10 % hold band above it.
      next = target_ * (1 - 0.5 * loss);
      if (r.sent_kbps > 0) {
        next = std::min(next, 0.85 * r.sent_kbps * (1 - loss));
      }
      why = fmt::format("loss {:.1f}%", loss * 100);
    }
  } else if (queueing > delay_limit) {
    if (may_decrease) {
      const double base = r.sent_kbps > 0 ? std::min<double>(r.sent_kbps, target_) : target_;
      next = 0.85 * base;
      why = fmt::format("queueing delay +{:.0f} ms", queueing);
    }
  } else if (loss < kLossLow) {
    next = target_ * kIncrease;
    why = "clean path";
  }
  target_ = std::clamp(static_cast<int>(std::lround(next)), min_, max_);
  if (target_ < before) {
    last_decrease_ = now;
  }
  if (target_ == before) {
    return std::nullopt;
  }
  reason_ = why;
  return target_;
}

bool apply_encoder_bitrate(GstElement* encoder, int kbps) {
  GstElementFactory* f = gst_element_get_factory(encoder);
  const char* name = f != nullptr ? gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(f)) : "";
  const auto k = static_cast<guint>(kbps);
  if (std::strcmp(name, "x264enc") == 0 || std::strcmp(name, "vah264enc") == 0) {
    g_object_set(encoder, "bitrate", k, nullptr);  // kbit/s
    return true;
  }
  if (std::strcmp(name, "nvv4l2h264enc") == 0 || std::strcmp(name, "openh264enc") == 0) {
    g_object_set(encoder, "bitrate", k * 1000, nullptr);  // bit/s
    return true;
  }
  return false;
}

}  // namespace veter::publisher
