#include "veter/publisher/selection.hpp"

#include <fmt/format.h>

#include <array>

#include "veter/common/cli.hpp"
#include "veter/common/values.hpp"

namespace veter::publisher {

std::string_view to_string(SourceKind s) {
  switch (s) {
    case SourceKind::argus:
      return "argus";
    case SourceKind::v4l2:
      return "v4l2";
    case SourceKind::test:
      return "test";
  }
  return "?";
}

std::string_view to_string(EncoderKind e) {
  switch (e) {
    case EncoderKind::nvv4l2h264enc:
      return "nvv4l2h264enc";
    case EncoderKind::v4l2h264enc:
      return "v4l2h264enc";
    case EncoderKind::vah264enc:
      return "vah264enc";
    case EncoderKind::x264enc:
      return "x264enc";
    case EncoderKind::openh264enc:
      return "openh264enc";
    case EncoderKind::passthrough:
      return "passthrough";
  }
  return "?";
}

std::string_view to_string(V4l2Format f) {
  switch (f) {
    case V4l2Format::raw:
      return "raw";
    case V4l2Format::mjpeg:
      return "mjpeg";
    case V4l2Format::h264:
      return "h264";
  }
  return "?";
}

std::string_view element_name(SourceKind s) {
  switch (s) {
    case SourceKind::argus:
      return "nvarguscamerasrc";
    case SourceKind::v4l2:
      return "v4l2src";
    case SourceKind::test:
      return "videotestsrc";
  }
  return "?";
}

const std::vector<EncoderKind>& encoder_preference() {
  static const std::vector<EncoderKind> order = {EncoderKind::nvv4l2h264enc, EncoderKind::v4l2h264enc,
                                                 EncoderKind::vah264enc, EncoderKind::x264enc,
                                                 EncoderKind::openh264enc};
  return order;
}

bool encoder_rate_adjustable(EncoderKind e) { return e != EncoderKind::passthrough; }

std::optional<EncoderKind> encoder_from_name(std::string_view name) {
  if (name == to_string(EncoderKind::passthrough)) {
    return EncoderKind::passthrough;
  }
  for (EncoderKind e : encoder_preference()) {
    if (to_string(e) == name) {
      return e;
    }
  }
  return std::nullopt;
}

namespace {

void say(const std::function<void(const std::string&)>& log, const std::string& line) {
  if (log) {
    log(line);
  }
}

int argus_sensor_id(const std::string& device) {
  if (device.empty()) {
    return 0;
  }
  try {
    return static_cast<int>(common::parse_int(device, 0, 255));
  } catch (const common::ValueError& e) {
    throw common::ValueError(fmt::format("device: \"{}\" is not an Argus sensor id (0..255): {}", device, e.what()));
  }
}

std::string v4l2_failure(const PublisherConfig& cfg, const std::string& device) {
  if (cfg.encoder == "passthrough") {
    return fmt::format("{} does not deliver H.264 at {}x{}@{}, which encoder passthrough needs", device, cfg.width,
                       cfg.height, cfg.fps);
  }
  return fmt::format("{} delivers neither raw video nor MJPEG at {}x{}@{}", device, cfg.width, cfg.height, cfg.fps);
}

/// The camera's own H.264 is taken (passthrough) with encoder auto or passthrough, never with a
/// named encoder: that one is asked for raw video or MJPEG.
std::optional<V4l2Format> v4l2_choice(const PublisherConfig& cfg, const Environment& env, const std::string& dev) {
  const bool passthrough = cfg.encoder == "passthrough";
  const bool auto_can_pass = cfg.encoder == "auto" && env.has_element("h264parse");
  if ((passthrough || auto_can_pass) && env.v4l2_offers_h264 &&
      env.v4l2_offers_h264(dev, cfg.width, cfg.height, cfg.fps)) {
    return V4l2Format::h264;
  }
  if (passthrough) {
    return std::nullopt;
  }
  return env.v4l2_format(dev, cfg.width, cfg.height, cfg.fps);
}

/// Fill source/device/v4l2_format for an explicit or automatic choice.
void select_source(const PublisherConfig& cfg, const Environment& env, Selection& sel,
                   const std::function<void(const std::string&)>& log) {
  const bool want_argus = cfg.source == "argus";
  const bool want_v4l2 = cfg.source == "v4l2";
  if (cfg.source == "test") {
    sel.source = SourceKind::test;
    say(log, "source: test pattern (videotestsrc), as configured");
    return;
  }
  std::vector<std::string> tried;
  if (cfg.source == "auto" && cfg.encoder == "passthrough") {
    tried.push_back("argus (not tried: it delivers raw video, encoder passthrough needs H.264)");
  } else if (cfg.source == "auto" || want_argus) {
    // In auto mode a /dev/videoN device is not an Argus sensor id: probe sensor 0.
    const bool device_is_v4l2 = cfg.device.rfind("/dev/", 0) == 0;
    if (want_argus || !device_is_v4l2) {
      const int sensor = argus_sensor_id(device_is_v4l2 ? std::string() : cfg.device);
      if (!env.has_element("nvarguscamerasrc")) {
        tried.push_back("argus (element nvarguscamerasrc is not installed)");
      } else if (!env.argus_sensor_answers(sensor)) {
        tried.push_back(fmt::format("argus (sensor {} did not deliver a frame; is nvargus-daemon running?)", sensor));
      } else {
        sel.source = SourceKind::argus;
        sel.device = std::to_string(sensor);
        say(log, fmt::format("source: argus sensor {} (nvarguscamerasrc)", sensor));
        return;
      }
    }
    if (want_argus) {
      throw common::UnavailableError("no camera: tried " + tried.front());
    }
  }
  // v4l2 (explicit, or auto after argus)
  if (!env.has_element("v4l2src")) {
    tried.push_back("v4l2 (element v4l2src is not installed)");
  } else {
    std::vector<std::string> devices;
    if (!cfg.device.empty() && (want_v4l2 || cfg.device.rfind("/dev/", 0) == 0)) {
      devices.push_back(cfg.device);
    } else {
      devices = env.v4l2_capture_devices();
    }
    if (devices.empty()) {
      tried.push_back("v4l2 (no video capture device under /dev/video*)");
    }
    for (const auto& dev : devices) {
      if (auto fmt = v4l2_choice(cfg, env, dev)) {
        sel.source = SourceKind::v4l2;
        sel.device = dev;
        sel.v4l2_format = *fmt;
        say(log, fmt::format("source: v4l2 {} ({})", dev, to_string(*fmt)));
        return;
      }
      tried.push_back("v4l2 (" + v4l2_failure(cfg, dev) + ")");
    }
  }
  std::string what;
  for (const auto& t : tried) {
    what += (what.empty() ? "" : ", ") + t;
  }
  throw common::UnavailableError(fmt::format(
      "no camera found: tried {}; use --source test for the test pattern", what));
}

void select_encoder(const PublisherConfig& cfg, const Environment& env, Selection& sel,
                    const std::function<void(const std::string&)>& log) {
  const bool camera_h264 = sel.source == SourceKind::v4l2 && sel.v4l2_format == V4l2Format::h264;
  if (camera_h264 || cfg.encoder == "passthrough") {
    if (sel.source == SourceKind::argus) {
      throw common::UnavailableError(
          "encoder passthrough needs a camera that delivers H.264 (a UVC H.264 camera through v4l2); "
          "nvarguscamerasrc delivers raw video");
    }
    if (!env.has_element("h264parse")) {
      throw common::UnavailableError(
          "encoder passthrough needs h264parse (Debian package gstreamer1.0-plugins-bad), which is not installed");
    }
    sel.encoder = EncoderKind::passthrough;
    if (sel.source == SourceKind::test) {
      say(log, "encoder: passthrough, as configured (the test source stands in for an H.264 camera: x264enc "
               "encodes the pattern as the camera's own encoder would)");
    } else {
      say(log, fmt::format("encoder: passthrough ({}: {} delivers H.264 at {}x{}@{}; not decoded, not re-encoded)",
                           cfg.encoder == "auto" ? "auto" : "as configured", sel.device, cfg.width, cfg.height,
                           cfg.fps));
    }
    return;
  }
  if (cfg.encoder != "auto") {
    const auto kind = encoder_from_name(cfg.encoder);
    if (!kind) {
      throw common::ValueError(fmt::format("encoder: \"{}\" is not a known encoder", cfg.encoder));
    }
    if (!env.has_element(cfg.encoder)) {
      throw common::UnavailableError(
          fmt::format("encoder {} is not available on this machine (no GStreamer element \"{}\")", cfg.encoder,
                      cfg.encoder));
    }
    sel.encoder = *kind;
    say(log, fmt::format("encoder: {}, as configured", cfg.encoder));
    return;
  }
  std::string missing;
  for (EncoderKind e : encoder_preference()) {
    const std::string name(to_string(e));
    if (env.has_element(name) && e == EncoderKind::nvv4l2h264enc && env.hardware_encoder_answers &&
        !env.hardware_encoder_answers(e)) {
      missing += (missing.empty() ? "" : ", ") + name + " (installed, but encoded no frame: no NVENC?)";
      continue;
    }
    if (env.has_element(name)) {
      sel.encoder = e;
      say(log, fmt::format("encoder: {} (auto{})", name, missing.empty() ? "" : "; not on this machine: " + missing));
      return;
    }
    missing += (missing.empty() ? "" : ", ") + name;
  }
  throw common::UnavailableError("no H.264 encoder on this machine: tried " + missing);
}

}  // namespace

Selection select_elements(const PublisherConfig& cfg, const Environment& env,
                          const std::function<void(const std::string&)>& log) {
  Selection sel;
  select_source(cfg, env, sel, log);
  select_encoder(cfg, env, sel, log);
  // Jetson NVMM elements need nvvidconv whenever only one side is NVMM.
  const bool needs_nvvidconv = (sel.source == SourceKind::argus) != (sel.encoder == EncoderKind::nvv4l2h264enc);
  if (needs_nvvidconv && !env.has_element("nvvidconv")) {
    throw common::UnavailableError(fmt::format("{} with {} needs nvvidconv, which is not installed",
                                               element_name(sel.source), to_string(sel.encoder)));
  }
  if (sel.source == SourceKind::v4l2 && sel.v4l2_format == V4l2Format::mjpeg && !env.has_element("jpegdec")) {
    throw common::UnavailableError(fmt::format("{} delivers MJPEG but jpegdec is not installed", sel.device));
  }
  if (sel.source == SourceKind::test && sel.encoder == EncoderKind::passthrough && !env.has_element("x264enc")) {
    throw common::UnavailableError(
        "the test source with encoder passthrough needs x264enc (it plays the camera's encoder), which is not "
        "installed");
  }
  if (sel.source == SourceKind::test && !env.has_element("clockoverlay")) {
    throw common::UnavailableError(
        "the test source needs clockoverlay (Debian package gstreamer1.0-x), which is not installed");
  }
  return sel;
}

}  // namespace veter::publisher
