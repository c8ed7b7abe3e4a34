#include "veter/relay/ingest/ingest_repair.hpp"

#include <algorithm>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace veter::relay {

using namespace std::chrono_literals;

namespace {

constexpr auto kMaxAutoWindow = 150ms;
constexpr auto kMinAutoWindow = 30ms;
constexpr auto kDetection = 40ms;
constexpr int kMaxRetries = 3;

std::uint64_t u64(const GstStructure* s, const char* field) {
  guint64 v = 0;
  return gst_structure_get_uint64(s, field, &v) ? v : 0;
}

/// The jitter buffer asks for the clock rate when its caps lack it (SRTP's decoder output).
GstCaps* on_request_pt_map(GstElement*, guint pt, gpointer) {
  return gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "video", "clock-rate", G_TYPE_INT, 90000,
                             "encoding-name", G_TYPE_STRING, "H264", "payload", G_TYPE_INT, static_cast<int>(pt),
                             nullptr);
}

}  // namespace

std::chrono::milliseconds auto_repair_window(std::optional<std::chrono::microseconds> rtt) {
  if (!rtt) {
    return kMaxAutoWindow;
  }
  // + 40 ms: a lost last packet of a frame is only noticed when the next frame starts
  // (33 ms later at 30 fps), and the jitter buffer's deadline counts from the missing packet.
  const auto w = std::chrono::duration_cast<std::chrono::milliseconds>(*rtt * 3 / 2) + 20ms + kDetection;
  return std::clamp<std::chrono::milliseconds>(w, kMinAutoWindow, kMaxAutoWindow);
}

IngestRepair::IngestRepair(std::string path, int payload_type, int rtx_payload_type,
                           std::chrono::milliseconds fixed_window, std::chrono::milliseconds min_latency,
                           SendNack send)
    : path_(std::move(path)),
      fixed_window_(fixed_window),
      min_latency_(min_latency),
      send_(std::move(send)),
      rtx_receive_(common::make_element("rtprtxreceive", "rtx")),
      jitter_(common::make_element("rtpjitterbuffer", "repair")) {
  common::StructurePtr map(gst_structure_new_empty("application/x-rtp-pt-map"));
  // Keyed by the original payload type, valued by its retransmission type (as on rtprtxsend).
  gst_structure_set(map.get(), std::to_string(payload_type).c_str(), G_TYPE_UINT,
                    static_cast<guint>(rtx_payload_type), nullptr);
  g_object_set(rtx_receive_.get(), "payload-type-map", map.get(), nullptr);
  // In-sequence packets leave at once; a gap holds what follows for at most `latency`.
  // faststart: start after two packets in sequence instead of waiting a latency.
  g_object_set(jitter_.get(), "do-retransmission", TRUE, "do-lost", TRUE, "rtx-max-retries", kMaxRetries,
               "faststart-min-packets", 2u, "drop-on-latency", FALSE, nullptr);
  g_signal_connect(jitter_.get(), "request-pt-map", G_CALLBACK(&on_request_pt_map), nullptr);
  set_window(fixed_window_.count() > 0 ? fixed_window_ : auto_repair_window(std::nullopt));
  last_.enabled = true;
  last_.repair_window_auto = fixed_window_.count() == 0;
}

IngestRepair::~IngestRepair() { detach(); }

void IngestRepair::set_window(std::chrono::milliseconds w) {
  w = std::max(w, min_latency_);
  if (w == window_) {
    return;
  }
  if (window_.count() != 0) {
    spdlog::debug("path {}: repair window {} ms -> {} ms", path_, window_.count(), w.count());
  }
  window_ = w;
  g_object_set(jitter_.get(), "latency", static_cast<guint>(w.count()), nullptr);
  last_.repair_window_ms = static_cast<double>(w.count());
}

void IngestRepair::attach() {
  auto sink = common::static_pad(jitter_.get(), "sink");
  auto src = common::static_pad(jitter_.get(), "src");
  request_probe_ = common::PadProbe(
      sink.get(), gst_pad_add_probe(sink.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, &IngestRepair::on_request, this,
                                    nullptr));
  lost_probe_ = common::PadProbe(
      src.get(), gst_pad_add_probe(src.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, &IngestRepair::on_lost, this,
                                   nullptr));
}

void IngestRepair::detach() {
  request_probe_.reset();
  lost_probe_.reset();
  std::lock_guard lock(mutex_);
  dispatch_.reset();
  requests_.clear();
}

GstPadProbeReturn IngestRepair::on_request(GstPad*, GstPadProbeInfo* info, gpointer self) {
  GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
  const GstStructure* s = ev != nullptr ? gst_event_get_structure(ev) : nullptr;
  if (s == nullptr || !gst_structure_has_name(s, "GstRTPRetransmissionRequest")) {
    return GST_PAD_PROBE_OK;
  }
  auto* me = static_cast<IngestRepair*>(self);
  guint seq = 0;
  guint ssrc = 0;
  if (!gst_structure_get_uint(s, "seqnum", &seq)) {
    return GST_PAD_PROBE_OK;
  }
  if (!gst_structure_get_uint(s, "ssrc", &ssrc)) {
    // rtpbin's ssrc demuxer would add it; here we name the one media source ourselves.
    const std::uint64_t known = me->media_ssrc_.load();
    if ((known >> 32) == 0) {
      return GST_PAD_PROBE_DROP;  // no media yet: nothing to ask for
    }
    ssrc = static_cast<guint>(known & 0xFFFFFFFFu);
    ev = gst_event_make_writable(ev);
    gst_structure_set(gst_event_writable_structure(ev), "ssrc", G_TYPE_UINT, ssrc, nullptr);
    GST_PAD_PROBE_INFO_DATA(info) = ev;
  }
  std::lock_guard lock(me->mutex_);
  me->requests_.emplace_back(ssrc, static_cast<std::uint16_t>(seq));
  if (!me->dispatch_) {
    // Send from the main loop (the RTCP socket and SRTCP context live there), as soon as it is idle.
    GSource* idle = g_idle_source_new();
    g_source_set_priority(idle, G_PRIORITY_HIGH);
    g_source_set_callback(idle, &IngestRepair::dispatch_cb, me, nullptr);
    me->dispatch_ = common::attach_source(idle);
  }
  return GST_PAD_PROBE_OK;  // rtprtxreceive upstream learns the SSRC to expect from it
}

gboolean IngestRepair::dispatch_cb(gpointer self) {
  static_cast<IngestRepair*>(self)->dispatch();
  return G_SOURCE_REMOVE;
}

void IngestRepair::dispatch() {
  std::vector<std::pair<std::uint32_t, std::uint16_t>> reqs;
  {
    std::lock_guard lock(mutex_);
    dispatch_.reset();  // this callback returns G_SOURCE_REMOVE; the next request attaches a new one
    reqs.swap(requests_);
  }
  std::sort(reqs.begin(), reqs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < reqs.size();) {
    const std::uint32_t ssrc = reqs[i].first;
    std::vector<std::uint16_t> seqs;
    for (; i < reqs.size() && reqs[i].first == ssrc; ++i) {
      seqs.push_back(reqs[i].second);
    }
    nacks_sent_.fetch_add(1, std::memory_order_relaxed);
    nacked_.fetch_add(seqs.size(), std::memory_order_relaxed);
    send_(ssrc, std::move(seqs));
  }
}

GstPadProbeReturn IngestRepair::on_lost(GstPad*, GstPadProbeInfo* info, gpointer self) {
  GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
  if (ev != nullptr && gst_event_has_name(ev, "GstRTPPacketLost")) {
    static_cast<IngestRepair*>(self)->loss_pending_.store(true);
  }
  return GST_PAD_PROBE_OK;
}

void IngestRepair::tick() {
  GstStructure* raw = nullptr;
  g_object_get(jitter_.get(), "stats", &raw, nullptr);
  common::StructurePtr stats(raw);
  if (stats) {
    last_.unrecoverable = u64(stats.get(), "num-lost");
    last_.repaired_too_late = u64(stats.get(), "num-late");
    last_.repaired = u64(stats.get(), "rtx-success-count");
    const std::uint64_t rtt_ns = u64(stats.get(), "rtx-rtt");
    if (rtt_ns > 0) {
      last_.rtt_ms = static_cast<double>(rtt_ns) / 1e6;
    }
  }
  if (fixed_window_.count() == 0 && last_.rtt_ms) {
    const auto rtt = std::chrono::microseconds(static_cast<std::int64_t>(*last_.rtt_ms * 1000.0));
    const auto want = auto_repair_window(rtt);
    // Follow the RTT, without re-setting the jitter buffer for every small wobble.
    if (std::chrono::abs(want - window_) >= 5ms) {
      set_window(want);
    }
  }
}

RepairSnapshot IngestRepair::snapshot() const {
  RepairSnapshot s = last_;
  s.nacks_sent = nacks_sent_.load();
  s.nacked_packets = nacked_.load();
  s.retransmissions_received = rtx_received_.load();
  s.frames_dropped = frames_dropped_.load();
  return s;
}

}  // namespace veter::relay
