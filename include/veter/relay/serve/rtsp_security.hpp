// Viewer-side security of the RTSP server: Digest users (Basic only
// over TLS), per-user paths and source addresses, rate-limited failures,
// RTSPS, connection limits and the idle-connection (slowloris) timeout.
//
// With users, authentication and the per-user path check come first, for every
// request but OPTIONS (GstRTSPAuth's URL check): a client without valid
// credentials for a path gets 401 whether the path exists, is ready or not, so
// only an authorised user learns 404 / not ready.
//
// Everything runs on the main loop: the RTSP server has no client threads, so
// the clients' signals, the auth callbacks and the idle timer share it (see
// docs/relay.md "Threads"). The limiters are pure code, unit-tested.
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "veter/common/gst_ptr.hpp"
#include "veter/relay/conf/relay_config.hpp"
#include "veter/relay/serve/connection_guard.hpp"
#include "veter/relay/serve/rtsp_auth.hpp"

namespace veter::relay {

class RtspSecurity {
 public:
  /// Loads the TLS certificate (throws std::runtime_error naming the bad file).
  explicit RtspSecurity(const RtspConfig& cfg);
  ~RtspSecurity();
  RtspSecurity(const RtspSecurity&) = delete;
  RtspSecurity& operator=(const RtspSecurity&) = delete;

  /// Before gst_rtsp_server_attach: auth/TLS, request size limit, connection limits.
  void install(GstRTSPServer* server);
  /// Give the users allowed on `path` access to its factory (no-op without auth).
  void allow(GstRTSPMediaFactory* factory, const std::string& path);
  /// Close every tracked connection's bookkeeping (before the server goes away).
  void stop();

  [[nodiscard]] bool tls() const { return static_cast<bool>(cert_); }
  [[nodiscard]] const char* scheme() const { return tls() ? "rtsps" : "rtsp"; }
  [[nodiscard]] std::uint64_t auth_failures() const { return auth_failures_; }
  [[nodiscard]] std::uint64_t rejected_connections() const { return rejected_; }

  // Called by the GstRTSPAuth subclass and signal trampolines.
  gboolean authenticate(GstRTSPAuth* auth, GstRTSPContext* ctx);
  /// GST_RTSP_AUTH_CHECK_URL, before any method handler (and so before the path's
  /// readiness/404 checks): with users, every request but OPTIONS must carry valid
  /// credentials of a user allowed on the URL's path, or it gets 401 with a challenge.
  gboolean check_url(GstRTSPAuth* auth, GstRTSPContext* ctx);

 private:
  struct Conn {
    std::string addr;
    // Connect, or the last request that is not a keep-alive (OPTIONS, GET_PARAMETER,
    // SET_PARAMETER) or its response.
    std::chrono::steady_clock::time_point since;
    common::GObjectPtr<GstRTSPClient> client;
    // Our handlers on the client (pre-* requests, closed, send-message), disconnected when the
    // entry goes: on close, or in stop() for the clients still connected. Declared after
    // `client` so they go first.
    std::vector<common::SignalConnection> signals;
  };
  static void on_client_connected(GstRTSPServer* server, GstRTSPClient* client, gpointer self);
  static void on_client_closed(GstRTSPClient* client, gpointer self);
  static gboolean on_timer(gpointer self);
  static GstRTSPStatusCode on_pre_request(GstRTSPClient* client, GstRTSPContext* ctx, gpointer self);
  static void on_send_message(GstRTSPClient* client, GstRTSPContext* ctx, GstRTSPMessage* msg, gpointer self);
  void touch(GstRTSPClient* client);
  void forget(GstRTSPClient* client);
  void close_later(GstRTSPClient* client);
  const RtspUser* user_by_name(const std::string& name) const;

  RtspConfig cfg_;
  common::GObjectPtr<GTlsCertificate> cert_;
  common::GObjectPtr<GstRTSPAuth> auth_;
  std::map<std::string, common::MiniPtr<GstRTSPToken>> tokens_;  // per user
  FailureLimiter failures_{10, std::chrono::seconds(60)};
  ConnectionLimiter connections_;
  std::map<GstRTSPClient*, Conn> conns_;
  common::SignalConnection client_connected_;
  common::SourceId timer_;
  std::uint64_t auth_failures_ = 0;
  std::uint64_t rejected_ = 0;
  std::chrono::steady_clock::time_point last_reject_log_{};
};

}  // namespace veter::relay
