// Helpers for the relay's end-to-end tests: a relay on free loopback ports, the
// real publisher and an in-test GStreamer RTP sender (the raw RTSP client is in tests/support).
#pragma once

#include <gst/gst.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "process.hpp"
#include "raw_rtsp_client.hpp"
#include "veter/common/gst_ptr.hpp"

namespace veter::test {

struct RelayPorts {
  int rtsp = 0;
  int ingest = 0;  // RTP; RTCP on +1
  int udp_min = 0;  // server RTP/RTCP for UDP viewers
  int api = 0;      // the control API (loopback, no token)
};

/// veter-relay with a config on free 127.0.0.1 ports (the control API on, metrics off).
class RelayUnderTest {
 public:
  explicit RelayUnderTest(const std::string& extra_path_yaml = "", const std::string& extra_rtsp_yaml = "");
  [[nodiscard]] const RelayPorts& ports() const { return ports_; }
  [[nodiscard]] std::string url(const std::string& path = "camera") const;
  [[nodiscard]] Process& process() { return *proc_; }
  /// Bounded wait until the API says path camera is ready.
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
/// sending from `local_port` (so the relay's RTCP comes back to local_port + 1). `pattern`:
/// videotestsrc's (snow needs the bitrate it is given; ball compresses to a fraction of it).
class TestSender {
 public:
  TestSender(int relay_port, int local_port, int keyframe_interval_frames, const std::string& size = "320x240",
             const std::string& pattern = "ball", int kbps = 500);
  ~TestSender();
  TestSender(const TestSender&) = delete;
  TestSender& operator=(const TestSender&) = delete;

 private:
  common::ElementPtr pipeline_;
};


}  // namespace veter::test
