// What the relay logs and reports about an RTSP client's connection.
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

#include <string>

namespace veter::relay {

/// The client's remote "ip:port" ("[ip6]:port"); "?" without a connection.
std::string remote_of(GstRTSPClient* client);

}  // namespace veter::relay
