// veter-publisher end to end: the real binary streams the test source to a
// GStreamer receiver in this process, which decodes it and reads the SEI.
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "process.hpp"
#include "rtp_receiver.hpp"

using namespace std::chrono_literals;
using veter::test::free_udp_port;
using veter::test::Process;
using veter::test::RtpH264Receiver;
using veter::test::TempDir;

namespace {

struct Ports {
  int dest = free_udp_port(true);   // the receiver's RTP port (RTCP +1)
  int local = free_udp_port(true);  // the publisher's local RTP port (RTCP +1)
};

/// keyframe_interval 3600 (two minutes): any IDR after the first one is a forced one.
Process start_publisher(const Ports& p, const TempDir& dir, int keyframe_interval = 3600) {
  const auto cfg = dir.write("publisher.yml", "keyframe_interval: " + std::to_string(keyframe_interval) + "\n");
  return Process({VETER_PUBLISHER_BIN, "--config", cfg, "--source", "test", "--encoder", "x264enc", "640x360", "30",
                  "800", "--host", "127.0.0.1", "--port", std::to_string(p.dest), "--local-port",
                  std::to_string(p.local)});
}

std::size_t keyframes_after(const std::vector<RtpH264Receiver::AccessUnit>& aus,
                            std::chrono::steady_clock::time_point t, std::chrono::steady_clock::time_point until) {
  std::size_t n = 0;
  for (const auto& au : aus) {
    n += (au.keyframe && au.arrival > t && au.arrival <= until) ? 1 : 0;
  }
  return n;
}

/// At least `n` access units, each with a capture-time SEI later than the one before, the last
/// stamped with the wall clock of capture: within a few seconds of now.
void expect_stamped_in_order(const std::vector<RtpH264Receiver::AccessUnit>& aus, std::size_t n) {
  ASSERT_GE(aus.size(), n);
  std::int64_t prev = 0;
  for (std::size_t i = 0; i < aus.size(); ++i) {
    ASSERT_TRUE(aus[i].capture_us.has_value()) << "access unit " << i << " has no capture-time SEI";
    EXPECT_GT(*aus[i].capture_us, prev) << "access unit " << i;
    prev = *aus[i].capture_us;
  }
  const std::int64_t now_us = g_get_real_time();
  EXPECT_LT(now_us - prev, 5'000'000);
  EXPECT_GE(now_us - prev, 0);
}

}  // namespace

TEST(PublisherE2E, DecodesStampedFramesFromSymmetricPortsAndStopsCleanly) {
  Ports ports;
  TempDir dir;
  RtpH264Receiver rx(ports.dest);
  rx.start();
  auto pub = start_publisher(ports, dir);
  ASSERT_TRUE(rx.wait_for_frames(60, 10s)) << "decoded " << rx.decoded_frames() << "\n" << pub.err();
  EXPECT_EQ(rx.last_size(), (std::pair<int, int>{640, 360}));

  expect_stamped_in_order(rx.access_units(), 60);

  // Symmetric RTP: RTP from local_port, RTCP sender reports from local_port+1.
  EXPECT_EQ(rx.rtp_sender_port(), ports.local);
  const auto rtcp_from = rx.wait_rtcp_sender_port(15s);
  ASSERT_TRUE(rtcp_from.has_value()) << "no RTCP from the publisher";
  EXPECT_EQ(*rtcp_from, ports.local + 1);

  const auto t0 = std::chrono::steady_clock::now();
  pub.signal(SIGTERM);
  const auto status = pub.wait(5s);
  ASSERT_TRUE(status.has_value()) << "did not exit after SIGTERM";
  EXPECT_EQ(*status, 0) << pub.err();
  std::cerr << "SIGTERM -> exit took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()
            << " ms\n";
}

TEST(PublisherE2E, PliForcesAnIdrWithin500msAndIsRateLimited) {
  Ports ports;
  TempDir dir;
  RtpH264Receiver rx(ports.dest);
  rx.start();
  auto pub = start_publisher(ports, dir);
  ASSERT_TRUE(rx.wait_for_frames(30, 10s)) << pub.err();
  const auto ssrc = rx.ssrc();
  ASSERT_TRUE(ssrc.has_value());
  std::this_thread::sleep_for(300ms);  // mid-GOP: the only periodic IDR was the first frame

  const auto before = rx.access_units();
  std::size_t keyframes_before = 0;
  for (const auto& au : before) {
    keyframes_before += au.keyframe ? 1 : 0;
  }
  EXPECT_EQ(keyframes_before, 1U) << "GOP of 3600 frames: only the first frame should be an IDR so far";

  const auto sent = std::chrono::steady_clock::now();
  rx.send_pli(*ssrc, "127.0.0.1", ports.local + 1);
  std::this_thread::sleep_for(1000ms);
  const auto aus = rx.access_units();
  std::optional<std::chrono::milliseconds> delay;
  for (const auto& au : aus) {
    if (au.keyframe && au.arrival > sent) {
      delay = std::chrono::duration_cast<std::chrono::milliseconds>(au.arrival - sent);
      break;
    }
  }
  ASSERT_TRUE(delay.has_value()) << "no IDR after the PLI\n" << pub.err();
  EXPECT_LE(delay->count(), 500) << "IDR arrived " << delay->count() << " ms after the PLI";
  std::cerr << "PLI -> IDR arrival: " << delay->count() << " ms\n";

  // A burst of 10 PLIs in 100 ms: at most one IDR now and one when the 500 ms window ends.
  std::this_thread::sleep_for(600ms);
  const auto burst = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) {
    rx.send_pli(*ssrc, "127.0.0.1", ports.local + 1);
    std::this_thread::sleep_for(10ms);
  }
  std::this_thread::sleep_for(1500ms);
  const auto n = keyframes_after(rx.access_units(), burst, burst + 1500ms);
  EXPECT_GE(n, 1U);
  EXPECT_LE(n, 2U) << "rate limit: at most one forced IDR per 500 ms";

  // A FIR asks for the same thing.
  std::this_thread::sleep_for(600ms);
  const auto fir_sent = std::chrono::steady_clock::now();
  rx.send_fir(*ssrc, 1, "127.0.0.1", ports.local + 1);
  std::this_thread::sleep_for(1000ms);
  EXPECT_GE(keyframes_after(rx.access_units(), fir_sent, fir_sent + 500ms), 1U) << "no IDR within 500 ms of a FIR";
  EXPECT_EQ(pub.stop(), 0);
}

TEST(PublisherE2E, ClosedDestinationPortThenOpenResumesWithoutRestart) {
  Ports ports;
  TempDir dir;
  auto pub = start_publisher(ports, dir, 30);
  // Nobody listens on ports.dest: every packet earns an ICMP port-unreachable.
  std::this_thread::sleep_for(5s);
  ASSERT_TRUE(pub.running()) << pub.err();
  RtpH264Receiver rx(ports.dest);
  rx.start();
  EXPECT_TRUE(rx.wait_for_frames(30, 10s)) << "decoded " << rx.decoded_frames() << "\n" << pub.err();
  EXPECT_EQ(rx.last_size(), (std::pair<int, int>{640, 360}));
  EXPECT_TRUE(pub.running());
  EXPECT_EQ(pub.err().find("pipeline failed"), std::string::npos) << pub.err();
  EXPECT_EQ(pub.err().find("restarting"), std::string::npos) << pub.err();
  EXPECT_EQ(pub.stop(), 0);
}

namespace {
/// A NOTIFY_SOCKET like systemd's: a unix datagram socket collecting sd_notify messages.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      throw std::runtime_error("bind " + path);
    }
  }
  ~NotifySocket() { ::close(fd_); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  /// Collect messages until one contains `text` (bounded).
  bool wait_for(const std::string& text, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) > 0) {
        char buf[4096];
        const auto n = ::recv(fd_, buf, sizeof(buf), 0);
        if (n > 0) {
          all_ += std::string(buf, static_cast<std::size_t>(n)) + "\n";
        }
      }
      if (all_.find(text) != std::string::npos) {
        return true;
      }
    }
    return false;
  }
  [[nodiscard]] const std::string& all() const { return all_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::string all_;
};
}  // namespace

TEST(PublisherE2E, NotifiesReadyOnceFramesFlowAndPingsTheWatchdog) {
  Ports ports;
  TempDir dir;
  NotifySocket notify(dir.path() + "/notify.sock");
  RtpH264Receiver rx(ports.dest);
  rx.start();
  Process pub({VETER_PUBLISHER_BIN, "--source", "test", "--encoder", "x264enc", "320x240", "30", "300", "--host",
               "localhost", "--port", std::to_string(ports.dest), "--local-port", std::to_string(ports.local)},
              {"NOTIFY_SOCKET=" + dir.path() + "/notify.sock", "WATCHDOG_USEC=400000"});
  ASSERT_TRUE(notify.wait_for("READY=1", 15s)) << notify.all() << pub.err();
  EXPECT_TRUE(rx.wait_for_frames(1, 10s)) << "READY without frames reaching the destination";
  EXPECT_TRUE(notify.wait_for("WATCHDOG=1", 5s)) << notify.all();
  EXPECT_EQ(pub.stop(), 0);
  EXPECT_TRUE(notify.wait_for("STOPPING=1", 2s)) << notify.all();
}

namespace {
/// Bounded wait for a keyframe that arrived after `t`; returns how long after `t` it arrived.
std::optional<std::chrono::milliseconds> wait_keyframe_after(const RtpH264Receiver& rx,
                                                             std::chrono::steady_clock::time_point t,
                                                             std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const auto& au : rx.access_units()) {
      if (au.keyframe && au.arrival > t) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(au.arrival - t);
      }
    }
    std::this_thread::sleep_for(20ms);  // polling interval of the bounded wait
  }
  return std::nullopt;
}
}  // namespace

// The NVIDIA path in the real binary: `--encoder nvv4l2h264enc` with the stand-in plugin
// (GST_PLUGIN_PATH): test source -> nvvidconv -> nvv4l2h264enc decodes here, and a PLI
// reaches the encoder as force-key-unit and brings an IDR.
TEST(PublisherE2E, NvidiaEncoderPathWithStandinsDecodesAndAnswersPli) {
  Ports ports;
  TempDir dir;
  RtpH264Receiver rx(ports.dest);
  rx.start();
  const auto cfg = dir.write("publisher.yml", "keyframe_interval: 3600\n");
  Process pub({VETER_PUBLISHER_BIN, "--config", cfg, "--source", "test", "--encoder", "nvv4l2h264enc", "320x240",
               "30", "600", "--host", "127.0.0.1", "--port", std::to_string(ports.dest), "--local-port",
               std::to_string(ports.local)},
              {std::string("GST_PLUGIN_PATH=") + VETER_STANDIN_PLUGIN_DIR, "GST_REGISTRY=" + dir.path() + "/registry.bin",
               // In-process scan: the ASan-built stand-in plugin cannot be loaded by the
               // uninstrumented gst-plugin-scanner, which would blacklist it.
               "GST_REGISTRY_FORK=no"});
  ASSERT_TRUE(rx.wait_for_frames(30, 20s)) << "decoded " << rx.decoded_frames() << "\n" << pub.err();
  EXPECT_EQ(rx.last_size(), (std::pair<int, int>{320, 240}));
  EXPECT_NE(pub.err().find("nvv4l2h264enc"), std::string::npos) << pub.err();
  const auto ssrc = rx.ssrc();
  ASSERT_TRUE(ssrc.has_value());
  const auto sent = std::chrono::steady_clock::now();
  rx.send_pli(*ssrc, "127.0.0.1", ports.local + 1);
  // GOP 3600 (two minutes): a keyframe after the PLI can only be the forced one.
  const auto delay = wait_keyframe_after(rx, sent, 5s);
  EXPECT_TRUE(delay.has_value()) << "no IDR after a PLI\n" << pub.err();
  EXPECT_EQ(pub.stop(), 0) << pub.err();
}


// encoder passthrough in the real binary: the test source stands in for an H.264 camera (its
// x264enc is the camera's encoder); the publisher only parses, stamps and payloads that H.264.
// The receiver decodes the camera's size with a capture-time SEI in every access unit, the
// bitrate controller says once that it is inactive, and a PLI reaches the camera's encoder
// through h264parse as an upstream force-key-unit event.
TEST(PublisherE2E, PassthroughOfCameraH264DecodesStampedFramesAndPassesPliToTheCamera) {
  Ports ports;
  TempDir dir;
  RtpH264Receiver rx(ports.dest);
  rx.start();
  const auto cfg = dir.write("publisher.yml", "keyframe_interval: 3600\nencoder: passthrough\n");
  Process pub({VETER_PUBLISHER_BIN, "--config", cfg, "--source", "test", "640x360", "30", "800", "--host",
               "127.0.0.1", "--port", std::to_string(ports.dest), "--local-port", std::to_string(ports.local)});
  ASSERT_TRUE(rx.wait_for_frames(30, 20s)) << "decoded " << rx.decoded_frames() << "\n" << pub.err();
  EXPECT_EQ(rx.last_size(), (std::pair<int, int>{640, 360}));
  expect_stamped_in_order(rx.access_units(), 30);

  const std::string abr_line = "abr: inactive with encoder passthrough";
  ASSERT_TRUE(pub.wait_for_output(abr_line, 5s)) << pub.err();
  const std::string log = pub.err();
  EXPECT_EQ(log.find(abr_line, log.find(abr_line) + 1), std::string::npos) << "said more than once:\n" << log;
  EXPECT_EQ(log.find("bitrate target"), std::string::npos) << log;

  const auto ssrc = rx.ssrc();
  ASSERT_TRUE(ssrc.has_value());
  const auto sent = std::chrono::steady_clock::now();
  rx.send_pli(*ssrc, "127.0.0.1", ports.local + 1);
  const auto delay = wait_keyframe_after(rx, sent, 3s);
  ASSERT_TRUE(delay.has_value()) << "no IDR after the PLI (GOP 3600: only a forced one can come)\n" << pub.err();
  std::cerr << "passthrough PLI -> IDR arrival: " << delay->count() << " ms\n";
  EXPECT_TRUE(rx.wait_for_frames(rx.decoded_frames() + 15, 10s)) << "decoding stopped after the forced IDR";
  EXPECT_EQ(rx.last_size(), (std::pair<int, int>{640, 360}));
  EXPECT_EQ(pub.stop(), 0) << pub.err();
}
