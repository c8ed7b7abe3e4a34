// Stand-ins for the Jetson elements that cannot exist on this machine:
// nvarguscamerasrc, nvvidconv and nvv4l2h264enc, registered under their real
// names with the property names, types and pad templates that NVIDIA documents
// (Jetson Linux Developer Guide, "Accelerated GStreamer", gst-inspect-1.0 output).
// Written from that documentation, independently of the pipeline builder: a
// misspelt property or a wrong value type in a description fails to parse.
#pragma once

namespace veter::test {

/// Register the three stand-ins once (after gst_init). Elements that really exist are left alone.
void register_nvidia_standins();

}  // namespace veter::test
