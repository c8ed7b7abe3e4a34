#include "veter/publisher/run.hpp"

#include <iostream>

#include <spdlog/spdlog.h>

#include "veter/common/daemon.hpp"
#include "veter/common/exit_codes.hpp"
#include "veter/common/main_loop.hpp"
#include "veter/common/systemd_notify.hpp"
#include "veter/common/version.hpp"
#include "veter/publisher/pipeline_builder.hpp"
#include "veter/publisher/publisher.hpp"
#include "veter/publisher/publisher_cli.hpp"
#include "veter/publisher/selection.hpp"

namespace veter::publisher {

int run(int argc, char** argv) {
  common::init_logging("veter-publisher");
  CLI::App app{"veter-publisher", "veter-publisher"};
  PublisherCli cli;
  add_publisher_options(app, cli);
  if (auto code = common::parse_command_line(app, argc, argv)) {
    return *code;
  }
  return common::guarded_main([&]() -> int {
    PublisherConfig cfg;
    try {
      cfg = resolve_config(cli);
    } catch (const common::ValueError& e) {
      return common::usage_error(app, e.what());
    }
    common::set_log_level(cfg.log_level);
    if (cli.common.check_config) {
      std::cout << to_yaml(cfg);
      return common::exit_code::ok;
    }
    common::init_gstreamer();
    common::set_log_level(cfg.log_level);

    Selection sel;
    try {
      sel = select_elements(cfg, system_environment(), [](const std::string& line) { spdlog::info("{}", line); });
    } catch (const common::ValueError& e) {
      return common::usage_error(app, e.what());
    }
    const std::string description = build_pipeline_description(cfg, sel);
    if (cli.dry_run) {
      std::cout << "source: " << to_string(sel.source);
      if (!sel.device.empty()) {
        std::cout << " (" << element_name(sel.source) << " " << sel.device << ")";
      } else {
        std::cout << " (" << element_name(sel.source) << ")";
      }
      std::cout << "\nencoder: " << to_string(sel.encoder) << "\npipeline: " << description << "\n";
      return common::exit_code::ok;
    }

    common::MainLoop loop;
    spdlog::info("veter-publisher {} starting: {}x{}@{} {} kbit/s, {} -> {}", common::version(), cfg.width,
                 cfg.height, cfg.fps, cfg.bitrate_kbps, to_string(sel.encoder), cfg.destination.to_string());
    spdlog::debug("pipeline: {}", description);
    Publisher publisher(cfg, description, sel.encoder, loop);
    publisher.start();  // binds the local ports (exit 69 when taken)
    loop.on_shutdown([&publisher](int) { publisher.shutdown(); });
    common::systemd::Watchdog watchdog;
    watchdog.start();
    const int code = loop.run();
    common::systemd::notify_stopping();
    return code;
  });
}

}  // namespace veter::publisher
