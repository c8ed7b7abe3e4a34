#include "veter/relay/webrtc/whep_auth.hpp"

#include <glib.h>

#include "veter/common/checksum.hpp"
#include "veter/common/gst_ptr.hpp"
#include "veter/relay/control/api_token.hpp"
#include "veter/relay/serve/rtsp_security.hpp"

namespace veter::relay {

namespace {
bool scheme_is(std::string_view header, std::string_view scheme) {
  return header.size() > scheme.size() && header[scheme.size()] == ' ' &&
         g_ascii_strncasecmp(header.data(), scheme.data(), scheme.size()) == 0;
}
}  // namespace

bool whep_auth_required(const RelayConfig& cfg) { return !cfg.webrtc.token.empty() || !cfg.rtsp.users.empty(); }

WhepAuthResult whep_authorize(const RelayConfig& cfg, std::string_view authorization, bool over_tls,
                              const std::string& path, const sockaddr* peer) {
  if (!whep_auth_required(cfg)) {
    return {true, "", ""};
  }
  if (authorization.empty()) {
    return {false, "", "credentials required"};
  }
  if (scheme_is(authorization, "Bearer")) {
    if (!cfg.webrtc.token.empty() && bearer_token_ok(authorization, cfg.webrtc.token)) {
      return {true, "", ""};
    }
    return {false, "", "wrong bearer token"};
  }
  if (!scheme_is(authorization, "Basic")) {
    return {false, "", "unsupported authorization scheme (Bearer, or Basic over TLS)"};
  }
  if (!over_tls) {
    return {false, "", "Basic authentication only over TLS (configure webrtc.tls, or use a bearer token)"};
  }
  std::string_view b64 = authorization.substr(6);
  while (!b64.empty() && b64.front() == ' ') {
    b64.remove_prefix(1);
  }
  if (b64.empty() || b64.size() > 1024) {
    return {false, "", "malformed Basic credentials"};
  }
  const std::string b64s(b64);
  gsize len = 0;
  common::GCharPtr raw(reinterpret_cast<gchar*>(g_base64_decode(b64s.c_str(), &len)));
  const std::string pair = raw ? std::string(raw.get(), len) : std::string();
  const auto colon = pair.find(':');
  if (colon == std::string::npos) {
    return {false, "", "malformed Basic credentials"};
  }
  const std::string name = pair.substr(0, colon);
  const std::string pass = pair.substr(colon + 1);
  for (const auto& u : cfg.rtsp.users) {
    if (u.user != name) {
      continue;
    }
    const bool pass_ok = u.pass.empty() ? constant_time_equal(common::checksum_hex(G_CHECKSUM_SHA256, pass), u.pass_sha256)
                                        : constant_time_equal(pass, u.pass);
    if (!pass_ok) {
      break;
    }
    if (!user_allows_path(u, path)) {
      return {false, name, "user may not watch this path"};
    }
    if (!u.ips.empty() && (peer == nullptr || !common::cidr_list_allows(u.ips, peer))) {
      return {false, name, "address not in the user's ips"};
    }
    return {true, name, ""};
  }
  return {false, name, "wrong user or password"};
}

}  // namespace veter::relay
