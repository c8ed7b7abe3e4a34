// What the relay knows about its paths and viewers, as plain snapshots.
// The relay core fills these in; the HTTP API, the metrics endpoint and the
// periodic stats line only read them, on the main loop that owns the state
// (docs/relay.md "Threads").
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace veter::relay {

/// Loss repair on the ingest leg (NACK/RTX, see ingest/ingest_repair.hpp).
struct RepairSnapshot {
  bool enabled = false;
  std::optional<double> rtt_ms;  // NACK -> retransmission round trip (jitter buffer)
  double repair_window_ms = 0;
  bool repair_window_auto = true;
  std::uint64_t nacks_sent = 0;       // NACK RTCP packets
  std::uint64_t nacked_packets = 0;   // sequence numbers asked for (retries included)
  std::uint64_t retransmissions_received = 0;
  std::uint64_t repaired = 0;         // missing packets that arrived in time thanks to a NACK
  std::uint64_t repaired_too_late = 0;
  std::uint64_t unrecoverable = 0;    // given up after the repair window
  std::uint64_t frames_dropped = 0;   // access units not forwarded because a packet was missing
  bool operator==(const RepairSnapshot&) const = default;
};

struct IngestSnapshot {
  std::string publisher_addr;  // "" when no publisher has been seen
  int publisher_port = 0;
  std::uint64_t packets = 0;         // accepted RTP packets
  std::uint64_t bytes = 0;           // accepted RTP bytes (UDP payload)
  std::uint64_t lost = 0;            // sequence-number gaps
  std::uint64_t reordered = 0;       // late/out-of-order packets
  std::uint64_t takeovers = 0;       // another source took the path from a silent publisher (ingest.takeover)
  std::map<std::string, std::uint64_t> dropped;  // reason -> count (not_allowed, foreign_source, malformed, ...)
  double jitter_ms = 0;              // RFC 3550 interarrival jitter
  double fps = 0;                    // access units per second (last window)
  double bitrate_bps = 0;            // bits per second (last window)
  std::optional<std::int64_t> last_packet_age_ms;  // nullopt before the first packet
  std::optional<double> keyframe_interval_s;       // time between the last two IDRs
  RepairSnapshot repair;
  bool operator==(const IngestSnapshot&) const = default;
};

struct TrackSnapshot {
  std::string codec = "H264";
  int width = 0;
  int height = 0;
  std::string profile;  // e.g. "Constrained Baseline"
  std::string level;    // e.g. "3.1"
  bool operator==(const TrackSnapshot&) const = default;
};

/// A path's recording (paths.<name>.record), when enabled.
struct RecordSnapshot {
  bool enabled = false;
  bool recording = false;        // a segment is being written
  std::string error;             // non-empty: recording stopped for this reason
  std::string directory;         // <dir>/<path>
  std::string current_file;      // the segment being written ("" when none)
  std::uint64_t segments = 0;    // segments started since the relay started
  std::uint64_t dropped = 0;     // access units dropped because the recorder fell behind
  std::uint64_t deleted = 0;     // segments removed by retention
  bool operator==(const RecordSnapshot&) const = default;
};

struct PathSnapshot {
  std::string name;
  std::string conf_name;
  bool ready = false;
  std::optional<std::chrono::system_clock::time_point> ready_time;
  std::optional<std::string> source_id;  // publisher "addr:port" while ready
  std::vector<std::string> tracks;       // ["H264"] once SPS/PPS have been seen
  std::optional<TrackSnapshot> track;
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;            // to all viewers of this path
  std::vector<std::string> reader_ids;     // RTSP session ids
  IngestSnapshot ingest;
  std::optional<RecordSnapshot> record;  // set when recording is enabled for the path
  bool operator==(const PathSnapshot&) const = default;
};

struct SessionSnapshot {
  std::string id;
  std::string path;
  std::string remote_addr;  // "ip:port"
  std::string transport;    // "tcp" | "udp"
  std::string state;        // "idle" | "read"
  std::uint64_t bytes_sent = 0;
  std::chrono::system_clock::time_point created;
  // Bounded viewer delay (TCP viewers; see docs/relay.md "Viewers that stay live").
  std::uint64_t frames_skipped = 0;  // access units not sent while the viewer caught up
  std::uint64_t catch_ups = 0;       // times it skipped to a keyframe
  double delay_ms = 0;               // age of its oldest unacknowledged access unit at the last check
  bool operator==(const SessionSnapshot&) const = default;
};

struct WebrtcSessionSnapshot {
  std::string id;
  std::string path;
  std::string remote_addr;  // "ip:port" of the WHEP request
  std::string state;        // "negotiating" | "connecting" | "read"
  std::string user;         // authenticated user ("" for a token or an open server)
  std::uint64_t bytes_sent = 0;
  std::uint64_t rtp_packets_sent = 0;
  std::chrono::system_clock::time_point created;
  bool operator==(const WebrtcSessionSnapshot&) const = default;
};

/// Read access for the API and metrics; every call happens on the main loop.
class RelayModel {
 public:
  virtual ~RelayModel() = default;
  [[nodiscard]] virtual std::vector<PathSnapshot> paths() const = 0;
  [[nodiscard]] virtual std::vector<SessionSnapshot> sessions() const = 0;
  /// Disconnect one RTSP session; false when no such session exists.
  virtual bool kick(const std::string& session_id) = 0;
  /// True when the WHEP listener is configured (webrtc.enabled).
  [[nodiscard]] virtual bool webrtc_enabled() const { return false; }
  /// WebRTC (WHEP) viewers; none when webrtc is disabled.
  [[nodiscard]] virtual std::vector<WebrtcSessionSnapshot> webrtc_sessions() const { return {}; }
  /// Close one WebRTC session; false when no such session exists.
  virtual bool kick_webrtc(const std::string& /*session_id*/) { return false; }
};

}  // namespace veter::relay
