// The publisher's incoming RTCP when srtp_key_file is set.
//
// A buffer probe on the `rtcp_src` udpsrc authenticates and decrypts SRTCP
// (libsrtp2 via common::SrtcpContext) before rtpbin sees the packet; plain,
// forged, altered, wrong-key and replayed RTCP is dropped and counted, so
// nobody without the key can make the encoder send keyframes (PLI/FIR) or
// feed rtpbin fake receiver reports.
//
// Why not srtpdec here: srtpdec creates a libsrtp stream for every unknown
// SSRC it is asked to decode (its request-key signal) before the packet has
// authenticated, so forged RTCP with random SSRCs would grow the robot's
// memory; the inbound SrtcpContext keeps a stream only after authentication.
//
// The context (and so its replay window) lives as long as the Publisher, across
// pipeline restarts. process() runs on the udpsrc streaming thread only.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "veter/common/gst_ptr.hpp"
#include "veter/common/srtcp.hpp"
#include "veter/common/srtp_key.hpp"

namespace veter::publisher {

class SrtcpFilter {
 public:
  /// Throws std::runtime_error when libsrtp2 refuses the key.
  explicit SrtcpFilter(const common::SrtpKey& key);
  SrtcpFilter(const SrtcpFilter&) = delete;
  SrtcpFilter& operator=(const SrtcpFilter&) = delete;

  /// Probe the src pad of `udpsrc` (removed by detach() or destruction).
  void attach(GstElement* udpsrc);
  void detach();

  /// One datagram: true = keep it (now plain compound RTCP); false = drop it.
  bool process(std::vector<std::uint8_t>& packet);

  [[nodiscard]] std::uint64_t accepted() const { return accepted_.load(); }
  /// Datagrams that did not authenticate, were replays or were malformed.
  [[nodiscard]] std::uint64_t rejected() const { return rejected_.load(); }

 private:
  static GstPadProbeReturn on_buffer(GstPad* pad, GstPadProbeInfo* info, gpointer self);

  common::SrtcpContext ctx_;
  common::PadProbe probe_;
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> rejected_{0};
};

}  // namespace veter::publisher
