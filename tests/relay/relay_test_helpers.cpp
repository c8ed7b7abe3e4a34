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
      << extra_rtsp_yaml << "api: {enabled: false}\nmetrics: {enabled: false}\n"
      << "paths:\n  camera:\n    ingest:\n      listen: \"127.0.0.1:" << ports_.ingest << "\"\n"
      << extra_path_yaml;
  const auto cfg = dir_.write("relay.yml", yml.str());
  proc_ = std::make_unique<Process>(std::vector<std::string>{VETER_RELAY_BIN, "--config", cfg});
  if (!proc_->wait_for_output("RTSP listening", std::chrono::seconds(20))) {
    throw std::runtime_error("relay did not start: " + proc_->err());
  }
}

std::string RelayUnderTest::url(const std::string& path) const {
  return "rtsp://127.0.0.1:" + std::to_string(ports_.rtsp) + "/" + path;
}

bool RelayUnderTest::wait_ready(std::chrono::milliseconds timeout) const {
  return proc_->wait_for_output("path camera: ready", timeout);
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

TestSender::TestSender(int relay_port, int local_port, int keyframe_interval_frames, const std::string& size) {
  init_gstreamer_once();
  const auto x = size.find('x');
  const std::string desc =
      "videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,framerate=30/1,width=" + size.substr(0, x) +
      ",height=" + size.substr(x + 1) + " ! x264enc tune=zerolatency speed-preset=ultrafast bitrate=500 key-int-max=" +
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

RawRtspClient::RawRtspClient(int port, int rcvbuf) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  if (rcvbuf > 0) {
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd_);
    fd_ = -1;
    throw std::runtime_error("cannot connect to the relay's RTSP port");
  }
}

RawRtspClient::~RawRtspClient() {
  if (fd_ >= 0) {
    close(fd_);
  }
}

bool RawRtspClient::read_more(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) {
    return false;
  }
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(left.count())) <= 0) {
    return false;
  }
  char buf[65536];
  const auto n = recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    return false;
  }
  buffer_.append(buf, static_cast<std::size_t>(n));
  return true;
}

std::string RawRtspClient::Response::header(const std::string& name) const {
  std::istringstream in(headers);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > name.size() && strncasecmp(line.c_str(), name.c_str(), name.size()) == 0 &&
        line[name.size()] == ':') {
      auto v = line.substr(name.size() + 1);
      while (!v.empty() && (v.front() == ' ')) {
        v.erase(0, 1);
      }
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n')) {
        v.pop_back();
      }
      return v;
    }
  }
  return "";
}

RawRtspClient::Response RawRtspClient::request(const std::string& method, const std::string& url,
                                               const std::vector<std::string>& headers,
                                               std::chrono::milliseconds timeout) {
  std::string req = method + " " + url + " RTSP/1.0\r\nCSeq: " + std::to_string(++cseq_) + "\r\n";
  for (const auto& h : headers) {
    req += h + "\r\n";
  }
  req += "User-Agent: veter-test\r\n\r\n";
  return raw(req, timeout);
}

RawRtspClient::Response RawRtspClient::raw(const std::string& bytes, std::chrono::milliseconds timeout) {
  if (send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(bytes.size())) {
    return {};
  }
  return read_response(timeout);
}

RawRtspClient::Response RawRtspClient::read_response(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Response r;
  while (true) {
    // Skip interleaved data ('$' channel len16 payload) that may precede the response.
    while (!buffer_.empty() && buffer_[0] == '$' && buffer_.size() >= 4) {
      const std::size_t len = (static_cast<unsigned char>(buffer_[2]) << 8) | static_cast<unsigned char>(buffer_[3]);
      if (buffer_.size() < 4 + len) {
        break;
      }
      buffer_.erase(0, 4 + len);
    }
    const auto end = buffer_.find("\r\n\r\n");
    if (end != std::string::npos && buffer_.rfind("RTSP/1.0 ", 0) == 0) {
      r.headers = buffer_.substr(0, end + 2);
      r.status = std::stoi(buffer_.substr(9, 3));
      const auto cl = r.header("Content-Length");
      const std::size_t body_len = cl.empty() ? 0 : std::stoul(cl);
      while (buffer_.size() < end + 4 + body_len) {
        if (!read_more(deadline)) {
          return r;
        }
      }
      r.body = buffer_.substr(end + 4, body_len);
      buffer_.erase(0, end + 4 + body_len);
      return r;
    }
    if (!read_more(deadline)) {
      return r;
    }
  }
}

bool RawRtspClient::drain_until_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) {
      continue;
    }
    const auto n = recv(fd_, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
      return true;  // EOF or reset: the server closed us
    }
  }
  return false;
}

}  // namespace veter::test
