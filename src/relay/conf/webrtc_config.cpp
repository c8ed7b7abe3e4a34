#include "veter/relay/conf/webrtc_config.hpp"

#include <fmt/format.h>

namespace veter::relay {

using common::MapReader;
using common::ValueError;

namespace {

void bounded_int(const YAML::Node& n, int& out, int lo, int hi) {
  if (!n.IsScalar()) {
    throw ValueError("expected a number");
  }
  out = static_cast<int>(common::parse_int(n.Scalar(), lo, hi));
}

bool ice_url_ok(const std::string& url) {
  for (const char* scheme : {"stun:", "turn:", "turns:"}) {
    if (url.rfind(scheme, 0) == 0 && url.size() > std::char_traits<char>::length(scheme)) {
      return true;
    }
  }
  return false;
}

}  // namespace

void read_webrtc(MapReader& w, WebrtcConfig& out, const std::string& origin) {
  w.read("enabled", out.enabled);
  w.read("listen", out.listen);
  w.read_with("ice_udp_port", [&](const YAML::Node& n) { bounded_int(n, out.ice_udp_port, 1024, 65535); });
  w.read("ice_tcp", out.ice_tcp);
  w.read("additional_hosts", out.additional_hosts);
  if (w.present("ice_servers")) {
    w.read_with("ice_servers", [&](const YAML::Node& n) {
      if (!n.IsSequence()) {
        throw ValueError("expected a list of {url, username, credential}");
      }
      std::vector<IceServer> servers;
      for (std::size_t i = 0; i < n.size(); ++i) {
        MapReader s(n[i], fmt::format("{}.ice_servers[{}]", w.key_path(), i), origin);
        IceServer server;
        s.read("url", server.url);
        s.read("username", server.username);
        s.read("credential", server.credential);
        s.finish();
        if (!ice_url_ok(server.url)) {
          throw s.error("url", "expected stun:host:port, turn:host:port or turns:host:port");
        }
        if (server.url.rfind("stun:", 0) != 0 && (server.username.empty() || server.credential.empty())) {
          throw s.error("", "a TURN server needs username and credential");
        }
        servers.push_back(std::move(server));
      }
      out.ice_servers = std::move(servers);
    });
  }
  {
    auto tls = w.child("tls");
    tls.read("cert_file", out.tls.cert_file);
    tls.read("key_file", out.tls.key_file);
    tls.finish();
  }
  w.read("token", out.token);
  w.read_with("max_sessions", [&](const YAML::Node& n) { bounded_int(n, out.max_sessions, 1, 10000); });
  w.read_with("max_sessions_per_address",
              [&](const YAML::Node& n) { bounded_int(n, out.max_sessions_per_address, 0, 10000); });
  w.read_with("session_timeout", [&](const YAML::Node& n) {
    common::from_yaml(n, out.session_timeout);
    if (out.session_timeout < std::chrono::seconds(1)) {
      throw ValueError("must be at least 1s");
    }
  });
}

void validate_webrtc(const RelayConfig& cfg) {
  const auto& w = cfg.webrtc;
  if (!w.enabled) {
    return;
  }
  if (w.tls.cert_file.empty() != w.tls.key_file.empty()) {
    throw ValueError("webrtc.tls: both cert_file and key_file are required");
  }
  const int lo = w.ice_udp_port;
  const int hi = w.ice_udp_port + w.max_sessions - 1;
  if (hi > 65535) {
    throw ValueError(fmt::format("webrtc: ICE ports {}..{} (ice_udp_port + max_sessions - 1) go past 65535", lo, hi));
  }
  auto overlaps = [&](int port) { return port >= lo && port <= hi; };
  for (const auto& p : cfg.paths) {
    if (overlaps(p.ingest.listen.port) || overlaps(p.ingest.listen.port + 1)) {
      throw ValueError(fmt::format("webrtc.ice_udp_port: ICE ports {}..{} overlap paths.{}.ingest.listen port {}", lo,
                                   hi, p.name, p.ingest.listen.port));
    }
  }
  if (cfg.rtsp.udp_port_range.max >= lo && cfg.rtsp.udp_port_range.min <= hi) {
    throw ValueError(fmt::format("webrtc.ice_udp_port: ICE ports {}..{} overlap rtsp.udp_port_range", lo, hi));
  }
  if (w.ice_tcp && (overlaps(w.listen.port) || overlaps(cfg.rtsp.listen.port))) {
    throw ValueError(fmt::format("webrtc.ice_udp_port: ICE-TCP ports {}..{} overlap the WHEP or RTSP listener", lo, hi));
  }
  if (w.listen.port == cfg.rtsp.listen.port || (cfg.api.enabled && w.listen.port == cfg.api.listen.port) ||
      (cfg.metrics.enabled && w.listen.port == cfg.metrics.listen.port)) {
    if (w.listen.port != 0) {
      throw ValueError(fmt::format("webrtc.listen: port {} is used by another listener", w.listen.port));
    }
  }
}

void emit_webrtc(YAML::Emitter& e, const WebrtcConfig& w) {
  e << YAML::Key << "webrtc" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "enabled" << YAML::Value << w.enabled;
  e << YAML::Key << "listen" << YAML::Value << YAML::DoubleQuoted << w.listen.to_string();
  e << YAML::Key << "ice_udp_port" << YAML::Value << w.ice_udp_port;
  e << YAML::Key << "ice_tcp" << YAML::Value << w.ice_tcp;
  e << YAML::Key << "additional_hosts" << YAML::Value << YAML::Flow << w.additional_hosts;
  e << YAML::Key << "ice_servers" << YAML::Value << YAML::BeginSeq;
  for (const auto& s : w.ice_servers) {
    e << YAML::BeginMap << YAML::Key << "url" << YAML::Value << YAML::DoubleQuoted << s.url;
    e << YAML::Key << "username" << YAML::Value << YAML::DoubleQuoted << s.username;
    e << YAML::Key << "credential" << YAML::Value << YAML::DoubleQuoted << (s.credential.empty() ? "" : "(set)");
    e << YAML::EndMap;
  }
  e << YAML::EndSeq;
  e << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "cert_file" << YAML::Value << YAML::DoubleQuoted << w.tls.cert_file;
  e << YAML::Key << "key_file" << YAML::Value << YAML::DoubleQuoted << w.tls.key_file;
  e << YAML::EndMap;
  e << YAML::Key << "token" << YAML::Value << YAML::DoubleQuoted << (w.token.empty() ? "" : "(set)");
  e << YAML::Key << "max_sessions" << YAML::Value << w.max_sessions;
  e << YAML::Key << "max_sessions_per_address" << YAML::Value << w.max_sessions_per_address;
  e << YAML::Key << "session_timeout" << YAML::Value << common::format_duration(w.session_timeout);
  e << YAML::EndMap;
}

}  // namespace veter::relay
