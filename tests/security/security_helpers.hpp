// Helpers for the security e2e tests: a relay with a free-port config and the
// security keys given by the test, an in-test RTP/SRTP sender that can bind any
// loopback address, an rtspsrc viewer with credentials and TLS, and a tiny HTTP GET.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http_get.hpp"
#include "raw_rtsp_client.hpp"
#include "process.hpp"
#include "veter/common/gst_ptr.hpp"

namespace veter::test::security {

struct Ports {
  int rtsp = 0;
  int ingest = 0;
  int udp_min = 0;
  int api = 0;
  int metrics = 0;
};

/// Ports for one relay (all distinct).
Ports pick_ports();

/// The relay's YAML for `ports` with extra text inside `rtsp:` and `paths.camera.ingest:`
/// (each line already indented for its place) and optional top-level `api:`/`metrics:` maps.
std::string relay_yaml(const Ports& p, const std::string& rtsp_extra, const std::string& ingest_extra,
                       const std::string& api_map = "", const std::string& metrics_map = "");

class Relay {
 public:
  /// `prefix` runs before the relay's argv (e.g. {"prlimit", "--nofile=96:96"}, which execs it: same pid).
  Relay(const TempDir& dir, const std::string& yaml, const std::vector<std::string>& prefix = {});
  [[nodiscard]] Process& process() { return *proc_; }
  /// Bounded wait until the API says path camera is ready (the API's port and token are read
  /// from the config's `api:` line; a relay without an API cannot be asked: false).
  bool wait_ready(std::chrono::milliseconds timeout) const;

 private:
  std::unique_ptr<Process> proc_;
  int api_port_ = 0;
  std::string api_token_;
};

/// A key file with mode 0600 holding 30 random bytes as hex; returns its path.
std::string write_key_file(const TempDir& dir, const std::string& name);

/// The real publisher (test source, x264) with an optional SRTP key file.
std::unique_ptr<Process> start_publisher(const TempDir& dir, int relay_port, int local_port,
                                         const std::string& key_file = "", const std::string& size = "320x240");

/// In-test H.264 RTP sender bound to `bind_host:local_port` (e.g. 127.0.0.2).
class Sender {
 public:
  Sender(const std::string& bind_host, int local_port, int relay_port, const std::string& size = "320x240");
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

 private:
  common::ElementPtr pipeline_;
};

/// rtspsrc ! rtph264depay ! avdec_h264 ! fakesink, counting decoded frames.
/// `intact_only`: avdec_h264 output-corrupt=false, so no frame is counted before the first IDR.
class Viewer {
 public:
  explicit Viewer(const std::string& url, const std::string& user = "", const std::string& pass = "",
                  bool intact_only = false);
  ~Viewer();
  Viewer(const Viewer&) = delete;
  Viewer& operator=(const Viewer&) = delete;
  bool wait_frames(int n, std::chrono::milliseconds timeout) const;
  [[nodiscard]] int frames() const { return frames_.load(); }
  [[nodiscard]] int width() const { return width_.load(); }

 private:
  static GstPadProbeReturn on_buffer(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  common::ElementPtr pipeline_;
  std::atomic<int> frames_{0};
  std::atomic<int> width_{0};
};


/// veter_ingest_dropped_total{name="camera",reason=...} from /metrics (nullopt if absent).
std::optional<long long> dropped(int metrics_port, const std::string& reason);


/// One RTSP response: status (0 = none within the timeout), header block, body.
/// One RTSP answer (status 0: none within the time limit), see tests/support/raw_rtsp_client.hpp.
using RtspReply = RawRtspClient::Response;

/// A RawRtspClient that answers Digest challenges itself
/// (RFC 2617 without qop, as gst-rtsp-server asks): request() sends, and when the
/// reply is 401 with a Digest challenge and credentials are set, resends once with
/// an Authorization header on the same connection. Every read is bounded (5 s).
class RtspClient {
 public:
  RtspClient(int port, std::string user = "", std::string pass = "");
  RtspClient(const RtspClient&) = delete;
  RtspClient& operator=(const RtspClient&) = delete;
  RtspReply request(const std::string& method, const std::string& url, const std::string& extra_headers = "");

 private:
  RawRtspClient raw_;
  std::string user_;
  std::string pass_;
};

}  // namespace veter::test::security
