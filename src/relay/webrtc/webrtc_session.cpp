#define GST_USE_UNSTABLE_API 1  // gst/webrtc headers: the API is stable in practice since 1.16
#include "veter/relay/webrtc/webrtc_session.hpp"

#include <gst/app/gstappsrc.h>
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>

#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace veter::relay {

namespace {

/// What webrtcbin's callbacks carry: a weak reference, deleted with the connection / promise.
struct Ref {
  std::weak_ptr<WebrtcSession> session;
};

void delete_ref(gpointer p, GClosure* /*closure*/) { delete static_cast<Ref*>(p); }
void delete_ref_notify(gpointer p) { delete static_cast<Ref*>(p); }

using DescriptionPtr = common::FreePtr<GstWebRTCSessionDescription, gst_webrtc_session_description_free>;
void detail_free_description(GstWebRTCSessionDescription* d) { const DescriptionPtr owned(d); }

struct Job {
  std::function<void()> fn;
};

gboolean run_job(gpointer p) {
  static_cast<Job*>(p)->fn();
  return G_SOURCE_REMOVE;
}
void delete_job(gpointer p) { delete static_cast<Job*>(p); }

/// Post `fn(session)` to the main loop; it runs only if the session still exists then.
void post_to_session(const std::weak_ptr<WebrtcSession>& weak, std::function<void(WebrtcSession&)> fn) {
  post_to_main([weak, fn = std::move(fn)]() {
    if (auto s = weak.lock()) {
      fn(*s);
    }
  });
}

GstElement* make(const char* factory, const char* name) {
  GstElement* e = gst_element_factory_make(factory, name);
  if (e == nullptr) {
    throw std::runtime_error(fmt::format("GStreamer element {} is missing (gstreamer1.0-nice / plugins-bad)", factory));
  }
  return e;
}

/// "stun:host:port" -> "stun://host:port"; "turn:host:port?transport=tcp" + credentials -> "turn://u:p@host:port?...".
std::string gst_ice_url(const IceServer& s) {
  const auto colon = s.url.find(':');
  const std::string scheme = s.url.substr(0, colon);
  const std::string rest = s.url.substr(colon + 1);
  if (scheme == "stun") {
    return "stun://" + rest;
  }
  common::GCharPtr user(g_uri_escape_string(s.username.c_str(), nullptr, FALSE));
  common::GCharPtr pass(g_uri_escape_string(s.credential.c_str(), nullptr, FALSE));
  return fmt::format("{}://{}:{}@{}", scheme, user.get(), pass.get(), rest);
}

}  // namespace

void post_to_main(std::function<void()> fn) {
  g_main_context_invoke_full(nullptr, G_PRIORITY_DEFAULT, &run_job, new Job{std::move(fn)}, &delete_job);
}

WebrtcSession::WebrtcSession(Params params, WebrtcFanout& fanout, Events& events)
    : params_(std::move(params)), fanout_(fanout), events_(events) {}

WebrtcSession::~WebrtcSession() {
  gather_timeout_.reset();
  bus_watch_.reset();
  keyframe_probe_.reset();
  gathering_.disconnect();
  connection_.disconnect();
  if (sink_) {
    sink_->flowing.store(false);
    fanout_.remove(sink_.get());
  }
  if (pipeline_) {
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  }
}

const char* WebrtcSession::state_name() const {
  switch (state_) {
    case State::negotiating:
      return "negotiating";
    case State::connecting:
      return "connecting";
    case State::connected:
      return "read";
    case State::closed:
      return "closed";
  }
  return "?";
}

void WebrtcSession::configure_ice() {
  GstWebRTCICE* raw_ice = nullptr;
  g_object_get(webrtc_.get(), "ice-agent", &raw_ice, nullptr);
  common::GstPtr<GstWebRTCICE> ice(raw_ice);
  if (!ice) {
    throw std::runtime_error("webrtcbin has no ICE agent");
  }
  g_object_set(ice.get(), "min-rtp-port", static_cast<guint>(params_.ice_port_min), "max-rtp-port",
               static_cast<guint>(params_.ice_port_max), "ice-udp", TRUE, "ice-tcp",
               params_.cfg->ice_tcp ? TRUE : FALSE, nullptr);
  // libnice's own consent check: a viewer that vanished without DELETE fails its
  // keep-alive connectivity checks and the session closes.
  GObject* agent = nullptr;
  g_object_get(ice.get(), "agent", &agent, nullptr);
  common::GObjectPtr<GObject> agent_ref(agent);
  if (agent_ref && g_object_class_find_property(G_OBJECT_GET_CLASS(agent), "keepalive-conncheck") != nullptr) {
    g_object_set(agent, "keepalive-conncheck", TRUE, nullptr);
  }
  for (const auto& s : params_.cfg->ice_servers) {
    const std::string url = gst_ice_url(s);
    if (s.url.rfind("stun:", 0) == 0) {
      g_object_set(webrtc_.get(), "stun-server", url.c_str(), nullptr);
    } else {
      gboolean ok = FALSE;
      g_signal_emit_by_name(webrtc_.get(), "add-turn-server", url.c_str(), &ok);
      if (ok == FALSE) {
        spdlog::warn("webrtc: TURN server {} rejected by webrtcbin", s.url);
      }
    }
  }
}

void WebrtcSession::start(const std::string& offer_sdp, const OfferInfo& info) {
  offer_ = info;
  pipeline_ = common::adopt_floating(gst_pipeline_new(fmt::format("webrtc-{}", params_.id.substr(0, 8)).c_str()));
  GstElement* appsrc = make("appsrc", "src");
  GstElement* webrtc = make("webrtcbin", "webrtc");
  gst_bin_add_many(GST_BIN(pipeline_.get()), appsrc, webrtc, nullptr);
  webrtc_ = common::ref(webrtc);
  sink_ = std::make_shared<WebrtcFanout::Sink>();
  sink_->appsrc = common::ref(appsrc);
  sink_->payload_type = info.h264_pt;

  common::CapsPtr caps(gst_caps_new_simple(
      "application/x-rtp", "media", G_TYPE_STRING, "video", "encoding-name", G_TYPE_STRING, "H264", "payload",
      G_TYPE_INT, info.h264_pt, "clock-rate", G_TYPE_INT, 90000, "packetization-mode", G_TYPE_STRING, "1",
      "profile-level-id", G_TYPE_STRING, "42e01f", nullptr));
  common::CapsPtr src_caps(gst_caps_copy(caps.get()));
  gst_caps_set_simple(src_caps.get(), "ssrc", G_TYPE_UINT, fanout_.ssrc(), nullptr);
  g_object_set(appsrc, "is-live", TRUE, "format", GST_FORMAT_TIME, "do-timestamp", FALSE, "min-latency",
               static_cast<gint64>(0), "max-latency", static_cast<gint64>(0), "max-bytes", static_cast<guint64>(2 * 1024 * 1024), "leaky-type",
               GST_APP_LEAKY_TYPE_DOWNSTREAM /* drop the oldest */, "caps", src_caps.get(), nullptr);
  g_object_set(webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, "latency", 0u, nullptr);
  configure_ice();

  if (!gst_element_link_pads(appsrc, "src", webrtc, "sink_%u")) {
    throw std::runtime_error("cannot link appsrc to webrtcbin");
  }
  GstWebRTCRTPTransceiver* raw_trans = nullptr;
  g_signal_emit_by_name(webrtc, "get-transceiver", 0, &raw_trans);
  common::GstPtr<GstWebRTCRTPTransceiver> trans(raw_trans);
  if (!trans) {
    throw std::runtime_error("webrtcbin made no transceiver");
  }
  g_object_set(trans.get(), "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, "do-nack", TRUE,
               "codec-preferences", caps.get(), nullptr);

  const std::weak_ptr<WebrtcSession> weak = weak_from_this();
  common::PadPtr src_pad = common::static_pad(appsrc, "src");
  keyframe_probe_ = common::PadProbe(
      src_pad.get(), gst_pad_add_probe(src_pad.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, &WebrtcSession::on_upstream_event,
                                       new Ref{weak}, &delete_ref_notify));
  gathering_ = common::SignalConnection(
      webrtc, g_signal_connect_data(webrtc, "notify::ice-gathering-state", G_CALLBACK(&WebrtcSession::on_notify),
                                    new Ref{weak}, &delete_ref, static_cast<GConnectFlags>(0)));
  connection_ = common::SignalConnection(
      webrtc, g_signal_connect_data(webrtc, "notify::connection-state", G_CALLBACK(&WebrtcSession::on_notify),
                                    new Ref{weak}, &delete_ref, static_cast<GConnectFlags>(0)));

  // One clock and base time 0 for every viewer pipeline (see webrtc_fanout.hpp).
  gst_pipeline_use_clock(GST_PIPELINE(pipeline_.get()), WebrtcFanout::clock());
  gst_element_set_start_time(pipeline_.get(), GST_CLOCK_TIME_NONE);
  gst_element_set_base_time(pipeline_.get(), 0);
  // webrtcbin builds its transport elements during negotiation, after the
  // pipeline distributed its latency; it then posts a LATENCY message that the
  // application must answer, or rtpsession cannot compute running times
  // ("Can't determine running time ... configured latency", once per packet).
  common::BusPtr bus(gst_pipeline_get_bus(GST_PIPELINE(pipeline_.get())));
  bus_watch_.reset(gst_bus_add_watch(bus.get(), &WebrtcSession::on_bus_message, this));
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    throw std::runtime_error("the WebRTC pipeline does not start");
  }

  GstSDPMessage* raw_sdp = nullptr;
  gst_sdp_message_new(&raw_sdp);
  common::FreePtr<GstSDPMessage, gst_sdp_message_free> sdp(raw_sdp);
  if (gst_sdp_message_parse_buffer(reinterpret_cast<const guint8*>(offer_sdp.data()),
                                   static_cast<guint>(offer_sdp.size()), sdp.get()) != GST_SDP_OK) {
    throw std::runtime_error("unparsable SDP offer");
  }
  // The description takes over the SDP message.
  DescriptionPtr offer(gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, sdp.release()));
  g_signal_emit_by_name(webrtc, "set-remote-description", offer.get(), nullptr);
  // webrtcbin runs its operations in order: the answer is created after the offer is applied.
  common::PromisePtr promise(
      gst_promise_new_with_change_func(&WebrtcSession::on_answer_created, new Ref{weak}, &delete_ref_notify));
  g_signal_emit_by_name(webrtc, "create-answer", nullptr, promise.get());
  gather_timeout_.reset(g_timeout_add(3000, &WebrtcSession::on_gather_timeout, this));
}

void WebrtcSession::on_answer_created(GstPromise* promise, gpointer p) {
  // webrtcbin's thread.
  const auto weak = static_cast<Ref*>(p)->session;
  const GstStructure* reply = gst_promise_get_reply(promise);
  GstWebRTCSessionDescription* raw_answer = nullptr;
  GError* err = nullptr;
  if (reply != nullptr) {
    gst_structure_get(reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &raw_answer, nullptr);
    if (raw_answer == nullptr) {
      gst_structure_get(reply, "error", G_TYPE_ERROR, &err, nullptr);
    }
  }
  std::shared_ptr<GstWebRTCSessionDescription> answer(raw_answer, detail_free_description);
  common::GErrorPtr error(err);
  std::string message = error ? error->message : (answer == nullptr ? "webrtcbin created no answer" : "");
  post_to_session(weak, [answer, message](WebrtcSession& s) {
    if (!answer) {
      s.answer_ready(message);
      return;
    }
    g_signal_emit_by_name(s.webrtc_.get(), "set-local-description", answer.get(), nullptr);
    s.answer_ready("");
  });
}

void WebrtcSession::answer_ready(const std::string& error) {
  if (!error.empty()) {
    spdlog::warn("webrtc session {}: offer rejected: {}", params_.id, error);
    state_ = State::closed;
    answered_ = true;
    gather_timeout_.reset();
    events_.on_answer(*this, std::nullopt, fmt::format("offer not accepted: {}", error));
    return;
  }
  state_ = State::connecting;
}

void WebrtcSession::on_notify(GObject* webrtc, GParamSpec* pspec, gpointer p) {
  // webrtcbin's thread (or whichever thread changed the state).
  const auto weak = static_cast<Ref*>(p)->session;
  if (g_strcmp0(g_param_spec_get_name(pspec), "ice-gathering-state") == 0) {
    GstWebRTCICEGatheringState st = GST_WEBRTC_ICE_GATHERING_STATE_NEW;
    g_object_get(webrtc, "ice-gathering-state", &st, nullptr);
    if (st == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) {
      post_to_session(weak, [](WebrtcSession& s) { s.gathering_done(); });
    }
    return;
  }
  GstWebRTCPeerConnectionState st = GST_WEBRTC_PEER_CONNECTION_STATE_NEW;
  g_object_get(webrtc, "connection-state", &st, nullptr);
  post_to_session(weak, [st](WebrtcSession& s) { s.connection_changed(static_cast<int>(st)); });
}

gboolean WebrtcSession::on_bus_message(GstBus* /*bus*/, GstMessage* msg, gpointer self) {
  // Main loop (the watch is on the default context).
  auto* me = static_cast<WebrtcSession*>(self);
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_LATENCY:
      gst_bin_recalculate_latency(GST_BIN(me->pipeline_.get()));
      break;
    case GST_MESSAGE_ERROR: {
      GError* raw = nullptr;
      gst_message_parse_error(msg, &raw, nullptr);
      common::GErrorPtr err(raw);
      if (me->state_ != State::closed) {
        me->state_ = State::closed;
        me->events_.on_closed(*me, fmt::format("pipeline error: {}", err ? err->message : "?"));
      }
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

gboolean WebrtcSession::on_gather_timeout(gpointer self) {
  auto* me = static_cast<WebrtcSession*>(self);
  me->gather_timeout_.release();
  spdlog::debug("webrtc session {}: ICE gathering not complete after 3 s, answering with what there is", me->params_.id);
  me->gathering_done();
  return G_SOURCE_REMOVE;
}

void WebrtcSession::gathering_done() {
  if (answered_ || state_ != State::connecting) {
    return;
  }
  gather_timeout_.reset();
  GstWebRTCSessionDescription* raw = nullptr;
  g_object_get(webrtc_.get(), "local-description", &raw, nullptr);
  if (raw == nullptr) {
    return;  // not applied yet; the timeout or the next notify answers
  }
  DescriptionPtr local(raw);
  common::GCharPtr text(gst_sdp_message_as_text(local->sdp));
  answered_ = true;
  events_.on_answer(*this, add_host_candidates(text.get(), params_.cfg->additional_hosts), "");
}

void WebrtcSession::connection_changed(int state) {
  const auto st = static_cast<GstWebRTCPeerConnectionState>(state);
  if (st == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED && state_ != State::connected) {
    state_ = State::connected;
    spdlog::info("webrtc session {} ({}, path {}) connected", params_.id, params_.remote_addr, params_.path);
    fanout_.add(sink_);
    sink_->flowing.store(true);
    events_.on_keyframe_request(*this);  // the viewer needs an IDR to start
  } else if (st == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED || st == GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED) {
    if (state_ != State::closed) {
      state_ = State::closed;
      events_.on_closed(*this, st == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED ? "ICE/DTLS failed" : "closed");
    }
  }
}

GstPadProbeReturn WebrtcSession::on_upstream_event(GstPad* /*pad*/, GstPadProbeInfo* info, gpointer p) {
  // webrtcbin's RTCP thread: the viewer sent PLI or FIR.
  GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
  if (ev != nullptr && gst_video_event_is_force_key_unit(ev)) {
    post_to_session(static_cast<Ref*>(p)->session, [](WebrtcSession& s) { s.events_.on_keyframe_request(s); });
  }
  return GST_PAD_PROBE_OK;
}

void WebrtcSession::add_remote_candidate(const std::string& candidate) {
  if (webrtc_) {
    g_signal_emit_by_name(webrtc_.get(), "add-ice-candidate", offer_.video_mline, candidate.c_str());
  }
}

}  // namespace veter::relay
