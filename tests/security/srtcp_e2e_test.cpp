// SRTCP end to end: the relay's keyframe requests reach the
// publisher's encoder through SRTCP, and RTCP that is not SRTCP with the key
// (forged plain PLI/FIR, replays, another key) never does.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>

#include "security_helpers.hpp"
#include "veter/common/srtcp.hpp"
#include "veter/common/srtp_key.hpp"
#include "veter/relay/rtp/rtcp_packets.hpp"

using namespace std::chrono_literals;
using namespace veter;
using namespace veter::test;
using namespace veter::test::security;
using Bytes = std::vector<std::uint8_t>;

namespace {

constexpr const char* kKeyRequestLine = "keyframe request (RTCP PLI/FIR) reached the encoder";

int count_in(const Process& p, const std::string& needle) {
  const std::string text = p.out() + p.err();
  int n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

/// Wait (bounded) until `needle` occurs more than `n` times in the process's output.
bool wait_count_above(const Process& p, const std::string& needle, int n, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (count_in(p, needle) > n) {
      return true;
    }
    std::this_thread::sleep_for(50ms);
  }
  return count_in(p, needle) > n;
}

/// The real publisher (test source, x264, GOP of 3600 frames so that every IDR after the first is a
/// forced one) with SRTP and debug logging (keyframe requests are logged at debug).
std::unique_ptr<Process> start_srtp_publisher(const TempDir& dir, int relay_port, int local_port,
                                              const std::string& key_file) {
  const auto cfg = dir.write("publisher-" + std::to_string(local_port) + ".yml",
                             "srtp_key_file: \"" + key_file + "\"\nkeyframe_interval: 3600\n");
  return std::make_unique<Process>(std::vector<std::string>{
      VETER_PUBLISHER_BIN, "320x240", "30", "800", "--host", "127.0.0.1", "--port", std::to_string(relay_port),
      "--source", "test", "--encoder", "x264enc", "--local-port", std::to_string(local_port), "--config", cfg,
      "--log-level", "debug"});
}

/// A UDP socket on 127.0.0.1:port (closed on destruction).
class UdpSocket {
 public:
  explicit UdpSocket(int port) : fd_(socket(AF_INET, SOCK_DGRAM, 0)) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      throw std::runtime_error("cannot bind udp 127.0.0.1:" + std::to_string(port));
    }
  }
  ~UdpSocket() { close(fd_); }
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  /// One datagram within `timeout`, or nothing.
  std::optional<Bytes> receive(std::chrono::milliseconds timeout) const {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
      return std::nullopt;
    }
    Bytes b(2048);
    const auto n = recv(fd_, b.data(), b.size(), 0);
    if (n <= 0) {
      return std::nullopt;
    }
    b.resize(static_cast<std::size_t>(n));
    return b;
  }
  void send_to(int port, const Bytes& data) const {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    ASSERT_EQ(sendto(fd_, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(data.size()));
  }

 private:
  int fd_;
};

/// RR (about `media_ssrc`) + SDES + PLI, as the relay sends it.
Bytes rr_with_pli(std::uint32_t own_ssrc, std::uint32_t media_ssrc) {
  relay::ReportBlock b;
  b.ssrc = media_ssrc;
  Bytes p = relay::build_receiver_report(own_ssrc, b, "forger");
  const Bytes pli = relay::build_pli(own_ssrc, media_ssrc);
  p.insert(p.end(), pli.begin(), pli.end());
  return p;
}

/// RR + SDES + FIR (RFC 5104, FCI naming `media_ssrc`).
Bytes rr_with_fir(std::uint32_t own_ssrc, std::uint32_t media_ssrc, std::uint8_t seq) {
  relay::ReportBlock b;
  b.ssrc = media_ssrc;
  Bytes p = relay::build_receiver_report(own_ssrc, b, "forger");
  const Bytes fir{0x84, 206, 0, 4,
                  static_cast<std::uint8_t>(own_ssrc >> 24), static_cast<std::uint8_t>(own_ssrc >> 16),
                  static_cast<std::uint8_t>(own_ssrc >> 8), static_cast<std::uint8_t>(own_ssrc),
                  0, 0, 0, 0,
                  static_cast<std::uint8_t>(media_ssrc >> 24), static_cast<std::uint8_t>(media_ssrc >> 16),
                  static_cast<std::uint8_t>(media_ssrc >> 8), static_cast<std::uint8_t>(media_ssrc),
                  seq, 0, 0, 0};
  p.insert(p.end(), fir.begin(), fir.end());
  return p;
}

}  // namespace

// A viewer joining an SRTP path: the relay's PLI travels as SRTCP, the publisher authenticates it,
// the request reaches the encoder and the forced IDR lets the viewer decode (the GOP is 3600
// frames: without the request the viewer would wait two minutes for a picture).
TEST(SrtcpE2e, ViewerJoinKeyframeRequestReachesTheEncoderThroughSrtcp) {
  TempDir dir;
  const auto key = write_key_file(dir, "srtp.key");
  const auto p = pick_ports();
  Relay relay(dir, relay_yaml(p, "", "      srtp_key_file: \"" + key + "\"\n"));
  auto pub = start_srtp_publisher(dir, p.ingest, free_udp_port(true), key);
  ASSERT_TRUE(relay.wait_ready(45s)) << relay.process().err() << pub->err();
  std::this_thread::sleep_for(1500ms);  // well past the only periodic IDR (the first frame)
  const int before = count_in(*pub, kKeyRequestLine);
  {
    // Only intact pictures count: none can be decoded before the forced IDR.
    Viewer v("rtsp://127.0.0.1:" + std::to_string(p.rtsp) + "/camera", "", "", true);
    EXPECT_TRUE(v.wait_frames(20, 20s)) << "frames: " << v.frames() << "\n" << pub->err();
    EXPECT_EQ(v.width(), 320);
  }
  EXPECT_TRUE(wait_count_above(*pub, kKeyRequestLine, before, 5s))
      << "the viewer's keyframe request did not reach the publisher's encoder\n"
      << pub->out() << pub->err();
  // The relay's receiver reports authenticate too: rtpbin reads them (stats line every 10 s).
  EXPECT_TRUE(pub->wait_for_output("relay RR: lost", 15s)) << pub->out() << pub->err();
  EXPECT_EQ((pub->out() + pub->err()).find("RTCP dropped"), std::string::npos) << pub->out() << pub->err();
  EXPECT_EQ((pub->out() + pub->err()).find("is not SRTCP"), std::string::npos) << pub->out() << pub->err();
  // Nothing from the publisher (RTP or its SRTCP) failed at the relay.
  EXPECT_EQ(dropped(p.metrics, "srtp_auth").value_or(-1), 0);
  EXPECT_EQ(pub->stop(), 0);
}

// The test plays the relay (it receives the publisher's SRTP, whose SSRC is in clear) and sends
// RTCP to the publisher's RTCP port from the relay's own address and port.
TEST(SrtcpE2e, ForgedPlainPliAndFirReplaysAndWrongKeyNeverReachTheEncoder) {
  TempDir dir;
  const auto key_file = write_key_file(dir, "srtp.key");
  const auto key = common::load_srtp_key_file(key_file);
  const int relay_port = free_udp_port(true);
  const int local = free_udp_port(true);
  UdpSocket rtp(relay_port);
  UdpSocket rtcp(relay_port + 1);
  auto pub = start_srtp_publisher(dir, relay_port, local, key_file);
  std::optional<Bytes> first;
  for (int i = 0; i < 10 && !first; ++i) {
    first = rtp.receive(1s);
  }
  ASSERT_TRUE(first.has_value() && first->size() >= 12) << pub->err();
  const std::uint32_t ssrc = (std::uint32_t{(*first)[8]} << 24) | (std::uint32_t{(*first)[9]} << 16) |
                             (std::uint32_t{(*first)[10]} << 8) | (*first)[11];
  ASSERT_TRUE(pub->wait_for_output("streaming: frames flowing", 15s)) << pub->err();
  std::this_thread::sleep_for(1s);
  const int base = count_in(*pub, kKeyRequestLine);
  const std::uint32_t forger = 0x0F0F0F0F;

  // 1. Plain PLI, plain compound RR+PLI and RR+FIR: what worked before SRTCP.
  rtcp.send_to(local + 1, relay::build_pli(forger, ssrc));
  rtcp.send_to(local + 1, rr_with_pli(forger, ssrc));
  rtcp.send_to(local + 1, rr_with_fir(forger, ssrc, 1));
  EXPECT_TRUE(pub->wait_for_output("is not SRTCP with this publisher's key was dropped", 5s))
      << pub->out() << pub->err();
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(count_in(*pub, kKeyRequestLine), base) << "a forged plain PLI/FIR reached the encoder\n" << pub->err();

  // 2. Positive control: the same PLI as SRTCP with the key gets through (the test can fail for the
  //    right reason), once.
  common::SrtcpContext relay_side(key, common::SrtcpContext::Direction::outbound);
  const Bytes genuine = relay_side.protect(rr_with_pli(forger, ssrc));
  rtcp.send_to(local + 1, genuine);
  ASSERT_TRUE(wait_count_above(*pub, kKeyRequestLine, base, 3s)) << "an authenticated PLI did not reach the encoder\n"
                                                                 << pub->out() << pub->err();
  std::this_thread::sleep_for(1s);
  const int after_genuine = count_in(*pub, kKeyRequestLine);

  // 3. The captured genuine packet replayed, and SRTCP made with another key.
  rtcp.send_to(local + 1, genuine);
  rtcp.send_to(local + 1, genuine);
  const auto other_key = common::load_srtp_key_file(write_key_file(dir, "other.key"));
  common::SrtcpContext other(other_key, common::SrtcpContext::Direction::outbound);
  for (int i = 0; i < 3; ++i) {
    rtcp.send_to(local + 1, other.protect(rr_with_pli(forger + 1, ssrc)));
    rtcp.send_to(local + 1, other.protect(rr_with_fir(forger + 1, ssrc, static_cast<std::uint8_t>(2 + i))));
  }
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(count_in(*pub, kKeyRequestLine), after_genuine)
      << "a replayed or wrong-key PLI/FIR reached the encoder\n" << pub->err();
  EXPECT_TRUE(pub->running());
  // The stats line (every 10 s) counts the dropped datagrams.
  EXPECT_TRUE(pub->wait_for_output("RTCP dropped (not authenticated)", 15s)) << pub->out() << pub->err();
  EXPECT_EQ(pub->stop(), 0);
}
