#include "veter/relay/serve/rtsp_security.hpp"
#include "veter/common/checksum.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace veter::relay {

namespace {

constexpr const char* kUserField = "veter.user";
constexpr const char* kAnonymousRole = "veter-anonymous";
constexpr gssize kMaxRequestBody = 4096;  // RTSP requests from viewers carry no real body

std::string role_of(const std::string& user) { return "veter-user-" + user; }

std::string sha256_hex(const std::string& text) { return common::checksum_hex(G_CHECKSUM_SHA256, text); }

std::string client_address(GstRTSPClient* client) {
  GstRTSPConnection* conn = client != nullptr ? gst_rtsp_client_get_connection(client) : nullptr;
  const gchar* ip = conn != nullptr ? gst_rtsp_connection_get_ip(conn) : nullptr;
  return ip != nullptr ? ip : "?";
}

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

// --- limiters -------------------------------------------------------------

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

ConnectionLimiter::Verdict ConnectionLimiter::admit(const std::string& addr) {
  if (max_total_ > 0 && total_ >= max_total_) {
    return Verdict::too_many_total;
  }
  int& n = per_address_[addr];
  if (max_per_ > 0 && n >= max_per_) {
    if (n == 0) {
      per_address_.erase(addr);
    }
    return Verdict::too_many_from_address;
  }
  ++n;
  ++total_;
  return Verdict::admitted;
}

void ConnectionLimiter::release(const std::string& addr) {
  auto it = per_address_.find(addr);
  if (it == per_address_.end()) {
    return;
  }
  --total_;
  if (--it->second <= 0) {
    per_address_.erase(it);
  }
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

namespace veter::relay {

RtspSecurity::RtspSecurity(const RtspConfig& cfg)
    : cfg_(cfg), connections_(cfg.max_connections, cfg.max_connections_per_address) {
  if (!cfg_.tls.cert_file.empty()) {
    for (const auto& [key, file] : {std::pair{"cert_file", cfg_.tls.cert_file}, std::pair{"key_file", cfg_.tls.key_file}}) {
      if (!g_file_test(file.c_str(), G_FILE_TEST_IS_REGULAR)) {
        throw std::runtime_error(fmt::format("rtsp.tls.{} {}: no such file", key, file));
      }
    }
    GError* raw = nullptr;
    cert_.reset(g_tls_certificate_new_from_files(cfg_.tls.cert_file.c_str(), cfg_.tls.key_file.c_str(), &raw));
    common::GErrorPtr err(raw);
    if (!cert_) {
      throw std::runtime_error(fmt::format("rtsp.tls: cannot load certificate {} with key {}: {}",
                                           cfg_.tls.cert_file, cfg_.tls.key_file, err ? err->message : "?"));
    }
  }
  if (cfg_.users.empty() && !cert_) {
    return;  // open server, as without issue 6
  }
  auto* a = static_cast<VeterRtspAuth*>(g_object_new(veter_rtsp_auth_get_type(), nullptr));
  a->owner = this;
  auth_.reset(GST_RTSP_AUTH(a));
  gst_rtsp_auth_set_realm(auth_.get(), "veter");
  if (cert_) {
    gst_rtsp_auth_set_tls_certificate(auth_.get(), cert_.get());
  }
  gst_rtsp_auth_set_supported_methods(auth_.get(), static_cast<GstRTSPAuthMethod>(offered_methods(cfg_)));
  if (cfg_.users.empty()) {
    // TLS without accounts: everyone gets the anonymous role.
    common::MiniPtr<GstRTSPToken> anon(
        gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING, kAnonymousRole, nullptr));
    gst_rtsp_auth_set_default_token(auth_.get(), anon.get());
    return;
  }
  for (const auto& u : cfg_.users) {
    common::MiniPtr<GstRTSPToken> token(gst_rtsp_token_new(GST_RTSP_TOKEN_MEDIA_FACTORY_ROLE, G_TYPE_STRING,
                                                           role_of(u.user).c_str(), kUserField, G_TYPE_STRING,
                                                           u.user.c_str(), nullptr));
    if (!u.pass.empty()) {
      gst_rtsp_auth_add_digest(auth_.get(), u.user.c_str(), u.pass.c_str(), token.get());
      if (cert_) {
        common::GCharPtr basic(gst_rtsp_auth_make_basic(u.user.c_str(), u.pass.c_str()));
        gst_rtsp_auth_add_basic(auth_.get(), basic.get(), token.get());
      }
    }
    tokens_[u.user] = std::move(token);
  }
}

RtspSecurity::~RtspSecurity() {
  stop();
  if (auth_) {
    reinterpret_cast<VeterRtspAuth*>(auth_.get())->owner = nullptr;
  }
}

void RtspSecurity::stop() {
  timer_.reset();
  client_connected_.disconnect();
  for (auto& [client, c] : conns_) {
    if (c.closed_id != 0) {
      g_signal_handler_disconnect(client, c.closed_id);
    }
    if (c.session_id != 0) {
      g_signal_handler_disconnect(client, c.session_id);
    }
    if (c.sent_id != 0) {
      g_signal_handler_disconnect(client, c.sent_id);
    }
  }
  conns_.clear();
}

void RtspSecurity::install(GstRTSPServer* server) {
  gst_rtsp_server_set_content_length_limit(server, kMaxRequestBody);
  // The default listen backlog (5) lets a handful of half-open connections delay everyone's connect().
  gst_rtsp_server_set_backlog(server, 1024);
  if (auth_) {
    gst_rtsp_server_set_auth(server, auth_.get());
  }
  client_connected_ = common::SignalConnection(
      server, g_signal_connect(server, "client-connected", G_CALLBACK(&RtspSecurity::on_client_connected), this));
  timer_.reset(g_timeout_add(500, &RtspSecurity::on_timer, this));
  if (cfg_.users.empty()) {
    spdlog::warn("rtsp.users is empty: anyone who can reach {} can watch every path (see docs/security.md)",
                 cfg_.listen.to_string());
  } else {
    const int m = offered_methods(cfg_);
    spdlog::info("RTSP viewer authentication: {} user(s), {}", cfg_.users.size(),
                 (m & GST_RTSP_AUTH_DIGEST) == 0 ? "Basic only (TLS; pass_sha256 users cannot use Digest)"
                 : (m & GST_RTSP_AUTH_BASIC) != 0 ? "Digest and Basic (TLS)"
                                                  : "Digest");
  }
  if (cert_) {
    spdlog::info("RTSP over TLS (rtsps://) with certificate {}", cfg_.tls.cert_file);
  }
}

void RtspSecurity::allow(GstRTSPMediaFactory* factory, const std::string& path) {
  if (!auth_) {
    return;
  }
  auto grant = [factory](const std::string& role) {
    gst_rtsp_media_factory_add_role(factory, role.c_str(), GST_RTSP_PERM_MEDIA_FACTORY_ACCESS, G_TYPE_BOOLEAN,
                                    TRUE, GST_RTSP_PERM_MEDIA_FACTORY_CONSTRUCT, G_TYPE_BOOLEAN, TRUE, nullptr);
  };
  if (cfg_.users.empty()) {
    grant(kAnonymousRole);
    return;
  }
  for (const auto& u : cfg_.users) {
    if (u.paths.empty() || std::find(u.paths.begin(), u.paths.end(), path) != u.paths.end()) {
      grant(role_of(u.user));
    }
  }
}

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
    const gchar* name = gst_rtsp_token_get_string(ctx->token, kUserField);
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
  const gchar* name = ctx->token != nullptr ? gst_rtsp_token_get_string(ctx->token, kUserField) : nullptr;
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

// --- connection limits and idle timeout ------------------------------------

void RtspSecurity::on_client_connected(GstRTSPServer*, GstRTSPClient* client, gpointer self) {
  auto* me = static_cast<RtspSecurity*>(self);
  const std::string addr = client_address(client);
  const auto verdict = me->connections_.admit(addr);
  if (verdict != ConnectionLimiter::Verdict::admitted) {
    ++me->rejected_;
    const auto now = std::chrono::steady_clock::now();
    if (now - me->last_reject_log_ > std::chrono::seconds(10)) {
      me->last_reject_log_ = now;
      spdlog::warn("RTSP connection from {} refused: {} (rejected so far: {})", addr,
                   verdict == ConnectionLimiter::Verdict::too_many_total
                       ? fmt::format("rtsp.max_connections ({}) reached", me->cfg_.max_connections)
                       : fmt::format("rtsp.max_connections_per_address ({}) reached",
                                     me->cfg_.max_connections_per_address),
                   me->rejected_);
    }
    me->close_later(client);
    return;
  }
  // Requests whose CSeq is not a number get 400 (gst-rtsp-server would echo it and answer 200).
  // Not OPTIONS: gst-rtsp-server 1.22 frees a stack message when pre-options-request fails (ASan bad-free).
  for (const char* sig : {"pre-describe-request", "pre-setup-request", "pre-play-request",
                          "pre-pause-request", "pre-teardown-request", "pre-get-parameter-request",
                          "pre-set-parameter-request", "pre-announce-request", "pre-record-request"}) {
    g_signal_connect(client, sig, G_CALLBACK(&RtspSecurity::on_pre_request), self);
  }
  Conn c;
  c.addr = addr;
  c.since = std::chrono::steady_clock::now();
  c.client.reset(GST_RTSP_CLIENT(g_object_ref(client)));
  c.closed_id = g_signal_connect(client, "closed", G_CALLBACK(&RtspSecurity::on_client_closed), self);
  c.session_id = g_signal_connect(client, "new-session", G_CALLBACK(&RtspSecurity::on_new_session), self);
  c.sent_id = g_signal_connect(client, "send-message", G_CALLBACK(&RtspSecurity::on_send_message), self);
  me->conns_[client] = std::move(c);
}

void RtspSecurity::touch(GstRTSPClient* client) {
  auto it = conns_.find(client);
  if (it != conns_.end()) {
    it->second.since = std::chrono::steady_clock::now();
  }
}

void RtspSecurity::on_send_message(GstRTSPClient* client, GstRTSPContext*, GstRTSPMessage*, gpointer self) {
  // A response went out (e.g. after a slow DESCRIBE): the client gets a full idle_timeout for its next request.
  static_cast<RtspSecurity*>(self)->touch(client);
}

GstRTSPStatusCode RtspSecurity::on_pre_request(GstRTSPClient* client, GstRTSPContext* ctx, gpointer self) {
  static_cast<RtspSecurity*>(self)->touch(client);  // a complete request: not a slowloris
  gchar* cseq = nullptr;
  if (ctx == nullptr || ctx->request == nullptr ||
      gst_rtsp_message_get_header(ctx->request, GST_RTSP_HDR_CSEQ, &cseq, 0) != GST_RTSP_OK || cseq == nullptr) {
    return GST_RTSP_STS_BAD_REQUEST;
  }
  const std::string v = cseq;
  if (v.empty() || v.size() > 9 || !std::all_of(v.begin(), v.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    spdlog::debug("RTSP request from {} with CSeq \"{}\": 400", client_address(client), v.substr(0, 32));
    return GST_RTSP_STS_BAD_REQUEST;
  }
  return GST_RTSP_STS_OK;
}

void RtspSecurity::close_later(GstRTSPClient* client) {
  // Called from client-connected (before gst-rtsp-server has attached the
  // client's watch) and from the idle timer: closing the client there would
  // tear it down under gst-rtsp-server's feet. Shutting the socket down lets
  // the client's own watch see end-of-stream and close the client itself.
  GstRTSPConnection* conn = gst_rtsp_client_get_connection(client);
  GSocket* sock = conn != nullptr ? gst_rtsp_connection_get_read_socket(conn) : nullptr;
  if (sock != nullptr) {
    ::shutdown(g_socket_get_fd(sock), SHUT_RDWR);
  }
}

void RtspSecurity::on_client_closed(GstRTSPClient* client, gpointer self) { static_cast<RtspSecurity*>(self)->forget(client); }

void RtspSecurity::on_new_session(GstRTSPClient* client, GstRTSPSession*, gpointer self) {
  auto* me = static_cast<RtspSecurity*>(self);
  auto it = me->conns_.find(client);
  if (it != me->conns_.end()) {
    it->second.has_session = true;
  }
}

void RtspSecurity::forget(GstRTSPClient* client) {
  auto it = conns_.find(client);
  if (it == conns_.end()) {
    return;
  }
  connections_.release(it->second.addr);
  g_signal_handler_disconnect(client, it->second.closed_id);
  g_signal_handler_disconnect(client, it->second.session_id);
  g_signal_handler_disconnect(client, it->second.sent_id);
  auto node = conns_.extract(it);  // the client reference goes last
}

gboolean RtspSecurity::on_timer(gpointer self) {
  auto* me = static_cast<RtspSecurity*>(self);
  const auto now = std::chrono::steady_clock::now();
  std::vector<GstRTSPClient*> idle;
  for (auto& [client, c] : me->conns_) {
    if (!c.has_session && now - c.since > me->cfg_.idle_timeout) {
      idle.push_back(client);
    }
  }
  for (auto* client : idle) {
    auto it = me->conns_.find(client);
    if (it == me->conns_.end()) {
      continue;
    }
    spdlog::debug("RTSP connection from {}: no session and no request for {}, closed", it->second.addr,
                  common::format_duration(me->cfg_.idle_timeout));
    common::GObjectPtr<GstRTSPClient> keep(GST_RTSP_CLIENT(g_object_ref(client)));
    me->forget(client);
    me->close_later(keep.get());
  }
  return G_SOURCE_CONTINUE;
}

}  // namespace veter::relay
