#include "veter/relay/serve/rtsp_security.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace veter::relay {

namespace {
constexpr const char* kAnonymousRole = "veter-anonymous";
constexpr gssize kMaxRequestBody = 4096;  // RTSP requests from viewers carry no real body

std::string role_of(const std::string& user) { return "veter-user-" + user; }
}  // namespace

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
    return;  // open server: no users and no TLS, nothing to check
  }
  auth_.reset(rtsp_auth_new(this));
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
                                                           role_of(u.user).c_str(), kRtspUserField, G_TYPE_STRING,
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
    rtsp_auth_detach(auth_.get());
  }
}

void RtspSecurity::stop() {
  timer_.reset();
  client_connected_.disconnect();
  conns_.clear();  // disconnects every handler we put on the clients
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

}  // namespace veter::relay
