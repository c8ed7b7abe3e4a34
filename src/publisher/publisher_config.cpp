#include "veter/publisher/publisher_config.hpp"

#include <yaml-cpp/yaml.h>

#include <array>
#include <string_view>

#include <fmt/format.h>

#include "veter/common/config_reader.hpp"

namespace veter::publisher {

using common::ValueError;

namespace {
constexpr std::array<std::string_view, 4> kSources = {"auto", "argus", "v4l2", "test"};
constexpr std::array<std::string_view, 7> kEncoders = {"auto",    "nvv4l2h264enc", "v4l2h264enc", "vah264enc",
                                                       "x264enc", "openh264enc",   "passthrough"};
constexpr std::array<std::string_view, 2> kTestPatterns = {"ball", "snow"};

void int_in(const YAML::Node& n, int& out, int lo, int hi) {
  if (!n.IsScalar()) {
    throw ValueError("expected a number");
  }
  out = static_cast<int>(common::parse_int(n.Scalar(), lo, hi));
}
}  // namespace

bool is_known_source(const std::string& s) {
  return std::find(kSources.begin(), kSources.end(), s) != kSources.end();
}
bool is_known_encoder(const std::string& e) {
  return std::find(kEncoders.begin(), kEncoders.end(), e) != kEncoders.end();
}
bool is_known_test_pattern(const std::string& p) {
  return std::find(kTestPatterns.begin(), kTestPatterns.end(), p) != kTestPatterns.end();
}

namespace {
void apply_node(PublisherConfig& target, const YAML::Node& doc, const std::string& origin) {
  // Work on a copy: a bad document changes nothing.
  PublisherConfig cfg = target;
  common::MapReader r(doc, "", origin);
  r.read_with("log_level", [&](const YAML::Node& n) {
    std::string s;
    common::from_yaml(n, s);
    cfg.log_level = common::parse_log_level(s);
  });
  r.read("destination", cfg.destination);
  r.read_with("source", [&](const YAML::Node& n) {
    std::string s;
    common::from_yaml(n, s);
    if (!is_known_source(s)) {
      throw ValueError(fmt::format("\"{}\" is not a source (auto, argus, v4l2, test)", s));
    }
    cfg.source = s;
  });
  r.read("device", cfg.device);
  r.read_with("test_pattern", [&](const YAML::Node& n) {
    std::string s;
    common::from_yaml(n, s);
    if (!is_known_test_pattern(s)) {
      throw ValueError(fmt::format("\"{}\" is not a test pattern (ball, snow)", s));
    }
    cfg.test_pattern = s;
  });
  r.read_with("width", [&](const YAML::Node& n) { int_in(n, cfg.width, 16, 8192); });
  r.read_with("height", [&](const YAML::Node& n) { int_in(n, cfg.height, 16, 8192); });
  r.read_with("fps", [&](const YAML::Node& n) { int_in(n, cfg.fps, 1, 240); });
  r.read_with("bitrate_kbps", [&](const YAML::Node& n) { int_in(n, cfg.bitrate_kbps, 50, 200000); });
  r.read_with("bitrate_min_kbps", [&](const YAML::Node& n) { int_in(n, cfg.bitrate_min_kbps, 50, 200000); });
  r.read("abr", cfg.abr);
  r.read_with("encoder", [&](const YAML::Node& n) {
    std::string s;
    common::from_yaml(n, s);
    if (!is_known_encoder(s)) {
      throw ValueError(fmt::format(
          "\"{}\" is not a known encoder (auto, nvv4l2h264enc, v4l2h264enc, vah264enc, x264enc, "
          "openh264enc, passthrough)",
          s));
    }
    cfg.encoder = s;
  });
  r.read_with("keyframe_interval", [&](const YAML::Node& n) { int_in(n, cfg.keyframe_interval, 1, 3600); });
  r.read_with("mtu", [&](const YAML::Node& n) { int_in(n, cfg.mtu, 400, 9000); });
  r.read_with("local_port", [&](const YAML::Node& n) { int_in(n, cfg.local_port, 0, 65534); });
  r.read("srtp_key_file", cfg.srtp_key_file);
  r.read("rtx", cfg.rtx);
  r.read_with("rtx_payload_type", [&](const YAML::Node& n) { int_in(n, cfg.rtx_payload_type, 97, 127); });
  r.finish();
  try {
    validate(cfg);
  } catch (const ValueError& e) {
    throw common::ConfigError(fmt::format("{}: {}", origin, e.what()));
  }
  target = std::move(cfg);
}

}  // namespace

void apply_yaml(PublisherConfig& cfg, const std::string& yaml_text, const std::string& origin) {
  apply_node(cfg, common::parse_yaml(yaml_text, origin), origin);
}

void apply_file(PublisherConfig& cfg, const std::string& path) {
  apply_node(cfg, common::load_yaml_file(path), path);
}

void validate(const PublisherConfig& cfg) {
  if (cfg.width % 2 != 0 || cfg.height % 2 != 0) {
    throw ValueError(fmt::format("size {}x{}: width and height must be even", cfg.width, cfg.height));
  }
  if (cfg.destination.host.empty()) {
    throw ValueError("destination: a relay host is required (host:port)");
  }
  if (cfg.destination.port > 65534) {
    throw ValueError(fmt::format("destination: port {} leaves no room for RTCP on port+1 (at most 65534)",
                                 cfg.destination.port));
  }
}

std::string to_yaml(const PublisherConfig& cfg) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "log_level" << YAML::Value << std::string(common::to_string(cfg.log_level));
  e << YAML::Key << "destination" << YAML::Value << cfg.destination.to_string();
  e << YAML::Key << "source" << YAML::Value << cfg.source;
  e << YAML::Key << "device" << YAML::Value << YAML::DoubleQuoted << cfg.device;
  e << YAML::Key << "test_pattern" << YAML::Value << cfg.test_pattern;
  e << YAML::Key << "width" << YAML::Value << cfg.width;
  e << YAML::Key << "height" << YAML::Value << cfg.height;
  e << YAML::Key << "fps" << YAML::Value << cfg.fps;
  e << YAML::Key << "bitrate_kbps" << YAML::Value << cfg.bitrate_kbps;
  e << YAML::Key << "bitrate_min_kbps" << YAML::Value << cfg.bitrate_min_kbps;
  e << YAML::Key << "abr" << YAML::Value << cfg.abr;
  e << YAML::Key << "encoder" << YAML::Value << cfg.encoder;
  e << YAML::Key << "keyframe_interval" << YAML::Value << cfg.keyframe_interval;
  e << YAML::Key << "mtu" << YAML::Value << cfg.mtu;
  e << YAML::Key << "local_port" << YAML::Value << cfg.local_port;
  e << YAML::Key << "srtp_key_file" << YAML::Value << YAML::DoubleQuoted << cfg.srtp_key_file;
  e << YAML::Key << "rtx" << YAML::Value << cfg.rtx;
  e << YAML::Key << "rtx_payload_type" << YAML::Value << cfg.rtx_payload_type;
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

}  // namespace veter::publisher
