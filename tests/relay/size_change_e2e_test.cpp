// paths.<name>.on_size_change: reconnect. The real publisher restarts at
// another picture size; the relay ends the viewers' sessions (their
// connections close, as players that cannot switch size in-stream need), and a
// player that reopens decodes the new size.
#include <gtest/gtest.h>
#include <unistd.h>

#include "process.hpp"
#include "relay_test_helpers.hpp"
#include "rtsp_viewer.hpp"

using namespace veter::test;
using namespace std::chrono_literals;

TEST(RelaySizeChangeE2E, ReconnectEndsSessionsAndTheReopenedPlayerGetsTheNewSize) {
  RelayUnderTest relay("    on_size_change: reconnect\n");
  const int local = free_udp_port(true);
  auto pub = start_publisher(relay.ports().ingest, local, "320x240", 30, 500);
  ASSERT_TRUE(relay.wait_ready(30s)) << relay.process().err() << pub->err();
  RtspViewer before(relay.url(), "tcp");
  ASSERT_TRUE(before.start());
  ASSERT_TRUE(before.wait_frames(10, 60s)) << before.error().value_or("") << relay.process().err();
  EXPECT_EQ(before.width(), 320);
  ASSERT_EQ(access("/usr/bin/ffmpeg", X_OK), 0) << "ffmpeg is needed (scripts/deps.sh installs it)";
  Process ffmpeg({"/usr/bin/ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", relay.url(),
                  "-an", "-f", "null", "-"});
  ASSERT_TRUE(relay.process().wait_for_output("(2 viewers)", 30s)) << relay.process().err();

  pub->stop();
  pub = start_publisher(relay.ports().ingest, local, "640x480", 30, 500);  // same address, another size
  EXPECT_TRUE(relay.process().wait_for_output("ended 2 viewer session(s)", 30s)) << relay.process().err();
  EXPECT_TRUE(before.wait_error(20s)) << "the old session still plays after the size change";
  EXPECT_TRUE(ffmpeg.wait(20s).has_value()) << "ffmpeg's session was not ended";

  RtspViewer after(relay.url(), "tcp");
  ASSERT_TRUE(after.start());
  ASSERT_TRUE(after.wait_frames(10, 60s)) << after.error().value_or("") << relay.process().err();
  EXPECT_EQ(after.width(), 640);
  EXPECT_EQ(after.height(), 480);
}
