#include "veter/publisher/local_sockets.hpp"

#include <fmt/format.h>

#include "veter/common/cli.hpp"

namespace veter::publisher {

namespace {

common::GObjectPtr<GSocket> bind_udp(GSocketFamily family, int port, std::string& error) {
  GError* raw = nullptr;
  common::GObjectPtr<GSocket> sock(g_socket_new(family, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &raw));
  common::GErrorPtr err(raw);
  if (!sock) {
    error = err ? err->message : "cannot create socket";
    return nullptr;
  }
  common::GObjectPtr<GInetAddress> any(g_inet_address_new_any(family));
  common::GObjectPtr<GSocketAddress> addr(g_inet_socket_address_new(any.get(), static_cast<guint16>(port)));
  raw = nullptr;
  if (!g_socket_bind(sock.get(), addr.get(), FALSE, &raw)) {
    err.reset(raw);
    error = err ? err->message : "bind failed";
    return nullptr;
  }
  return sock;
}

int bound_port(GSocket* sock) {
  common::GObjectPtr<GSocketAddress> local(g_socket_get_local_address(sock, nullptr));
  if (!local) {
    return 0;
  }
  return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local.get()));
}

}  // namespace

LocalSockets open_local_sockets(int port, GSocketFamily family) {
  LocalSockets out;
  out.family = family;
  std::string error;
  if (port != 0) {
    out.rtp = bind_udp(family, port, error);
    if (!out.rtp) {
      throw common::UnavailableError(fmt::format("local RTP port {}: {}", port, error));
    }
    out.rtcp = bind_udp(family, port + 1, error);
    if (!out.rtcp) {
      throw common::UnavailableError(fmt::format("local RTCP port {}: {}", port + 1, error));
    }
    out.port = port;
    return out;
  }
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto rtp = bind_udp(family, 0, error);
    if (!rtp) {
      break;
    }
    const int p = bound_port(rtp.get());
    if (p == 0 || p % 2 != 0 || p >= 65535) {
      continue;
    }
    auto rtcp = bind_udp(family, p + 1, error);
    if (!rtcp) {
      continue;
    }
    out.rtp = std::move(rtp);
    out.rtcp = std::move(rtcp);
    out.port = p;
    return out;
  }
  throw common::UnavailableError("no free local UDP port pair for RTP/RTCP: " + error);
}

}  // namespace veter::publisher
