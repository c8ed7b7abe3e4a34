// Capture-time stamps carried in H.264 "user data unregistered" SEI messages.
//
// Every access unit the publisher sends carries one SEI NAL unit (type 6) with
// payloadType 5, the 16-byte veter UUID below and the frame's capture time as a
// big-endian signed 64-bit count of microseconds since the Unix epoch. SEI
// survives any relay that forwards the H.264 bitstream, so one probe can
// measure glass-to-viewer latency through any chain.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

namespace veter::common::sei {

/// UUID identifying veter capture-time SEI (e1 0c 5f 42-...): fixed forever.
inline constexpr std::array<std::uint8_t, 16> kVeterUuid = {0xe1, 0x0c, 0x5f, 0x42, 0x7a, 0x9b,
                                                            0x4d, 0x1e, 0x8f, 0x36, 0x0b, 0xa7,
                                                            0xc2, 0x51, 0x94, 0xd8};

/// The complete NAL unit (header + escaped RBSP, no start code) carrying `capture_us`.
std::vector<std::uint8_t> make_timestamp_nal(std::int64_t capture_us);

/// The timestamp in one NAL unit (header included, no start code), if it is ours.
std::optional<std::int64_t> parse_timestamp_nal(std::span<const std::uint8_t> nal);

/// Call fn(nal) for every NAL unit of an Annex-B byte stream (start codes stripped).
void for_each_annexb_nal(std::span<const std::uint8_t> stream,
                         const std::function<void(std::span<const std::uint8_t>)>& fn);
/// Call fn(nal) for every NAL unit of an AVC (length-prefixed) buffer.
/// Returns false when the lengths do not add up (the rest is skipped).
bool for_each_avc_nal(std::span<const std::uint8_t> buf, int length_size,
                      const std::function<void(std::span<const std::uint8_t>)>& fn);

/// First veter timestamp in an Annex-B access unit.
std::optional<std::int64_t> find_timestamp_annexb(std::span<const std::uint8_t> au);
/// First veter timestamp in an AVC (length-prefixed) access unit.
std::optional<std::int64_t> find_timestamp_avc(std::span<const std::uint8_t> au, int length_size = 4);

/// A copy of the Annex-B access unit with the timestamp SEI inserted before its
/// first VCL NAL unit (after AUD/SPS/PPS), as H.264 requires.
std::vector<std::uint8_t> insert_timestamp_annexb(std::span<const std::uint8_t> au,
                                                  std::int64_t capture_us);

/// Escape RBSP bytes (insert emulation-prevention 0x03) / remove them.
std::vector<std::uint8_t> escape_rbsp(std::span<const std::uint8_t> rbsp);
std::vector<std::uint8_t> unescape_rbsp(std::span<const std::uint8_t> ebsp);

}  // namespace veter::common::sei
