// A test-side H.264 RTP receiver: udpsrc -> rtph264depay -> h264parse ->
// avdec_h264 -> appsink, in the test process. Records every decoded frame's size,
// every access unit's veter capture-time SEI and keyframe flag with its arrival
// time, the sender's SSRC and source port; also owns the RTCP port (rtp_port+1)
// to see the sender's reports and to send it feedback (PLI).
#pragma once

#include <gio/gio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "veter/common/gst_ptr.hpp"

namespace veter::test {

class RtpH264Receiver {
 public:
  struct AccessUnit {
    std::optional<std::int64_t> capture_us;  // veter SEI, if present
    bool keyframe = false;
    std::chrono::steady_clock::time_point arrival;
  };

  /// Binds 127.0.0.1:rtp_port and rtp_port+1; receives once start() is called.
  explicit RtpH264Receiver(int rtp_port);
  RtpH264Receiver(const RtpH264Receiver&) = delete;
  RtpH264Receiver& operator=(const RtpH264Receiver&) = delete;
  ~RtpH264Receiver();

  void start();
  void stop();

  [[nodiscard]] std::size_t decoded_frames() const;
  /// Size of the last decoded frame (0x0 before any).
  [[nodiscard]] std::pair<int, int> last_size() const;
  [[nodiscard]] std::vector<AccessUnit> access_units() const;
  [[nodiscard]] std::optional<std::uint32_t> ssrc() const;
  /// Source port of the RTP packets (0 before any).
  [[nodiscard]] int rtp_sender_port() const;
  /// Wait (bounded) until at least `n` frames were decoded.
  bool wait_for_frames(std::size_t n, std::chrono::milliseconds timeout) const;

  /// Receive on the RTCP port until a packet arrives; returns its source port.
  std::optional<int> wait_rtcp_sender_port(std::chrono::milliseconds timeout);
  /// Send a 12-byte RTCP PSFB PLI (RFC 4585) for `media_ssrc` from the RTCP port.
  void send_pli(std::uint32_t media_ssrc, const std::string& host, int port);
  /// Send a compound RTCP packet, empty RR + PSFB FIR (RFC 5104), asking `media_ssrc` for a keyframe.
  void send_fir(std::uint32_t media_ssrc, std::uint8_t seq, const std::string& host, int port);

 private:
  void send_rtcp(const std::uint8_t* data, std::size_t size, const std::string& host, int port);
  static GstPadProbeReturn on_rtp(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn on_au(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static GstFlowReturn on_sample(GstAppSink* sink, gpointer self);

  int port_;
  common::GObjectPtr<GSocket> rtp_socket_;
  common::GObjectPtr<GSocket> rtcp_socket_;
  common::ElementPtr pipeline_;
  common::PadProbe rtp_probe_;
  common::PadProbe au_probe_;
  mutable std::mutex mu_;
  std::size_t frames_ = 0;
  std::pair<int, int> size_{0, 0};
  std::vector<AccessUnit> aus_;
  std::optional<std::uint32_t> ssrc_;
  int sender_port_ = 0;
};

}  // namespace veter::test
