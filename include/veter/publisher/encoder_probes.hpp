// Pad probes on the encoder's src pad (streaming threads; atomics only):
//  - every access unit gets the capture-time SEI (veter::common::sei);
//  - frames, bytes and IDRs are counted;
//  - upstream GstForceKeyUnit requests (RTCP PLI/FIR via rtpsession) are let
//    through at most once per `min_interval`; a request inside the window is
//    remembered and replayed by flush_pending() from the main loop.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <cstdint>

#include "veter/common/gst_ptr.hpp"

namespace veter::publisher {

struct EncoderCounters {
  std::atomic<std::uint64_t> frames{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> keyframes{0};
  std::atomic<std::uint64_t> forced_idrs{0};     // keyframes the encoder marked as forced
  std::atomic<std::uint64_t> key_requests{0};    // upstream requests received
  std::atomic<std::uint64_t> key_forwarded{0};   // requests passed to the encoder
  std::atomic<std::uint64_t> unstamped{0};       // access units the SEI could not be added to
};

class EncoderProbes {
 public:
  EncoderProbes(EncoderCounters& counters, std::chrono::milliseconds min_interval)
      : counters_(counters), min_interval_ns_(std::chrono::nanoseconds(min_interval).count()) {}
  EncoderProbes(const EncoderProbes&) = delete;
  EncoderProbes& operator=(const EncoderProbes&) = delete;

  /// Attach to `encoder`'s src pad (removed on detach() or destruction).
  void attach(GstElement* encoder);
  void detach();
  /// Main loop: send a remembered key-unit request once the window has passed.
  void flush_pending();
  /// True once EOS passed the encoder (the source ended the stream).
  [[nodiscard]] bool eos_seen() const { return eos_.load(); }

 private:
  static GstPadProbeReturn on_buffer(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn on_upstream_event(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn on_downstream_event(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  [[nodiscard]] std::int64_t capture_time_us(GstPad* pad, GstBuffer* buf) const;

  EncoderCounters& counters_;
  std::int64_t min_interval_ns_;
  std::atomic<std::int64_t> last_forward_ns_{0};
  std::atomic<bool> pending_{false};
  std::atomic<bool> eos_{false};
  common::ElementPtr encoder_;
  common::PadProbe buffer_probe_;
  common::PadProbe upstream_probe_;
  common::PadProbe downstream_probe_;
};

}  // namespace veter::publisher
