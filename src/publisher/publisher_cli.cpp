#include "veter/publisher/publisher_cli.hpp"

#include <fmt/format.h>

namespace veter::publisher {

using common::ValueError;

void add_publisher_options(CLI::App& app, PublisherCli& cli) {
  app.description(
      "veter-publisher: camera -> H.264 -> RTP/UDP to a veter-relay.\n"
      "Positional form as the seed script: veter-publisher [WxH] [FPS] [KBPS], e.g. 1280x720 30 2000");
  common::add_common_options(app, cli.common, "/etc/veter/publisher.yml");
  app.add_option("size_fps_kbps", cli.positionals, "[WxH] [FPS] [KBPS]")->expected(0, 3);
  app.add_option("--host", cli.host, "Relay host name or address (overrides destination host)");
  app.add_option("--port", cli.port, "Relay UDP port (overrides destination port)")->type_name("PORT");
  app.add_option("--source", cli.source, "auto | argus | v4l2 | test");
  app.add_option("--device", cli.device, "Argus sensor id, or /dev/videoN for v4l2");
  app.add_option("--test-pattern", cli.test_pattern,
                 "With --source test: ball (compresses far below the bitrate) | snow (needs the bitrate)");
  app.add_option("--encoder", cli.encoder,
                 "auto | nvv4l2h264enc | v4l2h264enc | vah264enc | x264enc | openh264enc | passthrough (the "
                 "camera's own H.264)");
  app.add_option("--size", cli.size, "Video size WxH (overrides the positional WxH)")->type_name("WxH");
  app.add_option("--fps", cli.fps, "Frames per second (overrides the positional FPS)")->type_name("FPS");
  app.add_option("--bitrate", cli.bitrate, "Bitrate in kbit/s (overrides the positional KBPS)")->type_name("KBPS");
  app.add_option("--local-port", cli.local_port,
                 "Local UDP port RTP is sent from (RTCP: +1); 0 = any free pair")
      ->type_name("PORT");
  app.add_flag("--dry-run", cli.dry_run, "Print the chosen source, encoder and pipeline, then exit");
}

PublisherConfig resolve_config(const PublisherCli& cli) {
  PublisherConfig cfg;
  if (!cli.common.config_file.empty()) {
    apply_file(cfg, cli.common.config_file);  // ConfigError -> 78
  }
  // Positionals first, then the flags that override them.
  auto apply_size = [&cfg](const std::string& text, const char* what) {
    try {
      const auto size = common::parse_video_size(text);
      cfg.width = size.width;
      cfg.height = size.height;
    } catch (const ValueError& e) {
      throw ValueError(fmt::format("{}: {}", what, e.what()));
    }
  };
  auto apply_int = [](const std::string& text, int& out, long long lo, long long hi, const char* what) {
    try {
      out = static_cast<int>(common::parse_int(text, lo, hi));
    } catch (const ValueError& e) {
      throw ValueError(fmt::format("{}: {}", what, e.what()));
    }
  };
  if (cli.positionals.size() >= 1) {
    apply_size(cli.positionals[0], "WxH");
  }
  if (cli.positionals.size() >= 2) {
    apply_int(cli.positionals[1], cfg.fps, 1, 240, "FPS");
  }
  if (cli.positionals.size() >= 3) {
    apply_int(cli.positionals[2], cfg.bitrate_kbps, 50, 200000, "KBPS");
  }
  if (cli.size) {
    apply_size(*cli.size, "--size");
  }
  if (cli.fps) {
    apply_int(*cli.fps, cfg.fps, 1, 240, "--fps");
  }
  if (cli.bitrate) {
    apply_int(*cli.bitrate, cfg.bitrate_kbps, 50, 200000, "--bitrate");
  }
  if (cli.local_port) {
    if (*cli.local_port < 0 || *cli.local_port > 65534) {
      throw ValueError(fmt::format("--local-port: {} is not a valid local port (0..65534)", *cli.local_port));
    }
    cfg.local_port = *cli.local_port;
  }
  if (cli.host) {
    if (cli.host->empty()) {
      throw ValueError("--host: empty host");
    }
    cfg.destination.host = *cli.host;
  }
  if (cli.port) {
    if (*cli.port < 1 || *cli.port > 65535) {
      throw ValueError(fmt::format("--port: {} is not a valid port (1..65535)", *cli.port));
    }
    cfg.destination.port = static_cast<std::uint16_t>(*cli.port);
  }
  if (cli.source) {
    if (!is_known_source(*cli.source)) {
      throw ValueError(fmt::format("--source: \"{}\" is not a source (auto, argus, v4l2, test)", *cli.source));
    }
    cfg.source = *cli.source;
  }
  if (cli.device) {
    cfg.device = *cli.device;
  }
  if (cli.test_pattern) {
    if (!is_known_test_pattern(*cli.test_pattern)) {
      throw ValueError(fmt::format("--test-pattern: \"{}\" is not a test pattern (ball, snow)", *cli.test_pattern));
    }
    cfg.test_pattern = *cli.test_pattern;
  }
  if (cli.encoder) {
    if (!is_known_encoder(*cli.encoder)) {
      throw ValueError(fmt::format(
          "--encoder: \"{}\" is not a known encoder (auto, nvv4l2h264enc, v4l2h264enc, vah264enc, "
          "x264enc, openh264enc, passthrough)",
          *cli.encoder));
    }
    cfg.encoder = *cli.encoder;
  }
  if (cli.common.log_level) {
    cfg.log_level = *cli.common.log_level;
  }
  validate(cfg);
  return cfg;
}

}  // namespace veter::publisher
