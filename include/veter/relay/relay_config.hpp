// veter-relay configuration: built-in defaults, YAML file, command line.
#pragma once

#include <string>
#include <vector>

#include "veter/common/logging.hpp"
#include "veter/common/values.hpp"

namespace veter::relay {

using namespace std::chrono_literals;

struct PortRange {
  int min = 8000;
  int max = 8001;
  bool operator==(const PortRange&) const = default;
};

struct IngestConfig {
  common::Endpoint listen{"", 9000};  // UDP RTP from the publisher (RTCP on port + 1)
  int payload_type = 96;
  std::vector<common::Cidr> allow_from;  // empty = anyone
  common::Duration timeout = 5s;         // no packets for this long -> not ready
  common::Duration jitter_buffer = 0ms;  // 0 = no reordering buffer (lowest latency)
  bool operator==(const IngestConfig&) const = default;
};

struct PathConfig {
  std::string name;
  IngestConfig ingest;
  int max_readers = 0;  // 0 = unlimited
  std::string run_on_ready;
  std::string run_on_not_ready;
  bool operator==(const PathConfig&) const = default;
};

struct RtspConfig {
  common::Endpoint listen{"", 8555};
  std::vector<std::string> transports{"tcp", "udp"};
  PortRange udp_port_range;
  common::Duration session_timeout = 60s;
  common::Duration viewer_max_lag = 2s;  // a viewer whose backlog is older than this is dropped
  int viewer_max_backlog_kb = 4096;     // ... or larger than this
  bool operator==(const RtspConfig&) const = default;
};

struct HttpListenerConfig {
  bool enabled = true;
  common::Endpoint listen;
  bool operator==(const HttpListenerConfig&) const = default;
};

struct RelayConfig {
  common::LogLevel log_level = common::LogLevel::info;
  common::Duration stats_interval = 10s;  // one stats line per path at info
  RtspConfig rtsp;
  HttpListenerConfig api{true, {"127.0.0.1", 9997}};
  HttpListenerConfig metrics{true, {"127.0.0.1", 9998}};
  std::vector<PathConfig> paths{PathConfig{"camera", {}, 0, "", ""}};
  bool operator==(const RelayConfig&) const = default;
};

/// Apply a YAML document onto `cfg`. A `paths:` map in the file replaces the
/// default path list. Throws common::ConfigError naming file:line:col and key.
void apply_yaml(RelayConfig& cfg, const std::string& yaml_text, const std::string& origin);
void apply_file(RelayConfig& cfg, const std::string& path);
/// Cross-field rules (duplicate ports/mounts...); throws common::ValueError.
void validate(const RelayConfig& cfg);
std::string to_yaml(const RelayConfig& cfg);

}  // namespace veter::relay
