// A real RTSP viewer for tests: rtspsrc (latency=0 unless told, TCP or UDP) -> rtph264depay
// -> h264parse -> avdec_h264 -> appsink, in this process. It counts decoded
// frames and reports the decoded size, end-of-stream and errors. Every wait is
// bounded. Needs gst_init() (call veter::test::init_gstreamer_once()).
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "veter/common/gst_ptr.hpp"

namespace veter::test {

/// gst_init() once per process (idempotent, thread-safe).
void init_gstreamer_once();

class RtspViewer {
 public:
  /// `protocols`: "tcp", "udp" or "tcp+udp" (rtspsrc's protocols property);
  /// `latency_ms`: rtspsrc's latency, kDefaultLatency for its default (2000 ms).
  static constexpr int kDefaultLatency = -1;
  explicit RtspViewer(std::string url, std::string protocols = "tcp", int latency_ms = 0);
  ~RtspViewer();
  RtspViewer(const RtspViewer&) = delete;
  RtspViewer& operator=(const RtspViewer&) = delete;

  /// Build and start the pipeline (returns false if it could not be built).
  bool start();
  void stop();

  [[nodiscard]] int frames() const { return frames_.load(); }
  [[nodiscard]] int width() const { return width_.load(); }
  [[nodiscard]] int height() const { return height_.load(); }
  /// Milliseconds from start() to the first decoded frame (nullopt before it).
  [[nodiscard]] std::optional<double> first_frame_ms() const;
  /// Process pending bus messages (EOS, errors); called by the waits.
  void poll();
  [[nodiscard]] bool eos() const { return eos_; }
  [[nodiscard]] std::optional<std::string> error() const { return error_; }
  /// Wait until at least `n` frames are decoded; false on timeout, EOS or error.
  bool wait_frames(int n, std::chrono::milliseconds timeout);
  /// Wait for an error (or EOS); true when one arrived within the timeout.
  bool wait_error(std::chrono::milliseconds timeout);

 private:
  static GstFlowReturn on_sample(GstElement* sink, gpointer self);
  std::string url_;
  std::string protocols_;
  int latency_ms_;
  common::ElementPtr pipeline_;
  std::atomic<int> frames_{0};
  std::atomic<int> width_{0};
  std::atomic<int> height_{0};
  std::chrono::steady_clock::time_point started_{};
  std::atomic<std::int64_t> first_frame_ns_{-1};
  bool eos_ = false;
  std::optional<std::string> error_;
};

}  // namespace veter::test
