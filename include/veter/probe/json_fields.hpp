// The fields of veter-probe --json, as JSON pointers: documented in docs/probe.md and
// checked by the tests (every one is always present, null when unknown).
#pragma once

#include <string>
#include <vector>

namespace veter::probe {

inline std::vector<std::string> documented_json_fields() {
  return {"/url",
          "/transport",
          "/decode",
          "/duration_s",
          "/time_to_connect_ms",
          "/time_to_first_frame_ms",
          "/first_frame_age_ms",
          "/frames",
          "/frames_received",
          "/keyframes",
          "/fps",
          "/bitrate_kbps",
          "/bytes",
          "/rtp_packets",
          "/rtp_lost",
          "/frozen/count",
          "/frozen/total_ms",
          "/frozen/longest_ms",
          "/frozen/threshold_ms",
          "/width",
          "/height",
          "/decode_errors",
          "/concealed_frames",
          "/latency/available",
          "/latency/frames_with_timestamp",
          "/latency/capture_to_arrival_ms",
          "/latency/capture_to_decoded_ms",
          "/latency/negative",
          "/latency/clock_note",
          "/not_ready",
          "/error",
          "/exit_code"};
}

}  // namespace veter::probe
