// One WebRTC viewer: a pipeline "appsrc ! webrtcbin" answering the viewer's
// WHEP offer, send-only, bundled, DTLS-SRTP through webrtcbin/libnice.
//
// Threads: the session is created, driven and destroyed on the main loop.
// webrtcbin calls back on its own threads (promise replies, notify::*,
// upstream keyframe events on the appsrc pad); those callbacks only post a
// closure holding a weak reference to the main loop (post_to_main), which
// then runs only while the session still exists.
//
// NACK: the transceiver has do-nack, so webrtcbin's rtprtxsend keeps the
// recently sent packets and answers the browser's NACKs with RTX (RFC 4588)
// from that relay-side cache. PLI/FIR arrive from rtpsession as an upstream
// GstForceKeyUnit event, reported through Events::on_keyframe_request.
#pragma once

#include <gst/gst.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "veter/common/gst_ptr.hpp"
#include "veter/relay/conf/relay_config.hpp"
#include "veter/relay/webrtc/webrtc_fanout.hpp"
#include "veter/relay/webrtc/whep_sdp.hpp"

namespace veter::relay {

class WebrtcSession : public std::enable_shared_from_this<WebrtcSession> {
 public:
  enum class State { negotiating, connecting, connected, closed };

  /// Everything here is called on the main loop.
  struct Events {
    virtual ~Events() = default;
    /// The answer (with the relay's candidates), or an error for the viewer's 400.
    virtual void on_answer(WebrtcSession& s, std::optional<std::string> answer_sdp, const std::string& error) = 0;
    virtual void on_keyframe_request(WebrtcSession& s) = 0;
    /// ICE/DTLS failed or closed: the session should be removed.
    virtual void on_closed(WebrtcSession& s, const std::string& why) = 0;
  };

  struct Params {
    std::string id;
    std::string path;
    std::string remote_addr;  // "ip:port" of the HTTP request
    std::string remote_host;  // its address alone (connection limits)
    std::string user;
    const WebrtcConfig* cfg = nullptr;
    int ice_port_min = 0;
    int ice_port_max = 0;
  };

  WebrtcSession(Params params, WebrtcFanout& fanout, Events& events);
  ~WebrtcSession();
  WebrtcSession(const WebrtcSession&) = delete;
  WebrtcSession& operator=(const WebrtcSession&) = delete;

  /// Build the pipeline and answer `offer` (already checked by inspect_offer);
  /// throws std::runtime_error when the pipeline cannot be built.
  void start(const std::string& offer_sdp, const OfferInfo& info);
  /// A viewer's trickled candidate ("candidate:..."), for the video m-line.
  void add_remote_candidate(const std::string& candidate);

  [[nodiscard]] const Params& params() const { return params_; }
  [[nodiscard]] State state() const { return state_; }
  [[nodiscard]] const char* state_name() const;
  [[nodiscard]] std::uint64_t bytes_sent() const { return sink_ ? sink_->bytes.load() : 0; }
  [[nodiscard]] std::uint64_t packets_sent() const { return sink_ ? sink_->packets.load() : 0; }
  [[nodiscard]] std::chrono::system_clock::time_point created() const { return created_; }
  [[nodiscard]] std::chrono::steady_clock::time_point created_steady() const { return created_steady_; }
  [[nodiscard]] const std::string& ice_ufrag() const { return offer_.ice_ufrag; }

 private:
  static void on_answer_created(GstPromise* promise, gpointer ref);
  static void on_notify(GObject* webrtc, GParamSpec* pspec, gpointer ref);
  static GstPadProbeReturn on_upstream_event(GstPad* pad, GstPadProbeInfo* info, gpointer ref);
  static gboolean on_gather_timeout(gpointer self);
  static gboolean on_bus_message(GstBus* bus, GstMessage* msg, gpointer self);
  void answer_ready(const std::string& error);
  void gathering_done();
  void connection_changed(int state);
  void configure_ice();

  Params params_;
  WebrtcFanout& fanout_;
  Events& events_;
  OfferInfo offer_;
  State state_ = State::negotiating;
  bool answered_ = false;
  std::chrono::system_clock::time_point created_ = std::chrono::system_clock::now();
  std::chrono::steady_clock::time_point created_steady_ = std::chrono::steady_clock::now();
  common::ElementPtr pipeline_;
  common::ElementPtr webrtc_;
  std::shared_ptr<WebrtcFanout::Sink> sink_;
  common::SignalConnection gathering_;
  common::SignalConnection connection_;
  common::PadProbe keyframe_probe_;
  common::SourceId gather_timeout_;
  common::SourceId bus_watch_;
};

/// Run `fn` on the main loop (the default main context); from any thread.
void post_to_main(std::function<void()> fn);

}  // namespace veter::relay
