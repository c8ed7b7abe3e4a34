#include "veter/publisher/destination_address.hpp"

namespace veter::publisher {

GSocketFamily family_of_host(const std::string& host) {
  return host.find(':') != std::string::npos ? G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4;
}

GInetAddress* pick_address(const common::GListPtr<GInetAddress>& addresses, GSocketFamily family) {
  for (GInetAddress* a : addresses) {
    if (g_inet_address_get_family(a) == family) {
      return a;
    }
  }
  return addresses.front();
}

}  // namespace veter::publisher
