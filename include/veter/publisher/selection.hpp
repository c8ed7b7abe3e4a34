// Source and encoder selection: which camera element and which H.264 encoder
// the publisher uses, from the configuration and what this machine has.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "veter/publisher/publisher_config.hpp"

namespace veter::publisher {

enum class SourceKind { argus, v4l2, test };
/// passthrough: no encoder; the camera's own H.264 is parsed, stamped and payloaded.
enum class EncoderKind { nvv4l2h264enc, v4l2h264enc, vah264enc, x264enc, openh264enc, passthrough };
/// What a V4L2 camera delivers at the requested size and rate.
enum class V4l2Format { raw, mjpeg, h264 };

/// The chosen elements; together with the configuration this fully determines
/// the pipeline description (see pipeline_builder.hpp).
struct Selection {
  SourceKind source = SourceKind::test;
  std::string device;  // argus: sensor id ("0"); v4l2: /dev/videoN; test: ""
  V4l2Format v4l2_format = V4l2Format::raw;
  EncoderKind encoder = EncoderKind::x264enc;
  bool operator==(const Selection&) const = default;
};

std::string_view to_string(SourceKind s);
std::string_view to_string(EncoderKind e);
std::string_view to_string(V4l2Format f);
/// The GStreamer element name of a source ("nvarguscamerasrc", "v4l2src", "videotestsrc").
std::string_view element_name(SourceKind s);
/// Encoders in the order `encoder: auto` tries them (hardware first); passthrough is not among
/// them: auto takes it only when the camera itself delivers H.264.
const std::vector<EncoderKind>& encoder_preference();
/// False for passthrough: the camera's encoder sets the rate, the publisher cannot change it.
bool encoder_rate_adjustable(EncoderKind e);
std::optional<EncoderKind> encoder_from_name(std::string_view name);

/// What the machine offers. Injected so the selection logic is testable.
struct Environment {
  /// True when a GStreamer element factory of that name exists.
  std::function<bool(const std::string& element)> has_element;
  /// True when an Argus sensor with this id delivers a frame.
  std::function<bool(int sensor_id)> argus_sensor_answers;
  /// V4L2 video capture devices, in /dev/videoN order.
  std::function<std::vector<std::string>()> v4l2_capture_devices;
  /// What the device delivers at width x height @ fps (nullopt: neither raw nor MJPEG fits).
  std::function<std::optional<V4l2Format>(const std::string& device, int width, int height, int fps)>
      v4l2_format;
  /// True when the hardware encoder really encodes a frame (not only installed). Jetsons without
  /// NVENC (Orin Nano) have nvv4l2h264enc but it cannot encode. Empty: not probed.
  std::function<bool(EncoderKind encoder)> hardware_encoder_answers;
  /// True when the device delivers H.264 itself at width x height @ fps (UVC H.264 cameras).
  std::function<bool(const std::string& device, int width, int height, int fps)> v4l2_offers_h264;
};

/// The real machine: GStreamer registry, Argus probe pipeline, /dev/video* ioctls.
Environment system_environment();

/// Choose source and encoder. Throws common::UnavailableError (exit 69) naming
/// everything that was tried when nothing fits; common::ValueError for a bad device.
/// `log` receives one human line per decision.
Selection select_elements(const PublisherConfig& cfg, const Environment& env,
                          const std::function<void(const std::string&)>& log = {});

}  // namespace veter::publisher
