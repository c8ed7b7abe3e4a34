// The RTCP the relay sends to its publisher (receiver reports, PLI) and the
// little it reads from the publisher's RTCP (sender reports). Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "veter/relay/rtp/rtp_stats.hpp"

namespace veter::relay {

/// Compound RR (+ one report block when given) + SDES CNAME (RFC 3550 §6.1).
std::vector<std::uint8_t> build_receiver_report(std::uint32_t sender_ssrc, const std::optional<ReportBlock>& block,
                                                std::string_view cname);
/// Picture Loss Indication (RFC 4585 §6.3.1): PSFB, FMT 1, 12 bytes.
std::vector<std::uint8_t> build_pli(std::uint32_t sender_ssrc, std::uint32_t media_ssrc);

/// Generic NACK (RFC 4585 §6.2.1): RTPFB, FMT 1, the sequence numbers as PID + bitmask pairs.
/// Empty input gives an empty vector.
std::vector<std::uint8_t> build_nack(std::uint32_t sender_ssrc, std::uint32_t media_ssrc,
                                     std::vector<std::uint16_t> seqs);
/// The sequence numbers a datagram's generic NACKs about `media_ssrc` ask for (for tests
/// playing the publisher, and for the publisher's retransmission budget).
std::vector<std::uint16_t> nacked_sequence_numbers(std::span<const std::uint8_t> data, std::uint32_t media_ssrc);

struct SenderReportInfo {
  std::uint32_t ssrc = 0;
  std::uint32_t ntp_middle = 0;  // LSR value for our report blocks
};
/// The first SR in a (structurally valid) compound RTCP datagram.
std::optional<SenderReportInfo> find_sender_report(std::span<const std::uint8_t> data);
/// True when the datagram carries a PLI or FIR (used by tests playing the publisher).
bool contains_keyframe_request(std::span<const std::uint8_t> data);

}  // namespace veter::relay
