#include "rtsp_viewer.hpp"

#include <gst/app/gstappsink.h>

#include <thread>

namespace veter::test {

void init_gstreamer_once() {
  static std::once_flag once;
  std::call_once(once, [] { gst_init(nullptr, nullptr); });
}

RtspViewer::RtspViewer(std::string url, std::string protocols, int latency_ms)
    : url_(std::move(url)), protocols_(std::move(protocols)), latency_ms_(latency_ms) {
  init_gstreamer_once();
}

RtspViewer::~RtspViewer() { stop(); }

bool RtspViewer::start() {
  const std::string latency = latency_ms_ == kDefaultLatency ? "" : " latency=" + std::to_string(latency_ms_);
  const std::string desc = "rtspsrc name=src" + latency + " protocols=" + protocols_ + " location=" + url_ +
                           " ! rtph264depay ! h264parse ! avdec_h264 max-threads=1 "
                           "! appsink name=sink sync=false emit-signals=true max-buffers=2 drop=true";
  GError* err = nullptr;
  auto pipeline = common::adopt_floating(gst_parse_launch(desc.c_str(), &err));
  common::GErrorPtr error(err);
  if (error || !pipeline) {
    error_ = error ? error->message : "cannot build the viewer pipeline";
    return false;
  }
  pipeline_ = std::move(pipeline);
  auto sink = common::bin_child(pipeline_.get(), "sink");
  g_signal_connect(sink.get(), "new-sample", G_CALLBACK(&RtspViewer::on_sample), this);
  started_ = std::chrono::steady_clock::now();
  gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING);
  return true;
}

void RtspViewer::stop() {
  if (pipeline_) {
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    pipeline_.reset();
  }
}

GstFlowReturn RtspViewer::on_sample(GstElement* sink, gpointer self) {
  auto* me = static_cast<RtspViewer*>(self);
  common::SamplePtr sample(gst_app_sink_pull_sample(GST_APP_SINK(sink)));
  if (!sample) {
    return GST_FLOW_OK;
  }
  if (me->width_.load() == 0) {
    if (GstCaps* caps = gst_sample_get_caps(sample.get()); caps != nullptr && gst_caps_get_size(caps) > 0) {
      const GstStructure* s = gst_caps_get_structure(caps, 0);
      int w = 0;
      int h = 0;
      gst_structure_get_int(s, "width", &w);
      gst_structure_get_int(s, "height", &h);
      me->width_.store(w);
      me->height_.store(h);
    }
  }
  if (me->frames_.fetch_add(1) == 0) {
    me->first_frame_ns_.store(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - me->started_).count());
  }
  return GST_FLOW_OK;
}

std::optional<double> RtspViewer::first_frame_ms() const {
  const auto ns = first_frame_ns_.load();
  if (ns < 0) {
    return std::nullopt;
  }
  return static_cast<double>(ns) / 1e6;
}

void RtspViewer::poll() {
  if (!pipeline_) {
    return;
  }
  common::BusPtr bus(gst_element_get_bus(pipeline_.get()));
  while (true) {
    common::MessagePtr msg(gst_bus_pop(bus.get()));
    if (!msg) {
      break;
    }
    if (GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_EOS) {
      eos_ = true;
    } else if (GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_ERROR && !error_) {
      GError* err = nullptr;
      gst_message_parse_error(msg.get(), &err, nullptr);
      common::GErrorPtr e(err);
      error_ = e ? e->message : "error";
    }
  }
}

bool RtspViewer::wait_frames(int n, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    poll();
    if (frames_.load() >= n) {
      return true;
    }
    if (eos_ || error_) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  poll();
  return frames_.load() >= n;
}

bool RtspViewer::wait_error(std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    poll();
    if (eos_ || error_) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace veter::test
