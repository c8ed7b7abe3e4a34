#include "veter/relay/fanout.hpp"

#include <gst/app/gstappsrc.h>
#include <gst/base/gstbasesink.h>

#include <algorithm>
#include <span>

#include "veter/relay/h264_scan.hpp"

#include <spdlog/spdlog.h>

namespace veter::relay {

struct Fanout::Entry {
  GstRTSPMedia* media = nullptr;  // identity only; lifetime tracked by the signal below
  common::ElementPtr appsrc;
  common::SignalConnection unprepared;
  common::PadProbe payload_probe;
  common::SignalConnection sink_added;  // zero processing deadline for the media's sinks
  common::SignalConnection need_data;   // parameter sets as soon as the media runs
  bool started = false;  // has received its first buffer (parameter sets first)
};

namespace {
// GstBaseSink reserves a 20 ms processing deadline in live pipelines, and the
// shared media's sinks (added by gst-rtsp-server when it prepares the media)
// sync to the clock: every access unit, stamped "now" by the appsrc, would wait
// 20 ms before leaving. Nothing in the media needs processing time, so each
// sink gets a zero deadline and packets go out as soon as they are payloaded.
void on_deep_element_added(GstBin* /*pipeline*/, GstBin* /*sub_bin*/, GstElement* element, gpointer /*unused*/) {
  if (GST_IS_BASE_SINK(element)) {
    g_object_set(element, "processing-deadline", static_cast<guint64>(0), nullptr);
  }
}

// The shared media: no queue, no jitter buffer, only the payloader.
constexpr const char* kLaunch =
    "( appsrc name=src is-live=true format=time do-timestamp=true min-latency=0 "
    "! rtph264pay name=pay0 pt=96 config-interval=-1 )";
}  // namespace

namespace {
GstBuffer* restamped(GstBuffer* buf) {
  // A new buffer header sharing the memory; the appsrc stamps it with its own
  // running time (do-timestamp), so publisher clock jumps never reach viewers.
  GstBuffer* copy = gst_buffer_copy(buf);
  GST_BUFFER_PTS(copy) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DTS(copy) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION(copy) = GST_CLOCK_TIME_NONE;
  return copy;
}

bool is_playing(GstElement* e) {
  GST_OBJECT_LOCK(e);
  const bool playing = GST_STATE(e) == GST_STATE_PLAYING;
  GST_OBJECT_UNLOCK(e);
  return playing;
}
}  // namespace

Fanout::Fanout(std::string path_name, GstRTSPLowerTrans protocols) : name_(std::move(path_name)) {
  factory_ = common::adopt(gst_rtsp_media_factory_new());
  gst_rtsp_media_factory_set_launch(factory_.get(), kLaunch);
  gst_rtsp_media_factory_set_shared(factory_.get(), TRUE);
  gst_rtsp_media_factory_set_suspend_mode(factory_.get(), GST_RTSP_SUSPEND_MODE_NONE);
  gst_rtsp_media_factory_set_protocols(factory_.get(), protocols);
  gst_rtsp_media_factory_set_latency(factory_.get(), 0);
  gst_rtsp_media_factory_set_eos_shutdown(factory_.get(), FALSE);
  configure_ = common::SignalConnection(
      factory_.get(), g_signal_connect(factory_.get(), "media-configure", G_CALLBACK(&Fanout::on_media_configure), this));
}

Fanout::~Fanout() {
  configure_.disconnect();
  std::lock_guard lock(mutex_);
  entries_.clear();
}

void Fanout::on_media_configure(GstRTSPMediaFactory*, GstRTSPMedia* media, gpointer self) {
  static_cast<Fanout*>(self)->attach(media);
}

void Fanout::on_media_unprepared(GstRTSPMedia* media, gpointer self) { static_cast<Fanout*>(self)->detach(media); }

GstPadProbeReturn Fanout::on_payload(GstPad*, GstPadProbeInfo* info, gpointer self) {
  auto* me = static_cast<Fanout*>(self);
  std::uint64_t bytes = 0;
  if ((info->type & GST_PAD_PROBE_TYPE_BUFFER) != 0U) {
    bytes = gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info));
  } else if ((info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) != 0U) {
    bytes = gst_buffer_list_calculate_size(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
  }
  me->payload_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  me->bytes_sent_.fetch_add(bytes * static_cast<std::uint64_t>(std::max(0, me->playing_.load())),
                            std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

void Fanout::on_need_data(GstElement* appsrc, guint /*length*/, gpointer self) {
  // Emitted from the appsrc's streaming thread whenever its queue is empty; a
  // live appsrc only gets here in PLAYING, when it has a clock to stamp with.
  auto* me = static_cast<Fanout*>(self);
  std::lock_guard lock(me->mutex_);
  for (auto& e : me->entries_) {
    if (e->appsrc.get() == appsrc && !e->started && me->parameter_sets_) {
      e->started = true;
      gst_app_src_push_buffer(GST_APP_SRC(appsrc), restamped(me->parameter_sets_.get()));
    }
  }
}

void Fanout::attach(GstRTSPMedia* media) {
  common::ElementPtr bin(gst_rtsp_media_get_element(media));
  auto entry = std::make_unique<Entry>();
  entry->media = media;
  entry->appsrc = common::bin_child(bin.get(), "src");
  if (!entry->appsrc) {
    spdlog::error("path {}: media without appsrc", name_);
    return;
  }
  if (common::GstPtr<GstObject> pipeline{gst_object_get_parent(GST_OBJECT(bin.get()))}) {
    entry->sink_added = common::SignalConnection(
        pipeline.get(),
        g_signal_connect(pipeline.get(), "deep-element-added", G_CALLBACK(&on_deep_element_added), nullptr));
  }
  common::CapsPtr caps(gst_caps_from_string("video/x-h264,stream-format=byte-stream,alignment=au"));
  g_object_set(entry->appsrc.get(), "caps", caps.get(), "max-bytes", static_cast<guint64>(2 * 1024 * 1024),
               "leaky-type", 2 /* downstream: drop the oldest */, nullptr);
  if (auto pay = common::bin_child(bin.get(), "pay0")) {
    auto pad = common::static_pad(pay.get(), "src");
    entry->payload_probe = common::PadProbe(
        pad.get(), gst_pad_add_probe(pad.get(),
                                     static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER |
                                                                  GST_PAD_PROBE_TYPE_BUFFER_LIST),
                                     &Fanout::on_payload, this, nullptr));
  }
  // A new media prerolls (and answers DESCRIBE) once its payloader has sent a
  // first packet. Handing it the known SPS/PPS the moment the appsrc runs
  // completes that at once instead of after the publisher's next frame, which
  // took up to a frame interval (~31 ms measured at 30 fps) off every first
  // viewer's DESCRIBE.
  entry->need_data = common::SignalConnection(
      entry->appsrc.get(), g_signal_connect(entry->appsrc.get(), "need-data", G_CALLBACK(&Fanout::on_need_data), this));
  entry->unprepared = common::SignalConnection(
      media, g_signal_connect(media, "unprepared", G_CALLBACK(&Fanout::on_media_unprepared), this));
  spdlog::debug("path {}: shared media created", name_);
  std::lock_guard lock(mutex_);
  entries_.push_back(std::move(entry));
}

void Fanout::detach(GstRTSPMedia* media) {
  std::unique_ptr<Entry> gone;
  {
    std::lock_guard lock(mutex_);
    auto it = std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) { return e->media == media; });
    if (it == entries_.end()) {
      return;
    }
    gone = std::move(*it);
    entries_.erase(it);
  }
  spdlog::debug("path {}: shared media released", name_);
  // `gone` (signal connection, probe, appsrc ref) is released outside the lock.
}

bool Fanout::has_media() const {
  std::lock_guard lock(mutex_);
  return !entries_.empty();
}


void Fanout::push(GstBuffer* au) {
  if (!GST_BUFFER_FLAG_IS_SET(au, GST_BUFFER_FLAG_DELTA_UNIT)) {
    // Keyframe: remember its SPS/PPS for medias created later, so their SDP
    // carries sprop-parameter-sets from the first packet on.
    GstMapInfo map;
    if (gst_buffer_map(au, &map, GST_MAP_READ)) {
      auto ps = extract_parameter_sets(std::span<const std::uint8_t>(map.data, map.size));
      gst_buffer_unmap(au, &map);
      if (!ps.empty()) {
        const auto size = ps.size();
        auto* vec = new std::vector<std::uint8_t>(std::move(ps));
        common::BufferPtr buf(gst_buffer_new_wrapped_full(
            GST_MEMORY_FLAG_READONLY, vec->data(), size, 0, size, vec,
            [](gpointer p) { delete static_cast<std::vector<std::uint8_t>*>(p); }));
        std::lock_guard lock(mutex_);
        parameter_sets_ = std::move(buf);
      }
    }
  }
  std::lock_guard lock(mutex_);
  for (auto& e : entries_) {
    // Before PLAYING the appsrc has no clock to stamp with, and nobody receives yet.
    if (!is_playing(e->appsrc.get())) {
      continue;
    }
    if (!e->started) {
      e->started = true;
      if (parameter_sets_) {
        gst_app_src_push_buffer(GST_APP_SRC(e->appsrc.get()), restamped(parameter_sets_.get()));
      }
    }
    gst_app_src_push_buffer(GST_APP_SRC(e->appsrc.get()), restamped(au));
  }
}

}  // namespace veter::relay
