// veter-probe's command line.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace veter::probe {

enum class Transport { tcp, udp };

struct ProbeOptions {
  /// rtsp://HOST:PORT/PATH, or rtp://@:PORT to listen for the publisher's RTP directly.
  std::string url;
  Transport transport = Transport::tcp;
  /// Seconds to measure after start (0 = until SIGINT/SIGTERM).
  double duration_s = 10.0;
  bool decode = false;
  bool json = false;
  /// When set, every frame's capture-to-arrival latency (ms) is written there, one per line.
  std::string samples_file;
};

/// Register the probe's options and positional URL on `app`.
void add_probe_options(CLI::App& app, ProbeOptions& opts);

/// "rtsp" for rtsp:// URLs, "rtp" for rtp://@:PORT; throws std::invalid_argument otherwise.
std::string url_scheme(const std::string& url);
/// The UDP port of an rtp://@:PORT (or rtp://:PORT) URL; throws std::invalid_argument.
int rtp_listen_port(const std::string& url);
/// The host part of an rtsp:// URL ("" when there is none).
std::string url_host(const std::string& url);

}  // namespace veter::probe
