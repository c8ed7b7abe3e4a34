#include "veter/relay/control/control_plane.hpp"

#include "veter/relay/control/http_api.hpp"
#include "veter/relay/control/metrics.hpp"
#include "veter/relay/record/playback.hpp"

namespace veter::relay {

ControlPlane::ControlPlane(const RelayConfig& cfg, RelayModel& model)
    : hooks_(cfg),
      api_(start_api_server(cfg.api, model)),
      metrics_(start_metrics_server(cfg.metrics, model)),
      playback_(start_playback_server(cfg)) {
  // Bearer tokens (validate() refuses a non-loopback listener without one).
  if (api_) {
    api_->require_token(cfg.api_token);
  }
  if (metrics_) {
    metrics_->require_token(cfg.metrics_token);
  }
}

ControlPlane::~ControlPlane() {
  // Listeners first (no new requests), then the hooks (terminated, bounded).
  playback_.reset();
  metrics_.reset();
  api_.reset();
  hooks_.terminate_all();
}

}  // namespace veter::relay
