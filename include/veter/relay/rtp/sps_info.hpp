// Picture size, profile and level from an H.264 sequence parameter set, parsed
// with GStreamer's codecparsers (the relay no longer runs h264parse).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "veter/relay/relay_model.hpp"

namespace veter::relay {

/// `sps`: one SPS NAL unit without start code. nullopt when it does not parse,
/// or when what it says is not a camera stream we can believe: an unknown
/// profile or level, a picture outside 64..8192 pixels a side, or wider/taller
/// than 8:1. Encrypted (SRTP) payloads read as plain RTP yield such "SPS"s.
std::optional<TrackSnapshot> parse_sps(std::span<const std::uint8_t> sps);

/// h264parse's names: "constrained-baseline", "main", "high", ... ("" when unknown).
std::string h264_profile_name(int profile_idc, bool constraint_set1, bool constraint_set3);
/// "3.1", "4", "1b".
std::string h264_level_name(int level_idc, bool constraint_set3, int profile_idc);

}  // namespace veter::relay
