// Bounded viewer delay (main loop, every tick): a TCP viewer more than viewer_max_delay behind
// leaves the media and resumes at the next keyframe.
#include "veter/relay/serve/rtsp_server.hpp"

#include <spdlog/spdlog.h>

#include "veter/relay/ingest/ingest.hpp"
#include "veter/relay/serve/fanout.hpp"
#include "veter/relay/serve/tcp_queue.hpp"

namespace veter::relay {

namespace {
GstRTSPFilterResult ref_session_media(GstRTSPSession*, GstRTSPSessionMedia*, gpointer) { return GST_RTSP_FILTER_REF; }
}  // namespace

const MountTarget* RtspServer::mount_of(const std::string& path) const {
  for (const auto& m : mounts_) {
    if (m.name == path) {
      return &m;
    }
  }
  return nullptr;
}

common::GObjectPtr<GstRTSPStreamTransport> RtspServer::transport_of(const std::string& session_id) const {
  common::GObjectPtr<GstRTSPStreamTransport> out;
  common::GObjectPtr<GstRTSPSession> session(gst_rtsp_session_pool_find(pool_.get(), session_id.c_str()));
  if (!session) {
    return out;
  }
  const common::GListPtr<GstRTSPSessionMedia> medias(gst_rtsp_session_filter(session.get(), &ref_session_media, nullptr));
  if (!medias.empty()) {
    out = common::ref_gobject(gst_rtsp_session_media_get_transport(medias.front(), 0));
  }
  return out;
}

// Bounded viewer delay for a TCP viewer. Its position in the stream is the
// fan-out's wire position at PLAY plus the bytes its socket had acknowledged
// since; the age of the access unit at that position is how far behind it is
// (the relay's queues, the kernel's send queue and the network together). Past
// the path's viewer_max_delay its transport leaves the media (nothing more is
// queued for it) and a keyframe is asked for; once its socket queue is empty it
// is put back exactly at the next IDR. So a viewer on a path that carries less
// than the stream skips frames instead of lagging.
void RtspServer::check_delay(Session& s, GstRTSPClient* client) {
  const MountTarget* m = mount_of(s.path);
  GstRTSPConnection* conn = gst_rtsp_client_get_connection(client);
  GSocket* sock = conn != nullptr ? gst_rtsp_connection_get_write_socket(conn) : nullptr;
  const auto q = sock != nullptr ? probe_tcp_queue(g_socket_get_fd(sock)) : std::nullopt;
  if (m == nullptr || !q || !s.based) {
    return;
  }
  switch (s.catchup) {
    case Session::Catchup::live: {
      if (q->queued == 0) {
        // Everything written has been acknowledged: re-base on the present, so
        // bytes that are not stream data (RTCP, keep-alive answers) never add up.
        s.wire_base = m->fanout->wire_bytes();
        s.acked_base = q->bytes_acked;
        s.delay_ms = 0;
        return;
      }
      const std::uint64_t acked = q->bytes_acked >= s.acked_base ? q->bytes_acked - s.acked_base : 0;
      const auto age = m->fanout->age_at(s.wire_base + acked);
      s.delay_ms = static_cast<double>(age.count()) / 1e6;
      if (age <= m->viewer_max_delay) {
        return;
      }
      auto transport = transport_of(s.id);
      if (!transport) {
        return;
      }
      gst_rtsp_stream_transport_set_active(transport.get(), FALSE);
      s.units_at_pause = m->fanout->access_units();
      s.catchup = Session::Catchup::draining;
      m->ingest->request_keyframe("viewer catching up");
      spdlog::debug("RTSP session {} ({}): {:.0f} ms behind (viewer_max_delay {}): skipping to the next keyframe",
                    s.id, s.remote, s.delay_ms, common::format_duration(m->viewer_max_delay));
      return;
    }
    case Session::Catchup::draining: {
      if (q->queued != 0) {
        return;  // what was queued before the skip is still on its way
      }
      auto transport = transport_of(s.id);
      if (!transport) {
        return;
      }
      s.acked_base = q->bytes_acked;
      s.ticket = std::make_shared<ResumeTicket>();
      m->fanout->resume_at_keyframe(std::move(transport), s.ticket);
      m->ingest->request_keyframe("viewer catching up");
      s.catchup = Session::Catchup::waiting_keyframe;
      return;
    }
    case Session::Catchup::waiting_keyframe: {
      if (!s.ticket || !s.ticket->resumed.load(std::memory_order_acquire)) {
        return;
      }
      s.wire_base = s.ticket->wire_position;
      s.frames_skipped += s.ticket->access_units - s.units_at_pause;
      ++s.catch_ups;
      s.ticket.reset();
      s.catchup = Session::Catchup::live;
      return;
    }
  }
}

}  // namespace veter::relay
