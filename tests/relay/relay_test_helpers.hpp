// Helpers for the relay's end-to-end tests: a relay on free loopback ports, the
// real publisher, an in-test GStreamer RTP sender, and a raw RTSP client.
#pragma once

#include <gst/gst.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "process.hpp"
#include "veter/common/gst_ptr.hpp"

namespace veter::test {

struct RelayPorts {
  int rtsp = 0;
  int ingest = 0;  // RTP; RTCP on +1
  int udp_min = 0;  // server RTP/RTCP for UDP viewers
};

/// veter-relay with a config on free 127.0.0.1 ports (API and metrics off).
class RelayUnderTest {
 public:
  explicit RelayUnderTest(const std::string& extra_path_yaml = "", const std::string& extra_rtsp_yaml = "");
  [[nodiscard]] const RelayPorts& ports() const { return ports_; }
  [[nodiscard]] std::string url(const std::string& path = "camera") const;
  [[nodiscard]] Process& process() { return *proc_; }
  /// Wait for the relay log to say the path is ready (synchronisation only).
  bool wait_ready(std::chrono::milliseconds timeout) const;
  /// The last "stats camera:" line's value for `key` (e.g. "dropped", "packets"), if any.
  [[nodiscard]] std::optional<long long> last_stat(const std::string& key) const;

 private:
  TempDir dir_;
  RelayPorts ports_;
  std::unique_ptr<Process> proc_;
};

/// The real veter-publisher with the test source.
std::unique_ptr<Process> start_publisher(int relay_port, int local_port, const std::string& size = "320x240",
                                         int fps = 30, int kbps = 800);

/// An RTP H.264 sender inside the test: videotestsrc ! x264enc ! rtph264pay ! udpsink,
/// sending from `local_port` (so the relay's RTCP comes back to local_port + 1).
class TestSender {
 public:
  TestSender(int relay_port, int local_port, int keyframe_interval_frames, const std::string& size = "320x240");
  ~TestSender();
  TestSender(const TestSender&) = delete;
  TestSender& operator=(const TestSender&) = delete;

 private:
  common::ElementPtr pipeline_;
};

/// A blocking RTSP/1.0 client on a raw TCP socket.
class RawRtspClient {
 public:
  /// `rcvbuf` > 0 sets SO_RCVBUF before connecting (to make a stalled reader fill up fast).
  explicit RawRtspClient(int port, int rcvbuf = 0);
  ~RawRtspClient();
  RawRtspClient(const RawRtspClient&) = delete;
  RawRtspClient& operator=(const RawRtspClient&) = delete;

  struct Response {
    int status = 0;  // 0 = no response (timeout / closed)
    std::string headers;
    std::string body;
    [[nodiscard]] std::string header(const std::string& name) const;
  };
  Response request(const std::string& method, const std::string& url, const std::vector<std::string>& headers = {},
                   std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Send raw bytes (for malformed requests) and read one response.
  Response raw(const std::string& bytes, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Read and discard everything until the server closes the connection (true) or the timeout.
  bool drain_until_closed(std::chrono::milliseconds timeout);
  [[nodiscard]] int fd() const { return fd_; }

 private:
  bool read_more(std::chrono::steady_clock::time_point deadline);
  Response read_response(std::chrono::milliseconds timeout);
  int fd_ = -1;
  int cseq_ = 0;
  std::string buffer_;
};

}  // namespace veter::test
