#include "veter/publisher/encoder_probes.hpp"

#include <gst/video/video.h>

#include <cstring>

#include "veter/common/sei_timestamp.hpp"

namespace veter::publisher {

namespace {
std::int64_t monotonic_ns() { return g_get_monotonic_time() * 1000; }
}  // namespace

void EncoderProbes::attach(GstElement* encoder) {
  detach();
  eos_ = false;
  encoder_ = common::ref(encoder);
  auto pad = common::static_pad(encoder, "src");
  buffer_probe_ = common::PadProbe(
      pad.get(), gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, &EncoderProbes::on_buffer, this, nullptr));
  upstream_probe_ = common::PadProbe(pad.get(), gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
                                                                  &EncoderProbes::on_upstream_event, this, nullptr));
  downstream_probe_ = common::PadProbe(
      pad.get(), gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, &EncoderProbes::on_downstream_event,
                                   this, nullptr));
}

void EncoderProbes::detach() {
  buffer_probe_.reset();
  upstream_probe_.reset();
  downstream_probe_.reset();
  encoder_.reset();
  pending_ = false;
}

void EncoderProbes::flush_pending() {
  if (!encoder_ || !pending_.load()) {
    return;
  }
  if (monotonic_ns() - last_forward_ns_.load() < min_interval_ns_) {
    return;
  }
  pending_ = false;
  auto pad = common::static_pad(encoder_.get(), "src");
  // Goes through on_upstream_event, which now admits it.
  gst_pad_send_event(pad.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
}

std::int64_t EncoderProbes::capture_time_us(GstPad* pad, GstBuffer* buf) const {
  const std::int64_t now_us = g_get_real_time();
  GstElement* enc = encoder_.get();
  if (enc == nullptr || !GST_BUFFER_PTS_IS_VALID(buf)) {
    return now_us;
  }
  common::GstPtr<GstClock> clock(gst_element_get_clock(enc));
  if (!clock) {
    return now_us;
  }
  const GstClockTime running_now = gst_clock_get_time(clock.get()) - gst_element_get_base_time(enc);
  GstClockTime pts_running = GST_BUFFER_PTS(buf);
  if (common::EventPtr seg_event{gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0)}) {
    const GstSegment* seg = nullptr;
    gst_event_parse_segment(seg_event.get(), &seg);
    if (seg != nullptr && seg->format == GST_FORMAT_TIME) {
      pts_running = gst_segment_to_running_time(seg, GST_FORMAT_TIME, GST_BUFFER_PTS(buf));
    }
  }
  if (!GST_CLOCK_TIME_IS_VALID(pts_running) || pts_running > running_now) {
    return now_us;
  }
  return now_us - static_cast<std::int64_t>((running_now - pts_running) / 1000);
}

GstPadProbeReturn EncoderProbes::on_buffer(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<EncoderProbes*>(data);
  GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
  if (buf == nullptr) {
    return GST_PAD_PROBE_OK;
  }
  auto& c = self->counters_;
  c.frames.fetch_add(1, std::memory_order_relaxed);
  c.bytes.fetch_add(gst_buffer_get_size(buf), std::memory_order_relaxed);
  if (!GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT)) {
    c.keyframes.fetch_add(1, std::memory_order_relaxed);
  }
  const std::int64_t capture_us = self->capture_time_us(pad, buf);
  std::vector<std::uint8_t> stamped;
  {
    const common::MappedBuffer map(buf, GST_MAP_READ);
    if (!map) {
      c.unstamped.fetch_add(1, std::memory_order_relaxed);
      return GST_PAD_PROBE_OK;
    }
    try {
      stamped = common::sei::insert_timestamp_annexb(map.bytes(), capture_us);
    } catch (...) {
      stamped.clear();  // callbacks never throw
    }
  }
  if (stamped.empty()) {
    c.unstamped.fetch_add(1, std::memory_order_relaxed);
    return GST_PAD_PROBE_OK;
  }
  auto out = common::buffer_copy_of(stamped.data(), stamped.size());
  gst_buffer_copy_into(out.get(), buf,
                       static_cast<GstBufferCopyFlags>(GST_BUFFER_COPY_FLAGS | GST_BUFFER_COPY_TIMESTAMPS |
                                                       GST_BUFFER_COPY_META),
                       0, static_cast<gsize>(-1));
  // The probe owns info->data: the original goes (unreffed here), the stamped copy takes its place.
  const common::BufferPtr original(buf);
  GST_PAD_PROBE_INFO_DATA(info) = out.release();
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn EncoderProbes::on_upstream_event(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<EncoderProbes*>(data);
  GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
  if (ev == nullptr || !gst_video_event_is_force_key_unit(ev)) {
    return GST_PAD_PROBE_OK;
  }
  self->counters_.key_requests.fetch_add(1, std::memory_order_relaxed);
  const std::int64_t now = monotonic_ns();
  std::int64_t last = self->last_forward_ns_.load();
  if (last != 0 && now - last < self->min_interval_ns_) {
    self->pending_ = true;  // replayed by flush_pending() when the window has passed
    return GST_PAD_PROBE_DROP;
  }
  if (!self->last_forward_ns_.compare_exchange_strong(last, now)) {
    self->pending_ = true;  // another thread forwarded one just now
    return GST_PAD_PROBE_DROP;
  }
  self->counters_.key_forwarded.fetch_add(1, std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn EncoderProbes::on_downstream_event(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<EncoderProbes*>(data);
  GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
  if (ev != nullptr && GST_EVENT_TYPE(ev) == GST_EVENT_EOS) {
    self->eos_ = true;
  }
  // GstVideoEncoder announces a forced keyframe with a downstream force-key-unit event.
  if (ev != nullptr && gst_video_event_is_force_key_unit(ev)) {
    self->counters_.forced_idrs.fetch_add(1, std::memory_order_relaxed);
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace veter::publisher
