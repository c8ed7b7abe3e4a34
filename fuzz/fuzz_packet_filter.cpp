// Fuzz the relay's ingest packet classifier (allow list, RTP/RTCP structure,
// payload type, publisher lock) on arbitrary datagrams from arbitrary senders.
// Input: [0] flags, [1..4] IPv4 sender, [5..6] port, [7] time step, rest = datagram.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "veter/relay/ingest/packet_filter.hpp"

using namespace veter;
using namespace veter::relay;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 8) {
    return 0;
  }
  static PacketFilter filter({common::parse_cidr("10.0.0.0/8"), common::parse_cidr("192.168.1.7")}, 96,
                             std::chrono::milliseconds(500));
  static PublisherLock::Clock::time_point now{};
  now += std::chrono::milliseconds(data[7] * 10);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  std::memcpy(&sa.sin_addr, data + 1, 4);
  std::memcpy(&sa.sin_port, data + 5, 2);
  const std::span<const std::uint8_t> dgram(data + 8, size - 8);
  const auto* from = (data[0] & 1U) != 0 ? nullptr : reinterpret_cast<const sockaddr*>(&sa);
  const auto v = filter.check_rtp(dgram, from, now);
  if (!v.drop) {
    // An accepted packet is well-formed RTP of the configured type from an allowed sender.
    const auto again = parse_rtp(dgram);
    if (again.drop || v.header.payload_type != 96 || from == nullptr ||
        v.header.payload_offset + v.header.payload_size > dgram.size()) {
      __builtin_trap();
    }
  }
  (void)filter.check_rtcp_datagram(dgram, from);
  (void)check_rtcp(dgram);
  (void)looks_like_rtcp(dgram);
  (void)source_from_sockaddr(from).to_string();
  return 0;
}
