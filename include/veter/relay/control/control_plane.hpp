// Everything operators talk to besides RTSP: the control API listener, the
// metrics listener, the playback listener (recordings) and the run_on_ready / run_on_not_ready hooks, built from
// the configuration over the relay's model. Lives on the main loop.
#pragma once

#include <memory>

#include "veter/relay/control/hooks.hpp"
#include "veter/relay/control/http_server.hpp"
#include "veter/relay/conf/relay_config.hpp"
#include "veter/relay/relay_model.hpp"

namespace veter::relay {

class ControlPlane {
 public:
  /// Binds the enabled listeners; throws common::UnavailableError when one cannot bind.
  ControlPlane(const RelayConfig& cfg, RelayModel& model);
  ControlPlane(const ControlPlane&) = delete;
  ControlPlane& operator=(const ControlPlane&) = delete;
  /// Stops the listeners and terminates running hooks (bounded, ~2 s at most).
  ~ControlPlane();

  /// Forward a path's ready transition (starts its hook, if configured).
  void on_ready_changed(const PathSnapshot& path, bool ready) { hooks_.on_ready_changed(path, ready); }

  [[nodiscard]] HttpServer* api() const { return api_.get(); }
  [[nodiscard]] HttpServer* metrics() const { return metrics_.get(); }
  [[nodiscard]] HttpServer* playback() const { return playback_.get(); }
  [[nodiscard]] HookRunner& hooks() { return hooks_; }

 private:
  HookRunner hooks_;
  std::unique_ptr<HttpServer> api_;
  std::unique_ptr<HttpServer> metrics_;
  std::unique_ptr<HttpServer> playback_;  // recordings: /list, /get (record/playback.hpp)
};

}  // namespace veter::relay
