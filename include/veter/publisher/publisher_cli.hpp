// veter-publisher command line: the seed's positional form plus flags.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "veter/common/cli.hpp"
#include "veter/publisher/publisher_config.hpp"

namespace veter::publisher {

struct PublisherCli {
  common::CommonOptions common;
  std::vector<std::string> positionals;  // [WxH] [FPS] [KBPS]
  std::optional<std::string> host;
  std::optional<int> port;
  std::optional<std::string> source;
  std::optional<std::string> device;
  std::optional<std::string> test_pattern;
  std::optional<std::string> encoder;
  std::optional<std::string> size;     // --size WxH (overrides the positional)
  std::optional<std::string> fps;      // --fps N
  std::optional<std::string> bitrate;  // --bitrate KBPS
  std::optional<int> local_port;       // --local-port P (0 = any free even/odd pair)
  bool dry_run = false;
};

/// Register every option on `app`.
void add_publisher_options(CLI::App& app, PublisherCli& cli);

/// defaults -> config file -> command line -> validate. Throws common::ConfigError
/// for the file (exit 78) and common::ValueError for the command line (exit 64).
PublisherConfig resolve_config(const PublisherCli& cli);

}  // namespace veter::publisher
