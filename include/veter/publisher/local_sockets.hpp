// The publisher's two fixed local UDP sockets (RTP on `port`, RTCP on `port`+1).
// Each is shared by the sending and receiving elements, so the relay's RTCP
// comes back through the robot's NAT to the same 5-tuple (symmetric RTP).
#pragma once

#include <gio/gio.h>

#include "veter/common/gst_ptr.hpp"

namespace veter::publisher {

struct LocalSockets {
  common::GObjectPtr<GSocket> rtp;
  common::GObjectPtr<GSocket> rtcp;
  int port = 0;  // RTP port; RTCP is port + 1
  GSocketFamily family = G_SOCKET_FAMILY_IPV4;
};

/// Bind both sockets on the wildcard address of `family`. `port` 0 picks a free
/// even/odd pair. Throws common::UnavailableError when the ports are taken.
LocalSockets open_local_sockets(int port, GSocketFamily family);

}  // namespace veter::publisher
