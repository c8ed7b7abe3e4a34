// Loss repair on the ingest leg: RFC 4585 generic NACK out, RFC 4588 RTX in.
//
// Between the packet filter and the fan-out the ingest pipeline gets
//   rtprtxreceive (RTX payload type -> the original packet) ! rtpjitterbuffer
// The jitter buffer passes packets on as soon as they are in sequence (nothing is added on a
// clean path); at a gap it holds what follows for at most the repair window, asks for the
// missing packets (bounded retries spaced by its measured retransmission RTT) and, when the
// window has passed, gives up on them (a "lost" event: the frame is unrecoverable and the ingest
// falls back to PLI). Its retransmission requests (upstream events) are turned into NACKs here
// and sent by the ingest's RTCP socket on the main loop.
//
// repair window: ingest.repair_window, or "auto" = min(1.5 x RTT + 60 ms, 150 ms) with the RTT
// the jitter buffer measures between a NACK and its retransmission (150 ms until one is measured).
//
// Threads: request events arrive on the jitter buffer's timer thread, lost events on its
// output streaming thread: both only touch atomics and mutex_. tick(), snapshot() and the NACK
// sending run on the main loop.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "veter/common/gst_ptr.hpp"
#include "veter/relay/relay_model.hpp"

namespace veter::relay {

/// The automatic repair window for a measured RTT: min(1.5 x RTT + 20 ms + 40 ms (noticing a lost
/// last packet of a frame takes up to a frame interval), 150 ms).
std::chrono::milliseconds auto_repair_window(std::optional<std::chrono::microseconds> rtt);


class IngestRepair {
 public:
  /// Send one NACK for `media_ssrc` asking for `seqs` (main loop).
  using SendNack = std::function<void(std::uint32_t media_ssrc, std::vector<std::uint16_t> seqs)>;

  IngestRepair(std::string path, int payload_type, int rtx_payload_type, std::chrono::milliseconds fixed_window,
               std::chrono::milliseconds min_latency, SendNack send);
  ~IngestRepair();
  IngestRepair(const IngestRepair&) = delete;
  IngestRepair& operator=(const IngestRepair&) = delete;

  /// The two elements, created and configured; the ingest adds and links them in this order.
  [[nodiscard]] GstElement* receiver() const { return rtx_receive_.get(); }
  [[nodiscard]] GstElement* jitter_buffer() const { return jitter_.get(); }
  /// Probes: requests on the jitter buffer's sink pad, lost events on its src pad.
  void attach();
  /// Remove probes and any pending NACK dispatch (after the pipeline has stopped).
  void detach();

  /// Streaming thread, output side: true once for every lost event since the last call.
  [[nodiscard]] bool take_loss() { return loss_pending_.exchange(false); }
  void count_frame_dropped() { frames_dropped_.fetch_add(1, std::memory_order_relaxed); }
  void count_retransmission() { rtx_received_.fetch_add(1, std::memory_order_relaxed); }
  /// Streaming thread, input side: the publisher's media SSRC (the jitter buffer's requests do not
  /// name it; rtprtxreceive and the NACK need it).
  void set_media_ssrc(std::uint32_t ssrc) { media_ssrc_.store(std::uint64_t{ssrc} | (1ULL << 32)); }

  /// Main loop, ~100 ms: read the jitter buffer's statistics, follow the RTT with the window.
  void tick();
  [[nodiscard]] RepairSnapshot snapshot() const;
  /// Main loop: unrecoverable packets so far (the ingest asks for an IDR when it grows).
  [[nodiscard]] std::uint64_t unrecoverable() const { return last_.unrecoverable; }

 private:
  static GstPadProbeReturn on_request(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn on_lost(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static gboolean dispatch_cb(gpointer self);
  void dispatch();
  void set_window(std::chrono::milliseconds w);

  std::string path_;
  std::chrono::milliseconds fixed_window_;  // 0 = auto
  std::chrono::milliseconds min_latency_;   // ingest.jitter_buffer: the window never goes below it
  SendNack send_;
  common::ElementPtr rtx_receive_;
  common::ElementPtr jitter_;
  common::PadProbe request_probe_;
  common::PadProbe lost_probe_;

  std::mutex mutex_;  // guards requests_ and dispatch_
  std::vector<std::pair<std::uint32_t, std::uint16_t>> requests_;  // (media SSRC, seq) not yet sent
  common::AttachedSourcePtr dispatch_;
  std::atomic<std::uint64_t> nacks_sent_{0};
  std::atomic<std::uint64_t> nacked_{0};
  std::atomic<std::uint64_t> rtx_received_{0};
  std::atomic<std::uint64_t> frames_dropped_{0};
  std::atomic<bool> loss_pending_{false};
  std::atomic<std::uint64_t> media_ssrc_{0};  // bit 32 set once known

  // Main loop.
  RepairSnapshot last_;
  std::chrono::milliseconds window_{0};
};

}  // namespace veter::relay
