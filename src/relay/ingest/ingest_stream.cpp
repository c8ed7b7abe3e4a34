// The streaming-thread side of Ingest: every RTP datagram through the packet filter (a pad
// probe on udpsrc, or on srtpdec with SRTP), then the accepted packets from the appsink: parameter
// sets, IDR bookkeeping and the packets of one access unit handed to the fan-out.
#include "veter/relay/ingest/ingest.hpp"

#include <gst/app/gstappsink.h>
#include <gst/net/gstnetaddressmeta.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <sys/socket.h>

#include <algorithm>

#include <fmt/format.h>

#include "veter/relay/rtp/rtp_h264.hpp"
#include "veter/relay/rtp/sps_info.hpp"

namespace veter::relay {

GstPadProbeReturn Ingest::on_rtp_probe(GstPad*, GstPadProbeInfo* info, gpointer self) {
  auto* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (buffer == nullptr) {
    return GST_PAD_PROBE_OK;
  }
  return static_cast<Ingest*>(self)->handle_rtp(buffer) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

bool Ingest::handle_rtp(GstBuffer* buffer) {
  sockaddr_storage ss{};
  const sockaddr* sa = nullptr;
  if (auto* meta = gst_buffer_get_net_address_meta(buffer); meta != nullptr && meta->addr != nullptr) {
    if (g_socket_address_to_native(meta->addr, &ss, sizeof ss, nullptr)) {
      sa = reinterpret_cast<const sockaddr*>(&ss);
    }
  }
  const common::MappedBuffer map(buffer, GST_MAP_READ);
  if (!map) {
    count_drop(DropReason::too_short);
    return false;
  }
  const auto now = Clock::now();
  const std::span<const std::uint8_t> data = map.bytes();
  bool accepted = false;
  {
    std::lock_guard lock(mutex_);
    auto v = filter_.check_rtp(data, sa, now);
    if (v.drop) {
      count_drop(*v.drop);
    } else if (v.repair) {
      accepted = true;  // a retransmission: rtprtxreceive restores it; sequence statistics stay the media's
      last_packet_ = now;
      if (repair_) {
        repair_->count_retransmission();
      }
    } else {
      accepted = true;
      if (v.new_publisher) {
        publisher_ = v.source;
        publisher_changed_ = true;
        if (v.previous) {
          taken_from_ = v.previous;
          ++takeovers_;
        }
      }
      if (repair_) {
        repair_->set_media_ssrc(v.header.ssrc);
      }
      stats_.on_packet(v.header.ssrc, v.header.seq, v.header.timestamp,
                       std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
      last_packet_ = now;
    }
  }
  if (accepted) {
    packets_.fetch_add(1, std::memory_order_relaxed);
    bytes_.fetch_add(map.size(), std::memory_order_relaxed);
  }
  return accepted;
}

GstFlowReturn Ingest::on_new_sample(GstElement* sink, gpointer self) {
  common::SamplePtr sample(gst_app_sink_pull_sample(GST_APP_SINK(sink)));
  if (!sample) {
    return GST_FLOW_OK;
  }
  GstBuffer* buffer = gst_sample_get_buffer(sample.get());
  if (buffer != nullptr) {
    static_cast<Ingest*>(self)->handle_packet(buffer);
  }
  return GST_FLOW_OK;
}

void Ingest::handle_packet(GstBuffer* buffer) {
  common::MappedRtpBuffer rtp(buffer, GST_MAP_READ);
  if (!rtp) {
    return;  // the packet filter has already checked the header; nothing else gets here
  }
  const std::uint32_t ts = gst_rtp_buffer_get_timestamp(rtp.get());
  const bool marker = gst_rtp_buffer_get_marker(rtp.get()) != FALSE;
  const auto info = inspect_h264_payload(rtp.payload());
  if (!info.sps_units.empty() || !info.pps_units.empty()) {
    handle_parameter_sets(info);
  }
  rtp.unmap();
  if (info.pps) {
    seen_pps_.store(true);
  }
  if (info.idr) {
    seen_idr_.store(true);
  }
  // One access unit = the packets of one timestamp, ended by the marker bit
  // (or, when that packet is lost, by the next timestamp).
  // With repair, a packet given up on just before this one breaks the frame it belonged to:
  // this one's if it has the same timestamp, else the unfinished one before it, else (the
  // previous frame ended with its marker) this new one.
  const bool gap = repair_ && repair_->take_loss();
  if (pending_ && pending_ts_ != ts) {
    pending_broken_ = pending_broken_ || gap;
    flush_access_unit();
  } else if (pending_ && gap) {
    pending_broken_ = true;
  } else if (!pending_ && gap) {
    pending_broken_ = true;
  }
  if (!pending_) {
    pending_.reset(gst_buffer_list_new());
    pending_ts_ = ts;
  }
  pending_idr_ = pending_idr_ || info.idr;
  gst_buffer_list_add(pending_.get(), gst_buffer_ref(buffer));
  if (marker) {
    flush_access_unit();
  }
}

void Ingest::handle_parameter_sets(const H264PayloadInfo& info) {
  std::vector<std::uint8_t> sps;
  std::vector<std::uint8_t> pps;
  {
    std::lock_guard lock(mutex_);
    bool changed = false;
    if (!info.sps_units.empty()) {
      const auto& unit = info.sps_units.back();
      if (std::equal(unit.begin(), unit.end(), sps_.begin(), sps_.end())) {
        seen_sps_.store(true);
      } else if (auto t = parse_sps(unit)) {
        sps_.assign(unit.begin(), unit.end());
        changed = true;
        seen_sps_.store(true);
        bad_sps_logged_ = false;
        if (track_ && track_->width != 0 && (track_->width != t->width || track_->height != t->height)) {
          resolution_change_ = fmt::format("{}x{} -> {}x{}", track_->width, track_->height, t->width, t->height);
        }
        track_ = *t;
      } else if (!bad_sps_logged_) {
        // Never a path's parameter sets: viewers would get an SDP (and a "ready" hook) for garbage.
        bad_sps_logged_ = true;
        bad_sps_ = true;
      }
    }
    if (!info.pps_units.empty()) {
      const auto& unit = info.pps_units.back();
      if (!std::equal(unit.begin(), unit.end(), pps_.begin(), pps_.end())) {
        pps_.assign(unit.begin(), unit.end());
        changed = true;
      }
    }
    if (!changed || sps_.empty() || pps_.empty() || !parameter_sets_sink_) {
      return;
    }
    sps = sps_;
    pps = pps_;
  }
  parameter_sets_sink_(std::move(sps), std::move(pps));
}

void Ingest::flush_access_unit() {
  common::BufferListPtr au = std::move(pending_);
  if (std::exchange(pending_broken_, false)) {
    // Incomplete after the repair window: not forwarded (viewers see the last good picture,
    // not a smeared one); the tick asks for an IDR because the unrecoverable count grew.
    pending_idr_ = false;
    repair_->count_frame_dropped();
    return;
  }
  if (std::exchange(pending_idr_, false)) {
    const auto now = Clock::now();
    std::lock_guard lock(mutex_);
    if (last_idr_) {
      keyframe_interval_s_ = std::chrono::duration<double>(now - *last_idr_).count();
    }
    last_idr_ = now;
  }
  access_units_.fetch_add(1, std::memory_order_relaxed);
  sink_(au.get());
}

}  // namespace veter::relay
