// The publisher -> relay leg on an impaired link (bench/tools veter-bench-impair between them):
// with NACK/RTX a viewer gets nearly every frame clean at 3 % loss, without it clearly fewer;
// a NACK flood never gets more than the retransmission budget out of the publisher, and NACKs
// from anyone but the relay are ignored.
//
// "Clean" = the frame and every frame back to its IDR arrived complete (no missing RTP packet),
// counted on the RTP a real RTSP/TCP viewer receives: what a decoder needs for an error-free
// picture (baseline H.264, no B-frames).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "process.hpp"
#include "raw_rtsp_client.hpp"
#include "relay_test_helpers.hpp"
#include "veter/relay/rtp/rtcp_packets.hpp"
#include "veter/relay/rtp/rtp_h264.hpp"

using namespace veter;
using namespace veter::test;
using namespace std::chrono_literals;

namespace {

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

/// Frames and whether each is clean, from the RTP packets in arrival order (TCP: no reordering).
class FrameChain {
 public:
  void on_packet(const std::uint8_t* d, std::size_t n) {
    if (n < 12 || (d[0] >> 6) != 2) {
      return;
    }
    const std::size_t off = 12 + 4 * static_cast<std::size_t>(d[0] & 0x0F);
    if (n <= off) {
      return;
    }
    const std::uint16_t seq = be16(d + 2);
    const std::uint32_t ts = be32(d + 4);
    const bool marker = (d[1] & 0x80) != 0;
    const auto info = relay::inspect_h264_payload(std::span<const std::uint8_t>(d + off, n - off));
    if (open_ && ts != ts_) {
      end_frame(false);  // its marker packet never came
    }
    if (!open_) {
      if (last_ts_) {
        // Frames the relay did not forward at all (timestamp steps of one frame at 30 fps).
        const auto step = static_cast<std::int32_t>(ts - *last_ts_);
        if (step > 4500 && started_) {
          const int missing = step / 3000 - 1;
          frames_ += missing;
          chain_ok_ = false;
        }
      }
      open_ = true;
      ts_ = ts;
      idr_ = false;
      complete_ = last_seq_ && static_cast<std::uint16_t>(*last_seq_ + 1) == seq;
    } else if (!last_seq_ || static_cast<std::uint16_t>(*last_seq_ + 1) != seq) {
      complete_ = false;
    }
    idr_ = idr_ || info.idr;
    last_seq_ = seq;
    if (marker) {
      end_frame(true);
    }
  }
  [[nodiscard]] int frames() const { return frames_; }
  [[nodiscard]] int clean() const { return clean_; }
  [[nodiscard]] double clean_share() const { return frames_ > 0 ? static_cast<double>(clean_) / frames_ : 0.0; }

 private:
  void end_frame(bool marker) {
    open_ = false;
    last_ts_ = ts_;
    const bool complete = complete_ && marker;
    if (!started_) {
      if (!(idr_ && complete)) {
        return;  // count from the first complete IDR on
      }
      started_ = true;
    }
    ++frames_;
    chain_ok_ = complete && (idr_ || chain_ok_);
    clean_ += chain_ok_ ? 1 : 0;
  }
  bool open_ = false;
  bool started_ = false;
  bool chain_ok_ = false;
  bool complete_ = false;
  bool idr_ = false;
  std::uint32_t ts_ = 0;
  std::optional<std::uint32_t> last_ts_;
  std::optional<std::uint16_t> last_seq_;
  int frames_ = 0;
  int clean_ = 0;
};

/// An RTSP viewer over TCP that hands every interleaved RTP packet of channel 0 to a FrameChain.
FrameChain watch(int rtsp_port, const std::string& url, std::chrono::seconds duration) {
  FrameChain chain;
  RawRtspClient c(rtsp_port);
  EXPECT_EQ(c.request("DESCRIBE", url, {"Accept: application/sdp"}).status, 200);
  auto setup = c.request("SETUP", url + "/stream=0", {"Transport: RTP/AVP/TCP;unicast;interleaved=0-1"});
  EXPECT_EQ(setup.status, 200) << setup.headers;
  std::string session = setup.header("Session");
  session = session.substr(0, session.find(';'));
  EXPECT_EQ(c.request("PLAY", url, {"Session: " + session, "Range: npt=0-"}).status, 200);
  std::string buf = c.take_pending();
  const auto end = std::chrono::steady_clock::now() + duration;
  std::vector<char> tmp(65536);
  while (std::chrono::steady_clock::now() < end) {
    pollfd p{c.fd(), POLLIN, 0};
    if (::poll(&p, 1, 200) > 0) {
      const ssize_t n = ::recv(c.fd(), tmp.data(), tmp.size(), 0);
      if (n <= 0) {
        break;
      }
      buf.append(tmp.data(), static_cast<std::size_t>(n));
    }
    std::size_t at = 0;
    while (buf.size() - at >= 4 && buf[at] == '$') {
      const std::size_t len = (static_cast<unsigned char>(buf[at + 2]) << 8) | static_cast<unsigned char>(buf[at + 3]);
      if (buf.size() - at < 4 + len) {
        break;
      }
      if (buf[at + 1] == 0) {
        chain.on_packet(reinterpret_cast<const std::uint8_t*>(buf.data() + at + 4), len);
      }
      at += 4 + len;
    }
    if (at < buf.size() && buf[at] != '$') {
      // An RTSP message (keep-alive answer) between frames: skip to the next frame.
      const auto next = buf.find('$', at);
      at = next == std::string::npos ? buf.size() : next;
    }
    buf.erase(0, at);
  }
  return chain;
}

struct LegRun {
  double clean_share = 0;
  int frames = 0;
  std::string relay_stats;
  std::string impair_stats;
};

/// Publisher (snow, 320x240@30, 600 kbit/s: 2-3 packets a frame, light enough for a loaded machine) -> forwarder (3 % random loss each way for RTP and
/// RTCP to the relay, 10 ms one-way delay) -> relay; a TCP viewer watches for `duration`.
LegRun run_leg(bool repair, std::chrono::seconds duration) {
  LegRun out;
  RelayUnderTest relay(repair ? "" : "      nack: false\n");
  TempDir dir;
  const int fwd = free_udp_port(true);
  const auto stats = dir.path() + "/impair.json";
  Process impair({VETER_IMPAIR_BIN, "--listen", std::to_string(fwd), "--to",
                  "127.0.0.1:" + std::to_string(relay.ports().ingest), "--loss", "0.03", "--delay-ms", "10", "--seed",
                  "7", "--stats", stats});
  EXPECT_TRUE(impair.wait_for_output("listening", 10s)) << impair.err();
  const auto cfg = dir.write("publisher.yml", repair ? "rtx: true\n" : "rtx: false\n");
  Process pub({VETER_PUBLISHER_BIN, "320x240", "30", "600", "--config", cfg, "--host", "127.0.0.1", "--port",
               std::to_string(fwd), "--source", "test", "--test-pattern", "snow", "--encoder", "x264enc",
               "--local-port", std::to_string(free_udp_port(true))});
  if (!relay.wait_ready(60s)) {
    ADD_FAILURE() << "relay not ready\n" << relay.process().err() << pub.err();
    return out;
  }
  const FrameChain chain = watch(relay.ports().rtsp, relay.url(), duration);
  out.clean_share = chain.clean_share();
  out.frames = chain.frames();
  const std::string log = relay.process().err() + relay.process().out();
  const auto at = log.rfind("stats camera:");
  out.relay_stats = at == std::string::npos ? "" : log.substr(at, log.find('\n', at) - at);
  pub.stop(5s);
  impair.stop(5s);
  out.impair_stats = read_text_file(stats);
  EXPECT_EQ(relay.process().stop(10s), 0);
  return out;
}

// 1. 3 % loss: with NACK/RTX >= 99 % of frames clean; with PLI only clearly fewer.
TEST(LegE2E, RetransmissionKeepsFramesCleanAtThreePercentLoss) {
  const LegRun on = run_leg(true, 15s);
  std::printf("[ measure ] RTX on: %d frames, %.1f %% clean\n  %s\n  impair %s\n", on.frames, 100 * on.clean_share,
              on.relay_stats.c_str(), on.impair_stats.c_str());
  const LegRun off = run_leg(false, 15s);
  std::printf("[ measure ] RTX off: %d frames, %.1f %% clean\n  %s\n", off.frames, 100 * off.clean_share,
              off.relay_stats.c_str());
  ASSERT_GT(on.frames, 150) << "too few frames to judge";
  ASSERT_GT(off.frames, 150) << "too few frames to judge";
  EXPECT_GE(on.clean_share, 0.99);
  EXPECT_NE(on.relay_stats.find(" repaired="), std::string::npos) << on.relay_stats;
  EXPECT_EQ(on.relay_stats.find(" repaired=0 "), std::string::npos) << "nothing was repaired: " << on.relay_stats;
  EXPECT_LT(off.clean_share, on.clean_share - 0.05) << "RTX made no clear difference";
}

/// The relay's side of the publisher's sockets, played by the test: counts RTP by payload type and
/// sends NACKs from the relay's RTCP port (or from elsewhere).
class FakeRelay {
 public:
  FakeRelay() : rtp_(bind_udp(0)), rtcp_(bind_udp(port() + 1)), stranger_(bind_udp(0)) {}
  ~FakeRelay() {
    for (int fd : {rtp_, rtcp_, stranger_}) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
  }
  [[nodiscard]] int port() const { return local_port(rtp_); }
  [[nodiscard]] bool ok() const { return rtp_ >= 0 && rtcp_ >= 0 && stranger_ >= 0; }
  /// Read RTP for `d`; every `every` send a NACK for the 17 newest media packets (from the relay's port,
  /// or from a stranger's).
  void run(std::chrono::milliseconds d, std::chrono::milliseconds every, bool from_stranger, int publisher_rtcp) {
    const auto end = std::chrono::steady_clock::now() + d;
    auto next_nack = std::chrono::steady_clock::now();
    std::vector<std::uint8_t> buf(2048);
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{rtp_, POLLIN, 0};
      if (::poll(&p, 1, 2) > 0) {
        const ssize_t n = ::recv(rtp_, buf.data(), buf.size(), 0);
        if (n >= 12) {
          const int pt = buf[1] & 0x7F;
          if (pt == 96) {
            ++media_;
            media_ssrc_ = be32(&buf[8]);
            newest_ = be16(&buf[2]);
          } else if (pt == 97) {
            ++rtx_;
          }
        }
      }
      if (media_ssrc_ && every.count() > 0 && std::chrono::steady_clock::now() >= next_nack) {
        next_nack += every;
        std::vector<std::uint16_t> seqs;
        for (int i = 0; i < 17; ++i) {
          seqs.push_back(static_cast<std::uint16_t>(newest_ - i));
        }
        auto pkt = relay::build_receiver_report(0x5EED, std::nullopt, "fake-relay");
        const auto nack = relay::build_nack(0x5EED, *media_ssrc_, seqs);
        pkt.insert(pkt.end(), nack.begin(), nack.end());
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(static_cast<std::uint16_t>(publisher_rtcp));
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::sendto(from_stranger ? stranger_ : rtcp_, pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&to),
                 sizeof to);
        ++nacks_;
      }
    }
  }
  std::uint64_t media_ = 0;
  std::uint64_t rtx_ = 0;
  std::uint64_t nacks_ = 0;

 private:
  static int bind_udp(int port) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
  static int local_port(int fd) {
    sockaddr_in a{};
    socklen_t l = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &l);
    return ntohs(a.sin_port);
  }
  int rtp_;
  int rtcp_;
  int stranger_;
  std::optional<std::uint32_t> media_ssrc_;
  std::uint16_t newest_ = 0;
};

// 2. A NACK flood (17 packets every 5 ms, ~3400 requests/s) from the relay's address: the publisher
//    retransmits at most its budget (30 % of the media packets, plus half a second's burst); the
//    same flood from another port gets nothing.
TEST(LegE2E, NackFloodIsBoundedAndStrangersAreIgnored) {
  std::unique_ptr<FakeRelay> relay;
  for (int i = 0; i < 20 && (!relay || !relay->ok()); ++i) {
    relay = std::make_unique<FakeRelay>();  // rtp and rtp+1 must both be free
  }
  ASSERT_TRUE(relay && relay->ok());
  const int local = free_udp_port(true);
  Process pub({VETER_PUBLISHER_BIN, "320x240", "30", "600", "--host", "127.0.0.1", "--port",
               std::to_string(relay->port()), "--source", "test", "--test-pattern", "snow", "--encoder", "x264enc",
               "--local-port", std::to_string(local)});
  relay->run(4s, 0ms, false, local + 1);  // warm up: media only
  ASSERT_GT(relay->media_, 100u) << pub.err();

  FakeRelay& r = *relay;
  const auto media0 = r.media_;
  r.run(5s, 5ms, true, local + 1);  // a stranger floods
  EXPECT_EQ(r.rtx_, 0u) << "NACKs from another port were answered";
  const auto media1 = r.media_;
  r.run(5s, 5ms, false, local + 1);  // the relay's own port floods
  const auto media = r.media_ - media1;
  std::printf("[ measure ] flood: %llu NACKs, media %llu (stranger phase %llu), retransmissions %llu (%.0f %%)\n",
              static_cast<unsigned long long>(r.nacks_), static_cast<unsigned long long>(media),
              static_cast<unsigned long long>(media1 - media0), static_cast<unsigned long long>(r.rtx_),
              media > 0 ? 100.0 * static_cast<double>(r.rtx_) / static_cast<double>(media) : 0.0);
  EXPECT_GT(r.rtx_, 0u) << "the relay's NACKs were not answered";
  EXPECT_LE(static_cast<double>(r.rtx_), 0.30 * static_cast<double>(media) * 1.1 + 0.15 * 600 / 8 * 1000 / 1200.0 + 5)
      << "retransmissions above the budget";
  pub.signal(SIGTERM);
  ASSERT_TRUE(pub.wait(10s).has_value());
  EXPECT_NE(pub.err().find("RTCP dropped (not from the relay)"), std::string::npos) << pub.err();
}

}  // namespace

namespace {

// 3. A 400 kbit/s bottleneck (drop-tail queue of 32 kB) under an 800 kbit/s publisher: its
//    congestion control brings the encoder below the cap.
TEST(LegE2E, BitrateFallsBelowARateCap) {
  RelayUnderTest relay;
  TempDir dir;
  const int fwd = free_udp_port(true);
  Process impair({VETER_IMPAIR_BIN, "--listen", std::to_string(fwd), "--to",
                  "127.0.0.1:" + std::to_string(relay.ports().ingest), "--rate", "400", "--queue-bytes", "32000",
                  "--delay-ms", "10", "--seed", "3"});
  ASSERT_TRUE(impair.wait_for_output("listening", 10s)) << impair.err();
  Process pub({VETER_PUBLISHER_BIN, "320x240", "30", "800", "--host", "127.0.0.1", "--port", std::to_string(fwd),
               "--source", "test", "--test-pattern", "snow", "--encoder", "x264enc", "--local-port",
               std::to_string(free_udp_port(true)), "--log-level", "debug"});
  std::optional<int> below;
  const auto end = std::chrono::steady_clock::now() + 45s;
  while (!below && std::chrono::steady_clock::now() < end) {
    pub.wait_for_output("bitrate target", 1s);
    const std::string log = pub.err() + pub.out();
    for (auto at = log.find("bitrate target "); at != std::string::npos; at = log.find("bitrate target ", at + 1)) {
      const int kbps = std::atoi(log.c_str() + at + 15);
      if (kbps > 0 && kbps < 400) {
        below = kbps;
        break;
      }
    }
  }
  const std::string log = pub.err();
  const auto last = log.rfind("bitrate target");
  std::printf("[ measure ] rate cap 400 kbit/s: %s\n",
              last == std::string::npos ? "no change" : log.substr(last, log.find('\n', last) - last).c_str());
  EXPECT_TRUE(below.has_value()) << "the encoder's target never went below the 400 kbit/s cap\n" << log;
  pub.stop(5s);
  impair.stop(5s);
  EXPECT_EQ(relay.process().stop(10s), 0);
}

}  // namespace
