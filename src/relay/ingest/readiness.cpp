// A path's readiness, decided on the main loop: ready once the publisher's packets carry SPS, PPS
// and an IDR; not ready after ingest.timeout without packets.
#include "veter/relay/ingest/ingest.hpp"

#include <spdlog/spdlog.h>

namespace veter::relay {

bool Ingest::update_readiness(Clock::time_point now, const std::optional<SourceAddress>& pub,
                              std::optional<Clock::time_point> last, const std::optional<TrackSnapshot>& track) {
  const bool silent = !last || now - *last > cfg_.ingest.timeout;
  if (ready_ && silent) {
    ready_ = false;
    ready_time_.reset();
    seen_sps_ = seen_pps_ = seen_idr_ = false;
    spdlog::info("path {}: not ready: no packets from {} for {}", cfg_.name, pub ? pub->to_string() : "?",
                 common::format_duration(cfg_.ingest.timeout));
    if (ready_cb_) {
      ready_cb_(false);
    }
  } else if (!ready_ && !silent && seen_sps_ && seen_pps_ && seen_idr_) {
    ready_ = true;
    ready_time_ = std::chrono::system_clock::now();
    spdlog::info("path {}: ready: publisher {}, H264 {}x{} {} {}", cfg_.name, pub ? pub->to_string() : "?",
                 track ? track->width : 0, track ? track->height : 0, track ? track->profile : "",
                 track ? track->level : "");
    if (ready_cb_) {
      ready_cb_(true);
    }
  }
  return silent;
}

}  // namespace veter::relay
