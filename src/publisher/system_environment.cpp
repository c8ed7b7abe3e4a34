// The real machine behind selection.hpp's Environment.
#include <fcntl.h>
#include <linux/videodev2.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <gst/gst.h>
#include <spdlog/spdlog.h>

#include "veter/common/gst_ptr.hpp"
#include "veter/publisher/selection.hpp"

namespace veter::publisher {

namespace {

using common::adopt_floating;
using common::BusPtr;
using common::CapsPtr;
using common::ElementPtr;
using common::MessagePtr;

bool has_element(const std::string& name) {
  common::GstPtr<GstElementFactory> f(gst_element_factory_find(name.c_str()));
  return f != nullptr;
}

/// Run "nvarguscamerasrc sensor-id=N num-buffers=1 ! fakesink" and wait for a frame (EOS) or an error.
bool argus_sensor_answers(int sensor_id) {
  const auto desc = fmt::format("nvarguscamerasrc sensor-id={} num-buffers=1 ! fakesink", sensor_id);
  GError* raw_err = nullptr;
  auto pipeline = adopt_floating(gst_parse_launch(desc.c_str(), &raw_err));
  common::GErrorPtr err(raw_err);
  if (!pipeline || err) {
    return false;
  }
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  BusPtr bus(gst_element_get_bus(pipeline.get()));
  MessagePtr msg(gst_bus_timed_pop_filtered(bus.get(), 10 * GST_SECOND,
                                            static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  const bool ok = msg && GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_EOS;
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return ok;
}

/// Encode one small test frame with the NVIDIA encoder; true when it comes out (EOS, no error).
/// The Jetson Orin Nano has the element but no NVENC to run it.
bool hardware_encoder_answers(EncoderKind encoder) {
  if (encoder != EncoderKind::nvv4l2h264enc) {
    return true;
  }
  const char* desc =
      "videotestsrc num-buffers=1 ! video/x-raw,width=320,height=240 ! nvvidconv ! "
      "video/x-raw(memory:NVMM),format=NV12 ! nvv4l2h264enc ! fakesink";
  GError* raw_err = nullptr;
  auto pipeline = adopt_floating(gst_parse_launch(desc, &raw_err));
  common::GErrorPtr err(raw_err);
  if (!pipeline || err) {
    return false;
  }
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  BusPtr bus(gst_element_get_bus(pipeline.get()));
  MessagePtr msg(gst_bus_timed_pop_filtered(bus.get(), 10 * GST_SECOND,
                                            static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
  const bool ok = msg && GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_EOS;
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return ok;
}

std::vector<std::string> v4l2_capture_devices() {
  std::vector<std::string> out;
  for (int i = 0; i < 64; ++i) {
    const std::string path = "/dev/video" + std::to_string(i);
    const int fd = ::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      continue;
    }
    v4l2_capability cap{};
    if (::ioctl(fd, VIDIOC_QUERYCAP, &cap) == 0) {
      const auto caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) != 0 ? cap.device_caps : cap.capabilities;
      if ((caps & (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE)) != 0 &&
          (caps & (V4L2_CAP_VIDEO_M2M | V4L2_CAP_VIDEO_M2M_MPLANE)) == 0) {
        out.push_back(path);
      }
    }
    ::close(fd);
  }
  return out;
}

/// Ask v4l2src (in READY, so it has probed the device) which caps it offers.
common::CapsPtr v4l2_offered_caps(const std::string& device) {
  auto src = adopt_floating(gst_element_factory_make("v4l2src", nullptr));
  if (!src) {
    return {};
  }
  g_object_set(src.get(), "device", device.c_str(), nullptr);
  if (gst_element_set_state(src.get(), GST_STATE_READY) == GST_STATE_CHANGE_FAILURE) {
    gst_element_set_state(src.get(), GST_STATE_NULL);
    return {};
  }
  auto pad = common::static_pad(src.get(), "src");
  CapsPtr offered(gst_pad_query_caps(pad.get(), nullptr));
  gst_element_set_state(src.get(), GST_STATE_NULL);
  return offered;
}

bool offers(const GstCaps* offered, const char* media, int width, int height, int fps) {
  CapsPtr want(
      gst_caps_from_string(fmt::format("{},width={},height={},framerate={}/1", media, width, height, fps).c_str()));
  return offered != nullptr && want && gst_caps_can_intersect(offered, want.get());
}

std::optional<V4l2Format> v4l2_format(const std::string& device, int width, int height, int fps) {
  const CapsPtr offered = v4l2_offered_caps(device);
  if (offers(offered.get(), "video/x-raw", width, height, fps)) {
    return V4l2Format::raw;
  }
  if (offers(offered.get(), "image/jpeg", width, height, fps)) {
    return V4l2Format::mjpeg;
  }
  return std::nullopt;
}

/// UVC H.264 cameras (e.g. the Logitech C920) list video/x-h264 among v4l2src's caps.
bool v4l2_offers_h264(const std::string& device, int width, int height, int fps) {
  const CapsPtr offered = v4l2_offered_caps(device);
  return offers(offered.get(), "video/x-h264", width, height, fps);
}

}  // namespace

Environment system_environment() {
  return Environment{&has_element,          &argus_sensor_answers,     &v4l2_capture_devices,
                     &v4l2_format,          &hardware_encoder_answers, &v4l2_offers_h264};
}

}  // namespace veter::publisher
