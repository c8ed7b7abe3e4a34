// view_stream.sh against a live relay: the viewer (ffmpeg as the player, via VETER_VIEW_PLAYER)
// decodes the stream, the relay is restarted, and the script reconnects and decodes again.
#include <gtest/gtest.h>

#include <signal.h>

#include <functional>
#include <sstream>
#include <thread>

#include "process.hpp"
#include "ship_support.hpp"

using namespace veter::test;
using namespace veter::test::ship;
using namespace std::chrono_literals;

namespace {

/// Decoding sessions seen in ffmpeg's `-progress pipe:1` output: each session reports
/// "frame=N" lines and ends with "progress=end". Returns the highest frame count per session.
std::vector<long> sessions(const std::string& progress) {
  std::vector<long> out{0};
  for (const auto& l : lines(progress)) {
    if (l.rfind("frame=", 0) == 0) {
      out.back() = std::max(out.back(), std::stol(l.substr(6)));
    } else if (l == "progress=end") {
      out.push_back(0);
    }
  }
  return out;
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(200ms);
  }
  return pred();
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) {
    ++n;
  }
  return n;
}

}  // namespace

TEST(ViewStream, ReconnectsAfterTheRelayRestarts) {
  const std::string ffmpeg = which("ffmpeg");
  if (ffmpeg.empty()) {
    GTEST_SKIP() << "ffmpeg is not installed (Debian package ffmpeg; scripts/deps.sh installs it)";
  }
  TempDir tmp;
  const int rtsp = free_tcp_port();
  const int ingest = free_udp_port(true);
  int udp_min = free_udp_port(true);
  while (udp_min == ingest) {
    udp_min = free_udp_port(true);
  }
  std::ostringstream yml;
  yml << "rtsp:\n  listen: \"127.0.0.1:" << rtsp << "\"\n  transports: [tcp]\n"
      << "  udp_port_range: \"" << udp_min << "-" << udp_min + 1 << "\"\n"
      << "api: {enabled: false}\nmetrics: {enabled: false}\n"
      << "paths:\n  camera:\n    ingest:\n      listen: \"127.0.0.1:" << ingest << "\"\n";
  const std::string cfg = tmp.write("relay.yml", yml.str());
  const std::string url = "rtsp://127.0.0.1:" + std::to_string(rtsp) + "/camera";

  auto relay = std::make_unique<Process>(std::vector<std::string>{VETER_RELAY_BIN, "--config", cfg});
  Process publisher({VETER_PUBLISHER_BIN, "320x240", "15", "400", "--host", "127.0.0.1", "--port",
                     std::to_string(ingest), "--source", "test", "--encoder", "x264enc", "--local-port", "0"});

  // Started right away: until the relay has the stream the script keeps retrying.
  Process viewer({"/bin/sh", std::string(VETER_SOURCE_DIR) + "/scripts/view_stream.sh", "--retry", "1", url},
                 {"VETER_VIEW_PLAYER=" + ffmpeg, "VETER_VIEW_EXTRA_ARGS=-progress pipe:1 -an"});

  // 1. The first session decodes frames of the publisher's size.
  ASSERT_TRUE(wait_until([&] { return sessions(viewer.out()).back() >= 30; }, 90s))
      << "no decoded frames; viewer stderr:\n" << viewer.err() << "\nrelay:\n" << relay->err();
  EXPECT_NE(viewer.err().find("320x240"), std::string::npos) << viewer.err();
  const size_t attempts_before = count(viewer.err(), "view_stream.sh: attempt ");

  // 2. Restart the relay (same config, same ports).
  EXPECT_EQ(relay->stop(10s), 0) << relay->err();
  ASSERT_TRUE(wait_until([&] { return viewer.err().find("player exited with status") != std::string::npos &&
                                      count(viewer.err(), "view_stream.sh: attempt ") > attempts_before; },
                         60s))
      << "the script did not notice the relay going away:\n" << viewer.err();
  relay = std::make_unique<Process>(std::vector<std::string>{VETER_RELAY_BIN, "--config", cfg});

  // 3. A later session decodes frames again, without anyone touching the script.
  ASSERT_TRUE(wait_until(
      [&] {
        const auto s = sessions(viewer.out());
        return s.size() >= 2 && s.back() >= 30;
      },
      120s))
      << "no frames after the relay restart; viewer stderr:\n" << viewer.err() << "\nrelay:\n" << relay->err();
  EXPECT_TRUE(viewer.running());
  EXPECT_GE(count(viewer.err(), "320x240"), 2U) << viewer.err();
  const auto s = sessions(viewer.out());
  std::cout << "decoding sessions (max frame each):";
  for (long n : s) {
    std::cout << " " << n;
  }
  std::cout << "; attempts: " << count(viewer.err(), "view_stream.sh: attempt ") << "\n";

  // 4. SIGTERM stops the script and its player.
  EXPECT_EQ(viewer.stop(10s), 0) << viewer.err();
  EXPECT_NE(viewer.err().find("view_stream.sh: stopped"), std::string::npos) << viewer.err();
  EXPECT_EQ(publisher.stop(10s), 0);
  EXPECT_EQ(relay->stop(10s), 0);
}
