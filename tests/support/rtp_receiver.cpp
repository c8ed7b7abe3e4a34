#include "rtp_receiver.hpp"

#include <gst/app/gstappsink.h>
#include <gst/net/gstnetaddressmeta.h>
#include <gst/rtp/gstrtpbuffer.h>

#include <array>
#include <stdexcept>
#include <thread>

#include "veter/common/sei_timestamp.hpp"

namespace veter::test {

namespace {

common::GObjectPtr<GSocket> bind_loopback(int port) {
  GError* raw = nullptr;
  common::GObjectPtr<GSocket> s(g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &raw));
  common::GErrorPtr err(raw);
  if (!s) {
    throw std::runtime_error("socket: " + std::string(err ? err->message : "?"));
  }
  common::GObjectPtr<GInetAddress> lo(g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4));
  common::GObjectPtr<GSocketAddress> addr(g_inet_socket_address_new(lo.get(), static_cast<guint16>(port)));
  if (!g_socket_bind(s.get(), addr.get(), TRUE, &raw)) {
    err.reset(raw);
    throw std::runtime_error("bind " + std::to_string(port) + ": " + std::string(err ? err->message : "?"));
  }
  return s;
}

}  // namespace

RtpH264Receiver::RtpH264Receiver(int rtp_port)
    : port_(rtp_port), rtp_socket_(bind_loopback(rtp_port)), rtcp_socket_(bind_loopback(rtp_port + 1)) {
  if (!gst_is_initialized()) {
    gst_init(nullptr, nullptr);
  }
}

RtpH264Receiver::~RtpH264Receiver() { stop(); }

void RtpH264Receiver::start() {
  GError* raw = nullptr;
  pipeline_ = common::adopt_floating(gst_parse_launch(
      "udpsrc name=src caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96\" ! "
      "rtph264depay ! h264parse name=parse ! video/x-h264,stream-format=byte-stream,alignment=au ! avdec_h264 ! "
      "appsink name=sink sync=false",
      &raw));
  common::GErrorPtr err(raw);
  if (!pipeline_ || err) {
    throw std::runtime_error("receiver pipeline: " + std::string(err ? err->message : "?"));
  }
  auto src = common::bin_child(pipeline_.get(), "src");
  g_object_set(src.get(), "socket", rtp_socket_.get(), "close-socket", FALSE, nullptr);
  auto src_pad = common::static_pad(src.get(), "src");
  rtp_probe_ = common::PadProbe(src_pad.get(), gst_pad_add_probe(src_pad.get(), GST_PAD_PROBE_TYPE_BUFFER,
                                                                 &RtpH264Receiver::on_rtp, this, nullptr));
  auto parse = common::bin_child(pipeline_.get(), "parse");
  auto parse_pad = common::static_pad(parse.get(), "src");
  au_probe_ = common::PadProbe(parse_pad.get(), gst_pad_add_probe(parse_pad.get(), GST_PAD_PROBE_TYPE_BUFFER,
                                                                  &RtpH264Receiver::on_au, this, nullptr));
  auto sink = common::bin_child(pipeline_.get(), "sink");
  GstAppSinkCallbacks cb{};
  cb.new_sample = &RtpH264Receiver::on_sample;
  gst_app_sink_set_callbacks(GST_APP_SINK(sink.get()), &cb, this, nullptr);
  gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING);
}

void RtpH264Receiver::stop() {
  if (pipeline_) {
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    rtp_probe_.reset();
    au_probe_.reset();
    pipeline_.reset();
  }
}

GstPadProbeReturn RtpH264Receiver::on_rtp(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<RtpH264Receiver*>(data);
  GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
  std::lock_guard lock(self->mu_);
  if (!self->ssrc_) {
    if (common::MappedRtpBuffer rtp(buf, GST_MAP_READ); rtp) {
      self->ssrc_ = gst_rtp_buffer_get_ssrc(rtp.get());
    }
  }
  if (GstNetAddressMeta* meta = gst_buffer_get_net_address_meta(buf)) {
    self->sender_port_ = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(meta->addr));
  }
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn RtpH264Receiver::on_au(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<RtpH264Receiver*>(data);
  GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
  AccessUnit au;
  au.arrival = std::chrono::steady_clock::now();
  bool has_picture = false;
  if (const common::MappedBuffer map(buf, GST_MAP_READ); map) {
    const std::span<const std::uint8_t> bytes = map.bytes();
    // Classify by the NAL units themselves: IDR slice (5) = keyframe; any slice (1..5) = a picture.
    common::sei::for_each_annexb_nal(bytes, [&](std::span<const std::uint8_t> nal) {
      const int type = nal.empty() ? 0 : (nal[0] & 0x1f);
      has_picture = has_picture || (type >= 1 && type <= 5);
      au.keyframe = au.keyframe || type == 5;
    });
    au.capture_us = common::sei::find_timestamp_annexb(bytes);
  }
  if (!has_picture) {
    return GST_PAD_PROBE_OK;  // parameter sets on their own are not an access unit with a picture
  }
  std::lock_guard lock(self->mu_);
  self->aus_.push_back(au);
  return GST_PAD_PROBE_OK;
}

GstFlowReturn RtpH264Receiver::on_sample(GstAppSink* sink, gpointer data) {
  auto* self = static_cast<RtpH264Receiver*>(data);
  common::SamplePtr sample(gst_app_sink_pull_sample(sink));
  if (!sample) {
    return GST_FLOW_OK;
  }
  int w = 0;
  int h = 0;
  if (GstCaps* caps = gst_sample_get_caps(sample.get())) {
    const GstStructure* s = gst_caps_get_structure(caps, 0);
    gst_structure_get_int(s, "width", &w);
    gst_structure_get_int(s, "height", &h);
  }
  std::lock_guard lock(self->mu_);
  ++self->frames_;
  self->size_ = {w, h};
  return GST_FLOW_OK;
}

std::size_t RtpH264Receiver::decoded_frames() const {
  std::lock_guard lock(mu_);
  return frames_;
}

std::pair<int, int> RtpH264Receiver::last_size() const {
  std::lock_guard lock(mu_);
  return size_;
}

std::vector<RtpH264Receiver::AccessUnit> RtpH264Receiver::access_units() const {
  std::lock_guard lock(mu_);
  return aus_;
}

std::optional<std::uint32_t> RtpH264Receiver::ssrc() const {
  std::lock_guard lock(mu_);
  return ssrc_;
}

int RtpH264Receiver::rtp_sender_port() const {
  std::lock_guard lock(mu_);
  return sender_port_;
}

bool RtpH264Receiver::wait_for_frames(std::size_t n, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (decoded_frames() >= n) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return decoded_frames() >= n;
}

std::optional<int> RtpH264Receiver::wait_rtcp_sender_port(std::chrono::milliseconds timeout) {
  g_socket_set_timeout(rtcp_socket_.get(), static_cast<guint>((timeout.count() + 999) / 1000));
  std::array<char, 1500> buf{};
  GSocketAddress* raw_from = nullptr;
  GError* raw = nullptr;
  const gssize n = g_socket_receive_from(rtcp_socket_.get(), &raw_from, buf.data(), buf.size(), nullptr, &raw);
  common::GErrorPtr err(raw);
  common::GObjectPtr<GSocketAddress> from(raw_from);
  if (n <= 0 || !from) {
    return std::nullopt;
  }
  return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(from.get()));
}

void RtpH264Receiver::send_pli(std::uint32_t media_ssrc, const std::string& host, int port) {
  // V=2 P=0 FMT=1 | PT=206 (PSFB) | length=2 (words - 1) | sender SSRC | media SSRC
  const std::uint32_t sender = 0x7e57'0001;
  const std::array<std::uint8_t, 12> pli = {0x81,
                                            206,
                                            0x00,
                                            0x02,
                                            static_cast<std::uint8_t>(sender >> 24),
                                            static_cast<std::uint8_t>(sender >> 16),
                                            static_cast<std::uint8_t>(sender >> 8),
                                            static_cast<std::uint8_t>(sender),
                                            static_cast<std::uint8_t>(media_ssrc >> 24),
                                            static_cast<std::uint8_t>(media_ssrc >> 16),
                                            static_cast<std::uint8_t>(media_ssrc >> 8),
                                            static_cast<std::uint8_t>(media_ssrc)};
  send_rtcp(pli.data(), pli.size(), host, port);
}

void RtpH264Receiver::send_fir(std::uint32_t media_ssrc, std::uint8_t seq, const std::string& host, int port) {
  // Compound RTCP as a relay sends it: an empty RR (so rtpsession knows the sender, which it
  // requires for FIR) followed by a PSFB FIR (RFC 5104): V=2 FMT=4 | PT=206 | length=4 |
  // sender SSRC | media SSRC (0) | FCI: target SSRC, seq nr, reserved.
  const std::uint32_t sender = 0x7e57'0001;
  auto be32 = [](std::vector<std::uint8_t>& v, std::uint32_t x) {
    v.insert(v.end(), {static_cast<std::uint8_t>(x >> 24), static_cast<std::uint8_t>(x >> 16),
                       static_cast<std::uint8_t>(x >> 8), static_cast<std::uint8_t>(x)});
  };
  std::vector<std::uint8_t> pkt = {0x80, 201, 0x00, 0x01};  // RR, RC=0, length 1
  be32(pkt, sender);
  pkt.insert(pkt.end(), {0x84, 206, 0x00, 0x04});  // PSFB FMT=4 (FIR), length 4
  be32(pkt, sender);
  be32(pkt, 0);
  be32(pkt, media_ssrc);
  pkt.insert(pkt.end(), {seq, 0, 0, 0});
  send_rtcp(pkt.data(), pkt.size(), host, port);
}

void RtpH264Receiver::send_rtcp(const std::uint8_t* data, std::size_t size, const std::string& host, int port) {
  common::GObjectPtr<GInetAddress> a(g_inet_address_new_from_string(host.c_str()));
  common::GObjectPtr<GSocketAddress> to(g_inet_socket_address_new(a.get(), static_cast<guint16>(port)));
  GError* raw = nullptr;
  g_socket_send_to(rtcp_socket_.get(), to.get(), reinterpret_cast<const gchar*>(data), size, nullptr, &raw);
  common::GErrorPtr err(raw);
  if (err) {
    throw std::runtime_error(std::string("send RTCP: ") + err->message);
  }
}

}  // namespace veter::test
