// sd_notify integration: READY/STOPPING/STATUS and the watchdog.
// Every call is a no-op when the process is not run by systemd.
#pragma once

#include <string_view>

#include "veter/common/gst_ptr.hpp"

namespace veter::common::systemd {

void notify_ready(std::string_view status = {});
void notify_stopping();
void notify_status(std::string_view status);

/// Pings WATCHDOG=1 from the main loop at half the interval systemd asks for.
class Watchdog {
 public:
  /// Starts the timer only when WatchdogSec= is set for this unit.
  void start();
  [[nodiscard]] bool active() const { return static_cast<bool>(timer_); }

 private:
  SourceId timer_;
};

}  // namespace veter::common::systemd
