#include "veter/probe/run.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "veter/common/cli.hpp"
#include "veter/common/daemon.hpp"
#include "veter/common/exit_codes.hpp"
#include "veter/common/logging.hpp"
#include "veter/common/version.hpp"
#include "veter/probe/probe_options.hpp"
#include "veter/probe/probe_session.hpp"

namespace veter::probe {

namespace {
constexpr const char* kClockNote =
    "latency compares the publisher's wall clock with this host's: with the publisher on another "
    "host both clocks must be NTP-synced (chrony), and their offset adds to every number";
}

int run(int argc, char** argv) {
  common::init_logging("veter-probe");
  common::set_log_level(common::LogLevel::error);
  CLI::App app{"RTSP viewer that measures connect time, time to first frame, fps, bitrate, freezes, "
               "decode errors and capture-to-viewer latency (from the publisher's SEI timestamps)",
               "veter-probe"};
  app.set_version_flag("--version", std::string(common::version()));
  ProbeOptions opts;
  add_probe_options(app, opts);
  if (auto code = common::parse_command_line(app, argc, argv)) {
    return *code;
  }
  return common::guarded_main([&]() -> int {
    common::init_gstreamer();
    common::set_log_level(common::LogLevel::error);
    const bool tty = isatty(STDERR_FILENO) == 1;
    // On a terminal: one status line rewritten in place; otherwise one plain line a second.
    // With --json nothing but the JSON object is printed, unless stderr is a terminal.
    const bool live = tty || !opts.json;
    ProbeSession session(opts);
    ProbeReport report = session.run(
        [&](const ProbeReport& r) {
          if (tty) {
            std::fprintf(stderr, "\r\033[K%s", status_line(r).c_str());
          } else {
            std::fprintf(stderr, "%s\n", status_line(r).c_str());
          }
          std::fflush(stderr);
        },
        live ? (tty ? 500 : 1000) : 0);
    if (tty && live) {
      std::fprintf(stderr, "\r\033[K");
    }
    if (url_scheme(opts.url) == "rtp" || !host_is_local(url_host(opts.url))) {
      report.clock_note = kClockNote;
    }
    if (!opts.samples_file.empty()) {
      std::ofstream samples(opts.samples_file);
      for (double ms : report.arrival_samples_ms) {
        samples << ms << "\n";
      }
      if (!samples) {
        std::cerr << "veter-probe: cannot write " << opts.samples_file << "\n";
      }
    }
    if (opts.json) {
      std::cout << to_json(report).dump() << std::endl;
    } else {
      std::cout << summary_text(report) << std::flush;
    }
    if (!report.error.empty()) {
      std::cerr << "veter-probe: " << opts.url << ": " << report.error << "\n";
    }
    return report.exit_code;
  });
}

}  // namespace veter::probe
