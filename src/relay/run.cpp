#include "veter/relay/run.hpp"

#include <iostream>

#include <spdlog/spdlog.h>

#include "veter/common/daemon.hpp"
#include "veter/common/exit_codes.hpp"
#include "veter/common/main_loop.hpp"
#include "veter/common/systemd_notify.hpp"
#include "veter/common/version.hpp"
#include "veter/relay/relay.hpp"
#include "veter/relay/relay_config.hpp"

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

    Relay relay(cfg);
    // --- control API / metrics / hooks (issue 5): construct them here from `cfg` and `relay`
    // --- (relay.on_ready_changed(...) for hooks). Keep them alive until after loop.run().
    try {
      relay.start();
    } catch (const std::runtime_error& e) {
      throw common::UnavailableError(e.what());
    }
    // --- (issue 5) start the API/metrics listeners here, before READY.

    common::systemd::notify_ready("listening");
    common::systemd::Watchdog watchdog;
    watchdog.start();
    loop.on_shutdown([&](int signum) {
      spdlog::info("signal {}: shutting down", signum);
      relay.stop();
      loop.quit(0);
    });
    const int code = loop.run();
    common::systemd::notify_stopping();
    relay.stop();
    spdlog::info("veter-relay stopped");
    return code;
  });
}

}  // namespace veter::relay
