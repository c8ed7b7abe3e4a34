// A publisher built for another system streams to this machine's relay, whose RTSP viewer decodes it.
//
// VETER_FOREIGN_PUBLISHER is the command that runs that publisher, split at spaces, e.g.
//   "chroot /var/cache/veter/bullseye-chroot-<key> /veter/build/src/publisher/veter-publisher"
//   "qemu-aarch64-static -L / build-arm64/src/publisher/veter-publisher"
// (scripts/stage_bullseye.sh and scripts/stage_arm64.sh set it). VETER_FOREIGN_SIZE (default
// 320x240), VETER_FOREIGN_SECONDS (how long it streams, default 5). Without the variable the test
// is skipped with a message: it only makes sense inside those stages.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>
#include <thread>

#include "relay_test_helpers.hpp"
#include "rtsp_viewer.hpp"

using namespace std::chrono_literals;
using veter::test::free_udp_port;
using veter::test::Process;
using veter::test::RelayUnderTest;
using veter::test::RtspViewer;

namespace {
std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}
}  // namespace

TEST(ForeignPublisher, StreamsToTheHostRelayAndAViewerDecodesIt) {
  const std::string command = env_or("VETER_FOREIGN_PUBLISHER", "");
  if (command.empty()) {
    GTEST_SKIP() << "VETER_FOREIGN_PUBLISHER is not set (scripts/stage_bullseye.sh and stage_arm64.sh set it)";
  }
  const std::string size = env_or("VETER_FOREIGN_SIZE", "320x240");
  const int seconds = std::stoi(env_or("VETER_FOREIGN_SECONDS", "5"));
  const auto x = size.find('x');
  const int width = std::stoi(size.substr(0, x));
  const int height = std::stoi(size.substr(x + 1));

  veter::test::init_gstreamer_once();
  RelayUnderTest relay;
  std::vector<std::string> argv;
  std::istringstream words(command);
  for (std::string w; words >> w;) {
    argv.push_back(w);
  }
  for (const std::string a : {"--source", "test", "--encoder", "x264enc", "--host", "127.0.0.1"}) {
    argv.push_back(a);
  }
  argv.insert(argv.end(), {"--port", std::to_string(relay.ports().ingest), "--local-port",
                           std::to_string(free_udp_port(true)), size, "15", "300"});
  Process pub(argv);
  // Generous: an emulated publisher (qemu-user) first scans its GStreamer plugins.
  ASSERT_TRUE(relay.wait_ready(180s)) << "the relay never saw the stream\n" << pub.err() << relay.process().err();
  const auto started = std::chrono::steady_clock::now();
  RtspViewer viewer(relay.url(), "tcp");
  ASSERT_TRUE(viewer.start());
  ASSERT_TRUE(viewer.wait_frames(15, 120s)) << "decoded " << viewer.frames() << " "
                                            << viewer.error().value_or("") << "\n" << pub.err();
  EXPECT_EQ(viewer.width(), width);
  EXPECT_EQ(viewer.height(), height);
  // Keep streaming for the rest of the run; the viewer must keep decoding.
  const int at_first = viewer.frames();
  std::this_thread::sleep_until(started + std::chrono::seconds(seconds));
  EXPECT_TRUE(viewer.wait_frames(at_first + 5, 60s)) << "decoding stalled at " << viewer.frames();
  std::printf("[ measure ] foreign publisher: %d frames decoded, first after %.0f ms (%s)\n", viewer.frames(),
              viewer.first_frame_ms().value_or(-1), command.c_str());
  viewer.stop();
  EXPECT_EQ(pub.stop(10s), 0) << pub.err();
  EXPECT_EQ(relay.process().stop(10s), 0) << relay.process().err();
}
