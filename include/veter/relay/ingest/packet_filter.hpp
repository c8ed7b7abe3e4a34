// Ingest packet filter: decides for every UDP datagram that reaches a path's
// ingest ports whether it is accepted, and if not, why it is dropped.
//
// Pure code (no GStreamer, no sockets, no clock reads): the caller passes the
// bytes, the sender's address and the current time. It runs on the ingest
// streaming thread and is the target of the security fuzzers.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "veter/common/values.hpp"
#include "veter/relay/conf/relay_config.hpp"

struct sockaddr;

namespace veter::relay {

/// Why a datagram was dropped. Keep to_string() in sync (API/metrics labels).
enum class DropReason : std::uint8_t {
  not_allowed,         // sender outside ingest.allow_from
  too_short,           // shorter than the headers it announces
  bad_version,         // RTP/RTCP version is not 2
  bad_header,          // CSRC count, extension or padding inconsistent with the length
  rtcp_on_rtp_port,    // an RTCP packet sent to the RTP port
  wrong_payload_type,  // RTP with a payload type other than ingest.payload_type
  foreign_source,      // valid RTP from another address:port while the publisher is live
  bad_rtcp,            // malformed RTCP on the RTCP port
};
inline constexpr std::size_t kDropReasonCount = 8;
std::string_view to_string(DropReason reason);

/// An IPv4/IPv6 address and port, comparable without sockaddr juggling.
struct SourceAddress {
  int family = 0;                    // AF_INET, AF_INET6, 0 = unknown
  std::array<std::uint8_t, 16> addr{};  // IPv4 uses the first 4 bytes
  std::uint16_t port = 0;
  [[nodiscard]] bool same_host(const SourceAddress& o) const { return family == o.family && addr == o.addr; }
  [[nodiscard]] std::string host_string() const;
  [[nodiscard]] std::string to_string() const;  // "1.2.3.4:5000", "[::1]:5000"
  bool operator==(const SourceAddress&) const = default;
};
SourceAddress source_from_sockaddr(const sockaddr* sa);

/// The fixed RTP header fields the relay uses.
struct RtpHeader {
  std::uint8_t payload_type = 0;
  bool marker = false;
  std::uint16_t seq = 0;
  std::uint32_t timestamp = 0;
  std::uint32_t ssrc = 0;
  std::size_t payload_offset = 0;  // after CSRCs and extension
  std::size_t payload_size = 0;    // without padding
};

/// Structural RTP check (RFC 3550 §5.1): version, length, CSRC/extension/padding.
/// Returns the header or the reason the datagram is not usable RTP.
struct RtpParse {
  std::optional<DropReason> drop;
  RtpHeader header;
};
RtpParse parse_rtp(std::span<const std::uint8_t> data);

/// True when the second byte is an RTCP packet type (200..207 incl. SR/RR/SDES/BYE/APP/RTPFB/PSFB/XR),
/// which RFC 5761 §4 uses to tell RTCP from RTP.
bool looks_like_rtcp(std::span<const std::uint8_t> data);
/// Structural check of a (compound) RTCP datagram: every packet version 2 and the
/// length words add up exactly. nullopt = valid.
std::optional<DropReason> check_rtcp(std::span<const std::uint8_t> data);

/// The publisher lock: the first valid source owns the path; others are
/// foreign. Whether another source may take the path once the owner has been
/// silent for `timeout` is `takeover` (ingest.takeover): after_timeout (a NAT
/// may change the robot's port), never, or allow_from_only (only when
/// `restricted`, i.e. ingest.allow_from limits who gets this far).
class PublisherLock {
 public:
  using Clock = std::chrono::steady_clock;
  explicit PublisherLock(std::chrono::nanoseconds timeout, Takeover takeover = Takeover::after_timeout,
                         bool restricted = false)
      : timeout_(timeout), takeover_(takeover), restricted_(restricted) {}
  enum class Result { owner, new_owner, foreign };
  Result admit(const SourceAddress& src, Clock::time_point now);
  [[nodiscard]] const std::optional<SourceAddress>& owner() const { return owner_; }

 private:
  std::chrono::nanoseconds timeout_;
  Takeover takeover_;
  bool restricted_;
  std::optional<SourceAddress> owner_;
  Clock::time_point last_seen_{};
};

/// Allow list + RTP structure + payload type + publisher lock, in that order.
class PacketFilter {
 public:
  PacketFilter(std::vector<common::Cidr> allow_from, int payload_type, std::chrono::nanoseconds timeout,
               Takeover takeover = Takeover::after_timeout);
  struct Verdict {
    std::optional<DropReason> drop;
    RtpHeader header;
    bool new_publisher = false;  // this packet made `source` the publisher
    bool repair = false;         // a retransmission (RTX payload type) from the current publisher
    SourceAddress source;
    std::optional<SourceAddress> previous;  // with new_publisher: the silent one it replaced
  };
  /// Also accept RTP of payload type `pt` (RFC 4588 RTX) — only from the current publisher,
  /// never as a new one. -1 = none (the default).
  void set_repair_payload_type(int pt) { repair_payload_type_ = pt; }
  /// One datagram on the RTP port. `sa` may be null (unknown sender: never allowed by a non-empty list).
  Verdict check_rtp(std::span<const std::uint8_t> data, const sockaddr* sa, PublisherLock::Clock::time_point now);
  /// One datagram on the RTCP port: allow list and structure (no lock).
  std::optional<DropReason> check_rtcp_datagram(std::span<const std::uint8_t> data, const sockaddr* sa) const;
  [[nodiscard]] const std::optional<SourceAddress>& publisher() const { return lock_.owner(); }

 private:
  std::vector<common::Cidr> allow_from_;
  int payload_type_;
  int repair_payload_type_ = -1;
  PublisherLock lock_;
};

}  // namespace veter::relay
