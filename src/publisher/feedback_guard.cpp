#include "veter/publisher/feedback_guard.hpp"

#include <gio/gio.h>
#include <gst/net/gstnetaddressmeta.h>

#include <algorithm>

namespace veter::publisher {

using Clock = std::chrono::steady_clock;

void RetransmissionBudget::on_media(std::size_t bytes, Clock::time_point now) {
  if (now - window_start_ >= std::chrono::seconds(1)) {
    last_second_bytes_ = now - window_start_ >= std::chrono::seconds(2) ? window_bytes_ / 2 : window_bytes_;
    window_bytes_ = 0;
    window_start_ = now;
  }
  window_bytes_ += static_cast<double>(bytes);
  avg_packet_ = avg_packet_ * 0.95 + static_cast<double>(bytes) * 0.05;
  const double cap = share_ * std::max(last_second_bytes_, window_bytes_) / 2;  // half a second of budget
  tokens_ = std::min(tokens_ + share_ * static_cast<double>(bytes), std::max(cap, avg_packet_));
}

bool RetransmissionBudget::allow(Clock::time_point) {
  if (tokens_ < avg_packet_) {
    return false;
  }
  tokens_ -= avg_packet_;
  return true;
}

void FeedbackGuard::set_relay(const std::string& address, int rtcp_port) {
  std::lock_guard lock(mutex_);
  relay_address_ = address;
  relay_port_ = rtcp_port;
}

void FeedbackGuard::attach(GstElement* rtcp_udpsrc, GstElement* rtxsend) {
  detach();
  auto pad = common::static_pad(rtcp_udpsrc, "src");
  rtcp_probe_ = common::PadProbe(
      pad.get(), gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, &FeedbackGuard::on_rtcp, this, nullptr));
  if (rtxsend != nullptr) {
    auto sink = common::static_pad(rtxsend, "sink");
    auto src = common::static_pad(rtxsend, "src");
    media_probe_ = common::PadProbe(
        sink.get(), gst_pad_add_probe(sink.get(), static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER |
                                                                                GST_PAD_PROBE_TYPE_BUFFER_LIST),
                                      &FeedbackGuard::on_media, this, nullptr));
    request_probe_ = common::PadProbe(
        src.get(),
        gst_pad_add_probe(src.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, &FeedbackGuard::on_request, this, nullptr));
  }
}

void FeedbackGuard::detach() {
  rtcp_probe_.reset();
  media_probe_.reset();
  request_probe_.reset();
}

GstPadProbeReturn FeedbackGuard::on_rtcp(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<FeedbackGuard*>(data);
  GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
  if (buf == nullptr) {
    return GST_PAD_PROBE_OK;
  }
  auto* meta = gst_buffer_get_net_address_meta(buf);
  bool from_relay = false;
  if (meta != nullptr && G_IS_INET_SOCKET_ADDRESS(meta->addr)) {
    auto* isa = G_INET_SOCKET_ADDRESS(meta->addr);
    const common::GCharPtr host(g_inet_address_to_string(g_inet_socket_address_get_address(isa)));
    const int port = g_inet_socket_address_get_port(isa);
    std::lock_guard lock(self->mutex_);
    from_relay = host && self->relay_address_ == host.get() && port == self->relay_port_;
  }
  if (!from_relay) {
    self->foreign_.fetch_add(1, std::memory_order_relaxed);
    return GST_PAD_PROBE_DROP;
  }
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn FeedbackGuard::on_media(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<FeedbackGuard*>(data);
  std::size_t bytes = 0;
  std::size_t packets = 0;
  if (GstBuffer* b = GST_PAD_PROBE_INFO_BUFFER(info); (info->type & GST_PAD_PROBE_TYPE_BUFFER) != 0 && b) {
    bytes = gst_buffer_get_size(b);
    packets = 1;
  } else if (GstBufferList* l = GST_PAD_PROBE_INFO_BUFFER_LIST(info); l != nullptr) {
    packets = gst_buffer_list_length(l);
    for (guint i = 0; i < packets; ++i) {
      bytes += gst_buffer_get_size(gst_buffer_list_get(l, i));
    }
  }
  if (packets > 0) {
    const auto now = Clock::now();
    std::lock_guard lock(self->mutex_);
    for (std::size_t i = 0; i < packets; ++i) {
      self->budget_.on_media(bytes / packets, now);
    }
  }
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn FeedbackGuard::on_request(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<FeedbackGuard*>(data);
  GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
  if (ev == nullptr || !gst_event_has_name(ev, "GstRTPRetransmissionRequest")) {
    return GST_PAD_PROBE_OK;
  }
  self->requests_.fetch_add(1, std::memory_order_relaxed);
  bool ok = false;
  {
    std::lock_guard lock(self->mutex_);
    ok = self->budget_.allow(Clock::now());
  }
  if (!ok) {
    self->refused_.fetch_add(1, std::memory_order_relaxed);
    return GST_PAD_PROBE_DROP;
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace veter::publisher
