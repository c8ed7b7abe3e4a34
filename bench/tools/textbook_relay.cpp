// The "textbook" relay used as the fan-out baseline: gst-rtsp-server serving one
// shared launch-line media that depayloads the publisher's UDP RTP and payloads it
// again, exactly as in the gst-rtsp-server examples:
//   ( udpsrc port=P caps=... ! rtph264depay ! rtph264pay name=pay0 pt=96 )
// Usage: veter-bench-textbook-relay INGEST_PORT RTSP_PORT [PATH]
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>

#include <glib-unix.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "veter/common/gst_ptr.hpp"

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s INGEST_PORT RTSP_PORT [PATH]\n", argv[0]);
    return 64;
  }
  const std::string ingest = argv[1];
  const std::string rtsp_port = argv[2];
  const std::string path = std::string("/") + (argc > 3 ? argv[3] : "camera");
  veter::common::MainLoopPtr loop(g_main_loop_new(nullptr, FALSE));
  veter::common::GObjectPtr<GstRTSPServer> server(gst_rtsp_server_new());
  gst_rtsp_server_set_service(server.get(), rtsp_port.c_str());
  gst_rtsp_server_set_address(server.get(), "127.0.0.1");
  veter::common::GObjectPtr<GstRTSPMountPoints> mounts(gst_rtsp_server_get_mount_points(server.get()));
  GstRTSPMediaFactory* factory = gst_rtsp_media_factory_new();
  const std::string launch = "( udpsrc port=" + ingest +
                             " caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,"
                             "payload=96\" ! rtph264depay ! rtph264pay name=pay0 pt=96 )";
  gst_rtsp_media_factory_set_launch(factory, launch.c_str());
  gst_rtsp_media_factory_set_shared(factory, TRUE);
  gst_rtsp_mount_points_add_factory(mounts.get(), path.c_str(), factory);  // takes ownership
  if (gst_rtsp_server_attach(server.get(), nullptr) == 0) {
    std::fprintf(stderr, "cannot listen on 127.0.0.1:%s\n", rtsp_port.c_str());
    return 69;
  }
  auto quit = +[](gpointer l) -> gboolean {
    g_main_loop_quit(static_cast<GMainLoop*>(l));
    return G_SOURCE_REMOVE;
  };
  g_unix_signal_add(SIGINT, quit, loop.get());
  g_unix_signal_add(SIGTERM, quit, loop.get());
  std::printf("textbook relay: udp %s -> rtsp://127.0.0.1:%s%s\n", ingest.c_str(), rtsp_port.c_str(), path.c_str());
  std::fflush(stdout);
  g_main_loop_run(loop.get());
  return 0;
}
