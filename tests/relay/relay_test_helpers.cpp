#include "relay_test_helpers.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "http_get.hpp"
#include "rtsp_viewer.hpp"

namespace veter::test {

RelayUnderTest::RelayUnderTest(const std::string& extra_path_yaml, const std::string& extra_rtsp_yaml) {
  ports_.rtsp = free_tcp_port();
  ports_.ingest = free_udp_port(true);
  do {
    ports_.udp_min = free_udp_port(true);
  } while (ports_.udp_min == ports_.ingest);
  std::ostringstream yml;
  yml << "log_level: info\n"
      << "stats_interval: 500ms\n"
      << "rtsp:\n  listen: \"127.0.0.1:" << ports_.rtsp << "\"\n"
      << "  udp_port_range: \"" << ports_.udp_min << "-" << ports_.udp_min + 1 << "\"\n"
      << extra_rtsp_yaml;
  do {
    ports_.api = free_tcp_port();
  } while (ports_.api == ports_.rtsp);
  yml << "api: {listen: \"127.0.0.1:" << ports_.api << "\"}\n";
  yml << "metrics: {enabled: false}\n"
      << "paths:\n  camera:\n    ingest:\n      listen: \"127.0.0.1:" << ports_.ingest << "\"\n"
      << extra_path_yaml;
  const auto cfg = dir_.write("relay.yml", yml.str());
  proc_ = std::make_unique<Process>(std::vector<std::string>{VETER_RELAY_BIN, "--config", cfg});
  // The API listens after the RTSP server: tests ask it at once.
  if (!proc_->wait_for_output("api listening", std::chrono::seconds(20))) {
    throw std::runtime_error("relay did not start: " + proc_->err());
  }
}

std::string RelayUnderTest::url(const std::string& path) const {
  return "rtsp://127.0.0.1:" + std::to_string(ports_.rtsp) + "/" + path;
}

bool RelayUnderTest::wait_ready(std::chrono::milliseconds timeout) const {
  return wait_path_ready(ports_.api, "camera", timeout);
}

std::optional<long long> RelayUnderTest::last_stat(const std::string& key) const {
  const std::string log = proc_->err() + proc_->out();
  const auto pos = log.rfind("stats camera:");
  if (pos == std::string::npos) {
    return std::nullopt;
  }
  const std::string line = log.substr(pos, log.find('\n', pos) - pos);
  // " key=123" (std::regex trips a GCC 12 false positive under the sanitizer build).
  const auto at = line.find(" " + key + "=");
  if (at == std::string::npos) {
    return std::nullopt;
  }
  const auto digits = at + key.size() + 2;
  const auto end = line.find_first_not_of("0123456789", digits);
  if (end == digits) {
    return std::nullopt;
  }
  return std::stoll(line.substr(digits, end - digits));
}

std::unique_ptr<Process> start_publisher(int relay_port, int local_port, const std::string& size, int fps,
                                         int kbps) {
  return std::make_unique<Process>(std::vector<std::string>{
      VETER_PUBLISHER_BIN, size, std::to_string(fps), std::to_string(kbps), "--host", "127.0.0.1", "--port",
      std::to_string(relay_port), "--source", "test", "--encoder", "x264enc", "--local-port",
      std::to_string(local_port)});
}

TestSender::TestSender(int relay_port, int local_port, int keyframe_interval_frames, const std::string& size,
                       const std::string& pattern, int kbps) {
  init_gstreamer_once();
  const auto x = size.find('x');
  const std::string desc =
      "videotestsrc is-live=true pattern=" + pattern + " ! video/x-raw,format=I420,framerate=30/1,width=" +
      size.substr(0, x) + ",height=" + size.substr(x + 1) +
      " ! x264enc tune=zerolatency speed-preset=ultrafast bitrate=" + std::to_string(kbps) + " key-int-max=" +
      std::to_string(keyframe_interval_frames) +
      " ! rtph264pay pt=96 config-interval=-1 mtu=1200 ! udpsink host=127.0.0.1 port=" + std::to_string(relay_port) +
      " bind-port=" + std::to_string(local_port) + " sync=false";
  GError* err = nullptr;
  pipeline_ = common::adopt_floating(gst_parse_launch(desc.c_str(), &err));
  common::GErrorPtr e(err);
  if (e || !pipeline_) {
    throw std::runtime_error(std::string("test sender: ") + (e ? e->message : "?"));
  }
  gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING);
}

TestSender::~TestSender() {
  if (pipeline_) {
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  }
}

}  // namespace veter::test
