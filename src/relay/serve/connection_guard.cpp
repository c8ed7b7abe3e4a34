// The connection guard of the RTSP server (main loop): total and per-address connection limits,
// CSeq sanity (400), and the idle timeout that closes connections without a session and without a
// complete request for rtsp.idle_timeout (slowloris).
#include "veter/relay/serve/connection_guard.hpp"

#include <sys/socket.h>

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "veter/relay/serve/rtsp_security.hpp"

namespace veter::relay {

namespace {

std::string client_address(GstRTSPClient* client) {
  GstRTSPConnection* conn = client != nullptr ? gst_rtsp_client_get_connection(client) : nullptr;
  const gchar* ip = conn != nullptr ? gst_rtsp_connection_get_ip(conn) : nullptr;
  return ip != nullptr ? ip : "?";
}

}  // namespace

ConnectionLimiter::Verdict ConnectionLimiter::admit(const std::string& addr) {
  if (max_total_ > 0 && total_ >= max_total_) {
    return Verdict::too_many_total;
  }
  int& n = per_address_[addr];
  if (max_per_ > 0 && n >= max_per_) {
    if (n == 0) {
      per_address_.erase(addr);
    }
    return Verdict::too_many_from_address;
  }
  ++n;
  ++total_;
  return Verdict::admitted;
}

void ConnectionLimiter::release(const std::string& addr) {
  auto it = per_address_.find(addr);
  if (it == per_address_.end()) {
    return;
  }
  --total_;
  if (--it->second <= 0) {
    per_address_.erase(it);
  }
}

// --- connection limits and idle timeout ------------------------------------

void RtspSecurity::on_client_connected(GstRTSPServer*, GstRTSPClient* client, gpointer self) {
  auto* me = static_cast<RtspSecurity*>(self);
  const std::string addr = client_address(client);
  const auto verdict = me->connections_.admit(addr);
  if (verdict != ConnectionLimiter::Verdict::admitted) {
    ++me->rejected_;
    const auto now = std::chrono::steady_clock::now();
    if (now - me->last_reject_log_ > std::chrono::seconds(10)) {
      me->last_reject_log_ = now;
      spdlog::warn("RTSP connection from {} refused: {} (rejected so far: {})", addr,
                   verdict == ConnectionLimiter::Verdict::too_many_total
                       ? fmt::format("rtsp.max_connections ({}) reached", me->cfg_.max_connections)
                       : fmt::format("rtsp.max_connections_per_address ({}) reached",
                                     me->cfg_.max_connections_per_address),
                   me->rejected_);
    }
    me->close_later(client);
    return;
  }
  // Requests whose CSeq is not a number get 400 (gst-rtsp-server would echo it and answer 200).
  // Not OPTIONS: gst-rtsp-server 1.22 frees a stack message when pre-options-request fails (ASan bad-free).
  Conn c;
  c.addr = addr;
  c.since = std::chrono::steady_clock::now();
  c.client = common::ref_gobject(client);
  for (const char* sig : {"pre-describe-request", "pre-setup-request", "pre-play-request",
                          "pre-pause-request", "pre-teardown-request", "pre-get-parameter-request",
                          "pre-set-parameter-request", "pre-announce-request", "pre-record-request"}) {
    c.signals.emplace_back(client, g_signal_connect(client, sig, G_CALLBACK(&RtspSecurity::on_pre_request), self));
  }
  c.signals.emplace_back(client,
                         g_signal_connect(client, "closed", G_CALLBACK(&RtspSecurity::on_client_closed), self));
  c.signals.emplace_back(client,
                         g_signal_connect(client, "send-message", G_CALLBACK(&RtspSecurity::on_send_message), self));
  me->conns_[client] = std::move(c);
}

void RtspSecurity::touch(GstRTSPClient* client) {
  auto it = conns_.find(client);
  if (it != conns_.end()) {
    it->second.since = std::chrono::steady_clock::now();
  }
}

namespace {
// Requests a client may repeat forever without getting anywhere: they keep a
// playing session alive but do not make a connection without one busy.
bool is_keepalive(const GstRTSPContext* ctx) {
  return ctx == nullptr || ctx->method == GST_RTSP_OPTIONS || ctx->method == GST_RTSP_GET_PARAMETER ||
         ctx->method == GST_RTSP_SET_PARAMETER;
}

GstRTSPFilterResult ref_session(GstRTSPClient*, GstRTSPSession*, gpointer) { return GST_RTSP_FILTER_REF; }
GstRTSPFilterResult ref_session_media(GstRTSPSession*, GstRTSPSessionMedia*, gpointer) { return GST_RTSP_FILTER_REF; }

/// True when one of the client's sessions has a media in the PLAYING state.
bool plays(GstRTSPClient* client) {
  const common::GListPtr<GstRTSPSession> sessions(gst_rtsp_client_session_filter(client, &ref_session, nullptr));
  for (GstRTSPSession* s : sessions) {
    const common::GListPtr<GstRTSPSessionMedia> medias(gst_rtsp_session_filter(s, &ref_session_media, nullptr));
    for (GstRTSPSessionMedia* m : medias) {
      if (gst_rtsp_session_media_get_rtsp_state(m) == GST_RTSP_STATE_PLAYING) {
        return true;
      }
    }
  }
  return false;
}
}  // namespace

void RtspSecurity::on_send_message(GstRTSPClient* client, GstRTSPContext* ctx, GstRTSPMessage*, gpointer self) {
  // A response went out (e.g. after a slow DESCRIBE): the client gets a full idle_timeout for its next request.
  if (!is_keepalive(ctx)) {
    static_cast<RtspSecurity*>(self)->touch(client);
  }
}

GstRTSPStatusCode RtspSecurity::on_pre_request(GstRTSPClient* client, GstRTSPContext* ctx, gpointer self) {
  if (!is_keepalive(ctx)) {
    static_cast<RtspSecurity*>(self)->touch(client);  // a complete request: not a slowloris
  }
  gchar* cseq = nullptr;
  if (ctx == nullptr || ctx->request == nullptr ||
      gst_rtsp_message_get_header(ctx->request, GST_RTSP_HDR_CSEQ, &cseq, 0) != GST_RTSP_OK || cseq == nullptr) {
    return GST_RTSP_STS_BAD_REQUEST;
  }
  const std::string v = cseq;
  if (v.empty() || v.size() > 9 || !std::all_of(v.begin(), v.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    spdlog::debug("RTSP request from {} with CSeq \"{}\": 400", client_address(client), v.substr(0, 32));
    return GST_RTSP_STS_BAD_REQUEST;
  }
  return GST_RTSP_STS_OK;
}

void RtspSecurity::close_later(GstRTSPClient* client) {
  // Called from client-connected (before gst-rtsp-server has attached the
  // client's watch) and from the idle timer: closing the client there would
  // tear it down under gst-rtsp-server's feet. Shutting the socket down lets
  // the client's own watch see end-of-stream and close the client itself.
  GstRTSPConnection* conn = gst_rtsp_client_get_connection(client);
  GSocket* sock = conn != nullptr ? gst_rtsp_connection_get_read_socket(conn) : nullptr;
  if (sock != nullptr) {
    ::shutdown(g_socket_get_fd(sock), SHUT_RDWR);
  }
}

void RtspSecurity::on_client_closed(GstRTSPClient* client, gpointer self) { static_cast<RtspSecurity*>(self)->forget(client); }

void RtspSecurity::forget(GstRTSPClient* client) {
  auto it = conns_.find(client);
  if (it == conns_.end()) {
    return;
  }
  connections_.release(it->second.addr);
  conns_.erase(it);  // our handlers are disconnected, then the client reference goes
}

gboolean RtspSecurity::on_timer(gpointer self) {
  auto* me = static_cast<RtspSecurity*>(self);
  const auto now = std::chrono::steady_clock::now();
  std::vector<GstRTSPClient*> idle;
  for (auto& [client, c] : me->conns_) {
    // Whatever it did before (a SETUP never played, a TEARDOWN, a PAUSE), a
    // connection without a playing session holds a slot of rtsp.max_connections
    // for nobody: idle once it has made no progress for idle_timeout.
    if (now - c.since > me->cfg_.idle_timeout && !plays(client)) {
      idle.push_back(client);
    }
  }
  for (auto* client : idle) {
    auto it = me->conns_.find(client);
    if (it == me->conns_.end()) {
      continue;
    }
    spdlog::debug("RTSP connection from {}: no playing session and no request but keep-alives for {}, closed",
                  it->second.addr,
                  common::format_duration(me->cfg_.idle_timeout));
    common::GObjectPtr<GstRTSPClient> keep(GST_RTSP_CLIENT(g_object_ref(client)));
    me->forget(client);
    me->close_later(keep.get());
  }
  return G_SOURCE_CONTINUE;
}

}  // namespace veter::relay
