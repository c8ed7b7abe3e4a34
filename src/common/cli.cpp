#include "veter/common/cli.hpp"

#include <iostream>

#include <spdlog/spdlog.h>

#include "veter/common/config_reader.hpp"
#include "veter/common/exit_codes.hpp"
#include "veter/common/version.hpp"

namespace veter::common {

void add_common_options(CLI::App& app, CommonOptions& opts, const std::string& default_config_hint) {
  app.set_version_flag("--version", std::string(version()));
  app.add_option("-c,--config", opts.config_file,
                 "YAML configuration file (e.g. " + default_config_hint + ")");
  app.add_flag("--check-config", opts.check_config,
               "Validate the configuration, print the effective config as YAML and exit");
  app.add_option_function<std::string>(
         "--log-level",
         [&opts](const std::string& v) {
           try {
             opts.log_level = parse_log_level(v);
           } catch (const ValueError& e) {
             throw CLI::ValidationError("--log-level", e.what());
           }
         },
         "trace | debug | info | warn | error (overrides log_level in the file)")
      ->type_name("LEVEL");
}

int usage_error(const CLI::App& app, const std::string& reason) {
  std::cerr << app.get_name() << ": error: " << reason << "\n\n" << app.help();
  return exit_code::usage;
}

std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(app, e.what());
  }
  return std::nullopt;
}

int guarded_main(const std::function<int()>& body) {
  try {
    return body();
  } catch (const ConfigError& e) {
    std::cerr << e.what() << "\n";
    return exit_code::config;
  } catch (const UnavailableError& e) {
    spdlog::error("{}", e.what());
    return exit_code::unavailable;
  } catch (const std::exception& e) {
    spdlog::critical("internal error: {}", e.what());
    return exit_code::internal;
  }
}

}  // namespace veter::common
