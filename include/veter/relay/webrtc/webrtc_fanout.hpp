// One path's forwarded RTP packets into its WebRTC viewers' pipelines.
//
// The publisher's H.264 packets are forwarded as they are (no depayloading,
// no transcoding). Only the header is rewritten: SSRC, sequence number and
// timestamp by an RtpRewriter (one continuous line across publisher
// restarts, as for RTSP viewers) and the payload type each browser chose in
// its offer. Viewers that chose the same payload type share one copy of each
// packet; SRTP (per viewer) happens downstream in each webrtcbin.
//
// Threads: push() runs on the ingest's streaming thread; add()/remove() on
// the main loop; the sink list and the rewriter are guarded by mutex_.
// All WebRTC pipelines use the system clock with base time 0, so one
// timestamp (the clock's time when pushed) is valid in all of them.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "veter/common/gst_ptr.hpp"
#include "veter/relay/rtp/rtp_rewriter.hpp"

namespace veter::relay {

class WebrtcFanout {
 public:
  struct Sink {
    common::ElementPtr appsrc;           // the viewer pipeline's appsrc
    int payload_type = 96;               // the browser's H.264 payload type
    std::atomic<bool> flowing{false};    // set once DTLS is connected
    std::atomic<std::uint64_t> bytes{0};  // RTP bytes handed to this viewer
    std::atomic<std::uint64_t> packets{0};
  };

  WebrtcFanout();
  WebrtcFanout(const WebrtcFanout&) = delete;
  WebrtcFanout& operator=(const WebrtcFanout&) = delete;

  /// The SSRC every viewer of this path sees.
  [[nodiscard]] std::uint32_t ssrc() const { return ssrc_; }
  void add(std::shared_ptr<Sink> sink);
  void remove(const Sink* sink);
  /// Streaming thread: one access unit's packets as the publisher sent them (transfer none).
  void push(GstBufferList* au);
  /// RTP bytes sent to all WebRTC viewers of this path together.
  [[nodiscard]] std::uint64_t bytes_sent() const { return bytes_sent_.load(); }

  /// The clock every viewer pipeline must use (with base time 0).
  static GstClock* clock();

 private:
  std::uint32_t ssrc_;
  std::mutex mutex_;
  std::vector<std::shared_ptr<Sink>> sinks_;
  RtpRewriter rewriter_;
  std::atomic<std::uint64_t> bytes_sent_{0};
};

}  // namespace veter::relay
