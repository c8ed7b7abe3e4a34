#include "veter/common/daemon.hpp"

#include <gst/gst.h>

#include "veter/common/logging.hpp"

namespace veter::common {

void init_gstreamer() {
  if (!gst_is_initialized()) {
    gst_init(nullptr, nullptr);
    bridge_gstreamer_logging();
  }
}

}  // namespace veter::common
