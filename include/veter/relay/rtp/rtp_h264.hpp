// What an H.264 RTP payload (RFC 6184) carries: parameter sets, IDR slices.
// Pure functions on the payload bytes (the part after the RTP header); the
// relay forwards packets unchanged and only looks inside them for readiness,
// keyframe timing and the SPS/PPS that new viewers' SDP needs.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace veter::relay {

struct H264PayloadInfo {
  bool sps = false;
  bool pps = false;
  bool idr = false;           // an IDR slice, or the first fragment of one
  bool valid = false;         // a NAL unit header that H.264 allows (F bit clear, known type)
  std::vector<std::span<const std::uint8_t>> sps_units;  // complete SPS NAL units (single or STAP-A)
  std::vector<std::span<const std::uint8_t>> pps_units;  // complete PPS NAL units
};

/// Inspect one RTP payload: a single NAL unit (types 1-23), a STAP-A (24) or a
/// FU-A fragment (28). Malformed aggregates stop at the first bad length.
H264PayloadInfo inspect_h264_payload(std::span<const std::uint8_t> payload);

/// A STAP-A payload aggregating `units` (each a complete NAL unit without start code).
std::vector<std::uint8_t> make_stap_a(std::span<const std::vector<std::uint8_t>> units);

}  // namespace veter::relay
