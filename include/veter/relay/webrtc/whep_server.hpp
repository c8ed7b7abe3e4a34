// The WHEP listener (webrtc.listen, default :8889) and the player page.
//
//   GET     /<path>                   the player page (static, shipped in the binary)
//   GET     /veter-player.js          its script
//   OPTIONS /<path>/whep              CORS preflight; Link: the configured ICE servers
//   POST    /<path>/whep              SDP offer -> 201 Created, SDP answer, Location
//   PATCH   /<path>/whep/<session>    trickle ICE (application/trickle-ice-sdpfrag) -> 204
//   DELETE  /<path>/whep/<session>    end the session -> 200
//
// Authentication (whep_auth.hpp) comes before the path lookup, as for RTSP.
// Threads: libsoup and every session live on the main loop (default main context).
#pragma once

#include <libsoup/soup.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "veter/common/gst_ptr.hpp"
#include "veter/relay/conf/relay_config.hpp"
#include "veter/relay/relay_model.hpp"
#include "veter/relay/serve/rtsp_security.hpp"
#include "veter/relay/webrtc/webrtc_fanout.hpp"
#include "veter/relay/webrtc/webrtc_session.hpp"

namespace veter::relay {

class WhepServer final : public WebrtcSession::Events {
 public:
  /// Main loop: ask the publisher of `path` for a keyframe.
  using KeyframeRequest = std::function<void(const std::string& path, const char* why)>;

  WhepServer(const RelayConfig& cfg, std::map<std::string, WebrtcFanout*> fanouts, KeyframeRequest keyframe);
  ~WhepServer() override;
  WhepServer(const WhepServer&) = delete;
  WhepServer& operator=(const WhepServer&) = delete;

  /// Bind the listener; throws common::UnavailableError / std::runtime_error.
  void start();
  /// Close every session and the listener (idempotent).
  void stop();

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::vector<WebrtcSessionSnapshot> sessions() const;
  bool kick(const std::string& id);
  [[nodiscard]] std::uint64_t auth_failures() const { return auth_failures_; }
  [[nodiscard]] std::uint64_t rejected() const { return rejected_; }

  // WebrtcSession::Events (main loop)
  void on_answer(WebrtcSession& s, std::optional<std::string> answer_sdp, const std::string& error) override;
  void on_keyframe_request(WebrtcSession& s) override;
  void on_closed(WebrtcSession& s, const std::string& why) override;

 private:
  struct Pending;
  struct Reply {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
  };
  static void on_request(SoupServer* server, SoupServerMessage* msg, const char* path, GHashTable* query,
                         gpointer self) noexcept;
  static gboolean on_timer(gpointer self);
  void serve(SoupServerMessage* msg, const std::string& path);
  Reply post_offer(SoupServerMessage* msg, const std::string& path_name, const std::string& body,
                   const std::string& user, bool& paused);
  Reply patch(const std::string& path_name, const std::string& id, const std::string& body,
              const std::string& content_type);
  Reply remove(const std::string& path_name, const std::string& id);
  void finish(SoupServerMessage* msg, const Reply& reply);
  void close_session(const std::string& id, const std::string& why);
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> link_headers() const;

  const RelayConfig& cfg_;
  std::map<std::string, WebrtcFanout*> fanouts_;
  KeyframeRequest keyframe_;
  common::GObjectPtr<SoupServer> server_;
  bool tls_ = false;
  std::uint16_t port_ = 0;
  std::map<std::string, std::shared_ptr<WebrtcSession>> sessions_;
  std::map<std::string, std::unique_ptr<Pending>> pending_;  // POSTs waiting for their answer
  ConnectionLimiter limiter_;
  FailureLimiter failures_{10, std::chrono::seconds(60)};
  common::SourceId timer_;
  std::uint64_t auth_failures_ = 0;
  std::uint64_t rejected_ = 0;
};

}  // namespace veter::relay
