// veter-publisher configuration: built-in defaults, YAML file, command line.
#pragma once

#include <string>

#include "veter/common/logging.hpp"
#include "veter/common/values.hpp"

namespace veter::publisher {

struct PublisherConfig {
  common::LogLevel log_level = common::LogLevel::info;
  common::Endpoint destination{"127.0.0.1", 9000};
  std::string source = "auto";  // auto | argus | v4l2 | test
  std::string device;           // argus sensor id, or /dev/videoN for v4l2
  std::string test_pattern = "ball";  // source test: ball (compresses to ~0.3 Mbit/s) | snow (needs the bitrate)
  int width = 1280;
  int height = 720;
  int fps = 30;
  int bitrate_kbps = 2000;       // the encoder's target on a clean path (and the ceiling with abr)
  int bitrate_min_kbps = 300;    // abr floor (at most bitrate_kbps)
  bool abr = true;               // lower the bitrate on loss / queueing delay from the relay's reports
  std::string encoder = "auto";  // auto | nvv4l2h264enc | v4l2h264enc | vah264enc | x264enc | openh264enc | passthrough
  int keyframe_interval = 30;    // frames
  int mtu = 1200;
  int local_port = 5004;         // fixed local RTP port (RTCP on +1), symmetric RTP; 0 = any free pair
  bool rtx = true;               // answer the relay's NACKs with RFC 4588 retransmissions (~1 s history)
  int rtx_payload_type = 97;     // the retransmissions' payload type (the relay's ingest.rtx_payload_type)
  std::string srtp_key_file;     // non-empty = send SRTP/SRTCP with this master key + salt
  bool operator==(const PublisherConfig&) const = default;
};

/// Known source and encoder names.
bool is_known_source(const std::string& s);
bool is_known_encoder(const std::string& e);
bool is_known_test_pattern(const std::string& p);

/// Apply a YAML document onto `cfg` (missing keys keep their values). Throws ConfigError.
void apply_yaml(PublisherConfig& cfg, const std::string& yaml_text, const std::string& origin);
/// Load a file onto `cfg`. Throws ConfigError.
void apply_file(PublisherConfig& cfg, const std::string& path);
/// Check cross-field rules; throws common::ValueError with the key in the message.
void validate(const PublisherConfig& cfg);
/// Effective configuration as YAML (for --check-config).
std::string to_yaml(const PublisherConfig& cfg);

}  // namespace veter::publisher
