#include "veter/relay/run.hpp"

#include <iostream>
#include <memory>

#include <spdlog/spdlog.h>

#include "veter/common/daemon.hpp"
#include "veter/common/exit_codes.hpp"
#include "veter/common/main_loop.hpp"
#include "veter/common/systemd_notify.hpp"
#include "veter/common/version.hpp"
#include "veter/relay/control/control_plane.hpp"
#include "veter/relay/relay.hpp"
#include "veter/relay/conf/relay_config.hpp"

namespace veter::relay {

int run(int argc, char** argv) {
  common::init_logging("veter-relay");
  CLI::App app{"veter-relay: UDP/RTP H.264 ingest -> RTSP for any number of viewers", "veter-relay"};
  common::CommonOptions opts;
  common::add_common_options(app, opts, "/etc/veter/relay.yml");
  if (auto code = common::parse_command_line(app, argc, argv)) {
    return *code;
  }
  return common::guarded_main([&]() -> int {
    RelayConfig cfg;
    if (!opts.config_file.empty()) {
      apply_file(cfg, opts.config_file);
    }
    if (opts.log_level) {
      cfg.log_level = *opts.log_level;
    }
    common::set_log_level(cfg.log_level);
    if (opts.check_config) {
      std::cout << to_yaml(cfg);
      return common::exit_code::ok;
    }
    common::init_gstreamer();
    common::set_log_level(cfg.log_level);
    common::MainLoop loop;
    spdlog::info("veter-relay {} starting", common::version());

    // Control API / metrics / hooks. Declared before `relay` so that the ready
    // callback never outlives it; reset explicitly after relay.stop() below.
    std::unique_ptr<ControlPlane> control;
    Relay relay(cfg);
    relay.on_ready_changed([&control](const PathSnapshot& path, bool ready) {
      if (control) {
        control->on_ready_changed(path, ready);
      }
    });
    try {
      relay.start();
    } catch (const std::runtime_error& e) {
      throw common::UnavailableError(e.what());
    }
    // API/metrics listeners, before READY; a bind failure is UnavailableError (exit 69).
    control = std::make_unique<ControlPlane>(cfg, relay);

    common::systemd::notify_ready("listening");
    common::systemd::Watchdog watchdog;
    watchdog.start();
    loop.on_shutdown([&](int /*signum*/) {  // MainLoop has logged the signal
      relay.stop();
      loop.quit(0);
    });
    const int code = loop.run();
    common::systemd::notify_stopping();
    relay.stop();
    control.reset();  // close the listeners, terminate running hooks (bounded, ~2 s)
    spdlog::info("veter-relay stopped");
    return code;
  });
}

}  // namespace veter::relay
