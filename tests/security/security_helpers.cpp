#include "security_helpers.hpp"
#include "veter/common/checksum.hpp"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "rtsp_viewer.hpp"

namespace veter::test::security {

Ports pick_ports() {
  Ports p;
  p.rtsp = free_tcp_port();
  p.ingest = free_udp_port(true);
  do {
    p.udp_min = free_udp_port(true);
  } while (p.udp_min == p.ingest);
  do {
    p.api = free_tcp_port();
  } while (p.api == p.rtsp);
  do {
    p.metrics = free_tcp_port();
  } while (p.metrics == p.rtsp || p.metrics == p.api);
  return p;
}

std::string relay_yaml(const Ports& p, const std::string& rtsp_extra, const std::string& ingest_extra,
                       const std::string& api_map, const std::string& metrics_map) {
  std::ostringstream y;
  y << "log_level: info\nstats_interval: 1s\n"
    << "rtsp:\n  listen: \"127.0.0.1:" << p.rtsp << "\"\n"
    << "  transports: [tcp]\n"
    << "  udp_port_range: \"" << p.udp_min << "-" << p.udp_min + 1 << "\"\n"
    << rtsp_extra
    << "api: " << (api_map.empty() ? "{listen: \"127.0.0.1:" + std::to_string(p.api) + "\"}" : api_map) << "\n"
    << "metrics: "
    << (metrics_map.empty() ? "{listen: \"127.0.0.1:" + std::to_string(p.metrics) + "\"}" : metrics_map) << "\n"
    << "paths:\n  camera:\n    ingest:\n      listen: \"127.0.0.1:" << p.ingest << "\"\n"
    << "      timeout: 1s\n"
    << ingest_extra;
  return y.str();
}

Relay::Relay(const TempDir& dir, const std::string& yaml, const std::vector<std::string>& prefix) {
  const auto cfg = dir.write("relay.yml", yaml);
  // The API's port and token, from the flow map relay_yaml writes: api: {listen: "H:P", token: "T"}.
  if (const auto at = yaml.find("\napi: {"); at != std::string::npos) {
    const std::string line = yaml.substr(at + 1, yaml.find('\n', at + 1) - at - 1);
    if (const auto l = line.find("listen: \""); l != std::string::npos && line.find("enabled: false") == std::string::npos) {
      const auto end = line.find('"', l + 9);
      const std::string addr = line.substr(l + 9, end - l - 9);
      api_port_ = std::stoi(addr.substr(addr.rfind(':') + 1));
    }
    if (const auto t = line.find("token: \""); t != std::string::npos) {
      api_token_ = line.substr(t + 8, line.find('"', t + 8) - t - 8);
    }
  }
  std::vector<std::string> argv = prefix;
  argv.insert(argv.end(), {VETER_RELAY_BIN, "--config", cfg});
  proc_ = std::make_unique<Process>(argv);
  // The HTTP listeners start after the RTSP server (metrics last): tests query them at once.
  if (!proc_->wait_for_output("RTSP listening", std::chrono::seconds(30)) ||
      !proc_->wait_for_output("metrics listening", std::chrono::seconds(30))) {
    throw std::runtime_error("relay did not start: " + proc_->err());
  }
}

bool Relay::wait_ready(std::chrono::milliseconds timeout) const {
  if (api_port_ == 0) {
    ADD_FAILURE() << "Relay::wait_ready: this relay's config has no API listener to ask";
    return false;
  }
  return wait_path_ready(api_port_, "camera", timeout, api_token_);
}

std::string write_key_file(const TempDir& dir, const std::string& name) {
  std::random_device rd;
  std::string hex;
  static const char* digits = "0123456789abcdef";
  for (int i = 0; i < 30; ++i) {
    const auto b = static_cast<unsigned>(rd()) & 0xffU;
    hex += digits[b >> 4];
    hex += digits[b & 0xfU];
  }
  const auto path = dir.write(name, hex + "\n");
  chmod(path.c_str(), 0600);
  return path;
}

std::unique_ptr<Process> start_publisher(const TempDir& dir, int relay_port, int local_port,
                                         const std::string& key_file, const std::string& size) {
  std::vector<std::string> argv{VETER_PUBLISHER_BIN, size, "30", "800", "--host", "127.0.0.1", "--port",
                                std::to_string(relay_port), "--source", "test", "--encoder", "x264enc",
                                "--local-port", std::to_string(local_port)};
  if (!key_file.empty()) {
    const auto cfg = dir.write("publisher-" + std::to_string(local_port) + ".yml",
                               "srtp_key_file: \"" + key_file + "\"\n");
    argv.push_back("--config");
    argv.push_back(cfg);
  }
  return std::make_unique<Process>(argv);
}

Sender::Sender(const std::string& bind_host, int local_port, int relay_port, const std::string& size) {
  init_gstreamer_once();
  const auto x = size.find('x');
  const std::string desc =
      "videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,framerate=30/1,width=" + size.substr(0, x) +
      ",height=" + size.substr(x + 1) +
      " ! x264enc tune=zerolatency speed-preset=ultrafast bitrate=500 key-int-max=15"
      " ! rtph264pay pt=96 config-interval=-1 mtu=1200 ! udpsink host=127.0.0.1 port=" +
      std::to_string(relay_port) + " bind-address=" + bind_host + " bind-port=" + std::to_string(local_port) +
      " sync=false";
  GError* err = nullptr;
  pipeline_ = common::adopt_floating(gst_parse_launch(desc.c_str(), &err));
  common::GErrorPtr e(err);
  if (e || !pipeline_) {
    throw std::runtime_error(std::string("sender: ") + (e ? e->message : "?"));
  }
  gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING);
}

Sender::~Sender() {
  if (pipeline_) {
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  }
}

Viewer::Viewer(const std::string& url, const std::string& user, const std::string& pass, bool intact_only) {
  init_gstreamer_once();
  std::string desc = "rtspsrc name=src latency=0 protocols=tcp tls-validation-flags=0 location=" + url;
  if (!user.empty()) {
    desc += " user-id=" + user + " user-pw=" + pass;
  }
  desc += std::string(" ! rtph264depay ! avdec_h264") + (intact_only ? " output-corrupt=false" : "") +
          " ! fakesink name=sink sync=false";
  GError* err = nullptr;
  pipeline_ = common::adopt_floating(gst_parse_launch(desc.c_str(), &err));
  common::GErrorPtr e(err);
  if (e || !pipeline_) {
    throw std::runtime_error(std::string("viewer: ") + (e ? e->message : "?"));
  }
  common::ElementPtr sink(gst_bin_get_by_name(GST_BIN(pipeline_.get()), "sink"));
  auto pad = common::PadPtr(gst_element_get_static_pad(sink.get(), "sink"));
  gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, &Viewer::on_buffer, this, nullptr);
  gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING);
}

Viewer::~Viewer() {
  if (pipeline_) {
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  }
}

GstPadProbeReturn Viewer::on_buffer(GstPad* pad, GstPadProbeInfo*, gpointer self) {
  auto* me = static_cast<Viewer*>(self);
  if (common::CapsPtr caps{gst_pad_get_current_caps(pad)}) {
    int w = 0;
    gst_structure_get_int(gst_caps_get_structure(caps.get(), 0), "width", &w);
    me->width_.store(w);
  }
  me->frames_.fetch_add(1);
  return GST_PAD_PROBE_OK;
}

bool Viewer::wait_frames(int n, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (frames_.load() >= n) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return frames_.load() >= n;
}

namespace {

std::string md5_hex(const std::string& text) { return veter::common::checksum_hex(G_CHECKSUM_MD5, text); }

/// `key="value"` from a challenge header ("" when absent).
std::string challenge_param(const std::string& challenge, const std::string& key) {
  const auto pos = challenge.find(key + "=\"");
  if (pos == std::string::npos) {
    return "";
  }
  const auto start = pos + key.size() + 2;
  const auto end = challenge.find('"', start);
  return end == std::string::npos ? "" : challenge.substr(start, end - start);
}

}  // namespace

RtspClient::RtspClient(int port, std::string user, std::string pass)
    : raw_(port), user_(std::move(user)), pass_(std::move(pass)) {}

namespace {
// "A: b\r\nC: d\r\n" -> {"A: b", "C: d"}
std::vector<std::string> header_lines(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t pos = 0; pos < text.size();) {
    const auto end = text.find("\r\n", pos);
    const auto line = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (!line.empty()) {
      out.push_back(line);
    }
    if (end == std::string::npos) {
      break;
    }
    pos = end + 2;
  }
  return out;
}
}  // namespace

RtspReply RtspClient::request(const std::string& method, const std::string& url, const std::string& extra_headers) {
  constexpr auto kTimeout = std::chrono::seconds(5);
  auto headers = header_lines(extra_headers);
  RtspReply r = raw_.request(method, url, headers, kTimeout);
  if (r.status != 401 || user_.empty()) {
    return r;
  }
  // Several WWW-Authenticate headers may come (Basic and Digest): find the Digest one.
  std::string challenge;
  if (const auto pos = r.headers.find("WWW-Authenticate: Digest"); pos != std::string::npos) {
    challenge = r.headers.substr(pos, r.headers.find("\r\n", pos) - pos);
  }
  if (challenge.empty()) {
    return r;
  }
  const std::string realm = challenge_param(challenge, "realm");
  const std::string nonce = challenge_param(challenge, "nonce");
  const std::string response =
      md5_hex(md5_hex(user_ + ":" + realm + ":" + pass_) + ":" + nonce + ":" + md5_hex(method + ":" + url));
  headers.push_back("Authorization: Digest username=\"" + user_ + "\", realm=\"" + realm + "\", nonce=\"" + nonce +
                    "\", uri=\"" + url + "\", response=\"" + response + "\"");
  return raw_.request(method, url, headers, kTimeout);
}

std::optional<long long> dropped(int metrics_port, const std::string& reason) {
  const auto r = http_get(metrics_port, "/metrics");
  const std::string key = "veter_ingest_dropped_total{name=\"camera\",reason=\"" + reason + "\"} ";
  const auto pos = r.body.find(key);
  if (pos == std::string::npos) {
    return std::nullopt;
  }
  return std::stoll(r.body.substr(pos + key.size()));
}

}  // namespace veter::test::security
