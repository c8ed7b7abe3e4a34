// Who may open a WHEP session: the relay's RTSP users (HTTP Basic, only over
// TLS: a password must never cross the network in clear) or webrtc.token
// (Authorization: Bearer). Pure function of the configuration and the
// request, so it is unit-tested and fuzzed without sockets.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

#include "veter/relay/conf/relay_config.hpp"

namespace veter::relay {

struct WhepAuthResult {
  bool ok = false;
  std::string user;    // the authenticated user ("" for the token or an open server)
  std::string reason;  // why not (for the 401 body and the log)
};

/// True when WHEP needs credentials (webrtc.token or rtsp.users configured).
bool whep_auth_required(const RelayConfig& cfg);

/// Check one request's Authorization header for `path` from `peer` (may be null: no address check).
WhepAuthResult whep_authorize(const RelayConfig& cfg, std::string_view authorization, bool over_tls,
                              const std::string& path, const sockaddr* peer);

}  // namespace veter::relay
