#include "veter/relay/webrtc/webrtc_fanout.hpp"

#include <gst/app/gstappsrc.h>
#include <gst/rtp/gstrtpbuffer.h>

#include <algorithm>
#include <map>
#include <random>

namespace veter::relay {

namespace {
std::uint32_t random_u32() { return std::random_device{}(); }
}  // namespace

WebrtcFanout::WebrtcFanout()
    : ssrc_(random_u32()), rewriter_(ssrc_, static_cast<std::uint16_t>(random_u32()), random_u32()) {}

GstClock* WebrtcFanout::clock() {
  // The process-wide system clock (monotonic); gst_system_clock_obtain returns a
  // new reference each time, the one kept here lives as long as the process.
  static GstClock* const c = gst_system_clock_obtain();
  return c;
}

void WebrtcFanout::add(std::shared_ptr<Sink> sink) {
  std::lock_guard lock(mutex_);
  sinks_.push_back(std::move(sink));
}

void WebrtcFanout::remove(const Sink* sink) {
  std::shared_ptr<Sink> gone;
  {
    std::lock_guard lock(mutex_);
    auto it = std::find_if(sinks_.begin(), sinks_.end(), [&](const auto& s) { return s.get() == sink; });
    if (it == sinks_.end()) {
      return;
    }
    gone = std::move(*it);
    sinks_.erase(it);
  }
  // `gone` (and its appsrc reference) is released outside the lock.
}

void WebrtcFanout::push(GstBufferList* au) {
  const GstClockTime now = gst_clock_get_time(clock());
  const std::int64_t now_ns = g_get_monotonic_time() * 1000;
  std::lock_guard lock(mutex_);
  // One output list per payload type in use.
  std::map<int, common::BufferListPtr> lists;
  for (const auto& s : sinks_) {
    if (s->flowing.load(std::memory_order_relaxed) && lists.find(s->payload_type) == lists.end()) {
      lists.emplace(s->payload_type, common::BufferListPtr(gst_buffer_list_new_sized(gst_buffer_list_length(au))));
    }
  }
  const guint n = gst_buffer_list_length(au);
  std::uint64_t bytes = 0;
  for (guint i = 0; i < n; ++i) {
    GstBuffer* in = gst_buffer_list_get(au, i);
    RtpRewriter::Numbers numbers;
    {
      common::MappedRtpBuffer rtp(in, GST_MAP_READ);
      if (!rtp) {
        continue;
      }
      numbers = rewriter_.map(gst_rtp_buffer_get_ssrc(rtp.get()), gst_rtp_buffer_get_seq(rtp.get()),
                              gst_rtp_buffer_get_timestamp(rtp.get()), now_ns);
    }
    for (auto& [pt, list] : lists) {
      // A new buffer sharing the packet's memory; mapping it for writing
      // copies that memory, so the ingest's packet is untouched.
      common::BufferPtr b(gst_buffer_copy(in));
      {
        common::MappedRtpBuffer rtp(b.get(), GST_MAP_READWRITE);
        if (!rtp) {
          continue;
        }
        gst_rtp_buffer_set_payload_type(rtp.get(), static_cast<guint8>(pt));
        gst_rtp_buffer_set_ssrc(rtp.get(), ssrc_);
        gst_rtp_buffer_set_seq(rtp.get(), numbers.seq);
        gst_rtp_buffer_set_timestamp(rtp.get(), numbers.timestamp);
      }
      GST_BUFFER_PTS(b.get()) = now;
      GST_BUFFER_DTS(b.get()) = GST_CLOCK_TIME_NONE;
      gst_buffer_list_add(list.get(), b.release());  // the list takes the reference
    }
    bytes += gst_buffer_get_size(in);
  }
  for (const auto& s : sinks_) {
    if (!s->flowing.load(std::memory_order_relaxed)) {
      continue;
    }
    auto it = lists.find(s->payload_type);
    if (it == lists.end() || gst_buffer_list_length(it->second.get()) == 0) {
      continue;
    }
    // The lists are shared read-only between the viewers of one payload type;
    // an element that needs to write makes its own copy.
    gst_app_src_push_buffer_list(GST_APP_SRC(s->appsrc.get()), gst_buffer_list_ref(it->second.get()));
    s->bytes.fetch_add(bytes, std::memory_order_relaxed);
    s->packets.fetch_add(n, std::memory_order_relaxed);
    bytes_sent_.fetch_add(bytes, std::memory_order_relaxed);
  }
}

}  // namespace veter::relay
