// Prometheus metrics (text exposition format 0.0.4) on their own listener.
// MediaMTX-compatible series (paths, paths_bytes_*, paths_readers, rtsp_sessions*)
// plus veter_ingest_* / veter_path_ready and the standard process_* series.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "veter/relay/control/http_server.hpp"
#include "veter/relay/control/process_stats.hpp"
#include "veter/relay/conf/relay_config.hpp"
#include "veter/relay/relay_model.hpp"

namespace veter::relay {

/// Escape a label value: backslash, double quote and newline.
std::string escape_label_value(std::string_view value);

/// The whole /metrics page. Paths are ordered by name and sessions by id;
/// process series are left out when `process` is nullopt, WebRTC series when
/// `webrtc` is null (webrtc disabled).
std::string render_metrics(const std::vector<PathSnapshot>& paths, const std::vector<SessionSnapshot>& sessions,
                           const std::optional<ProcessStats>& process,
                           const std::vector<WebrtcSessionSnapshot>* webrtc = nullptr);

inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

class MetricsEndpoint {
 public:
  explicit MetricsEndpoint(RelayModel& model) : model_(model) {}
  /// GET /metrics; other paths 404, other methods 405.
  [[nodiscard]] HttpResponse handle(const HttpRequest& req) const;

 private:
  RelayModel& model_;
};

/// The metrics listener from `cfg.metrics`, or nullptr when disabled. Throws
/// common::UnavailableError when it cannot bind.
std::unique_ptr<HttpServer> start_metrics_server(const HttpListenerConfig& cfg, RelayModel& model);

}  // namespace veter::relay
