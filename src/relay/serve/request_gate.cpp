// Request gating, in the pre-request handlers (main loop): DESCRIBE and SETUP of a path that is not
// ready get 404 (a media without a publisher would hang the request), beyond max_readers 503;
// PLAY asks the publisher for a keyframe so that the new viewer starts at once.
#include "veter/relay/serve/rtsp_server.hpp"

#include <spdlog/spdlog.h>

#include "veter/relay/ingest/ingest.hpp"
#include "veter/relay/serve/fanout.hpp"
#include "veter/relay/serve/rtsp_client_info.hpp"

namespace veter::relay {

namespace {
// A new shared media prepares on its first access unit; without packets this
// recent, DESCRIBE/SETUP would wait (gst-rtsp-server blocks the request).
constexpr std::chrono::milliseconds kPrepareNeedsData{700};
}  // namespace

namespace {
std::string abspath(const GstRTSPContext* ctx) {
  return (ctx != nullptr && ctx->uri != nullptr && ctx->uri->abspath != nullptr) ? ctx->uri->abspath : "";
}

}  // namespace

const MountTarget* RtspServer::find_mount(const GstRTSPContext* ctx) const {
  const std::string path = abspath(ctx);
  for (const auto& m : mounts_) {
    const std::string mount = "/" + m.name;
    if (path == mount || path.rfind(mount + "/", 0) == 0) {
      return &m;
    }
  }
  return nullptr;
}

GstRTSPStatusCode RtspServer::on_pre_describe(GstRTSPClient* client, GstRTSPContext* ctx, gpointer self) {
  auto* me = static_cast<RtspServer*>(self);
  const auto* m = me->find_mount(ctx);
  if (m == nullptr) {
    return GST_RTSP_STS_OK;  // the server answers 404 for unknown mounts itself
  }
  if (!m->ingest->ready()) {
    spdlog::info("RTSP DESCRIBE /{} from {}: 404, path not ready (no publisher)", m->name, remote_of(client));
    return GST_RTSP_STS_NOT_FOUND;
  }
  if (!m->fanout->has_media() && !m->ingest->receiving(kPrepareNeedsData)) {
    // Still "ready" (within ingest.timeout) but silent: building a new media would
    // wait for data that is not coming, so answer now instead of hanging.
    spdlog::info("RTSP DESCRIBE /{} from {}: 404, the publisher is silent", m->name, remote_of(client));
    return GST_RTSP_STS_NOT_FOUND;
  }
  if (m->max_readers > 0 && me->readers_of(m->name) >= m->max_readers) {
    spdlog::warn("RTSP DESCRIBE /{} from {}: 503, max_readers ({}) reached", m->name, remote_of(client),
                 m->max_readers);
    return GST_RTSP_STS_SERVICE_UNAVAILABLE;
  }
  return GST_RTSP_STS_OK;
}

GstRTSPStatusCode RtspServer::on_pre_setup(GstRTSPClient* client, GstRTSPContext* ctx, gpointer self) {
  auto* me = static_cast<RtspServer*>(self);
  const auto* m = me->find_mount(ctx);
  if (m == nullptr) {
    return GST_RTSP_STS_OK;
  }
  if (!m->fanout->has_media() && (!m->ingest->ready() || !m->ingest->receiving(kPrepareNeedsData))) {
    // Preparing a media without a publisher would hang the request.
    spdlog::info("RTSP SETUP /{} from {}: 404, path not ready (no publisher)", m->name, remote_of(client));
    return GST_RTSP_STS_NOT_FOUND;
  }
  if (ctx->session == nullptr && m->max_readers > 0 && me->readers_of(m->name) >= m->max_readers) {
    spdlog::warn("RTSP SETUP /{} from {}: 503, max_readers ({}) reached", m->name, remote_of(client),
                 m->max_readers);
    return GST_RTSP_STS_SERVICE_UNAVAILABLE;
  }
  return GST_RTSP_STS_OK;
}

GstRTSPStatusCode RtspServer::on_pre_play(GstRTSPClient* client, GstRTSPContext* ctx, gpointer self) {
  auto* me = static_cast<RtspServer*>(self);
  const MountTarget* m = me->find_mount(ctx);
  if (m == nullptr && ctx->session != nullptr) {
    // Aggregate PLAY URLs may omit the path; use the session's.
    auto it = me->sessions_.find(gst_rtsp_session_get_sessionid(ctx->session));
    if (it != me->sessions_.end()) {
      for (const auto& x : me->mounts_) {
        if (x.name == it->second.path) {
          m = &x;
        }
      }
    }
  }
  if (m != nullptr) {
    // Fast start: the new viewer's first decodable frame is the IDR this asks for.
    m->ingest->request_keyframe("viewer PLAY");
    // RTP-Info must name the first packet this viewer gets: nothing goes out
    // between gst-rtsp-server reading it and adding the viewer's transport.
    if (auto c = me->clients_.find(client); c != me->clients_.end()) {
      if (c->second->joining != nullptr) {
        c->second->joining->end_join();
      }
      c->second->joining = m->fanout;
      m->fanout->begin_join();
    }
  }
  return GST_RTSP_STS_OK;
}

}  // namespace veter::relay
