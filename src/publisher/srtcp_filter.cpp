#include "veter/publisher/srtcp_filter.hpp"

namespace veter::publisher {

SrtcpFilter::SrtcpFilter(const common::SrtpKey& key) : ctx_(key, common::SrtcpContext::Direction::inbound) {}

void SrtcpFilter::attach(GstElement* udpsrc) {
  detach();
  auto pad = common::static_pad(udpsrc, "src");
  probe_ = common::PadProbe(pad.get(),
                            gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, &SrtcpFilter::on_buffer, this,
                                              nullptr));
}

void SrtcpFilter::detach() { probe_.reset(); }

bool SrtcpFilter::process(std::vector<std::uint8_t>& packet) {
  if (ctx_.unprotect(packet) != common::SrtcpContext::Result::ok) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  accepted_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

GstPadProbeReturn SrtcpFilter::on_buffer(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<SrtcpFilter*>(data);
  GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
  if (buf == nullptr) {
    return GST_PAD_PROBE_OK;
  }
  // Copy out (aligned, ours to modify), check, and hand rtpbin a new buffer with the plain RTCP.
  std::vector<std::uint8_t> packet(gst_buffer_get_size(buf));
  gst_buffer_extract(buf, 0, packet.data(), packet.size());
  if (!self->process(packet)) {
    return GST_PAD_PROBE_DROP;
  }
  GstBuffer* out = common::buffer_copy_of(packet.data(), packet.size()).release();
  gst_buffer_copy_into(out, buf, static_cast<GstBufferCopyFlags>(GST_BUFFER_COPY_FLAGS | GST_BUFFER_COPY_TIMESTAMPS |
                                                                 GST_BUFFER_COPY_META),
                       0, static_cast<gsize>(-1));
  const common::BufferPtr original(buf);  // the probe owned info->data; it now holds the plain copy
  GST_PAD_PROBE_INFO_DATA(info) = out;
  return GST_PAD_PROBE_OK;
}

}  // namespace veter::publisher
