// Test fixture: a RelayModel holding fixed snapshots (for golden JSON/metrics
// and HTTP routing tests). The e2e tests use the real relay instead.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "veter/relay/relay_model.hpp"

namespace veter::relay::test {

inline std::chrono::system_clock::time_point at(long long unix_seconds, long long micros = 0) {
  return std::chrono::system_clock::time_point{} + std::chrono::seconds(unix_seconds) +
         std::chrono::microseconds(micros);
}

class FixedModel : public RelayModel {
 public:
  std::vector<PathSnapshot> path_list;
  std::vector<SessionSnapshot> session_list;
  std::vector<std::string> kicked;

  [[nodiscard]] std::vector<PathSnapshot> paths() const override { return path_list; }
  [[nodiscard]] std::vector<SessionSnapshot> sessions() const override { return session_list; }
  bool kick(const std::string& id) override {
    for (auto it = session_list.begin(); it != session_list.end(); ++it) {
      if (it->id == id) {
        kicked.push_back(id);
        session_list.erase(it);
        return true;
      }
    }
    return false;
  }
};

/// A path that has never seen a publisher.
inline PathSnapshot fresh_path(const std::string& name = "camera") {
  PathSnapshot p;
  p.name = name;
  p.conf_name = name;
  return p;
}

/// A ready path with two viewers.
inline PathSnapshot ready_path() {
  PathSnapshot p = fresh_path();
  p.ready = true;
  p.ready_time = at(1764095000, 123456);
  p.source_id = "203.0.113.7:5004";
  p.tracks = {"H264"};
  p.track = TrackSnapshot{"H264", 1280, 720, "Constrained Baseline", "3.1"};
  p.bytes_received = 1048576;
  p.bytes_sent = 2097152;
  p.reader_ids = {"5f2a9c01", "77b0e4d2"};
  p.ingest.publisher_addr = "203.0.113.7";
  p.ingest.publisher_port = 5004;
  p.ingest.packets = 900;
  p.ingest.bytes = 1048576;
  p.ingest.lost = 3;
  p.ingest.reordered = 1;
  p.ingest.takeovers = 2;
  p.ingest.dropped = {{"foreign_source", 2}, {"malformed", 5}};
  p.ingest.jitter_ms = 1.25;
  p.ingest.fps = 30;
  p.ingest.bitrate_bps = 2000000;
  p.ingest.last_packet_age_ms = 12;
  p.ingest.keyframe_interval_s = 1.0;
  p.ingest.repair.enabled = true;
  p.ingest.repair.rtt_ms = 52.5;
  p.ingest.repair.repair_window_ms = 98;
  p.ingest.repair.nacks_sent = 41;
  p.ingest.repair.nacked_packets = 57;
  p.ingest.repair.retransmissions_received = 55;
  p.ingest.repair.repaired = 54;
  p.ingest.repair.repaired_too_late = 1;
  p.ingest.repair.unrecoverable = 2;
  p.ingest.repair.frames_dropped = 1;
  return p;
}

/// The same path after its publisher went quiet past ingest.timeout.
inline PathSnapshot stale_path() {
  PathSnapshot p = ready_path();
  p.ready = false;
  p.ready_time.reset();
  p.source_id.reset();
  p.reader_ids = {"5f2a9c01"};
  p.ingest.fps = 0;
  p.ingest.bitrate_bps = 0;
  p.ingest.last_packet_age_ms = 5200;
  return p;
}

inline SessionSnapshot session(const std::string& id, const std::string& transport, std::uint64_t bytes,
                               long long created) {
  SessionSnapshot s;
  s.id = id;
  s.path = "camera";
  s.remote_addr = "127.0.0.1:40000";
  s.transport = transport;
  s.state = "read";
  s.bytes_sent = bytes;
  s.created = at(created);
  return s;
}

}  // namespace veter::relay::test
