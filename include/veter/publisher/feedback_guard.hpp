// What the publisher lets the relay's feedback make it do.
//
// * RelayOnly: RTCP (receiver reports, NACK, PLI, FIR) is read only when it comes from the
//   relay's address and RTCP port; anything else on the RTCP socket is dropped and counted
//   before rtpbin sees it (a buffer probe on the rtcp_src udpsrc).
// * Retransmission budget: rtprtxsend answers NACKs from ~1 s of history (RFC 4588 RTX on its
//   own payload type and SSRC). The requests rtpbin turns NACKs into (upstream
//   GstRTPRetransmissionRequest events) pass a token bucket first: every media packet adds
//   `budget` (0.3) of its size, every request costs the average media packet, the bucket holds
//   at most half a second of budget. A NACK flood never makes the robot send more than the
//   budget on top of the media.
//
// Threads: the RTCP probe runs on the rtcp_src streaming thread, the media probe on the
// payloader's, the request probe on rtpbin's RTCP thread; all state is under mutex_ or atomic.
// set_relay() is called on the main loop.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "veter/common/gst_ptr.hpp"

namespace veter::publisher {

/// The token bucket on its own (pure; unit-tested).
class RetransmissionBudget {
 public:
  explicit RetransmissionBudget(double share) : share_(share) {}
  /// A media packet of `bytes` was sent at `now`.
  void on_media(std::size_t bytes, std::chrono::steady_clock::time_point now);
  /// A retransmission is asked for: true = allowed (tokens taken).
  bool allow(std::chrono::steady_clock::time_point now);
  [[nodiscard]] double share() const { return share_; }

 private:
  double share_;
  double tokens_ = 0;  // bytes
  double avg_packet_ = 1200;
  double window_bytes_ = 0;  // media bytes in the current second
  double last_second_bytes_ = 0;
  std::chrono::steady_clock::time_point window_start_{};
};

class FeedbackGuard {
 public:
  explicit FeedbackGuard(double budget_share) : budget_(budget_share) {}
  FeedbackGuard(const FeedbackGuard&) = delete;
  FeedbackGuard& operator=(const FeedbackGuard&) = delete;

  /// The relay's RTCP address (main loop; again after a re-resolve).
  void set_relay(const std::string& address, int rtcp_port);
  /// Probe `rtcp_udpsrc` (RelayOnly) and, when non-null, `rtxsend` (budget).
  void attach(GstElement* rtcp_udpsrc, GstElement* rtxsend);
  void detach();

  [[nodiscard]] std::uint64_t foreign_rtcp() const { return foreign_.load(); }
  [[nodiscard]] std::uint64_t requests() const { return requests_.load(); }
  [[nodiscard]] std::uint64_t refused() const { return refused_.load(); }

 private:
  static GstPadProbeReturn on_rtcp(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn on_media(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn on_request(GstPad* pad, GstPadProbeInfo* info, gpointer self);

  std::mutex mutex_;
  std::string relay_address_;
  int relay_port_ = 0;
  RetransmissionBudget budget_;
  common::PadProbe rtcp_probe_;
  common::PadProbe media_probe_;
  common::PadProbe request_probe_;
  std::atomic<std::uint64_t> foreign_{0};
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> refused_{0};
};

}  // namespace veter::publisher
