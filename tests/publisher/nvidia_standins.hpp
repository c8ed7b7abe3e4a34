// Stand-ins for the Jetson elements that cannot exist on this machine:
// nvarguscamerasrc, nvvidconv and nvv4l2h264enc, registered under their real
// names with the property names, types and pad templates that NVIDIA documents
// (Jetson Linux Developer Guide, "Accelerated GStreamer", gst-inspect-1.0 output).
// Written from that documentation, independently of the pipeline builder: a
// misspelt property or a wrong value type in a description fails to parse.
//
// They also work: a pipeline with them runs (test pattern in, real H.264 out through x264enc),
// so the publisher's own code can drive them — in this process (register_nvidia_standins) or as
// the GStreamer plugin libgstveternvidiastandins.so (GST_PLUGIN_PATH) for the real binary.
// A property that L4T only applies in NULL/READY, changed while PAUSED/PLAYING, is recorded in
// standin_violations() (a Jetson would silently ignore it).
#pragma once

#include <gst/gst.h>

#include <mutex>
#include <string>
#include <vector>

#include "veter/common/gst_ptr.hpp"

namespace veter::test {

/// Register the three stand-ins once (after gst_init). Elements that really exist are left alone.
void register_nvidia_standins();

/// The plugin entry (nvidia_standins_plugin.cpp).
gboolean register_nvidia_standins_plugin(GstPlugin* plugin);

struct StandinViolations {
  std::mutex mutex;
  std::vector<std::string> messages;
};
/// What the stand-ins were asked that a Jetson would not do.
StandinViolations& standin_violations();

/// Parse a description like the publisher does (GST_PARSE_FLAG_FATAL_ERRORS), failing also on a
/// property a stand-in does not have. The stand-ins are bins, and GStreamer 1.18's parser (Debian
/// 11) takes an unknown property on a bin for a child's, to be set once that child appears, and
/// reports no error; the real L4T elements are not bins, so there it is an error on every version.
/// Where the parser delays like that (probed with the core "bin" element, not by version), the
/// stand-ins' properties are checked here against the description's name=value pairs.
common::ElementPtr parse_like_l4t(const std::string& description, common::GErrorPtr* error);

}  // namespace veter::test
