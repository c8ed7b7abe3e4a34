#include "veter/relay/serve/rtsp_server.hpp"

#include <algorithm>
#include <utility>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "veter/relay/serve/fanout.hpp"
#include "veter/relay/ingest/ingest.hpp"
#include "veter/relay/serve/rtsp_client_info.hpp"
#include "veter/relay/serve/tcp_queue.hpp"

namespace veter::relay {

using Clock = std::chrono::steady_clock;


namespace {

GstRTSPFilterResult remove_all_clients(GstRTSPServer*, GstRTSPClient*, gpointer) { return GST_RTSP_FILTER_REMOVE; }
GstRTSPFilterResult remove_all_sessions(GstRTSPSessionPool*, GstRTSPSession*, gpointer) {
  return GST_RTSP_FILTER_REMOVE;
}

}  // namespace

RtspServer::RtspServer(RtspConfig cfg, std::vector<MountTarget> mounts)
    : cfg_(std::move(cfg)), mounts_(std::move(mounts)) {}

RtspServer::~RtspServer() { stop(); }

void RtspServer::start() {
  server_ = common::adopt_gobject(gst_rtsp_server_new());
  // No client threads: gst-rtsp-server then attaches every client to the context of the
  // listening source, the default main context, so the request handlers, "closed" and the
  // session pool signals run on the main loop with tick(), the API and the metrics (see the
  // ownership table in docs/relay.md). Media pipelines keep their own threads.
  common::GObjectPtr<GstRTSPThreadPool> threads(gst_rtsp_server_get_thread_pool(server_.get()));
  gst_rtsp_thread_pool_set_max_threads(threads.get(), 0);
  gst_rtsp_server_set_address(server_.get(), cfg_.listen.bind_host().c_str());
  gst_rtsp_server_set_service(server_.get(), std::to_string(cfg_.listen.port).c_str());
  security_ = std::make_unique<RtspSecurity>(cfg_);  // viewer auth, TLS, connection limits
  security_->install(server_.get());
  pool_ = common::adopt_gobject(gst_rtsp_server_get_session_pool(server_.get()));
  session_removed_ = common::SignalConnection(
      pool_.get(), g_signal_connect(pool_.get(), "session-removed", G_CALLBACK(&RtspServer::on_session_removed), this));

  // UDP viewers: the server's RTP/RTCP ports come from rtsp.udp_port_range.
  common::GObjectPtr<GstRTSPAddressPool> addresses(gst_rtsp_address_pool_new());
  if (!gst_rtsp_address_pool_add_range(addresses.get(), GST_RTSP_ADDRESS_POOL_ANY_IPV4,
                                       GST_RTSP_ADDRESS_POOL_ANY_IPV4, static_cast<guint16>(cfg_.udp_port_range.min),
                                       static_cast<guint16>(cfg_.udp_port_range.max), 0)) {
    throw std::runtime_error("rtsp.udp_port_range: cannot configure the address pool");
  }
  common::GObjectPtr<GstRTSPMountPoints> mount_points(gst_rtsp_server_get_mount_points(server_.get()));
  for (const auto& m : mounts_) {
    gst_rtsp_media_factory_set_address_pool(m.fanout->factory(), addresses.get());
    security_->allow(m.fanout->factory(), m.name);  // the path's per-user access rules
    gst_rtsp_mount_points_add_factory(mount_points.get(), ("/" + m.name).c_str(),
                                      GST_RTSP_MEDIA_FACTORY(g_object_ref(m.fanout->factory())));
  }
  client_connected_ = common::SignalConnection(
      server_.get(),
      g_signal_connect(server_.get(), "client-connected", G_CALLBACK(&RtspServer::on_client_connected), this));
  // Our own watch on the server's listening socket instead of gst_rtsp_server_attach():
  // gst-rtsp-server's watch retries a failed accept() (out of file descriptors) at
  // once, forever, at full CPU with an error line each time; ListenWatch backs off.
  GError* raw = nullptr;
  listen_socket_.reset(gst_rtsp_server_create_socket(server_.get(), nullptr, &raw));
  common::GErrorPtr err(raw);
  if (!listen_socket_) {
    throw std::runtime_error(fmt::format("rtsp.listen: cannot listen on tcp {}: {}", cfg_.listen.to_string(),
                                         err ? err->message : "?"));
  }
  accept_watch_ = std::make_unique<common::ListenWatch>("RTSP listener", listen_socket_.get(), [this] {
    const auto before = connected_;
    gst_rtsp_server_io_func(listen_socket_.get(), G_IO_IN, server_.get());
    return connected_ != before;  // no new client: accept() failed (or the connection was refused)
  });
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

int RtspServer::bound_port() const {
  if (!listen_socket_) {
    return -1;
  }
  common::GObjectPtr<GSocketAddress> local(g_socket_get_local_address(listen_socket_.get(), nullptr));
  return local && G_IS_INET_SOCKET_ADDRESS(local.get())
             ? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local.get()))
             : -1;
}

void RtspServer::stop() {
  if (!server_) {
    return;
  }
  accept_watch_.reset();
  if (listen_socket_) {
    g_socket_close(listen_socket_.get(), nullptr);
    listen_socket_.reset();
  }
  if (security_) {
    security_->stop();
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

void RtspServer::on_client_connected(GstRTSPServer*, GstRTSPClient* client, gpointer self) {
  auto* me = static_cast<RtspServer*>(self);
  ++me->connected_;
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

void RtspServer::on_new_session(GstRTSPClient*, GstRTSPSession* session, gpointer self) {
  auto* me = static_cast<RtspServer*>(self);
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(me->cfg_.session_timeout).count();
  gst_rtsp_session_set_timeout(session, static_cast<guint>(std::max<long long>(1, secs)));
}

void RtspServer::tick() {
  if (!server_) {
    return;
  }
  for (const auto& id : std::exchange(orphaned_, {})) {
    remove_session(id);
  }
  const auto now = Clock::now();
  for (auto& [id, s] : sessions_) {
    if (s.playing && s.transport == "tcp" && s.client != nullptr && clients_.count(s.client) != 0) {
      check_delay(s, s.client);
    }
  }
  check_slow_viewers(now);
  if (now - last_cleanup_ >= std::chrono::seconds(1)) {
    last_cleanup_ = now;
    gst_rtsp_session_pool_cleanup(pool_.get());  // session timeouts
  }
}

}  // namespace veter::relay
