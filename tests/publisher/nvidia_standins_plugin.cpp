// The NVIDIA stand-ins as a GStreamer plugin, for the real veter-publisher binary in e2e tests
// (GST_PLUGIN_PATH=<this library's directory>).
#include <gst/gst.h>

#include "nvidia_standins.hpp"

namespace {
gboolean plugin_init(GstPlugin* plugin) { return veter::test::register_nvidia_standins_plugin(plugin); }
}  // namespace

#define PACKAGE "veter-tests"
GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, veternvidiastandins,
                  "Stand-ins for nvarguscamerasrc, nvvidconv and nvv4l2h264enc (tests only)", plugin_init, "0.1",
                  "MIT/X11", "veter-tests", "https://localhost/veter")
