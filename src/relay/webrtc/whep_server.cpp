#include "veter/relay/webrtc/whep_server.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "veter/common/cli.hpp"
#include "veter/common/values.hpp"
#include "veter/relay/conf/rtsp_security_config.hpp"
#include "veter/relay/webrtc/player_page.hpp"
#include "veter/relay/webrtc/whep_auth.hpp"
#include "veter/relay/webrtc/whep_sdp.hpp"

namespace veter::relay {

struct WhepServer::Pending {
  common::GObjectPtr<SoupServerMessage> msg;
  common::SignalConnection finished;  // the client went away before the answer
  std::string location;
};

namespace {

std::string error_json(const std::string& message) {
  return nlohmann::json{{"status", "error"}, {"error", message}}.dump();
}

const std::vector<std::pair<std::string, std::string>>& cors_headers() {
  static const std::vector<std::pair<std::string, std::string>> h{
      {"Access-Control-Allow-Origin", "*"},
      {"Access-Control-Allow-Methods", "OPTIONS, GET, POST, PATCH, DELETE"},
      {"Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match"},
      {"Access-Control-Expose-Headers", "Location, ETag, Link, Accept-Patch"},
  };
  return h;
}

std::string header(SoupServerMessage* msg, const char* name) {
  const char* v = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), name);
  return v != nullptr ? v : "";
}

std::string media_type(const std::string& content_type) {
  std::string t = content_type.substr(0, content_type.find(';'));
  t.erase(std::remove(t.begin(), t.end(), ' '), t.end());
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return t;
}

std::string remote_host(SoupServerMessage* msg) {
  const char* h = soup_server_message_get_remote_host(msg);
  return h != nullptr ? h : "?";
}

std::string remote_endpoint(SoupServerMessage* msg) {
  GSocketAddress* sa = soup_server_message_get_remote_address(msg);
  const std::string host = remote_host(msg);
  if (sa == nullptr || !G_IS_INET_SOCKET_ADDRESS(sa)) {
    return host;
  }
  const auto port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(sa));
  return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

/// Split "/camera/whep/abc" into its segments.
std::vector<std::string> segments(const std::string& path) {
  std::vector<std::string> out;
  std::size_t pos = 1;
  while (pos <= path.size()) {
    auto slash = path.find('/', pos);
    out.push_back(path.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos));
    if (slash == std::string::npos) {
      break;
    }
    pos = slash + 1;
  }
  while (!out.empty() && out.back().empty()) {
    out.pop_back();
  }
  return out;
}

std::string link_value(const IceServer& s) {
  std::string v = fmt::format("<{}>; rel=\"ice-server\"", s.url);
  if (!s.username.empty()) {
    v += fmt::format("; username=\"{}\"; credential=\"{}\"; credential-type=\"password\"", s.username, s.credential);
  }
  return v;
}

}  // namespace

WhepServer::WhepServer(const RelayConfig& cfg, std::map<std::string, WebrtcFanout*> fanouts, KeyframeRequest keyframe)
    : cfg_(cfg),
      fanouts_(std::move(fanouts)),
      keyframe_(std::move(keyframe)),
      limiter_(cfg.webrtc.max_sessions, cfg.webrtc.max_sessions_per_address) {}

WhepServer::~WhepServer() { stop(); }

void WhepServer::start() {
  const auto& w = cfg_.webrtc;
  server_.reset(SOUP_SERVER(g_object_new(SOUP_TYPE_SERVER, "server-header", "veter-relay", nullptr)));
  auto options = static_cast<SoupServerListenOptions>(0);
  if (!w.tls.cert_file.empty()) {
    GError* raw = nullptr;
    common::GObjectPtr<GTlsCertificate> cert(
        g_tls_certificate_new_from_files(w.tls.cert_file.c_str(), w.tls.key_file.c_str(), &raw));
    common::GErrorPtr err(raw);
    if (!cert) {
      throw std::runtime_error(fmt::format("webrtc.tls: cannot load {} / {}: {}", w.tls.cert_file, w.tls.key_file,
                                           err ? err->message : "?"));
    }
    g_object_set(server_.get(), "tls-certificate", cert.get(), nullptr);
    options = SOUP_SERVER_LISTEN_HTTPS;
    tls_ = true;
  }
  soup_server_add_handler(server_.get(), nullptr, &WhepServer::on_request, this, nullptr);
  GError* raw = nullptr;
  gboolean ok = FALSE;
  if (w.listen.host.empty()) {
    ok = soup_server_listen_all(server_.get(), w.listen.port, options, &raw);
  } else {
    common::GObjectPtr<GInetAddress> ia(g_inet_address_new_from_string(
        w.listen.host == "localhost" ? "127.0.0.1" : w.listen.host.c_str()));
    if (!ia) {
      throw common::UnavailableError(
          fmt::format("webrtc.listen {}: the host must be an IP address", w.listen.to_string()));
    }
    common::GObjectPtr<GSocketAddress> sa(g_inet_socket_address_new(ia.get(), w.listen.port));
    ok = soup_server_listen(server_.get(), sa.get(), options, &raw);
  }
  common::GErrorPtr err(raw);
  if (ok == FALSE) {
    throw common::UnavailableError(fmt::format("webrtc listener: cannot listen on {}: {}", w.listen.to_string(),
                                               err ? err->message : "?"));
  }
  {
    common::FreePtr<GSList, g_slist_free> uris(soup_server_get_uris(server_.get()));
    for (GSList* u = uris.get(); u != nullptr; u = u->next) {
      const common::GUriPtr uri(static_cast<GUri*>(u->data));  // each element is ours to unref
      const int p = g_uri_get_port(uri.get());
      if (p > 0) {
        port_ = static_cast<std::uint16_t>(p);
      }
    }
  }
  const std::string shown_host = w.listen.host.empty() ? "0.0.0.0" : w.listen.host;
  spdlog::info("webrtc: WHEP on {}://{}:{}/<path>/whep, player page {}://{}:{}/<path>; ICE ports {}-{} UDP{}",
               tls_ ? "https" : "http", shown_host, port_, tls_ ? "https" : "http", shown_host, port_,
               w.ice_udp_port, w.ice_udp_port + w.max_sessions - 1, w.ice_tcp ? " and TCP" : "");
  if (!is_loopback_host(w.listen.host)) {
    if (!whep_auth_required(cfg_)) {
      spdlog::warn("webrtc.listen {} is not a loopback address and WHEP has no authentication: anyone who reaches "
                   "it can watch (configure rtsp.users with webrtc.tls, or webrtc.token)",
                   w.listen.to_string());
    }
    if (!tls_) {
      spdlog::warn("webrtc.listen {} is not a loopback address and serves plain HTTP: tokens and SDP travel in clear "
                   "(configure webrtc.tls)",
                   w.listen.to_string());
    }
  }
  timer_.reset(g_timeout_add(1000, &WhepServer::on_timer, this));
}

void WhepServer::stop() {
  timer_.reset();
  for (auto& [id, p] : pending_) {
    p->finished.disconnect();
    finish(p->msg.get(), Reply{503, "application/json", error_json("relay shutting down"), {}});
  }
  pending_.clear();
  sessions_.clear();
  if (server_) {
    soup_server_remove_handler(server_.get(), nullptr);
    soup_server_disconnect(server_.get());
    server_.reset();
  }
}

gboolean WhepServer::on_timer(gpointer self) {
  auto* me = static_cast<WhepServer*>(self);
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::string> stale;
  for (const auto& [id, s] : me->sessions_) {
    if (s->state() != WebrtcSession::State::connected && now - s->created_steady() > me->cfg_.webrtc.session_timeout) {
      stale.push_back(id);
    }
  }
  for (const auto& id : stale) {
    me->close_session(id, "not connected within webrtc.session_timeout");
  }
  return G_SOURCE_CONTINUE;
}

void WhepServer::on_request(SoupServer* /*server*/, SoupServerMessage* msg, const char* path, GHashTable* /*query*/,
                            gpointer self) noexcept {
  auto* me = static_cast<WhepServer*>(self);
  try {
    common::GCharPtr decoded(g_uri_unescape_string(path, nullptr));
    if (!decoded) {
      me->finish(msg, Reply{400, "application/json", error_json("invalid path encoding"), {}});
      return;
    }
    me->serve(msg, decoded.get());
  } catch (const std::exception& e) {
    spdlog::error("webrtc: request failed: {}", e.what());
    me->finish(msg, Reply{500, "application/json", error_json("internal error"), {}});
  }
}

std::vector<std::pair<std::string, std::string>> WhepServer::link_headers() const {
  std::vector<std::pair<std::string, std::string>> out;
  std::string links;
  for (const auto& s : cfg_.webrtc.ice_servers) {
    links += (links.empty() ? "" : ", ") + link_value(s);
  }
  if (!links.empty()) {
    out.emplace_back("Link", links);
  }
  return out;
}

void WhepServer::serve(SoupServerMessage* msg, const std::string& path) {
  const std::string method = soup_server_message_get_method(msg);
  const auto seg = segments(path);
  // Static content: the page and its script (no credentials needed: they hold no data).
  if (method == "GET" || method == "HEAD") {
    if (seg.size() == 1 && seg[0] == "veter-player.js") {
      finish(msg, Reply{200, "text/javascript; charset=utf-8", std::string(player_js()), {}});
      return;
    }
    if (seg.size() == 1 && fanouts_.count(seg[0]) != 0) {
      finish(msg, Reply{200, "text/html; charset=utf-8", std::string(player_html()), {}});
      return;
    }
    if (seg.empty() && fanouts_.size() == 1) {
      finish(msg, Reply{302, "text/plain", "", {{"Location", "/" + fanouts_.begin()->first}}});
      return;
    }
    finish(msg, Reply{seg.size() >= 2 && seg[1] == "whep" ? 405u : 404u, "application/json",
                      error_json("not found"), {{"Allow", "OPTIONS, POST, PATCH, DELETE"}}});
    return;
  }
  if (seg.size() < 2 || seg[1] != "whep" || seg.size() > 3) {
    finish(msg, Reply{404, "application/json", error_json("not found (WHEP is /<path>/whep)"), {}});
    return;
  }
  if (method == "OPTIONS") {
    Reply r{204, "text/plain", "", {{"Accept-Post", "application/sdp"}}};
    // ICE servers only to a viewer who may watch (TURN credentials).
    const auto auth = whep_authorize(cfg_, header(msg, "Authorization"), tls_, seg[0], nullptr);
    if (auth.ok) {
      auto links = link_headers();
      r.headers.insert(r.headers.end(), links.begin(), links.end());
    }
    finish(msg, r);
    return;
  }
  // Authentication before anything else, as for RTSP.
  const std::string addr = remote_host(msg);
  const auto now = std::chrono::steady_clock::now();
  if (failures_.blocked(addr, now)) {
    ++rejected_;
    finish(msg, Reply{429, "application/json", error_json("too many failed logins from this address; retry later"), {}});
    return;
  }
  GSocketAddress* peer = soup_server_message_get_remote_address(msg);
  sockaddr_storage ss{};
  const bool have_peer = peer != nullptr && g_socket_address_to_native(peer, &ss, sizeof ss, nullptr) != FALSE;
  const auto auth = whep_authorize(cfg_, header(msg, "Authorization"), tls_, seg[0],
                                   have_peer ? reinterpret_cast<const sockaddr*>(&ss) : nullptr);
  if (!auth.ok) {
    ++auth_failures_;
    if (failures_.record(addr, now)) {
      spdlog::warn("webrtc: {} reached the failed-login limit; refused for a while", addr);
    }
    spdlog::info("webrtc: {} {} from {}: 401 ({})", method, path, addr, auth.reason);
    // No "Basic" challenge even where Basic is accepted: a browser answers that
    // with its own login dialog (and a headless one waits forever); the player
    // page shows its own form instead.
    finish(msg, Reply{401, "application/json", error_json(auth.reason), {{"WWW-Authenticate", "Bearer realm=\"veter\""}}});
    return;
  }
  if (fanouts_.count(seg[0]) == 0) {
    finish(msg, Reply{404, "application/json", error_json(fmt::format("no path \"{}\"", seg[0])), {}});
    return;
  }
  SoupMessageBody* req_body = soup_server_message_get_request_body(msg);
  common::GBytesPtr bytes(soup_message_body_flatten(req_body));
  gsize size = 0;
  const auto* data = static_cast<const char*>(g_bytes_get_data(bytes.get(), &size));
  const std::string body(data != nullptr ? data : "", size);
  if (method == "POST" && seg.size() == 2) {
    bool paused = false;
    Reply r = post_offer(msg, seg[0], body, auth.user, paused);
    if (!paused) {
      finish(msg, r);
    }
    return;
  }
  if (method == "PATCH" && seg.size() == 3) {
    finish(msg, patch(seg[0], seg[2], body, header(msg, "Content-Type")));
    return;
  }
  if (method == "DELETE" && seg.size() == 3) {
    finish(msg, remove(seg[0], seg[2]));
    return;
  }
  finish(msg, Reply{405, "application/json", error_json("method not allowed"),
                    {{"Allow", seg.size() == 2 ? "OPTIONS, POST" : "PATCH, DELETE"}}});
}

WhepServer::Reply WhepServer::post_offer(SoupServerMessage* msg, const std::string& path_name, const std::string& body,
                                          const std::string& user, bool& paused) {
  if (media_type(header(msg, "Content-Type")) != "application/sdp") {
    return Reply{415, "application/json", error_json("Content-Type must be application/sdp"), {}};
  }
  std::string error;
  auto info = inspect_offer(body, error);
  if (!info) {
    spdlog::info("webrtc: bad offer from {}: {}", remote_host(msg), error);
    return Reply{400, "application/json", error_json(error), {}};
  }
  const std::string addr = remote_host(msg);
  switch (limiter_.admit(addr)) {
    case ConnectionLimiter::Verdict::admitted:
      break;
    case ConnectionLimiter::Verdict::too_many_total:
      ++rejected_;
      return Reply{503, "application/json", error_json("too many WebRTC sessions (webrtc.max_sessions)"), {}};
    case ConnectionLimiter::Verdict::too_many_from_address:
      ++rejected_;
      return Reply{429, "application/json",
                   error_json("too many WebRTC sessions from this address (webrtc.max_sessions_per_address)"), {}};
  }
  common::GCharPtr uuid(g_uuid_string_random());
  const std::string id = uuid.get();
  WebrtcSession::Params params;
  params.id = id;
  params.path = path_name;
  params.remote_addr = remote_endpoint(msg);
  params.remote_host = addr;
  params.user = user;
  params.cfg = &cfg_.webrtc;
  params.ice_port_min = cfg_.webrtc.ice_udp_port;
  params.ice_port_max = cfg_.webrtc.ice_udp_port + cfg_.webrtc.max_sessions - 1;
  auto session = std::make_shared<WebrtcSession>(params, *fanouts_.at(path_name), *this);
  try {
    session->start(body, *info);
  } catch (const std::exception& e) {
    limiter_.release(addr);
    spdlog::warn("webrtc: session for {} not started: {}", addr, e.what());
    return Reply{400, "application/json", error_json(e.what()), {}};
  }
  sessions_[id] = session;
  auto pending = std::make_unique<Pending>();
  pending->msg.reset(SOUP_SERVER_MESSAGE(g_object_ref(msg)));
  pending->location = fmt::format("/{}/whep/{}", path_name, id);
  pending->finished = common::SignalConnection(
      msg, g_signal_connect_swapped(msg, "finished", G_CALLBACK(+[](gpointer data) {
                                      // The connection ended before the answer: nothing to send to.
                                      static_cast<Pending*>(data)->msg.reset();
                                    }),
                                    pending.get()));
  pending_[id] = std::move(pending);
  soup_server_message_pause(msg);
  paused = true;
  spdlog::info("webrtc: session {} for {} on path {}{}", id, params.remote_addr, path_name,
               params.user.empty() ? "" : " (user " + params.user + ")");
  return {};
}

void WhepServer::on_answer(WebrtcSession& s, std::optional<std::string> answer_sdp, const std::string& error) {
  const std::string id = s.params().id;
  auto it = pending_.find(id);
  if (it == pending_.end()) {
    return;
  }
  auto pending = std::move(it->second);
  pending_.erase(it);
  pending->finished.disconnect();
  if (!pending->msg) {
    close_session(id, "the viewer left before the answer");
    return;
  }
  SoupServerMessage* msg = pending->msg.get();
  if (!answer_sdp) {
    finish(msg, Reply{400, "application/json", error_json(error), {}});
    soup_server_message_unpause(msg);
    close_session(id, error);
    return;
  }
  Reply r{201, "application/sdp", *answer_sdp,
          {{"Location", pending->location},
           {"ETag", "\"" + id + "\""},
           {"Accept-Patch", "application/trickle-ice-sdpfrag"}}};
  auto links = link_headers();
  r.headers.insert(r.headers.end(), links.begin(), links.end());
  finish(msg, r);
  soup_server_message_unpause(msg);
}

WhepServer::Reply WhepServer::patch(const std::string& path_name, const std::string& id, const std::string& body,
                                    const std::string& content_type) {
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second->params().path != path_name) {
    return Reply{404, "application/json", error_json("no such session"), {}};
  }
  if (media_type(content_type) != "application/trickle-ice-sdpfrag") {
    return Reply{415, "application/json", error_json("Content-Type must be application/trickle-ice-sdpfrag"), {}};
  }
  std::string error;
  auto frag = parse_trickle(body, error);
  if (!frag) {
    return Reply{400, "application/json", error_json(error), {}};
  }
  if (!frag->ice_ufrag.empty() && frag->ice_ufrag != it->second->ice_ufrag()) {
    // An ICE restart (new credentials) is not supported: the viewer makes a new session.
    return Reply{422, "application/json", error_json("ICE restart is not supported: POST a new offer"), {}};
  }
  for (const auto& c : frag->candidates) {
    it->second->add_remote_candidate(c.candidate);
  }
  return Reply{204, "text/plain", "", {}};
}

WhepServer::Reply WhepServer::remove(const std::string& path_name, const std::string& id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second->params().path != path_name) {
    return Reply{404, "application/json", error_json("no such session"), {}};
  }
  close_session(id, "DELETE by the viewer");
  return Reply{200, "text/plain", "", {}};
}

void WhepServer::close_session(const std::string& id, const std::string& why) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) {
    return;
  }
  const auto session = std::move(it->second);  // destroyed at the end of this function (main loop)
  sessions_.erase(it);
  limiter_.release(session->params().remote_host);
  if (auto p = pending_.find(id); p != pending_.end()) {
    auto pending = std::move(p->second);
    pending_.erase(p);
    pending->finished.disconnect();
    if (pending->msg) {
      finish(pending->msg.get(), Reply{503, "application/json", error_json(why), {}});
      soup_server_message_unpause(pending->msg.get());
    }
  }
  spdlog::info("webrtc session {} ({}) closed: {}; {} bytes sent", id, session->params().remote_addr, why,
               session->bytes_sent());
}

void WhepServer::on_keyframe_request(WebrtcSession& s) {
  if (keyframe_) {
    keyframe_(s.params().path, "WebRTC viewer");
  }
}

void WhepServer::on_closed(WebrtcSession& s, const std::string& why) {
  const std::string id = s.params().id;
  // Not from inside the session's own call: close on the next main-loop turn.
  post_to_main([this, id, why, weak = std::weak_ptr<WebrtcSession>(s.shared_from_this())]() {
    if (weak.lock()) {
      close_session(id, why);
    }
  });
}

std::vector<WebrtcSessionSnapshot> WhepServer::sessions() const {
  std::vector<WebrtcSessionSnapshot> out;
  for (const auto& [id, s] : sessions_) {
    WebrtcSessionSnapshot snap;
    snap.id = id;
    snap.path = s->params().path;
    snap.remote_addr = s->params().remote_addr;
    snap.state = s->state_name();
    snap.user = s->params().user;
    snap.bytes_sent = s->bytes_sent();
    snap.rtp_packets_sent = s->packets_sent();
    snap.created = s->created();
    out.push_back(std::move(snap));
  }
  return out;
}

bool WhepServer::kick(const std::string& id) {
  if (sessions_.count(id) == 0) {
    return false;
  }
  close_session(id, "kicked through the API");
  return true;
}

void WhepServer::finish(SoupServerMessage* msg, const Reply& reply) {
  SoupMessageHeaders* headers = soup_server_message_get_response_headers(msg);
  for (const auto& [k, v] : cors_headers()) {
    soup_message_headers_replace(headers, k.c_str(), v.c_str());
  }
  for (const auto& [k, v] : reply.headers) {
    soup_message_headers_append(headers, k.c_str(), v.c_str());
  }
  soup_message_headers_replace(headers, "Cache-Control", "no-store");
  soup_server_message_set_status(msg, reply.status, nullptr);
  soup_server_message_set_response(msg, reply.content_type.c_str(), SOUP_MEMORY_COPY, reply.body.data(),
                                   reply.body.size());
}

}  // namespace veter::relay
