#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <random>

#include "veter/relay/ingest/packet_filter.hpp"

using namespace veter;
using namespace veter::relay;
using namespace std::chrono_literals;

namespace {

std::vector<std::uint8_t> rtp(std::uint8_t pt = 96, std::uint16_t seq = 1, std::uint32_t ssrc = 0x11223344,
                              std::size_t payload = 10) {
  std::vector<std::uint8_t> p = {0x80, pt, static_cast<std::uint8_t>(seq >> 8), static_cast<std::uint8_t>(seq),
                                 0, 0, 0, 9,
                                 static_cast<std::uint8_t>(ssrc >> 24), static_cast<std::uint8_t>(ssrc >> 16),
                                 static_cast<std::uint8_t>(ssrc >> 8), static_cast<std::uint8_t>(ssrc)};
  p.resize(12 + payload, 0x65);
  return p;
}

sockaddr_in v4(const char* ip, std::uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  inet_pton(AF_INET, ip, &sa.sin_addr);
  return sa;
}

const sockaddr* as_sa(const sockaddr_in& s) { return reinterpret_cast<const sockaddr*>(&s); }

}  // namespace

TEST(ParseRtp, AcceptsPlainPacket) {
  const auto p = rtp(96, 0xABCD, 0xDEADBEEF, 5);
  const auto r = parse_rtp(p);
  ASSERT_FALSE(r.drop);
  EXPECT_EQ(r.header.payload_type, 96);
  EXPECT_EQ(r.header.seq, 0xABCD);
  EXPECT_EQ(r.header.ssrc, 0xDEADBEEFU);
  EXPECT_EQ(r.header.timestamp, 9U);
  EXPECT_EQ(r.header.payload_offset, 12U);
  EXPECT_EQ(r.header.payload_size, 5U);
}

TEST(ParseRtp, RejectsByReason) {
  auto p = rtp();
  EXPECT_EQ(parse_rtp(std::span(p.data(), 11)).drop, DropReason::too_short);
  EXPECT_EQ(parse_rtp(std::span(p.data(), 12)).drop, DropReason::too_short);  // header only
  auto v1 = p;
  v1[0] = 0x40;
  EXPECT_EQ(parse_rtp(v1).drop, DropReason::bad_version);
  auto csrc = p;
  csrc[0] = 0x80 | 15;  // 15 CSRCs = 60 bytes that are not there
  EXPECT_EQ(parse_rtp(csrc).drop, DropReason::bad_header);
  auto ext = p;
  ext[0] = 0x90;  // extension flag; the length word says 0x6565 words
  EXPECT_EQ(parse_rtp(ext).drop, DropReason::bad_header);
  auto pad = p;
  pad[0] = 0xA0;
  pad.back() = 200;  // more padding than payload
  EXPECT_EQ(parse_rtp(pad).drop, DropReason::bad_header);
  pad.back() = 0;  // zero padding count is invalid too
  EXPECT_EQ(parse_rtp(pad).drop, DropReason::bad_header);
  auto rtcp = p;
  rtcp[1] = 200;  // SR on the RTP port
  EXPECT_EQ(parse_rtp(rtcp).drop, DropReason::rtcp_on_rtp_port);
}

TEST(ParseRtp, CsrcExtensionAndPadding) {
  // 1 CSRC, a 1-word extension, 3 bytes of padding.
  std::vector<std::uint8_t> p = {0xB1, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2,  // header, P+X, CC=1
                                 1, 2, 3, 4,                             // CSRC
                                 0xBE, 0xDE, 0, 1, 9, 9, 9, 9,           // extension
                                 0x41, 0x42, 0, 0, 3};                   // payload "AB" + padding 3
  const auto r = parse_rtp(p);
  ASSERT_FALSE(r.drop);
  EXPECT_EQ(r.header.payload_offset, 24U);
  EXPECT_EQ(r.header.payload_size, 2U);
}

TEST(CheckRtcp, CompoundLengthsMustAddUp) {
  const std::vector<std::uint8_t> rr = {0x80, 201, 0, 1, 1, 2, 3, 4};
  EXPECT_FALSE(check_rtcp(rr));
  auto two = rr;
  two.insert(two.end(), rr.begin(), rr.end());
  EXPECT_FALSE(check_rtcp(two));
  auto cut = two;
  cut.pop_back();
  EXPECT_EQ(check_rtcp(cut), DropReason::bad_rtcp);
  auto badpt = rr;
  badpt[1] = 100;
  EXPECT_EQ(check_rtcp(badpt), DropReason::bad_rtcp);
  auto badv = rr;
  badv[0] = 0x40;
  EXPECT_EQ(check_rtcp(badv), DropReason::bad_version);
  EXPECT_EQ(check_rtcp(std::span(rr.data(), 3)), DropReason::too_short);
}

TEST(PacketFilter, AllowListIsCheckedFirst) {
  PacketFilter f({common::parse_cidr("10.0.0.0/8")}, 96, 1s);
  const auto now = PublisherLock::Clock::now();
  const auto inside = v4("10.1.2.3", 5004);
  const auto outside = v4("192.168.1.1", 5004);
  const std::vector<std::uint8_t> garbage = {1, 2, 3};
  EXPECT_EQ(f.check_rtp(garbage, as_sa(outside), now).drop, DropReason::not_allowed);
  EXPECT_EQ(f.check_rtp(garbage, as_sa(inside), now).drop, DropReason::too_short);
  EXPECT_FALSE(f.check_rtp(rtp(), as_sa(inside), now).drop);
  EXPECT_EQ(f.check_rtp(rtp(), nullptr, now).drop, DropReason::not_allowed);
  EXPECT_EQ(f.check_rtcp_datagram(std::vector<std::uint8_t>{0x80, 201, 0, 1, 0, 0, 0, 0}, as_sa(outside)),
            DropReason::not_allowed);
}

TEST(PacketFilter, PayloadTypeMustMatch) {
  PacketFilter f({}, 96, 1s);
  const auto a = v4("127.0.0.1", 5004);
  EXPECT_EQ(f.check_rtp(rtp(97), as_sa(a), PublisherLock::Clock::now()).drop, DropReason::wrong_payload_type);
  EXPECT_FALSE(f.publisher());  // an invalid packet never claims the path
}

TEST(PacketFilter, RetransmissionsOnlyFromTheCurrentPublisher) {
  PacketFilter f({}, 96, 5s);
  f.set_repair_payload_type(97);
  const auto t0 = PublisherLock::Clock::now();
  const auto a = v4("127.0.0.1", 5004);
  const auto b = v4("127.0.0.1", 6004);
  EXPECT_EQ(f.check_rtp(rtp(97, 1, 0x99), as_sa(a), t0).drop, DropReason::foreign_source);  // no publisher yet
  EXPECT_FALSE(f.publisher());
  EXPECT_FALSE(f.check_rtp(rtp(), as_sa(a), t0).drop);
  const auto v = f.check_rtp(rtp(97, 1, 0x99), as_sa(a), t0);
  EXPECT_FALSE(v.drop);
  EXPECT_TRUE(v.repair);
  EXPECT_FALSE(v.new_publisher);
  EXPECT_EQ(f.check_rtp(rtp(97, 2, 0x99), as_sa(b), t0 + 10s).drop, DropReason::foreign_source);  // never a take-over
  EXPECT_EQ(f.check_rtp(rtp(98), as_sa(a), t0).drop, DropReason::wrong_payload_type);
}

TEST(PacketFilter, PublisherLockAndTakeOver) {
  PacketFilter f({}, 96, 5s);
  const auto t0 = PublisherLock::Clock::now();
  const auto a = v4("127.0.0.1", 5004);
  const auto b = v4("127.0.0.1", 6004);  // same host, other port: another source
  auto v = f.check_rtp(rtp(), as_sa(a), t0);
  EXPECT_FALSE(v.drop);
  EXPECT_TRUE(v.new_publisher);
  EXPECT_EQ(v.source.to_string(), "127.0.0.1:5004");
  EXPECT_EQ(f.check_rtp(rtp(), as_sa(b), t0 + 1s).drop, DropReason::foreign_source);
  v = f.check_rtp(rtp(), as_sa(a), t0 + 4s);  // the owner keeps it alive
  EXPECT_FALSE(v.drop);
  EXPECT_FALSE(v.new_publisher);
  EXPECT_EQ(f.check_rtp(rtp(), as_sa(b), t0 + 8s).drop, DropReason::foreign_source);  // 4 s of silence
  v = f.check_rtp(rtp(), as_sa(b), t0 + 9s + 1ms);  // 5 s of silence: b takes over
  EXPECT_FALSE(v.drop);
  EXPECT_TRUE(v.new_publisher);
  EXPECT_EQ(f.publisher()->port, 6004);
  ASSERT_TRUE(v.previous);
  EXPECT_EQ(v.previous->to_string(), "127.0.0.1:5004");  // for the takeover warning
  EXPECT_EQ(f.check_rtp(rtp(), as_sa(a), t0 + 9s + 2ms).drop, DropReason::foreign_source);
}

TEST(PacketFilter, TakeoverNeverKeepsTheFirstPublisher) {
  PacketFilter f({}, 96, 5s, Takeover::never);
  const auto t0 = PublisherLock::Clock::now();
  const auto a = v4("127.0.0.1", 5004);
  const auto b = v4("127.0.0.1", 6004);
  EXPECT_TRUE(f.check_rtp(rtp(), as_sa(a), t0).new_publisher);
  EXPECT_EQ(f.check_rtp(rtp(), as_sa(b), t0 + 60s).drop, DropReason::foreign_source);  // silent for a minute
  const auto v = f.check_rtp(rtp(), as_sa(a), t0 + 61s);  // the robot comes back: still its path
  EXPECT_FALSE(v.drop);
  EXPECT_FALSE(v.new_publisher);
}

TEST(PacketFilter, TakeoverAllowFromOnlyNeedsAnAllowList) {
  const auto t0 = PublisherLock::Clock::now();
  const auto a = v4("10.1.2.3", 5004);
  const auto b = v4("10.1.2.4", 5004);
  PacketFilter open({}, 96, 5s, Takeover::allow_from_only);
  EXPECT_TRUE(open.check_rtp(rtp(), as_sa(a), t0).new_publisher);
  EXPECT_EQ(open.check_rtp(rtp(), as_sa(b), t0 + 10s).drop, DropReason::foreign_source);
  PacketFilter listed({common::parse_cidr("10.1.2.0/24")}, 96, 5s, Takeover::allow_from_only);
  EXPECT_TRUE(listed.check_rtp(rtp(), as_sa(a), t0).new_publisher);
  EXPECT_EQ(listed.check_rtp(rtp(), as_sa(b), t0 + 1s).drop, DropReason::foreign_source);
  EXPECT_TRUE(listed.check_rtp(rtp(), as_sa(b), t0 + 10s).new_publisher);
}

TEST(PacketFilter, RandomBytesNeverCrashAndAreClassified) {
  PacketFilter f({}, 96, 1s);
  const auto a = v4("127.0.0.1", 5004);
  std::mt19937 rng(42);
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> d(rng() % 64);
    for (auto& b : d) {
      b = static_cast<std::uint8_t>(rng());
    }
    const auto v = f.check_rtp(d, as_sa(a), PublisherLock::Clock::now());
    if (!v.drop) {
      EXPECT_EQ(v.header.payload_type, 96);
      EXPECT_LE(v.header.payload_offset + v.header.payload_size, d.size());
    }
    (void)check_rtcp(d);
  }
}

TEST(SourceAddress, Formats) {
  sockaddr_in6 s6{};
  s6.sin6_family = AF_INET6;
  s6.sin6_port = htons(9000);
  inet_pton(AF_INET6, "::1", &s6.sin6_addr);
  EXPECT_EQ(source_from_sockaddr(reinterpret_cast<const sockaddr*>(&s6)).to_string(), "[::1]:9000");
  const auto a = v4("192.0.2.7", 1);
  EXPECT_EQ(source_from_sockaddr(as_sa(a)).host_string(), "192.0.2.7");
  EXPECT_EQ(to_string(DropReason::foreign_source), "foreign_source");
}
