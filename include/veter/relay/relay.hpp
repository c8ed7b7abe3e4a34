// The relay core: every configured path (always-on ingest + shared RTSP
// media), the RTSP server, the periodic stats line. Implements RelayModel for
// the HTTP API and metrics. Every member function runs on the GLib main loop,
// which also serves the RTSP clients (thread ownership: docs/relay.md).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "veter/common/gst_ptr.hpp"
#include "veter/relay/conf/relay_config.hpp"
#include "veter/relay/relay_model.hpp"

namespace veter::relay {

class Ingest;
class Fanout;
class RtspServer;
class WhepServer;

class Relay final : public RelayModel {
 public:
  explicit Relay(RelayConfig cfg);
  ~Relay() override;
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  /// Bind every port and start ingest and RTSP; throws std::runtime_error.
  void start();
  /// Close viewers, stop ingest (idempotent).
  void stop();

  /// Called on the main loop when a path becomes ready / not ready.
  void on_ready_changed(std::function<void(const PathSnapshot&, bool ready)> cb) { ready_cb_ = std::move(cb); }

  [[nodiscard]] std::vector<PathSnapshot> paths() const override;
  [[nodiscard]] std::vector<SessionSnapshot> sessions() const override;
  bool kick(const std::string& session_id) override;
  [[nodiscard]] bool webrtc_enabled() const override { return cfg_.webrtc.enabled; }
  [[nodiscard]] std::vector<WebrtcSessionSnapshot> webrtc_sessions() const override;
  bool kick_webrtc(const std::string& session_id) override;
  /// The WHEP listener's port (0 when webrtc is disabled).
  [[nodiscard]] std::uint16_t webrtc_port() const;

  [[nodiscard]] const RelayConfig& config() const { return cfg_; }
  /// Snapshot of one path (nullopt for unknown names).
  [[nodiscard]] std::optional<PathSnapshot> path(const std::string& name) const;

 private:
  struct Path;
  static gboolean on_tick(gpointer self);
  static gboolean on_stats(gpointer self);
  PathSnapshot snapshot(const Path& p) const;
  void log_stats() const;

  RelayConfig cfg_;
  std::vector<std::unique_ptr<Path>> paths_;
  std::unique_ptr<RtspServer> rtsp_;
  std::unique_ptr<WhepServer> whep_;  // null when webrtc is disabled
  std::function<void(const PathSnapshot&, bool)> ready_cb_;
  common::SourceId tick_;
  common::SourceId stats_;
};

}  // namespace veter::relay
