// veter-relay configuration: built-in defaults, YAML file, command line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
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

/// Who may take a path whose publisher went silent (ingest.takeover).
enum class Takeover {
  after_timeout,    // any valid source, once the publisher was silent for ingest.timeout (a robot's NAT may change its port)
  never,            // the first source keeps the path until the relay restarts
  allow_from_only,  // like after_timeout, but only when ingest.allow_from restricts the sources (required)
};
std::string_view to_string(Takeover t);

struct IngestConfig {
  common::Endpoint listen{"", 9000};  // UDP RTP from the publisher (RTCP on port + 1)
  int payload_type = 96;
  std::vector<common::Cidr> allow_from;  // empty = anyone
  common::Duration timeout = 5s;         // no packets for this long -> not ready
  common::Duration jitter_buffer = 0ms;  // 0 = no reordering buffer (lowest latency)
  std::string srtp_key_file;             // non-empty = accept only SRTP/SRTCP with this key
  Takeover takeover = Takeover::after_timeout;
  bool nack = true;                      // ask for lost packets (RFC 4585 NACK), accept RTX (RFC 4588)
  int rtx_payload_type = 97;             // the publisher's retransmissions (apt = payload_type)
  common::Duration repair_window = 0ms;  // longest hold for a missing packet; 0 = auto from the RTT
  bool operator==(const IngestConfig&) const = default;
};

/// Recording of a path on the relay (src/relay/record/, docs/recording.md).
struct RecordRetention {
  common::Duration max_age = std::chrono::hours(24 * 7);  // 0 = no age limit
  std::uint64_t max_bytes = std::uint64_t{10} << 30;       // 0 = no size limit
  bool operator==(const RecordRetention&) const = default;
};

struct RecordConfig {
  bool enabled = false;
  std::string dir = "/var/lib/veter/recordings";  // segments go to <dir>/<path name>/
  common::Duration segment = 60s;                   // a new file at the first keyframe after this
  std::string format = "fmp4";                      // fragmented MP4 (the only format)
  RecordRetention retention;
  bool operator==(const RecordConfig&) const = default;
};

struct PathConfig {
  std::string name;
  IngestConfig ingest;
  int max_readers = 0;  // 0 = unlimited
  std::string run_on_ready;
  std::string run_on_not_ready;
  /// What viewers get when the publisher's picture size changes: "continue"
  /// (keep the session, new SPS in-band) or "reconnect" (their sessions end, so
  /// players that cannot switch size in-stream reopen and get the new size).
  std::string on_size_change = "continue";
  /// Per-path rtsp.viewer_max_delay; 0 = the rtsp one.
  common::Duration viewer_max_delay = 0ms;
  RecordConfig record;
  bool operator==(const PathConfig&) const = default;
};

// issue 6: viewer authentication and RTSPS (see rtsp_security.hpp).
struct RtspUser {
  std::string user;
  std::string pass;                    // plain (Digest, or Basic over TLS)
  std::string pass_sha256;             // hex SHA-256 of the password (Basic over TLS only)
  std::vector<std::string> paths;      // empty = every path
  std::vector<common::Cidr> ips;       // empty = from anywhere
  bool operator==(const RtspUser&) const = default;
};

struct RtspTls {
  std::string cert_file;  // PEM certificate (chain); both set = serve rtsps://
  std::string key_file;   // PEM private key
  bool operator==(const RtspTls&) const = default;
};

struct RtspConfig {
  common::Endpoint listen{"", 8555};
  std::vector<std::string> transports{"tcp", "udp"};
  PortRange udp_port_range;
  common::Duration session_timeout = 60s;
  common::Duration viewer_max_delay = 200ms;  // a viewer further behind skips to the next keyframe
  common::Duration viewer_max_lag = 2s;  // a viewer whose backlog is older than this is dropped
  int viewer_max_backlog_kb = 4096;     // ... or larger than this
  // issue 6: security
  std::vector<RtspUser> users;          // empty = open server (warned at startup)
  RtspTls tls;
  int max_connections = 1000;           // 0 = unlimited
  int max_connections_per_address = 100;  // 0 = unlimited
  common::Duration idle_timeout = 10s;  // a connection without a session is closed after this
  bool operator==(const RtspConfig&) const = default;
};

/// The transports viewers are really offered: rtsp.transports, without `udp`
/// when rtsp.tls is set (RTSPS carries the video inside the TLS connection;
/// plain RTP over UDP would put it in the clear, so a UDP SETUP gets 461).
[[nodiscard]] std::vector<std::string> served_transports(const RtspConfig& rtsp);

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
  // Recordings over HTTP (MediaMTX playback-server shape: /list, /get).
  HttpListenerConfig playback{false, {"127.0.0.1", 9996}};
  std::vector<PathConfig> paths{PathConfig{"camera", {}, 0, "", "", "continue", {}, {}}};
  // issue 6: api.token / metrics.token; non-empty = require "Authorization: Bearer <token>"
  std::string api_token;
  std::string metrics_token;
  std::string playback_token;
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
