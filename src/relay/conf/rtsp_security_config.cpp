#include "veter/relay/conf/rtsp_security_config.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <tuple>

#include <fmt/format.h>

namespace veter::relay {

using common::MapReader;
using common::ValueError;

namespace {

void int_range(const YAML::Node& n, int& out, int lo, int hi) {
  if (!n.IsScalar()) {
    throw ValueError("expected a number");
  }
  out = static_cast<int>(common::parse_int(n.Scalar(), lo, hi));
}

bool is_sha256_hex(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

}  // namespace

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") {
    return true;
  }
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6) != 0;
  }
  return false;
}

void read_rtsp_security(MapReader& rtsp, RtspConfig& out, const std::string& origin) {
  if (rtsp.present("users")) {
    rtsp.read_with("users", [&](const YAML::Node& n) {
      if (!n.IsSequence()) {
        throw ValueError("expected a list of {user, pass | pass_sha256, paths, ips}");
      }
      std::vector<RtspUser> users;
      for (std::size_t i = 0; i < n.size(); ++i) {
        MapReader u(n[i], fmt::format("{}.users[{}]", rtsp.key_path(), i), origin);
        RtspUser user;
        u.read("user", user.user);
        u.read("pass", user.pass);
        u.read_with("pass_sha256", [&](const YAML::Node& v) {
          common::from_yaml(v, user.pass_sha256);
          std::transform(user.pass_sha256.begin(), user.pass_sha256.end(), user.pass_sha256.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
          if (!is_sha256_hex(user.pass_sha256)) {
            throw ValueError("expected 64 hex digits (printf %s 'password' | sha256sum)");
          }
        });
        u.read("paths", user.paths);
        u.read("ips", user.ips);
        u.finish();
        if (user.user.empty() || user.user.find(':') != std::string::npos) {
          throw u.error("user", "a non-empty user name without ':' is required");
        }
        if (user.pass.empty() == user.pass_sha256.empty()) {
          throw u.error("", "exactly one of pass and pass_sha256 is required");
        }
        for (const auto& other : users) {
          if (other.user == user.user) {
            throw u.error("user", fmt::format("user \"{}\" is listed twice", user.user));
          }
        }
        users.push_back(std::move(user));
      }
      out.users = std::move(users);
    });
  }
  {
    auto tls = rtsp.child("tls");
    tls.read("cert_file", out.tls.cert_file);
    tls.read("key_file", out.tls.key_file);
    tls.finish();
  }
  rtsp.read_with("max_connections", [&](const YAML::Node& n) { int_range(n, out.max_connections, 0, 1000000); });
  rtsp.read_with("max_connections_per_address",
                 [&](const YAML::Node& n) { int_range(n, out.max_connections_per_address, 0, 1000000); });
  rtsp.read_with("idle_timeout", [&](const YAML::Node& n) {
    common::from_yaml(n, out.idle_timeout);
    if (out.idle_timeout < std::chrono::milliseconds(500)) {
      throw ValueError("must be at least 500ms");
    }
  });
}

void validate_security(const RelayConfig& cfg) {
  for (const auto& [name, l, token] : {std::tuple{"api", &cfg.api, &cfg.api_token},
                                       std::tuple{"metrics", &cfg.metrics, &cfg.metrics_token},
                                       std::tuple{"playback", &cfg.playback, &cfg.playback_token}}) {
    if (l->enabled && token->empty() && !is_loopback_host(l->listen.host)) {
      throw ValueError(fmt::format("{}.listen {} is not a loopback address: set {}.token (clients send "
                                   "\"Authorization: Bearer <token>\") or listen on 127.0.0.1",
                                   name, l->listen.to_string(), name));
    }
  }
  const bool tls = !cfg.rtsp.tls.cert_file.empty() || !cfg.rtsp.tls.key_file.empty();
  if (tls && (cfg.rtsp.tls.cert_file.empty() || cfg.rtsp.tls.key_file.empty())) {
    throw ValueError("rtsp.tls: both cert_file and key_file are required");
  }
  if (tls && served_transports(cfg.rtsp).empty()) {
    throw ValueError("rtsp.transports: with rtsp.tls only tcp is served (UDP would carry the video in the clear): "
                     "add tcp");
  }
  for (const auto& u : cfg.rtsp.users) {
    if (!u.pass_sha256.empty() && !tls) {
      throw ValueError(fmt::format("rtsp.users: user \"{}\" has pass_sha256, which works only with Basic "
                                   "authentication over TLS: configure rtsp.tls or use pass (Digest)",
                                   u.user));
    }
    for (const auto& p : u.paths) {
      const bool exists = std::any_of(cfg.paths.begin(), cfg.paths.end(), [&](const PathConfig& c) { return c.name == p; });
      if (!exists) {
        throw ValueError(fmt::format("rtsp.users: user \"{}\" names path \"{}\", which is not configured", u.user, p));
      }
    }
  }
}

void emit_rtsp_security(YAML::Emitter& e, const RtspConfig& rtsp) {
  e << YAML::Key << "users" << YAML::Value;
  if (rtsp.users.empty()) {
    e << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
  } else {
    e << YAML::BeginSeq;
    for (const auto& u : rtsp.users) {
      e << YAML::BeginMap;
      e << YAML::Key << "user" << YAML::Value << YAML::DoubleQuoted << u.user;
      // Never print a password; the hash is not secret enough to print either.
      e << YAML::Key << (u.pass.empty() ? "pass_sha256" : "pass") << YAML::Value << YAML::DoubleQuoted << "(set)";
      e << YAML::Key << "paths" << YAML::Value << YAML::Flow << u.paths;
      e << YAML::Key << "ips" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (const auto& c : u.ips) {
        e << c.text;
      }
      e << YAML::EndSeq;
      e << YAML::EndMap;
    }
    e << YAML::EndSeq;
  }
  e << YAML::Key << "tls" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "cert_file" << YAML::Value << YAML::DoubleQuoted << rtsp.tls.cert_file;
  e << YAML::Key << "key_file" << YAML::Value << YAML::DoubleQuoted << rtsp.tls.key_file;
  e << YAML::EndMap;
  e << YAML::Key << "max_connections" << YAML::Value << rtsp.max_connections;
  e << YAML::Key << "max_connections_per_address" << YAML::Value << rtsp.max_connections_per_address;
  e << YAML::Key << "idle_timeout" << YAML::Value << common::format_duration(rtsp.idle_timeout);
}

}  // namespace veter::relay
