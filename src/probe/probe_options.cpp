#include "veter/probe/probe_options.hpp"

#include <charconv>
#include <map>
#include <stdexcept>

namespace veter::probe {

void add_probe_options(CLI::App& app, ProbeOptions& opts) {
  app.add_option("url", opts.url,
                 "rtsp://HOST:PORT/PATH (a relay or any RTSP server), or rtp://@:PORT to receive "
                 "the publisher's RTP directly")
      ->required();
  const std::map<std::string, Transport> transports{{"tcp", Transport::tcp}, {"udp", Transport::udp}};
  app.add_option("-t,--transport", opts.transport, "RTSP lower transport: tcp (interleaved) or udp")
      ->transform(CLI::CheckedTransformer(transports, CLI::ignore_case))
      ->default_str("tcp");
  app.add_option("-d,--duration", opts.duration_s, "Seconds to measure (0 = until Ctrl-C)")
      ->check(CLI::Range(0.0, 1e7))
      ->default_str("10");
  app.add_flag("--decode,!--no-decode", opts.decode,
               "Decode the video (avdec_h264): adds capture-to-decoded latency and decode errors")
      ->default_str("false");
  app.add_flag("--json", opts.json, "Print one JSON object with every measurement at the end");
  app.add_option("--samples", opts.samples_file,
                 "Write each frame's capture-to-arrival latency in ms to FILE, one per line (for plots)")
      ->type_name("FILE");
  app.callback([&opts]() {
    try {
      const auto scheme = url_scheme(opts.url);
      if (scheme == "rtp") {
        (void)rtp_listen_port(opts.url);
      }
    } catch (const std::invalid_argument& e) {
      throw CLI::ValidationError("url", e.what());
    }
  });
}

std::string url_scheme(const std::string& url) {
  if (url.rfind("rtsp://", 0) == 0) {
    return "rtsp";
  }
  if (url.rfind("rtp://", 0) == 0) {
    return "rtp";
  }
  throw std::invalid_argument("'" + url + "' is neither rtsp://HOST[:PORT]/PATH nor rtp://@:PORT");
}

int rtp_listen_port(const std::string& url) {
  std::string rest = url.substr(6);
  if (!rest.empty() && rest.front() == '@') {
    rest.erase(0, 1);
  }
  if (rest.empty() || rest.front() != ':') {
    throw std::invalid_argument("'" + url + "': expected rtp://@:PORT");
  }
  rest.erase(0, 1);
  int port = 0;
  const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), port);
  if (ec != std::errc{} || ptr != rest.data() + rest.size() || port < 1 || port > 65535) {
    throw std::invalid_argument("'" + url + "': the port must be 1-65535");
  }
  return port;
}

std::string url_host(const std::string& url) {
  const auto start = url.find("://");
  if (start == std::string::npos) {
    return "";
  }
  std::string authority = url.substr(start + 3);
  authority = authority.substr(0, authority.find('/'));
  if (const auto at = authority.rfind('@'); at != std::string::npos) {
    authority.erase(0, at + 1);
  }
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    return close == std::string::npos ? authority.substr(1) : authority.substr(1, close - 1);
  }
  return authority.substr(0, authority.find(':'));
}

}  // namespace veter::probe
