// Command-line helpers shared by the daemons (CLI11).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>

#include "veter/common/logging.hpp"

namespace veter::common {

/// Options every daemon has: --config, --check-config, --log-level (and --version, --help).
struct CommonOptions {
  std::string config_file;
  bool check_config = false;
  std::optional<LogLevel> log_level;
};

/// Register the common options on `app`.
void add_common_options(CLI::App& app, CommonOptions& opts, const std::string& default_config_hint);

/// Parse argv. Returns std::nullopt to continue, or the exit code to return now:
/// 0 after --help/--version, exit_code::usage (64) after a bad argument (a one-line
/// reason and the usage are printed on stderr).
std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv);

/// Print "error: <reason>" and the usage to stderr; returns exit_code::usage.
int usage_error(const CLI::App& app, const std::string& reason);

/// Run a daemon's body, mapping escaping exceptions to exit codes:
/// ConfigError -> 78, UnavailableError -> 69, anything else -> 70.
int guarded_main(const std::function<int()>& body);

/// A required resource (device, port, element) is not available: exit 69.
class UnavailableError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace veter::common
