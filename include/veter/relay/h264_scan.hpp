// What an H.264 byte-stream access unit contains (SPS, PPS, IDR), found by
// scanning its start codes. Pure; used for the path's readiness.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace veter::relay {

struct AccessUnitInfo {
  bool sps = false;
  bool pps = false;
  bool idr = false;
  int nal_units = 0;
};

/// Scan an Annex B byte stream (00 00 01 / 00 00 00 01 start codes).
AccessUnitInfo scan_access_unit(std::span<const std::uint8_t> data);

/// The SPS and PPS NAL units of an access unit, each with a 4-byte start code
/// (empty when it has neither).
std::vector<std::uint8_t> extract_parameter_sets(std::span<const std::uint8_t> data);

}  // namespace veter::relay
