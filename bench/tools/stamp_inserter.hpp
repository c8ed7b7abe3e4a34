// Bench/test helper: stamps every H.264 access unit passing a pad (byte-stream, alignment=au)
// with a veter capture-time SEI, as the publisher does, using the SEI codec of veter_common.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <functional>

#include "veter/common/gst_ptr.hpp"

namespace veter::test {

class StampInserter {
 public:
  /// `clock_us` gives the stamp for each access unit (default: wall clock now).
  explicit StampInserter(GstPad* pad, std::function<std::int64_t()> clock_us = {});
  [[nodiscard]] int stamped() const { return stamped_.load(); }

 private:
  static GstPadProbeReturn on_buffer(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  std::function<std::int64_t()> clock_us_;
  std::atomic<int> stamped_{0};
  common::PadProbe probe_;
};

/// A live sender: videotestsrc → x264enc (the publisher's x264 settings) → SEI stamps →
/// rtph264pay (config-interval -1) → udpsink 127.0.0.1:port. Stops on destruction.
class StampedRtpSender {
 public:
  /// `sliced` = x264 sliced threads (several slices per frame; rtph264pay config-interval=-1
  /// then repeats SPS/PPS before each IDR slice, as a publisher with that setting would).
  StampedRtpSender(int port, int width, int height, int fps, int kbps = 800, const char* pattern = "ball",
                   bool sliced = false);
  ~StampedRtpSender();
  StampedRtpSender(const StampedRtpSender&) = delete;
  StampedRtpSender& operator=(const StampedRtpSender&) = delete;
  [[nodiscard]] int stamped() const { return stamper_ ? stamper_->stamped() : 0; }

 private:
  common::ElementPtr pipeline_;
  std::unique_ptr<StampInserter> stamper_;
};

}  // namespace veter::test
