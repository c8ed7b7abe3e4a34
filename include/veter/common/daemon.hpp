// Shared start-up of both daemons: GStreamer init, logging, command line,
// configuration resolution, --check-config.
#pragma once

#include <functional>
#include <string>

#include "veter/common/cli.hpp"

namespace veter::common {

/// Initialise GStreamer once and bridge its log into spdlog.
void init_gstreamer();

}  // namespace veter::common
