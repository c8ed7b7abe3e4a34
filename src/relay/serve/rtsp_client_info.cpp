#include "veter/relay/serve/rtsp_client_info.hpp"

#include <fmt/format.h>

#include "veter/common/gst_ptr.hpp"

namespace veter::relay {

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

}  // namespace veter::relay
