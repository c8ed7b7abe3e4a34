#include "veter/relay/serve/rtsp_server.hpp"

#include <algorithm>
#include <utility>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "veter/relay/serve/fanout.hpp"
#include "veter/relay/ingest/ingest.hpp"
#include "veter/relay/serve/tcp_queue.hpp"

namespace veter::relay {

using Clock = std::chrono::steady_clock;

namespace {
// A new shared media prepares on its first access unit; without packets this
// recent, DESCRIBE/SETUP would wait (gst-rtsp-server blocks the request).
constexpr std::chrono::milliseconds kPrepareNeedsData{700};
}  // namespace

struct RtspServer::Session {
  std::string id;
  std::string path;
  std::string remote;
  std::string transport = "udp";
  bool playing = false;
  std::chrono::system_clock::time_point created;
  GstRTSPClient* client = nullptr;  // cleared when the connection closes
  std::uint64_t bytes_base = 0;     // fanout payload bytes when PLAY started
  // Bounded viewer delay (TCP): see check_delay.
  enum class Catchup { live, draining, waiting_keyframe } catchup = Catchup::live;
  bool based = false;
  std::uint64_t wire_base = 0;      // fan-out wire position ...
  std::uint64_t acked_base = 0;     // ... matching this tcpi_bytes_acked of the viewer's socket
  std::uint64_t units_at_pause = 0;
  std::shared_ptr<ResumeTicket> ticket;
  std::uint64_t frames_skipped = 0;
  std::uint64_t catch_ups = 0;
  double delay_ms = 0;
};

struct RtspServer::Client {
  GstRTSPClient* client = nullptr;
  std::string remote;
  std::vector<common::SignalConnection> signals;
  std::optional<std::uint64_t> last_acked;
  std::optional<Clock::time_point> stalled_since;
  Fanout* joining = nullptr;  // a PLAY between its start and its end (Fanout::begin_join)
};

namespace {

std::string remote_of(GstRTSPClient* client) {
  GstRTSPConnection* conn = gst_rtsp_client_get_connection(client);
  if (conn == nullptr) {
    return "?";
  }
  GSocket* sock = gst_rtsp_connection_get_read_socket(conn);
  if (sock == nullptr) {
    return gst_rtsp_connection_get_ip(conn);
  }
  common::GObjectPtr<GSocketAddress> sa(g_socket_get_remote_address(sock, nullptr));
  if (!sa || !G_IS_INET_SOCKET_ADDRESS(sa.get())) {
    return gst_rtsp_connection_get_ip(conn);
  }
  auto* isa = G_INET_SOCKET_ADDRESS(sa.get());
  common::GCharPtr host(g_inet_address_to_string(g_inet_socket_address_get_address(isa)));
  const auto port = g_inet_socket_address_get_port(isa);
  if (g_inet_address_get_family(g_inet_socket_address_get_address(isa)) == G_SOCKET_FAMILY_IPV6) {
    return fmt::format("[{}]:{}", host.get(), port);
  }
  return fmt::format("{}:{}", host.get(), port);
}

std::string abspath(const GstRTSPContext* ctx) {
  return (ctx != nullptr && ctx->uri != nullptr && ctx->uri->abspath != nullptr) ? ctx->uri->abspath : "";
}

GstRTSPFilterResult remove_all_clients(GstRTSPServer*, GstRTSPClient*, gpointer) { return GST_RTSP_FILTER_REMOVE; }
GstRTSPFilterResult ref_all_media(GstRTSPSession*, GstRTSPSessionMedia*, gpointer) { return GST_RTSP_FILTER_REF; }
GstRTSPFilterResult remove_all_sessions(GstRTSPSessionPool*, GstRTSPSession*, gpointer) {
  return GST_RTSP_FILTER_REMOVE;
}

}  // namespace

RtspServer::RtspServer(RtspConfig cfg, std::vector<MountTarget> mounts)
    : cfg_(std::move(cfg)), mounts_(std::move(mounts)) {}

RtspServer::~RtspServer() { stop(); }

void RtspServer::start() {
  server_ = common::adopt(gst_rtsp_server_new());
  // No client threads: gst-rtsp-server then attaches every client to the context of the
  // listening source, the default main context, so the request handlers, "closed" and the
  // session pool signals run on the main loop with tick(), the API and the metrics (see the
  // ownership table in docs/relay.md). Media pipelines keep their own threads.
  common::GObjectPtr<GstRTSPThreadPool> threads(gst_rtsp_server_get_thread_pool(server_.get()));
  gst_rtsp_thread_pool_set_max_threads(threads.get(), 0);
  gst_rtsp_server_set_address(server_.get(), cfg_.listen.bind_host().c_str());
  gst_rtsp_server_set_service(server_.get(), std::to_string(cfg_.listen.port).c_str());
  security_ = std::make_unique<RtspSecurity>(cfg_);  // issue 6
  security_->install(server_.get());
  pool_ = common::adopt(gst_rtsp_server_get_session_pool(server_.get()));
  session_removed_ = common::SignalConnection(
      pool_.get(), g_signal_connect(pool_.get(), "session-removed", G_CALLBACK(&RtspServer::on_session_removed), this));

  // UDP viewers: the server's RTP/RTCP ports come from rtsp.udp_port_range.
  common::GstPtr<GstRTSPAddressPool> addresses(gst_rtsp_address_pool_new());
  if (!gst_rtsp_address_pool_add_range(addresses.get(), GST_RTSP_ADDRESS_POOL_ANY_IPV4,
                                       GST_RTSP_ADDRESS_POOL_ANY_IPV4, static_cast<guint16>(cfg_.udp_port_range.min),
                                       static_cast<guint16>(cfg_.udp_port_range.max), 0)) {
    throw std::runtime_error("rtsp.udp_port_range: cannot configure the address pool");
  }
  common::GstPtr<GstRTSPMountPoints> mount_points(gst_rtsp_server_get_mount_points(server_.get()));
  for (const auto& m : mounts_) {
    gst_rtsp_media_factory_set_address_pool(m.fanout->factory(), addresses.get());
    security_->allow(m.fanout->factory(), m.name);  // issue 6
    gst_rtsp_mount_points_add_factory(mount_points.get(), ("/" + m.name).c_str(),
                                      GST_RTSP_MEDIA_FACTORY(g_object_ref(m.fanout->factory())));
  }
  client_connected_ = common::SignalConnection(
      server_.get(),
      g_signal_connect(server_.get(), "client-connected", G_CALLBACK(&RtspServer::on_client_connected), this));
  const guint id = gst_rtsp_server_attach(server_.get(), nullptr);
  if (id == 0) {
    throw std::runtime_error(fmt::format("rtsp.listen: cannot listen on tcp {}", cfg_.listen.to_string()));
  }
  server_source_.reset(id);
  spdlog::info("RTSP listening on {} (transports {}, UDP server ports {}-{}); paths: {}", cfg_.listen.to_string(),
               fmt::join(served_transports(cfg_), "+"), cfg_.udp_port_range.min, cfg_.udp_port_range.max,
               [&] {
                 std::vector<std::string> names;
                 for (const auto& m : mounts_) {
                   names.push_back("/" + m.name);
                 }
                 return fmt::format("{}", fmt::join(names, " "));
               }());
}

int RtspServer::bound_port() const { return server_ ? gst_rtsp_server_get_bound_port(server_.get()) : -1; }

void RtspServer::stop() {
  if (!server_) {
    return;
  }
  server_source_.reset();
  if (security_) {
    security_->stop();  // issue 6
  }
  gst_rtsp_server_client_filter(server_.get(), &remove_all_clients, nullptr);
  if (pool_) {
    gst_rtsp_session_pool_filter(pool_.get(), &remove_all_sessions, nullptr);
  }
  clients_.clear();
  sessions_.clear();
  client_connected_.disconnect();
  session_removed_.disconnect();
  pool_.reset();
  server_.reset();
}

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

void RtspServer::on_client_connected(GstRTSPServer*, GstRTSPClient* client, gpointer self) {
  auto* me = static_cast<RtspServer*>(self);
  auto c = std::make_unique<Client>();
  c->client = client;
  c->remote = remote_of(client);
  if (GstRTSPConnection* conn = gst_rtsp_client_get_connection(client)) {
    if (GSocket* sock = gst_rtsp_connection_get_read_socket(conn)) {
      disable_nagle(g_socket_get_fd(sock));
    }
  }
  auto connect = [&](const char* signal, GCallback cb) {
    c->signals.emplace_back(client, g_signal_connect(client, signal, cb, me));
  };
  connect("closed", G_CALLBACK(&RtspServer::on_client_closed));
  connect("pre-describe-request", G_CALLBACK(&RtspServer::on_pre_describe));
  connect("pre-setup-request", G_CALLBACK(&RtspServer::on_pre_setup));
  connect("pre-play-request", G_CALLBACK(&RtspServer::on_pre_play));
  connect("setup-request", G_CALLBACK(&RtspServer::on_setup));
  connect("play-request", G_CALLBACK(&RtspServer::on_play));
  connect("new-session", G_CALLBACK(&RtspServer::on_new_session));
  spdlog::debug("RTSP client {} connected", c->remote);
  me->clients_[client] = std::move(c);
}

void RtspServer::on_client_closed(GstRTSPClient* client, gpointer self) {
  auto* me = static_cast<RtspServer*>(self);
  auto it = me->clients_.find(client);
  if (it == me->clients_.end()) {
    return;
  }
  spdlog::debug("RTSP client {} disconnected", it->second->remote);
  if (it->second->joining != nullptr) {
    it->second->joining->end_join();
  }
  for (auto& [id, s] : me->sessions_) {
    if (s.client == client) {
      s.client = nullptr;
      if (s.transport == "tcp") {
        // Its data went over this connection: the session cannot continue (removed on the next tick).
        me->orphaned_.push_back(id);
      }
    }
  }
  // Erasing disconnects our handlers, including this one (allowed during emission).
  auto doomed = std::move(it->second);
  me->clients_.erase(it);
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

void RtspServer::on_new_session(GstRTSPClient*, GstRTSPSession* session, gpointer self) {
  auto* me = static_cast<RtspServer*>(self);
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(me->cfg_.session_timeout).count();
  gst_rtsp_session_set_timeout(session, static_cast<guint>(std::max<long long>(1, secs)));
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
  // Emitted once the viewer's transport is in the media.
  if (auto c = me->clients_.find(client); c != me->clients_.end() && c->second->joining != nullptr) {
    c->second->joining->end_join();
    c->second->joining = nullptr;
  }
  if (s_ptr == nullptr) {
    return;
  }
  Session& s = *s_ptr;
  if (!s.playing) {
    s.playing = true;
    for (const auto& m : me->mounts_) {
      if (m.name == s.path) {
        s.bytes_base = m.fanout->payload_bytes();
      }
    }
    me->update_playing(s.path);
    spdlog::info("RTSP session {} plays /{} ({} viewers)", s.id, s.path,
                 std::count_if(me->sessions_.begin(), me->sessions_.end(),
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

void RtspServer::drop_client(GstRTSPClient* client, const std::string& why) {
  common::GstPtr<GstRTSPClient> keep = common::ref(client);
  std::vector<std::string> ids;
  for (const auto& [id, s] : sessions_) {
    if (s.client == client) {
      ids.push_back(id);
    }
  }
  spdlog::warn("RTSP dropping viewer {} (session {}): {}", remote_of(client), fmt::join(ids, ","), why);
  for (const auto& id : ids) {
    kick(id);
  }
  if (clients_.count(client) != 0) {
    gst_rtsp_client_close(client);  // `keep` holds the client until this returns
  }
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
    const auto keep = common::ref(client);
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
  common::GstPtr<GstRTSPSession> session(gst_rtsp_session_pool_find(pool_.get(), session_id.c_str()));
  if (session) {
    // Stop sending to this session's transports, then forget the session.
    GList* medias = gst_rtsp_session_filter(session.get(), &ref_all_media, nullptr);
    for (GList* l = medias; l != nullptr; l = l->next) {
      auto* sm = GST_RTSP_SESSION_MEDIA(l->data);
      gst_rtsp_session_media_set_state(sm, GST_STATE_NULL);
      gst_rtsp_session_release_media(session.get(), sm);
    }
    g_list_free_full(medias, g_object_unref);
    gst_rtsp_session_pool_remove(pool_.get(), session.get());  // emits session-removed
  }
  sessions_.erase(session_id);
  update_playing(path);
}

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
  common::GstPtr<GstRTSPSession> session(gst_rtsp_session_pool_find(pool_.get(), session_id.c_str()));
  if (!session) {
    return out;
  }
  GList* medias = gst_rtsp_session_filter(session.get(), &ref_all_media, nullptr);
  if (medias != nullptr) {
    if (GstRTSPStreamTransport* t = gst_rtsp_session_media_get_transport(GST_RTSP_SESSION_MEDIA(medias->data), 0)) {
      out.reset(GST_RTSP_STREAM_TRANSPORT(g_object_ref(t)));
    }
  }
  g_list_free_full(medias, g_object_unref);
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

void RtspServer::check_slow(Client& c, Clock::time_point now) {
  GstRTSPConnection* conn = gst_rtsp_client_get_connection(c.client);
  GSocket* sock = conn != nullptr ? gst_rtsp_connection_get_write_socket(conn) : nullptr;
  if (sock == nullptr) {
    return;
  }
  const auto q = probe_tcp_queue(g_socket_get_fd(sock));
  if (!q) {
    return;
  }
  const bool progressed = !c.last_acked || q->bytes_acked != *c.last_acked;
  c.last_acked = q->bytes_acked;
  if (q->queued == 0 || progressed) {
    c.stalled_since.reset();
  } else if (!c.stalled_since) {
    c.stalled_since = now;
  }
  const auto max_bytes = static_cast<std::uint64_t>(cfg_.viewer_max_backlog_kb) * 1024;
  if (q->queued > max_bytes) {
    drop_client(c.client, fmt::format("backlog {} KiB > rtsp.viewer_max_backlog_kb {}", q->queued / 1024,
                                      cfg_.viewer_max_backlog_kb));
  } else if (c.stalled_since && now - *c.stalled_since >= cfg_.viewer_max_lag) {
    drop_client(c.client, fmt::format("not reading for {} (rtsp.viewer_max_lag), {} KiB queued",
                                      common::format_duration(cfg_.viewer_max_lag), q->queued / 1024));
  }
}

void RtspServer::tick() {
  if (!server_) {
    return;
  }
  for (const auto& id : std::exchange(orphaned_, {})) {
    remove_session(id);
  }
  const auto now = Clock::now();
  // Only clients with a TCP session that plays can fall behind on the RTSP connection.
  std::vector<GstRTSPClient*> tcp_players;
  for (const auto& [id, s] : sessions_) {
    if (s.playing && s.transport == "tcp" && s.client != nullptr) {
      tcp_players.push_back(s.client);
    }
  }
  for (auto& [id, s] : sessions_) {
    if (s.playing && s.transport == "tcp" && s.client != nullptr && clients_.count(s.client) != 0) {
      check_delay(s, s.client);
    }
  }
  std::sort(tcp_players.begin(), tcp_players.end());
  tcp_players.erase(std::unique(tcp_players.begin(), tcp_players.end()), tcp_players.end());
  for (auto* client : tcp_players) {
    auto it = clients_.find(client);
    if (it != clients_.end()) {
      check_slow(*it->second, now);  // may close the client (and erase it)
    }
  }
  if (now - last_cleanup_ >= std::chrono::seconds(1)) {
    last_cleanup_ = now;
    gst_rtsp_session_pool_cleanup(pool_.get());  // session timeouts
  }
}

}  // namespace veter::relay
