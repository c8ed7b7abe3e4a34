// Congestion-driven encoder bitrate, from the relay's RTCP receiver reports.
//
// What it follows: the loss-based controller of Google Congestion Control
// (draft-ietf-rmcat-gcc-02 §6) — above 10 % loss the target drops by half the loss (and to at
// most 85 % of the rate that got through), below 2 % it grows 8 % per report, in between it
// holds — plus a delay trigger standing in for GCC's
// delay-based controller: when the round-trip time rises more than max(30 ms, RTT_min / 2)
// above the smallest RTT of the last 30 s, a queue is building at the bottleneck, and the
// target drops to 85 % of the rate the relay received. Always within bitrate_min_kbps …
// bitrate_kbps. Loss is smoothed over reports (half each) and is the raw loss on the leg (before retransmission repairs it), so random
// loss of a few percent, which NACK/RTX repairs, does not lower the picture quality.
//
// Pure (no GStreamer): the Publisher feeds it reports on the main loop and applies the target
// with apply_encoder_bitrate().
#pragma once

#include <gst/gst.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace veter::publisher {

struct BitrateReport {
  double fraction_lost = 0;  // 0..1 since the previous report
  double rtt_ms = 0;         // 0 = unknown
  double sent_kbps = 0;      // what the encoder produced lately (the rate the path carried)
};

class BitrateController {
 public:
  using Clock = std::chrono::steady_clock;
  BitrateController(int min_kbps, int max_kbps);

  /// One new receiver report; returns the new target when it changed.
  std::optional<int> on_report(const BitrateReport& r, Clock::time_point now);

  [[nodiscard]] int target_kbps() const { return target_; }
  /// Why the target last changed, e.g. "loss 12.0%", "queueing delay +80 ms", "clean path", "start".
  [[nodiscard]] const std::string& reason() const { return reason_; }

 private:
  int min_;
  int max_;
  int target_;
  std::string reason_ = "start";
  double loss_ = 0;  // fraction lost, smoothed over reports
  std::uint64_t reports_ = 0;
  std::deque<std::pair<Clock::time_point, double>> rtts_;  // last 30 s
  Clock::time_point last_decrease_{};
};

/// Set a running encoder's bitrate, whatever the encoder: x264enc / vah264enc `bitrate` in
/// kbit/s, nvv4l2h264enc / openh264enc `bitrate` in bit/s. Returns false for an encoder whose
/// rate cannot change live (v4l2h264enc) or an unknown one.
bool apply_encoder_bitrate(GstElement* encoder, int kbps);

}  // namespace veter::publisher
