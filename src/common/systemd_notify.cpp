#include "veter/common/systemd_notify.hpp"

#include <systemd/sd-daemon.h>

#include <string>

#include <spdlog/spdlog.h>

namespace veter::common::systemd {

void notify_ready(std::string_view status) {
  std::string msg = "READY=1";
  if (!status.empty()) {
    msg += "\nSTATUS=" + std::string(status);
  }
  sd_notify(0, msg.c_str());
}

void notify_stopping() { sd_notify(0, "STOPPING=1"); }

void notify_status(std::string_view status) {
  sd_notify(0, ("STATUS=" + std::string(status)).c_str());
}

void Watchdog::start() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) {
    return;
  }
  const auto interval_ms = static_cast<guint>(usec / 2000);
  spdlog::debug("systemd watchdog every {} ms", interval_ms);
  timer_.reset(g_timeout_add(
      interval_ms > 0 ? interval_ms : 1,
      [](gpointer) -> gboolean {
        sd_notify(0, "WATCHDOG=1");
        return G_SOURCE_CONTINUE;
      },
      nullptr));
}

}  // namespace veter::common::systemd
