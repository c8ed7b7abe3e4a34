// The result of one probe run, and its three renderings: a one-line live status,
// a plain-text summary and one JSON object.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "veter/probe/frame_timeline.hpp"
#include "veter/probe/latency_stats.hpp"

namespace veter::probe {

struct ProbeReport {
  std::string url;
  std::string transport;  // "tcp" | "udp" | "rtp-direct"
  bool decode = false;
  double duration_s = 0;                          // measured wall time of the run
  std::optional<double> time_to_connect_ms;       // start -> stream set up (PLAY answered)
  std::optional<double> time_to_first_frame_ms;   // start -> first decodable frame
  std::optional<double> first_frame_age_ms;       // that frame's capture -> arrival (freshness)
  std::uint64_t frames = 0;           // decodable frames (decoded frames with --decode)
  std::uint64_t frames_received = 0;  // access units received, decodable or not
  std::uint64_t keyframes = 0;        // IDR access units received
  double fps = 0;
  double bitrate_kbps = 0;            // H.264 payload
  std::uint64_t bytes = 0;
  std::uint64_t rtp_packets = 0;
  std::uint64_t rtp_lost = 0;         // sequence-number gaps
  FreezeSummary frozen;
  std::optional<int> width;           // decoded picture size (with --decode)
  std::optional<int> height;
  std::uint64_t decode_errors = 0;    // decoder warnings/errors (with --decode)
  std::uint64_t concealed_frames = 0; // frames the decoder output as corrupted (concealed)
  std::uint64_t frames_with_timestamp = 0;
  std::optional<LatencySummary> capture_to_arrival_ms;
  std::optional<LatencySummary> capture_to_decoded_ms;
  std::uint64_t negative_latencies = 0;  // clocks out of sync when > 0
  std::vector<double> arrival_samples_ms;  // per frame, in arrival order (not in the JSON)
  std::string clock_note;                // empty when publisher and probe share a host
  std::string error;                     // why the run failed ("" when it did not)
  bool not_ready = false;                // the server said the path has no publisher
  int exit_code = 0;

  [[nodiscard]] bool latency_available() const { return capture_to_arrival_ms.has_value(); }
};

/// Every documented field, always present (null when unknown).
nlohmann::json to_json(const ProbeReport& r);
/// One short line for the live status ("12.3s 30.0 fps 2010 kbit/s lat p50 21.4 ms ...").
std::string status_line(const ProbeReport& r);
/// A multi-line human summary.
std::string summary_text(const ProbeReport& r);

}  // namespace veter::probe
