// The slow-viewer guard (main loop, every tick): a TCP viewer whose kernel send queue grows beyond
// rtsp.viewer_max_backlog_kb, or whose ACKs stop moving for rtsp.viewer_max_lag, is dropped so that
// it cannot hold the shared media back.
#include "veter/relay/serve/rtsp_server.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "veter/relay/serve/rtsp_client_info.hpp"
#include "veter/relay/serve/tcp_queue.hpp"

namespace veter::relay {

using Clock = std::chrono::steady_clock;

void RtspServer::drop_client(GstRTSPClient* client, const std::string& why) {
  common::GObjectPtr<GstRTSPClient> keep = common::ref_gobject(client);
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

void RtspServer::check_slow_viewers(Clock::time_point now) {
  // Only clients with a TCP session that plays can fall behind on the RTSP connection.
  std::vector<GstRTSPClient*> tcp_players;
  for (const auto& [id, s] : sessions_) {
    if (s.playing && s.transport == "tcp" && s.client != nullptr) {
      tcp_players.push_back(s.client);
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
}

}  // namespace veter::relay
