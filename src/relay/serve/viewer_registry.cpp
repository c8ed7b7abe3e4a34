// The viewer registry (main loop): one entry per RTSP session with its path, address, transport and
// state, kept from SETUP / PLAY / session-removed; the API's sessions and kick, and each path's
// count of playing viewers for the fan-out.
#include "veter/relay/serve/rtsp_server.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "veter/relay/serve/fanout.hpp"
#include "veter/relay/serve/rtsp_client_info.hpp"
#include "veter/relay/serve/tcp_queue.hpp"

namespace veter::relay {

namespace {
GstRTSPFilterResult ref_all_media(GstRTSPSession*, GstRTSPSessionMedia*, gpointer) { return GST_RTSP_FILTER_REF; }
}  // namespace

int RtspServer::readers_of(const std::string& path) const {
  return static_cast<int>(std::count_if(sessions_.begin(), sessions_.end(),
                                        [&](const auto& kv) { return kv.second.path == path; }));
}

void RtspServer::update_playing(const std::string& path) {
  for (auto& m : mounts_) {
    if (m.name == path) {
      const auto n = std::count_if(sessions_.begin(), sessions_.end(),
                                   [&](const auto& kv) { return kv.second.path == path && kv.second.playing; });
      m.fanout->set_playing_viewers(static_cast<int>(n));
    }
  }
}

void RtspServer::on_setup(GstRTSPClient* client, GstRTSPContext* ctx, gpointer self) {
  auto* me = static_cast<RtspServer*>(self);
  const auto* m = me->find_mount(ctx);
  if (m == nullptr || ctx->session == nullptr) {
    return;
  }
  const std::string id = gst_rtsp_session_get_sessionid(ctx->session);
  auto [it, inserted] = me->sessions_.try_emplace(id);
  Session& s = it->second;
  if (inserted) {
    s.id = id;
    s.path = m->name;
    s.created = std::chrono::system_clock::now();
  }
  s.client = client;
  s.remote = remote_of(client);
  // The chosen transport: the response's Transport header, else the request's.
  for (GstRTSPMessage* msg : {ctx->response, ctx->request}) {
    gchar* tr = nullptr;
    if (msg != nullptr && gst_rtsp_message_get_header(msg, GST_RTSP_HDR_TRANSPORT, &tr, 0) == GST_RTSP_OK &&
        tr != nullptr) {
      const std::string t = tr;
      s.transport = (t.find("/TCP") != std::string::npos || t.find("interleaved") != std::string::npos) ? "tcp" : "udp";
      break;
    }
  }
  spdlog::info("RTSP session {} for /{} from {} ({})", id, s.path, s.remote, s.transport);
}

void RtspServer::on_play(GstRTSPClient* client, GstRTSPContext* ctx, gpointer self) {
  auto* me = static_cast<RtspServer*>(self);
  Session* s_ptr = nullptr;
  if (ctx->session != nullptr) {
    if (auto it = me->sessions_.find(gst_rtsp_session_get_sessionid(ctx->session)); it != me->sessions_.end()) {
      s_ptr = &it->second;
    }
  }
  if (s_ptr != nullptr && !s_ptr->playing) {
    // Where this viewer's stream starts, for check_delay: taken before the join
    // ends, when everything written to its socket so far is RTSP answers.
    if (const auto* m = me->mount_of(s_ptr->path)) {
      s_ptr->wire_base = m->fanout->wire_bytes();
    }
    GstRTSPConnection* conn = gst_rtsp_client_get_connection(client);
    GSocket* sock = conn != nullptr ? gst_rtsp_connection_get_write_socket(conn) : nullptr;
    if (const auto q = sock != nullptr ? probe_tcp_queue(g_socket_get_fd(sock)) : std::nullopt) {
      s_ptr->acked_base = q->bytes_acked + q->queued;
      s_ptr->based = true;
    }
  }
  // Emitted once the viewer's transport is in the media. The path counts it as
  // playing before the join ends: the fan-out sends nothing while nobody plays.
  if (s_ptr != nullptr) {
    me->note_playing(*s_ptr);
  }
  if (auto c = me->clients_.find(client); c != me->clients_.end() && c->second->joining != nullptr) {
    c->second->joining->end_join();
    c->second->joining = nullptr;
  }
}

void RtspServer::note_playing(Session& s) {
  if (!s.playing) {
    s.playing = true;
    for (const auto& m : mounts_) {
      if (m.name == s.path) {
        s.bytes_base = m.fanout->payload_bytes();
      }
    }
    update_playing(s.path);
    spdlog::info("RTSP session {} plays /{} ({} viewers)", s.id, s.path,
                 std::count_if(sessions_.begin(), sessions_.end(),
                               [&](const auto& kv) { return kv.second.path == s.path && kv.second.playing; }));
  }
}

void RtspServer::on_session_removed(GstRTSPSessionPool*, GstRTSPSession* session, gpointer self) {
  auto* me = static_cast<RtspServer*>(self);
  auto it = me->sessions_.find(gst_rtsp_session_get_sessionid(session));
  if (it == me->sessions_.end()) {
    return;
  }
  const std::string path = it->second.path;
  spdlog::info("RTSP session {} on /{} from {} ended", it->first, path, it->second.remote);
  if (it->second.ticket) {
    if (const auto* m = me->mount_of(path)) {
      m->fanout->cancel_resume(it->second.ticket);
    }
  }
  me->sessions_.erase(it);
  me->update_playing(path);
}

std::vector<SessionSnapshot> RtspServer::sessions() const {
  std::vector<SessionSnapshot> out;
  for (const auto& [id, s] : sessions_) {
    SessionSnapshot snap;
    snap.id = id;
    snap.path = s.path;
    snap.remote_addr = s.remote;
    snap.transport = s.transport;
    snap.state = s.playing ? "read" : "idle";
    snap.created = s.created;
    snap.frames_skipped = s.frames_skipped;
    snap.catch_ups = s.catch_ups;
    snap.delay_ms = s.delay_ms;
    if (s.playing) {
      for (const auto& m : mounts_) {
        if (m.name == s.path) {
          const auto now = m.fanout->payload_bytes();
          snap.bytes_sent = now >= s.bytes_base ? now - s.bytes_base : 0;
        }
      }
    }
    out.push_back(std::move(snap));
  }
  return out;
}

std::vector<std::string> RtspServer::reader_ids(const std::string& path) const {
  std::vector<std::string> ids;
  for (const auto& [id, s] : sessions_) {
    if (s.path == path) {
      ids.push_back(id);
    }
  }
  return ids;
}

bool RtspServer::kick(const std::string& session_id) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end() || !pool_) {
    return false;
  }
  GstRTSPClient* client = it->second.client;
  remove_session(session_id);
  if (client != nullptr && clients_.count(client) != 0) {
    // Closing can drop the server's last reference while the client's own lock
    // is held: keep the client alive until the call has returned.
    const auto keep = common::ref_gobject(client);
    gst_rtsp_client_close(keep.get());
  }
  return true;
}

std::size_t RtspServer::end_sessions_of(const std::string& path) {
  std::vector<std::string> ids;
  for (const auto& [id, s] : sessions_) {
    if (s.path == path) {
      ids.push_back(id);
    }
  }
  std::size_t n = 0;
  for (const auto& id : ids) {
    n += kick(id) ? 1 : 0;
  }
  return n;
}

void RtspServer::remove_session(const std::string& session_id) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end() || !pool_) {
    return;
  }
  const std::string path = it->second.path;
  if (it->second.ticket) {
    if (const auto* m = mount_of(path)) {
      m->fanout->cancel_resume(it->second.ticket);  // before its transport is stopped
    }
  }
  common::GObjectPtr<GstRTSPSession> session(gst_rtsp_session_pool_find(pool_.get(), session_id.c_str()));
  if (session) {
    // Stop sending to this session's transports, then forget the session.
    const common::GListPtr<GstRTSPSessionMedia> medias(gst_rtsp_session_filter(session.get(), &ref_all_media, nullptr));
    for (GstRTSPSessionMedia* sm : medias) {
      gst_rtsp_session_media_set_state(sm, GST_STATE_NULL);
      gst_rtsp_session_release_media(session.get(), sm);
    }
    gst_rtsp_session_pool_remove(pool_.get(), session.get());  // emits session-removed
  }
  sessions_.erase(session_id);
  update_playing(path);
}

}  // namespace veter::relay
