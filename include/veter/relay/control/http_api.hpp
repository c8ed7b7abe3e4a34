// The control API (MediaMTX v3 shape): /v3/paths/*, /v3/rtspsessions/*.
// Pure request -> response routing over a RelayModel; HttpServer carries it.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "veter/relay/control/http_server.hpp"
#include "veter/relay/conf/relay_config.hpp"
#include "veter/relay/relay_model.hpp"

namespace veter::relay {

/// RFC 3339 in UTC with microseconds: "2026-11-25T18:20:00.123456Z".
std::string format_rfc3339(std::chrono::system_clock::time_point t);

/// One path as the API shows it (MediaMTX Path fields first, then tracks2 and ingest).
nlohmann::ordered_json path_json(const PathSnapshot& path);
/// One RTSP session (MediaMTX RTSPSession fields).
nlohmann::ordered_json session_json(const SessionSnapshot& session);
/// One WebRTC session as in MediaMTX's /v3/webrtcsessions.
nlohmann::ordered_json webrtc_session_json(const WebrtcSessionSnapshot& session);
/// {"status":"error","error":message}
std::string api_error_body(const std::string& message);

class ControlApi {
 public:
  explicit ControlApi(RelayModel& model) : model_(model) {}
  /// Route one request. Never throws for bad input (400/404/405 responses).
  [[nodiscard]] HttpResponse handle(const HttpRequest& req) const;

 private:
  RelayModel& model_;
};

/// The API listener from `cfg.api`, or nullptr when disabled. Throws
/// common::UnavailableError when it cannot bind.
std::unique_ptr<HttpServer> start_api_server(const HttpListenerConfig& cfg, RelayModel& model);

}  // namespace veter::relay
