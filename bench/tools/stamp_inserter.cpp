#include "stamp_inserter.hpp"

#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "veter/common/sei_timestamp.hpp"

namespace veter::test {

StampInserter::StampInserter(GstPad* pad, std::function<std::int64_t()> clock_us)
    : clock_us_(clock_us ? std::move(clock_us) : [] { return static_cast<std::int64_t>(g_get_real_time()); }),
      probe_(pad, gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, &StampInserter::on_buffer, this, nullptr)) {}

GstPadProbeReturn StampInserter::on_buffer(GstPad* /*pad*/, GstPadProbeInfo* info, gpointer self_ptr) {
  auto* self = static_cast<StampInserter*>(self_ptr);
  GstBuffer* in = GST_PAD_PROBE_INFO_BUFFER(info);
  if (in == nullptr) {
    return GST_PAD_PROBE_OK;
  }
  std::vector<std::uint8_t> stamped;
  {
    const common::MappedBuffer map(in, GST_MAP_READ);
    if (!map) {
      return GST_PAD_PROBE_OK;
    }
    stamped = common::sei::insert_timestamp_annexb(map.bytes(), self->clock_us_());
  }
  GstBuffer* out = gst_buffer_new_memdup(stamped.data(), stamped.size());
  gst_buffer_copy_into(out, in, static_cast<GstBufferCopyFlags>(GST_BUFFER_COPY_FLAGS | GST_BUFFER_COPY_TIMESTAMPS |
                                                                GST_BUFFER_COPY_META),
                       0, static_cast<gsize>(-1));
  // The probe replaces the buffer: drop our reference to the old one, hand over the new one.
  common::BufferPtr old(in);
  GST_PAD_PROBE_INFO_DATA(info) = out;
  ++self->stamped_;
  return GST_PAD_PROBE_OK;
}

StampedRtpSender::StampedRtpSender(int port, int width, int height, int fps, int kbps, const char* pattern,
                                   bool sliced) {
  const std::string desc =
      std::string("videotestsrc is-live=true pattern=") + pattern + " ! video/x-raw,width=" + std::to_string(width) +
      ",height=" + std::to_string(height) + ",framerate=" + std::to_string(fps) +
      "/1 ! x264enc name=enc tune=zerolatency speed-preset=ultrafast vbv-buf-capacity=100 bframes=0 " +
      std::string(sliced ? "sliced-threads=true threads=4" : "sliced-threads=false threads=1") +
      " bitrate=" + std::to_string(kbps) + " key-int-max=" + std::to_string(fps) +
      " ! video/x-h264,profile=constrained-baseline,stream-format=byte-stream,alignment=au ! identity name=stamp "
      "! rtph264pay pt=96 config-interval=-1 mtu=1200 ! udpsink host=127.0.0.1 sync=false port=" +
      std::to_string(port);
  GError* raw = nullptr;
  pipeline_ = common::adopt_floating(gst_parse_launch(desc.c_str(), &raw));
  common::GErrorPtr err(raw);
  if (!pipeline_ || err) {
    throw std::runtime_error("sender pipeline: " + std::string(err ? err->message : "?"));
  }
  auto stamp = common::bin_child(pipeline_.get(), "stamp");
  auto src = common::static_pad(stamp.get(), "src");
  stamper_ = std::make_unique<StampInserter>(src.get());
  gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING);
}

StampedRtpSender::~StampedRtpSender() {
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  stamper_.reset();
}

}  // namespace veter::test
