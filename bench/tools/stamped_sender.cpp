// A stand-in publisher for the fan-out benchmark: the publisher's x264 settings and
// capture-time SEI, but a noise pattern, so the stream really is ~2 Mbit/s (the
// publisher's own test pattern compresses to a few hundred kbit/s).
// Usage: veter-bench-sender PORT [WIDTH HEIGHT FPS KBPS PATTERN]
#include <gst/gst.h>

#include <glib-unix.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "stamp_inserter.hpp"

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PORT [WIDTH HEIGHT FPS KBPS PATTERN]\n", argv[0]);
    return 64;
  }
  auto arg = [&](int i, int def) { return argc > i ? std::atoi(argv[i]) : def; };
  veter::test::StampedRtpSender sender(std::atoi(argv[1]), arg(2, 1280), arg(3, 720), arg(4, 30), arg(5, 2000),
                                       argc > 6 ? argv[6] : "snow");
  veter::common::MainLoopPtr loop(g_main_loop_new(nullptr, FALSE));
  auto quit = +[](gpointer l) -> gboolean {
    g_main_loop_quit(static_cast<GMainLoop*>(l));
    return G_SOURCE_REMOVE;
  };
  g_unix_signal_add(SIGINT, quit, loop.get());
  g_unix_signal_add(SIGTERM, quit, loop.get());
  g_main_loop_run(loop.get());
  std::printf("stamped %d access units\n", sender.stamped());
  return 0;
}
