// veter-relay end to end: the real relay and publisher binaries on loopback,
// real RTSP clients (GStreamer rtspsrc + avdec_h264, ffmpeg, a raw socket).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "process.hpp"
#include "relay_test_helpers.hpp"
#include "rtsp_viewer.hpp"

using namespace veter::test;
using namespace std::chrono_literals;

namespace {

int udp_socket_bound(int port) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (port != 0 && bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void send_to(int fd, int port, const std::vector<std::uint8_t>& d) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  sendto(fd, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
}

std::vector<std::uint8_t> rtp_packet(std::uint8_t first, std::uint8_t pt, std::uint16_t seq, std::uint32_t ssrc,
                                     std::size_t payload, std::mt19937& rng) {
  std::vector<std::uint8_t> p = {first, pt, static_cast<std::uint8_t>(seq >> 8), static_cast<std::uint8_t>(seq),
                                 1, 2, 3, 4,
                                 static_cast<std::uint8_t>(ssrc >> 24), static_cast<std::uint8_t>(ssrc >> 16),
                                 static_cast<std::uint8_t>(ssrc >> 8), static_cast<std::uint8_t>(ssrc)};
  for (std::size_t i = 0; i < payload; ++i) {
    p.push_back(static_cast<std::uint8_t>(rng()));
  }
  return p;
}

// ffmpeg -progress output: the last frame= value, and whether it ended.
struct FfmpegProgress {
  long frames = -1;
  bool ended = false;
};
FfmpegProgress read_progress(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  FfmpegProgress p;
  while (std::getline(in, line)) {
    if (line.rfind("frame=", 0) == 0) {
      p.frames = std::stol(line.substr(6));
    } else if (line == "progress=end") {
      p.ended = true;
    }
  }
  return p;
}

}  // namespace

// 1. publisher (test source, 1280x720@30) -> relay -> rtspsrc over TCP and over UDP.
TEST(RelayE2E, PublisherToTcpAndUdpViewers) {
  RelayUnderTest relay;
  auto pub = start_publisher(relay.ports().ingest, free_udp_port(true), "1280x720", 30, 2000);
  ASSERT_TRUE(relay.wait_ready(30s)) << relay.process().err() << pub->err();
  RtspViewer tcp(relay.url(), "tcp");
  RtspViewer udp(relay.url(), "udp");
  ASSERT_TRUE(tcp.start());
  ASSERT_TRUE(udp.start());
  EXPECT_TRUE(tcp.wait_frames(90, 60s)) << "tcp frames " << tcp.frames() << " " << tcp.error().value_or("")
                                       << relay.process().err();
  EXPECT_TRUE(udp.wait_frames(90, 60s)) << "udp frames " << udp.frames() << " " << udp.error().value_or("");
  EXPECT_EQ(tcp.width(), 1280);
  EXPECT_EQ(tcp.height(), 720);
  EXPECT_EQ(udp.width(), 1280);
  EXPECT_EQ(udp.height(), 720);
  std::printf("[ measure ] tcp viewer: %d frames, first after %.0f ms; udp viewer: %d frames, first after %.0f ms\n",
              tcp.frames(), tcp.first_frame_ms().value_or(-1), udp.frames(), udp.first_frame_ms().value_or(-1));
  tcp.stop();
  udp.stop();
  pub->stop();  // (the publisher's own exit status is tested in tests/publisher)
  EXPECT_EQ(relay.process().stop(10s), 0) << relay.process().err();  // SIGTERM -> clean exit 0
}

// 2. ten concurrent TCP viewers.
TEST(RelayE2E, TenTcpViewers) {
  RelayUnderTest relay;
  auto pub = start_publisher(relay.ports().ingest, free_udp_port(true), "320x240", 30, 500);
  ASSERT_TRUE(relay.wait_ready(30s)) << relay.process().err() << pub->err();
  std::vector<std::unique_ptr<RtspViewer>> viewers;
  for (int i = 0; i < 10; ++i) {
    viewers.push_back(std::make_unique<RtspViewer>(relay.url(), "tcp"));
    ASSERT_TRUE(viewers.back()->start());
  }
  std::string counts;
  for (auto& v : viewers) {
    EXPECT_TRUE(v->wait_frames(90, 90s)) << v->frames() << " " << v->error().value_or("");
    EXPECT_EQ(v->width(), 320);
    counts += std::to_string(v->frames()) + " ";
  }
  std::printf("[ measure ] 10 tcp viewers decoded: %s\n", counts.c_str());
}

// 3. The publisher dies for 3 s and comes back: the same sessions continue, no EOS.
TEST(RelayE2E, ViewersOutliveThePublisher) {
  RelayUnderTest relay;
  const int local = free_udp_port(true);
  auto pub = start_publisher(relay.ports().ingest, local, "320x240", 30, 500);
  ASSERT_TRUE(relay.wait_ready(30s)) << relay.process().err() << pub->err();
  RtspViewer viewer(relay.url(), "tcp");
  ASSERT_TRUE(viewer.start());
  TempDir dir;
  const std::string progress = dir.path() + "/progress.txt";
  ASSERT_EQ(access("/usr/bin/ffmpeg", X_OK), 0) << "ffmpeg is needed (scripts/deps.sh installs it)";
  Process ffmpeg({"/usr/bin/ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", relay.url(), "-an",
                  "-f", "null", "-progress", progress, "-stats_period", "0.2", "-"});
  ASSERT_TRUE(viewer.wait_frames(60, 60s)) << viewer.error().value_or("");
  const auto ff_deadline = std::chrono::steady_clock::now() + 60s;
  while (read_progress(progress).frames < 30 && std::chrono::steady_clock::now() < ff_deadline) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_GE(read_progress(progress).frames, 30) << ffmpeg.err();

  pub->signal(SIGKILL);
  pub->wait(5s);
  std::this_thread::sleep_for(3s);
  viewer.poll();
  const int before = viewer.frames();
  const long ff_before = read_progress(progress).frames;
  EXPECT_FALSE(viewer.eos());
  EXPECT_FALSE(viewer.error()) << *viewer.error();
  EXPECT_TRUE(ffmpeg.running());

  pub = start_publisher(relay.ports().ingest, local, "320x240", 30, 500);  // new SSRC, seq, timestamps
  EXPECT_TRUE(viewer.wait_frames(before + 60, 60s))
      << "frames before " << before << " now " << viewer.frames() << " " << viewer.error().value_or("");
  EXPECT_FALSE(viewer.eos());
  while (read_progress(progress).frames < ff_before + 30 && std::chrono::steady_clock::now() < ff_deadline + 60s) {
    std::this_thread::sleep_for(100ms);
  }
  const auto ff = read_progress(progress);
  EXPECT_GE(ff.frames, ff_before + 30) << ffmpeg.err();
  EXPECT_FALSE(ff.ended);
  EXPECT_TRUE(ffmpeg.running()) << ffmpeg.err();
  std::printf("[ measure ] restart: rtspsrc %d -> %d frames, ffmpeg %ld -> %ld frames, same sessions\n", before,
              viewer.frames(), ff_before, ff.frames);
}

// 4. DESCRIBE with no publisher: 404 within 1 s; an unknown path: 404.
TEST(RelayE2E, DescribeWithoutPublisherIs404Fast) {
  RelayUnderTest relay;
  RawRtspClient client(relay.ports().rtsp);
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = client.request("DESCRIBE", relay.url(), {"Accept: application/sdp"}, 5s);
  const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.status, 404);
  EXPECT_LE(ms, 1000.0);
  std::printf("[ measure ] DESCRIBE without publisher: %d after %.1f ms\n", r.status, ms);
  const auto unknown = client.request("DESCRIBE", relay.url("nope"), {}, 5s);
  EXPECT_EQ(unknown.status, 404);
  const auto options = client.request("OPTIONS", relay.url(), {}, 5s);
  EXPECT_EQ(options.status, 200);
  EXPECT_TRUE(relay.process().running());
}

// Malformed RTSP gets an RTSP error status (or the connection closed), never a crash.
TEST(RelayE2E, MalformedRtspGetsErrors) {
  RelayUnderTest relay;
  auto pub = start_publisher(relay.ports().ingest, free_udp_port(true), "320x240", 30, 300);
  ASSERT_TRUE(relay.wait_ready(30s)) << relay.process().err();
  const std::string url = relay.url();
  struct Case {
    std::string bytes;
    bool must_fail;  // false: gst-rtsp-server may answer it normally (tolerant parsing)
  };
  const std::vector<Case> cases = {
      {"SETUP " + url + "/stream=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/XYZ;nonsense\r\n\r\n", true},
      {"PLAY " + url + " RTSP/1.0\r\nCSeq: 3\r\nSession: doesnotexist\r\n\r\n", true},
      {"FLY " + url + " RTSP/1.0\r\nCSeq: 4\r\n\r\n", true},
      {"DESCRIBE rtsp://127.0.0.1:1/other RTSP/1.0\r\nCSeq: 6\r\n\r\n", true},
      {"DESCRIBE " + url + " RTSP/1.0\r\nCSeq: banana\r\n\r\n", false},
      {"DESCRIBE " + url + " RTSP/1.0\r\nCSeq: 5\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n", false},
      {std::string("\x01\x02garbage\xff\xfe\r\n\r\n", 16), false},
  };
  for (const auto& c : cases) {
    RawRtspClient client(relay.ports().rtsp);
    const auto r = client.raw(c.bytes, 5s);
    // An error status, or (for bytes that are not RTSP) a closed connection; never a crash.
    if (c.must_fail) {
      EXPECT_GE(r.status, 400) << c.bytes.substr(0, 60) << " -> " << r.headers;
    }
    EXPECT_TRUE(relay.process().running());
  }
  // Still serving real viewers.
  RtspViewer viewer(url, "tcp");
  ASSERT_TRUE(viewer.start());
  EXPECT_TRUE(viewer.wait_frames(10, 60s)) << viewer.error().value_or("");
}

// 5. Garbage of every kind on both ingest ports while a viewer watches.
TEST(RelayE2E, GarbageIsDroppedAndCounted) {
  RelayUnderTest relay;
  auto pub = start_publisher(relay.ports().ingest, free_udp_port(true), "320x240", 30, 500);
  ASSERT_TRUE(relay.wait_ready(30s)) << relay.process().err();
  RtspViewer viewer(relay.url(), "tcp");
  ASSERT_TRUE(viewer.start());
  ASSERT_TRUE(viewer.wait_frames(30, 60s)) << viewer.error().value_or("");

  const int garbage_fd = udp_socket_bound(0);
  const int intruder_fd = udp_socket_bound(0);  // a second, well-formed sender
  std::mt19937 rng(7);
  const int rtp_port = relay.ports().ingest;
  const int rtcp_port = rtp_port + 1;
  int sent = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> d;
    int port = rtp_port;
    int fd = garbage_fd;
    switch (i % 8) {
      case 0:  // random bytes
        d.resize(1 + rng() % 1400);
        for (auto& b : d) {
          b = static_cast<std::uint8_t>(rng());
        }
        break;
      case 1:  // truncated RTP
        d = rtp_packet(0x80, 96, static_cast<std::uint16_t>(i), 1, 0, rng);
        d.resize(rng() % 12);
        break;
      case 2:  // version 1
        d = rtp_packet(0x40, 96, static_cast<std::uint16_t>(i), 1, 100, rng);
        break;
      case 3:  // another payload type
        d = rtp_packet(0x80, 97, static_cast<std::uint16_t>(i), 1, 100, rng);
        break;
      case 4:  // RTCP-looking on the RTP port
        d = rtp_packet(0x80, 200, 6, 1, 20, rng);
        break;
      case 5:  // RTCP garbage on the RTCP port
        d.resize(4 + rng() % 100);
        for (auto& b : d) {
          b = static_cast<std::uint8_t>(rng());
        }
        port = rtcp_port;
        break;
      case 6:  // CSRC count larger than the packet
        d = rtp_packet(0x8F, 96, static_cast<std::uint16_t>(i), 1, 8, rng);
        break;
      default:  // a second sender with valid RTP (H.264 FU-A start) on the right payload type
        d = rtp_packet(0x80, 96, static_cast<std::uint16_t>(i), 0xBADBAD, 200, rng);
        d[12] = 0x7C;
        d[13] = 0x85;
        fd = intruder_fd;
        break;
    }
    send_to(fd, port, d);
    ++sent;
    if (i % 200 == 199) {
      std::this_thread::sleep_for(10ms);  // stay within the socket buffer: count what we send
    }
  }
  close(garbage_fd);
  close(intruder_fd);
  const int after_garbage = viewer.frames();
  EXPECT_TRUE(viewer.wait_frames(after_garbage + 60, 60s)) << viewer.error().value_or("");
  EXPECT_FALSE(viewer.eos());
  EXPECT_TRUE(relay.process().running());
  // The relay counted them (its periodic stats line; the HTTP API exposes the same counters).
  std::optional<long long> dropped;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    dropped = relay.last_stat("dropped");
    if (dropped && *dropped >= sent * 9 / 10) {
      break;
    }
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(dropped);
  EXPECT_GE(*dropped, sent * 9 / 10);
  EXPECT_LE(*dropped, sent);
  for (const char* reason : {"too_short", "bad_version", "wrong_payload_type", "rtcp_on_rtp_port", "bad_header",
                             "foreign_source"}) {
    EXPECT_GT(relay.last_stat(reason).value_or(0), 0) << reason;
  }
  std::printf("[ measure ] garbage: sent %d, relay dropped %lld, viewer frames %d -> %d\n", sent, *dropped,
              after_garbage, viewer.frames());
  EXPECT_EQ(relay.process().stop(10s), 0);
}

// 6. A viewer that stops reading for 20 s: the other keeps full rate; the stalled one is dropped.
TEST(RelayE2E, StalledViewerIsDroppedOthersUnaffected) {
  RelayUnderTest relay;
  auto pub = start_publisher(relay.ports().ingest, free_udp_port(true), "320x240", 30, 1500);
  ASSERT_TRUE(relay.wait_ready(30s)) << relay.process().err();
  RtspViewer good(relay.url(), "tcp");
  ASSERT_TRUE(good.start());
  ASSERT_TRUE(good.wait_frames(30, 60s)) << good.error().value_or("");

  RawRtspClient stalled(relay.ports().rtsp, 4096);
  ASSERT_EQ(stalled.request("DESCRIBE", relay.url(), {"Accept: application/sdp"}).status, 200);
  auto setup = stalled.request("SETUP", relay.url() + "/stream=0", {"Transport: RTP/AVP/TCP;unicast;interleaved=0-1"});
  ASSERT_EQ(setup.status, 200) << setup.headers;
  std::string session = setup.header("Session");
  session = session.substr(0, session.find(';'));
  ASSERT_EQ(stalled.request("PLAY", relay.url(), {"Session: " + session, "Range: npt=0-"}).status, 200);
  // From now on the stalled client never reads.
  const auto t0 = std::chrono::steady_clock::now();
  int last = good.frames();
  int min_window = 1000;
  int total = 0;
  while (std::chrono::steady_clock::now() - t0 < 20s) {
    std::this_thread::sleep_for(2s);
    good.poll();
    const int now = good.frames();
    min_window = std::min(min_window, now - last);
    total += now - last;
    last = now;
  }
  EXPECT_FALSE(good.eos());
  EXPECT_FALSE(good.error()) << *good.error();
  // 30 fps: ~60 frames per 2 s window; demand at least half in every window, 80% overall.
  EXPECT_GE(min_window, 30);
  EXPECT_GE(total, 480);
  // The relay must have closed the stalled connection: reading now hits EOF.
  EXPECT_TRUE(stalled.drain_until_closed(20s));
  EXPECT_TRUE(relay.process().running());
  const std::string log = relay.process().err();
  const auto pos = log.find("RTSP dropping viewer");
  std::printf("[ measure ] stalled viewer: good viewer %d frames in 20 s (min %d per 2 s); stalled one closed: %s\n",
              total, min_window, pos == std::string::npos ? "?" : log.substr(pos, log.find('\n', pos) - pos).c_str());
}

// 7. A viewer joining mid-GOP makes the relay send a PLI to the publisher.
TEST(RelayE2E, JoiningViewerTriggersPli) {
  RelayUnderTest relay;
  const int local = free_udp_port(true);
  const int rtcp_fd = udp_socket_bound(local + 1);  // the "publisher's" RTCP socket
  ASSERT_GE(rtcp_fd, 0);
  TestSender sender(relay.ports().ingest, local, 300 /* 10 s GOP */);
  ASSERT_TRUE(relay.wait_ready(30s)) << relay.process().err();
  // Symmetric RTCP: tell the relay where our RTCP lives by sending one RR from it.
  send_to(rtcp_fd, relay.ports().ingest + 1, {0x80, 201, 0, 1, 0, 0, 0, 42});
  std::this_thread::sleep_for(1s);  // mid-GOP
  auto drain = [&](std::chrono::milliseconds timeout) {
    bool pli = false;
    const auto end = std::chrono::steady_clock::now() + timeout;
    std::uint8_t buf[1500];
    while (std::chrono::steady_clock::now() < end && !pli) {
      pollfd p{rtcp_fd, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) {
        continue;
      }
      const auto n = recv(rtcp_fd, buf, sizeof buf, 0);
      // Walk the compound packet looking for PSFB (206) with FMT 1 (PLI).
      for (ssize_t off = 0; off + 4 <= n;) {
        if (buf[off + 1] == 206 && (buf[off] & 0x1F) == 1) {
          pli = true;
        }
        off += 4 * (((buf[off + 2] << 8) | buf[off + 3]) + 1);
      }
    }
    return pli;
  };
  drain(300ms);  // discard receiver reports so far
  RtspViewer viewer(relay.url(), "tcp");
  ASSERT_TRUE(viewer.start());
  EXPECT_TRUE(drain(10s)) << "no PLI reached the publisher's RTCP socket";
  EXPECT_TRUE(viewer.wait_frames(1, 30s)) << viewer.error().value_or("");
  close(rtcp_fd);
}

// max_readers: one allowed, the second gets 503.
TEST(RelayE2E, MaxReadersAnswers503) {
  RelayUnderTest relay("    max_readers: 1\n");
  auto pub = start_publisher(relay.ports().ingest, free_udp_port(true), "320x240", 30, 300);
  ASSERT_TRUE(relay.wait_ready(30s)) << relay.process().err();
  RtspViewer first(relay.url(), "tcp");
  ASSERT_TRUE(first.start());
  ASSERT_TRUE(first.wait_frames(10, 60s));
  RawRtspClient second(relay.ports().rtsp);
  EXPECT_EQ(second.request("DESCRIBE", relay.url()).status, 503);
  EXPECT_TRUE(first.wait_frames(first.frames() + 10, 30s));
}

// A normal join and leave (TCP and UDP viewers, one after another and together, then
// SIGTERM) logs nothing above info, and the signal once.
TEST(RelayE2E, NormalJoinAndLeaveLogNothingAboveInfo) {
  RelayUnderTest relay;
  auto pub = start_publisher(relay.ports().ingest, free_udp_port(true));
  ASSERT_TRUE(relay.wait_ready(30s)) << relay.process().err() << pub->err();
  const auto from = relay.process().err().size();  // the startup warnings (e.g. no rtsp.users) are not joins
  {
    RtspViewer tcp(relay.url(), "tcp");
    ASSERT_TRUE(tcp.start());
    EXPECT_TRUE(tcp.wait_frames(10, 30s)) << tcp.error().value_or("");
    RtspViewer udp(relay.url(), "udp");
    ASSERT_TRUE(udp.start());
    EXPECT_TRUE(udp.wait_frames(10, 30s)) << udp.error().value_or("");
    tcp.stop();
    EXPECT_TRUE(udp.wait_frames(udp.frames() + 5, 10s));
    udp.stop();
  }
  ASSERT_TRUE(relay.process().wait_for_output("ended", 15s));
  {
    RtspViewer again(relay.url(), "tcp");  // a new media after the last viewer left
    ASSERT_TRUE(again.start());
    EXPECT_TRUE(again.wait_frames(10, 30s)) << again.error().value_or("");
    again.stop();
  }
  pub->stop();
  EXPECT_EQ(relay.process().stop(10s), 0);
  const std::string log = relay.process().err().substr(from) + relay.process().out();
  std::istringstream lines(log);
  std::string line;
  std::vector<std::string> loud;
  int signal_lines = 0;
  while (std::getline(lines, line)) {
    if (line.find("[warning]") != std::string::npos || line.find("[error]") != std::string::npos ||
        line.find("[critical]") != std::string::npos || line.find("WARNING **") != std::string::npos ||
        line.find("CRITICAL **") != std::string::npos) {
      loud.push_back(line);
    }
    signal_lines += line.find("signal 15: shutting down") != std::string::npos;
  }
  EXPECT_TRUE(loud.empty()) << loud.size() << " lines above info, first: " << (loud.empty() ? "" : loud.front());
  for (const auto& l : loud) {
    std::printf("  loud: %s\n", l.c_str());
  }
  EXPECT_EQ(signal_lines, 1);
}
