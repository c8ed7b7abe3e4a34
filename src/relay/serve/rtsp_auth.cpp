// Viewer authentication for gst-rtsp-server: a GstRTSPAuth subclass whose authenticate() adds the
// failure rate limit, per-user source addresses and pass_sha256 users (Basic over TLS) to the
// parent's Digest/Basic check, and whose URL check answers 401 before a path's state is revealed.
// Runs on the main loop (the RTSP clients' context).
#include "veter/relay/serve/rtsp_auth.hpp"

#include <sys/socket.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "veter/common/checksum.hpp"
#include "veter/relay/serve/rtsp_security.hpp"

namespace veter::relay {

namespace {

std::string sha256_hex(const std::string& text) { return common::checksum_hex(G_CHECKSUM_SHA256, text); }

bool address_in(const std::vector<common::Cidr>& ips, const std::string& addr) {
  if (ips.empty()) {
    return true;
  }
  common::GObjectPtr<GInetAddress> ia(g_inet_address_new_from_string(addr.c_str()));
  if (!ia) {
    return false;
  }
  common::GObjectPtr<GSocketAddress> sa(g_inet_socket_address_new(ia.get(), 0));
  sockaddr_storage ss{};
  if (!g_socket_address_to_native(sa.get(), &ss, sizeof ss, nullptr)) {
    return false;
  }
  return common::cidr_list_allows(ips, reinterpret_cast<const sockaddr*>(&ss));
}

}  // namespace

void FailureLimiter::expire(std::deque<Clock::time_point>& q, Clock::time_point now) const {
  while (!q.empty() && now - q.front() >= window_) {
    q.pop_front();
  }
}

bool FailureLimiter::blocked(const std::string& addr, Clock::time_point now) {
  auto it = failures_.find(addr);
  if (it == failures_.end()) {
    return false;
  }
  expire(it->second, now);
  if (it->second.empty()) {
    failures_.erase(it);
    return false;
  }
  return static_cast<int>(it->second.size()) >= max_;
}

bool FailureLimiter::record(const std::string& addr, Clock::time_point now) {
  if (failures_.size() > 100000) {  // bound the memory an address-spraying attacker can use
    failures_.clear();
  }
  auto& q = failures_[addr];
  expire(q, now);
  if (static_cast<int>(q.size()) >= max_) {
    return false;  // already blocked (reported when it happened)
  }
  q.push_back(now);
  return static_cast<int>(q.size()) == max_;
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff = static_cast<unsigned char>(diff | (x ^ y));
  }
  return diff == 0;
}

std::string request_path_name(const std::string& abspath) {
  std::size_t start = 0;
  while (start < abspath.size() && abspath[start] == '/') {
    ++start;
  }
  const auto end = abspath.find('/', start);
  return abspath.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

int offered_methods(const RtspConfig& cfg) {
  if (cfg.tls.cert_file.empty()) {
    return GST_RTSP_AUTH_DIGEST;
  }
  // Clients take the strongest method offered (rtspsrc, ffmpeg and live555 pick Digest), and a
  // pass_sha256 user can only answer Basic: with such a user, offer Basic alone (inside TLS).
  const bool hashed = std::any_of(cfg.users.begin(), cfg.users.end(), [](const RtspUser& u) {
    return !u.pass_sha256.empty();
  });
  return hashed ? GST_RTSP_AUTH_BASIC : GST_RTSP_AUTH_BASIC | GST_RTSP_AUTH_DIGEST;
}

bool user_allows_path(const RtspUser& user, const std::string& path_name) {
  return user.paths.empty() || std::find(user.paths.begin(), user.paths.end(), path_name) != user.paths.end();
}

}  // namespace veter::relay

// --- GstRTSPAuth subclass: rate limit, per-user addresses, pass_sha256 ------

struct VeterRtspAuth {
  GstRTSPAuth parent;
  veter::relay::RtspSecurity* owner;
};
struct VeterRtspAuthClass {
  GstRTSPAuthClass parent_class;
};

G_DEFINE_TYPE(VeterRtspAuth, veter_rtsp_auth, GST_TYPE_RTSP_AUTH)

static gboolean veter_rtsp_auth_authenticate(GstRTSPAuth* auth, GstRTSPContext* ctx) {
  auto* self = reinterpret_cast<VeterRtspAuth*>(auth);
  return self->owner != nullptr ? self->owner->authenticate(auth, ctx) : FALSE;
}

static gboolean veter_rtsp_auth_check(GstRTSPAuth* auth, GstRTSPContext* ctx, const gchar* check) {
  auto* self = reinterpret_cast<VeterRtspAuth*>(auth);
  if (self->owner != nullptr && g_str_equal(check, GST_RTSP_AUTH_CHECK_URL)) {
    return self->owner->check_url(auth, ctx);
  }
  return GST_RTSP_AUTH_CLASS(veter_rtsp_auth_parent_class)->check(auth, ctx, check);
}

static void veter_rtsp_auth_class_init(VeterRtspAuthClass* klass) {
  GST_RTSP_AUTH_CLASS(klass)->authenticate = veter_rtsp_auth_authenticate;
  GST_RTSP_AUTH_CLASS(klass)->check = veter_rtsp_auth_check;
}

static void veter_rtsp_auth_init(VeterRtspAuth* self) { self->owner = nullptr; }

GstRTSPAuth* veter::relay::rtsp_auth_new(RtspSecurity* owner) {
  auto* a = static_cast<VeterRtspAuth*>(g_object_new(veter_rtsp_auth_get_type(), nullptr));
  a->owner = owner;
  return GST_RTSP_AUTH(a);
}

void veter::relay::rtsp_auth_detach(GstRTSPAuth* auth) { reinterpret_cast<VeterRtspAuth*>(auth)->owner = nullptr; }

namespace veter::relay {

const RtspUser* RtspSecurity::user_by_name(const std::string& name) const {
  for (const auto& u : cfg_.users) {
    if (u.user == name) {
      return &u;
    }
  }
  return nullptr;
}

gboolean RtspSecurity::authenticate(GstRTSPAuth* auth, GstRTSPContext* ctx) {
  const std::string addr = ctx->conn != nullptr && gst_rtsp_connection_get_ip(ctx->conn) != nullptr
                               ? gst_rtsp_connection_get_ip(ctx->conn)
                               : "?";
  const auto now = FailureLimiter::Clock::now();
  if (!cfg_.users.empty() && failures_.blocked(addr, now)) {
    ++auth_failures_;
    return FALSE;  // 401 without looking at the credentials
  }
  gchar* header = nullptr;
  const bool has_credentials = ctx->request != nullptr &&
                               gst_rtsp_message_get_header(ctx->request, GST_RTSP_HDR_AUTHORIZATION, &header, 0) ==
                                   GST_RTSP_OK &&
                               header != nullptr;
  std::string claimed;
  bool handled = false;
  if (has_credentials && cert_ && g_ascii_strncasecmp(header, "Basic ", 6) == 0) {
    // pass_sha256 users (Basic over TLS): decode and compare the hash ourselves.
    gsize len = 0;
    common::GCharPtr decoded(reinterpret_cast<gchar*>(g_base64_decode(header + 6, &len)));
    const std::string pair = decoded ? std::string(decoded.get(), len) : std::string();
    const auto colon = pair.find(':');
    if (colon != std::string::npos) {
      claimed = pair.substr(0, colon);
      const RtspUser* u = user_by_name(claimed);
      if (u != nullptr && !u->pass_sha256.empty()) {
        handled = true;
        ctx->token = constant_time_equal(sha256_hex(pair.substr(colon + 1)), u->pass_sha256)
                         ? tokens_.at(u->user).get()
                         : nullptr;
      }
    }
  }
  if (!handled) {
    auto* parent = GST_RTSP_AUTH_CLASS(veter_rtsp_auth_parent_class);
    if (!parent->authenticate(auth, ctx)) {
      return FALSE;
    }
  }
  if (ctx->token != nullptr && !cfg_.users.empty()) {
    const gchar* name = gst_rtsp_token_get_string(ctx->token, kRtspUserField);
    const RtspUser* u = name != nullptr ? user_by_name(name) : nullptr;
    if (u == nullptr || !address_in(u->ips, addr)) {
      spdlog::warn("RTSP user {} from {}: address not in the user's ips, refused", name != nullptr ? name : "?",
                   addr);
      ctx->token = nullptr;
    }
  }
  if (has_credentials && ctx->token == nullptr && !cfg_.users.empty()) {
    ++auth_failures_;
    const bool limit_reached = failures_.record(addr, now);
    spdlog::warn("RTSP authentication failed from {}{}", addr, limit_reached
                                                                   ? ": 10 failures in a minute, further attempts "
                                                                     "from this address are refused for a minute"
                                                                   : "");
  }
  return TRUE;  // no token -> gst-rtsp-server answers 401 with a fresh challenge
}

gboolean RtspSecurity::check_url(GstRTSPAuth* auth, GstRTSPContext* ctx) {
  if (cfg_.users.empty() || ctx == nullptr || ctx->method == GST_RTSP_OPTIONS) {
    return TRUE;  // open or TLS-only server; OPTIONS reveals nothing about paths
  }
  const std::string addr = ctx->conn != nullptr && gst_rtsp_connection_get_ip(ctx->conn) != nullptr
                               ? gst_rtsp_connection_get_ip(ctx->conn)
                               : "?";
  if (ctx->token == nullptr && !authenticate(auth, ctx)) {
    ctx->token = nullptr;
  }
  const gchar* name = ctx->token != nullptr ? gst_rtsp_token_get_string(ctx->token, kRtspUserField) : nullptr;
  const RtspUser* user = name != nullptr ? user_by_name(name) : nullptr;
  const std::string path = request_path_name(
      ctx->uri != nullptr && ctx->uri->abspath != nullptr ? ctx->uri->abspath : "");
  // A request without a path (aggregate control on "/") inside an existing session acts on that
  // session's media, which an authorised SETUP created.
  const bool path_ok = user != nullptr && (user_allows_path(*user, path) || (path.empty() && ctx->session != nullptr));
  if (path_ok) {
    return TRUE;
  }
  if (user != nullptr) {
    spdlog::warn("RTSP user {} from {}: not allowed on path /{}: 401", user->user, addr, path);
    ctx->token = nullptr;
  }
  // What gst-rtsp-server's own checks send: 401 with a fresh challenge (Digest nonce / Basic realm).
  gst_rtsp_message_init_response(ctx->response, GST_RTSP_STS_UNAUTHORIZED,
                                 gst_rtsp_status_as_text(GST_RTSP_STS_UNAUTHORIZED), ctx->request);
  if (auto* gen = GST_RTSP_AUTH_GET_CLASS(auth)->generate_authenticate_header; gen != nullptr) {
    gen(auth, ctx);
  }
  gst_rtsp_client_send_message(ctx->client, ctx->session, ctx->response);
  return FALSE;  // the client's handler stops here: the reply is sent
}

}  // namespace veter::relay
