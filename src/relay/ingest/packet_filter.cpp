#include "veter/relay/ingest/packet_filter.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include <fmt/format.h>

namespace veter::relay {

std::string_view to_string(DropReason reason) {
  switch (reason) {
    case DropReason::not_allowed: return "not_allowed";
    case DropReason::too_short: return "too_short";
    case DropReason::bad_version: return "bad_version";
    case DropReason::bad_header: return "bad_header";
    case DropReason::rtcp_on_rtp_port: return "rtcp_on_rtp_port";
    case DropReason::wrong_payload_type: return "wrong_payload_type";
    case DropReason::foreign_source: return "foreign_source";
    case DropReason::bad_rtcp: return "bad_rtcp";
  }
  return "unknown";
}

std::string SourceAddress::host_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family == AF_INET || family == AF_INET6) {
    if (inet_ntop(family, addr.data(), buf, sizeof buf) != nullptr) {
      return buf;
    }
  }
  return "?";
}

std::string SourceAddress::to_string() const {
  if (family == AF_INET6) {
    return fmt::format("[{}]:{}", host_string(), port);
  }
  return fmt::format("{}:{}", host_string(), port);
}

SourceAddress source_from_sockaddr(const sockaddr* sa) {
  SourceAddress s;
  if (sa == nullptr) {
    return s;
  }
  if (sa->sa_family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, sa, sizeof in);
    s.family = AF_INET;
    std::memcpy(s.addr.data(), &in.sin_addr, 4);
    s.port = ntohs(in.sin_port);
  } else if (sa->sa_family == AF_INET6) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, sa, sizeof in6);
    s.family = AF_INET6;
    std::memcpy(s.addr.data(), &in6.sin6_addr, 16);
    s.port = ntohs(in6.sin6_port);
  }
  return s;
}

namespace {
std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }
std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
}  // namespace

bool looks_like_rtcp(std::span<const std::uint8_t> data) {
  return data.size() >= 2 && data[1] >= 200 && data[1] <= 207;
}

RtpParse parse_rtp(std::span<const std::uint8_t> data) {
  RtpParse r;
  if (data.size() < 12) {
    r.drop = DropReason::too_short;
    return r;
  }
  if ((data[0] >> 6) != 2) {
    r.drop = DropReason::bad_version;
    return r;
  }
  if (looks_like_rtcp(data)) {
    r.drop = DropReason::rtcp_on_rtp_port;
    return r;
  }
  const bool padding = (data[0] & 0x20) != 0;
  const bool extension = (data[0] & 0x10) != 0;
  const std::size_t csrc_count = data[0] & 0x0F;
  std::size_t offset = 12 + 4 * csrc_count;
  if (offset > data.size()) {
    r.drop = DropReason::bad_header;
    return r;
  }
  if (extension) {
    if (offset + 4 > data.size()) {
      r.drop = DropReason::bad_header;
      return r;
    }
    const std::size_t words = be16(&data[offset + 2]);
    offset += 4 + 4 * words;
    if (offset > data.size()) {
      r.drop = DropReason::bad_header;
      return r;
    }
  }
  std::size_t end = data.size();
  if (padding) {
    const std::size_t pad = data.back();
    if (pad == 0 || offset + pad > end) {
      r.drop = DropReason::bad_header;
      return r;
    }
    end -= pad;
  }
  if (end == offset) {
    r.drop = DropReason::too_short;  // no payload at all
    return r;
  }
  r.header.marker = (data[1] & 0x80) != 0;
  r.header.payload_type = data[1] & 0x7F;
  r.header.seq = be16(&data[2]);
  r.header.timestamp = be32(&data[4]);
  r.header.ssrc = be32(&data[8]);
  r.header.payload_offset = offset;
  r.header.payload_size = end - offset;
  return r;
}

std::optional<DropReason> check_rtcp(std::span<const std::uint8_t> data) {
  if (data.size() < 8) {
    return DropReason::too_short;
  }
  std::size_t off = 0;
  while (off < data.size()) {
    if (data.size() - off < 4) {
      return DropReason::bad_rtcp;
    }
    if ((data[off] >> 6) != 2) {
      return DropReason::bad_version;
    }
    if (data[off + 1] < 192 || data[off + 1] > 223) {
      return DropReason::bad_rtcp;
    }
    const std::size_t len = 4 * (std::size_t{be16(&data[off + 2])} + 1);
    if (len > data.size() - off) {
      return DropReason::bad_rtcp;
    }
    off += len;
  }
  return std::nullopt;
}

PublisherLock::Result PublisherLock::admit(const SourceAddress& src, Clock::time_point now) {
  if (owner_ && *owner_ == src) {
    last_seen_ = now;
    return Result::owner;
  }
  if (owner_ && (now - last_seen_ < timeout_ || takeover_ == Takeover::never ||
                 (takeover_ == Takeover::allow_from_only && !restricted_))) {
    return Result::foreign;
  }
  owner_ = src;
  last_seen_ = now;
  return Result::new_owner;
}

PacketFilter::PacketFilter(std::vector<common::Cidr> allow_from, int payload_type, std::chrono::nanoseconds timeout,
                           Takeover takeover)
    : allow_from_(std::move(allow_from)), payload_type_(payload_type),
      lock_(timeout, takeover, !allow_from_.empty()) {}

PacketFilter::Verdict PacketFilter::check_rtp(std::span<const std::uint8_t> data, const sockaddr* sa,
                                              PublisherLock::Clock::time_point now) {
  Verdict v;
  if (!allow_from_.empty() && !common::cidr_list_allows(allow_from_, sa)) {
    v.drop = DropReason::not_allowed;
    return v;
  }
  v.source = source_from_sockaddr(sa);
  auto parsed = parse_rtp(data);
  if (parsed.drop) {
    v.drop = parsed.drop;
    return v;
  }
  v.header = parsed.header;
  if (repair_payload_type_ >= 0 && v.header.payload_type == repair_payload_type_) {
    if (!lock_.owner() || !(*lock_.owner() == v.source)) {
      v.drop = DropReason::foreign_source;
    } else {
      v.repair = true;
    }
    return v;
  }
  if (v.header.payload_type != payload_type_) {
    v.drop = DropReason::wrong_payload_type;
    return v;
  }
  const auto before = lock_.owner();
  switch (lock_.admit(v.source, now)) {
    case PublisherLock::Result::owner: break;
    case PublisherLock::Result::new_owner:
      v.new_publisher = true;
      v.previous = before;
      break;
    case PublisherLock::Result::foreign: v.drop = DropReason::foreign_source; break;
  }
  return v;
}

std::optional<DropReason> PacketFilter::check_rtcp_datagram(std::span<const std::uint8_t> data,
                                                            const sockaddr* sa) const {
  if (!allow_from_.empty() && !common::cidr_list_allows(allow_from_, sa)) {
    return DropReason::not_allowed;
  }
  return check_rtcp(data);
}

}  // namespace veter::relay
