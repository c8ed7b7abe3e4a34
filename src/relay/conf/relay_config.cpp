#include "veter/relay/conf/relay_config.hpp"

#include <yaml-cpp/yaml.h>

#include <set>
#include <tuple>

#include <fmt/format.h>

#include "veter/common/config_reader.hpp"
#include "veter/relay/conf/rtsp_security_config.hpp"
#include "veter/relay/conf/webrtc_config.hpp"

namespace veter::relay {

using common::MapReader;
using common::ValueError;

namespace {

void int_in(const YAML::Node& n, int& out, int lo, int hi) {
  if (!n.IsScalar()) {
    throw ValueError("expected a number");
  }
  out = static_cast<int>(common::parse_int(n.Scalar(), lo, hi));
}

// A duration within [lo, hi] (zero and the absurd are rejected where they make no sense).
void duration_in(const YAML::Node& n, common::Duration& out, common::Duration lo, common::Duration hi) {
  common::Duration d{};
  common::from_yaml(n, d);
  if (d < lo || d > hi) {
    throw ValueError(fmt::format("must be between {} and {}", common::format_duration(lo), common::format_duration(hi)));
  }
  out = d;
}

PortRange parse_port_range(const std::string& s) {
  const auto dash = s.find('-');
  PortRange r;
  try {
    if (dash == std::string::npos) {
      r.min = r.max = common::parse_port(s);
    } else {
      r.min = common::parse_port(s.substr(0, dash));
      r.max = common::parse_port(s.substr(dash + 1));
    }
  } catch (const ValueError&) {
    throw ValueError(fmt::format("\"{}\" is not a valid port range (e.g. 8000-8001)", s));
  }
  if (r.max < r.min + 1 || r.min % 2 != 0) {
    throw ValueError(fmt::format(
        "\"{}\": need an even first port and at least two ports (RTP and RTCP), e.g. 8000-8001", s));
  }
  return r;
}

}  // namespace

std::string_view to_string(Takeover t) {
  switch (t) {
    case Takeover::after_timeout: return "after_timeout";
    case Takeover::never: return "never";
    case Takeover::allow_from_only: return "allow_from_only";
  }
  return "after_timeout";
}

namespace {

void read_listener(MapReader r, HttpListenerConfig& out, std::string& token) {
  r.read("enabled", out.enabled);
  r.read("listen", out.listen);
  r.read("token", token);
  r.finish();
}

// rtsp.viewer_max_delay / paths.<name>.viewer_max_delay (0 allowed only per path: "use rtsp's").
void read_max_delay(const YAML::Node& n, common::Duration& out, bool zero_allowed) {
  common::from_yaml(n, out);
  if (out == 0ms && zero_allowed) {
    return;
  }
  if (out < 20ms) {
    throw ValueError(zero_allowed ? "must be 0ms (use rtsp.viewer_max_delay) or at least 20ms"
                                  : "must be at least 20ms");
  }
}

void read_path(MapReader& r, PathConfig& p) {
  auto ing = r.child("ingest");
  ing.read("listen", p.ingest.listen);
  ing.read_with("payload_type", [&](const YAML::Node& n) { int_in(n, p.ingest.payload_type, 96, 127); });
  ing.read("allow_from", p.ingest.allow_from);
  ing.read_with("timeout", [&](const YAML::Node& n) {
    common::from_yaml(n, p.ingest.timeout);
    if (p.ingest.timeout < 100ms) {
      throw ValueError("must be at least 100ms");
    }
  });
  ing.read_with("jitter_buffer", [&](const YAML::Node& n) {
    common::from_yaml(n, p.ingest.jitter_buffer);
    if (p.ingest.jitter_buffer > 5s) {
      throw ValueError("must be at most 5s");
    }
  });
  ing.read("srtp_key_file", p.ingest.srtp_key_file);
  ing.read_with("takeover", [&](const YAML::Node& n) {
    std::string t;
    common::from_yaml(n, t);
    if (t == "after_timeout") {
      p.ingest.takeover = Takeover::after_timeout;
    } else if (t == "never") {
      p.ingest.takeover = Takeover::never;
    } else if (t == "allow_from_only") {
      if (p.ingest.allow_from.empty()) {
        throw ValueError("allow_from_only needs ingest.allow_from (the sources that may take the path)");
      }
      p.ingest.takeover = Takeover::allow_from_only;
    } else {
      throw ValueError(fmt::format("\"{}\" is not one of after_timeout, never, allow_from_only", t));
    }
  });
  ing.read("nack", p.ingest.nack);
  ing.read_with("rtx_payload_type", [&](const YAML::Node& n) { int_in(n, p.ingest.rtx_payload_type, 96, 127); });
  ing.read_with("repair_window", [&](const YAML::Node& n) {
    if (n.IsScalar() && n.Scalar() == "auto") {
      p.ingest.repair_window = 0ms;
      return;
    }
    common::from_yaml(n, p.ingest.repair_window);
    if (p.ingest.repair_window < 10ms || p.ingest.repair_window > 1s) {
      throw ValueError("must be auto or 10ms..1s");
    }
  });
  ing.finish();
  r.read_with("max_readers", [&](const YAML::Node& n) { int_in(n, p.max_readers, 0, 100000); });
  r.read("run_on_ready", p.run_on_ready);
  r.read("run_on_not_ready", p.run_on_not_ready);
  r.read_with("viewer_max_delay", [&](const YAML::Node& n) { read_max_delay(n, p.viewer_max_delay, true); });
  r.read_with("on_size_change", [&](const YAML::Node& n) {
    std::string s;
    common::from_yaml(n, s);
    if (s != "continue" && s != "reconnect") {
      throw ValueError(fmt::format("\"{}\" is not continue or reconnect", s));
    }
    p.on_size_change = s;
  });
  auto rec = r.child("record");
  rec.read("enabled", p.record.enabled);
  rec.read_with("dir", [&](const YAML::Node& n) {
    common::from_yaml(n, p.record.dir);
    if (p.record.dir.empty() || p.record.dir.front() != '/') {
      throw ValueError("must be an absolute directory");
    }
  });
  rec.read_with("segment", [&](const YAML::Node& n) {
    common::from_yaml(n, p.record.segment);
    if (p.record.segment < 1s || p.record.segment > 24h) {
      throw ValueError("must be between 1s and 24h");
    }
  });
  rec.read_with("format", [&](const YAML::Node& n) {
    common::from_yaml(n, p.record.format);
    if (p.record.format != "fmp4") {
      throw ValueError(fmt::format("\"{}\" is not a recording format (fmp4)", p.record.format));
    }
  });
  auto ret = rec.child("retention");
  ret.read("max_age", p.record.retention.max_age);
  ret.read_with("max_bytes", [&](const YAML::Node& n) {
    std::string s;
    common::from_yaml(n, s);
    p.record.retention.max_bytes = common::parse_byte_size(s);
  });
  ret.finish();
  rec.finish();
}

void apply_node(RelayConfig& target, const YAML::Node& doc, const std::string& origin) {
  // Work on a copy: a bad document changes nothing.
  RelayConfig cfg = target;
  MapReader r(doc, "", origin);
  r.read_with("log_level", [&](const YAML::Node& n) {
    std::string s;
    common::from_yaml(n, s);
    cfg.log_level = common::parse_log_level(s);
  });
  r.read_with("stats_interval", [&](const YAML::Node& n) {
    common::from_yaml(n, cfg.stats_interval);
    if (cfg.stats_interval < 100ms) {
      throw ValueError("must be at least 100ms");
    }
  });
  {
    auto rtsp = r.child("rtsp");
    rtsp.read("listen", cfg.rtsp.listen);
    rtsp.read_with("transports", [&](const YAML::Node& n) {
      std::vector<std::string> t;
      common::from_yaml(n, t);
      if (t.empty()) {
        throw ValueError("at least one transport (tcp, udp) is required");
      }
      for (const auto& x : t) {
        if (x != "tcp" && x != "udp") {
          throw ValueError(fmt::format("\"{}\" is not a transport (tcp, udp)", x));
        }
      }
      cfg.rtsp.transports = t;
    });
    rtsp.read_with("udp_port_range", [&](const YAML::Node& n) {
      std::string s;
      common::from_yaml(n, s);
      cfg.rtsp.udp_port_range = parse_port_range(s);
    });
    // gst-rtsp-server counts whole seconds, and players send keep-alives at about half of it.
    rtsp.read_with("session_timeout",
                   [&](const YAML::Node& n) { duration_in(n, cfg.rtsp.session_timeout, 5s, 1h); });
    rtsp.read_with("viewer_max_delay", [&](const YAML::Node& n) { read_max_delay(n, cfg.rtsp.viewer_max_delay, false); });
    // Checked every 100 ms against the viewer's ACKs: below half a second any pause in the TCP
    // flow would drop a healthy viewer (0s dropped every one whose ACKs did not move in one tick).
    rtsp.read_with("viewer_max_lag",
                   [&](const YAML::Node& n) { duration_in(n, cfg.rtsp.viewer_max_lag, 500ms, 10min); });
    rtsp.read_with("viewer_max_backlog_kb",
                   [&](const YAML::Node& n) { int_in(n, cfg.rtsp.viewer_max_backlog_kb, 64, 1048576); });
    read_rtsp_security(rtsp, cfg.rtsp, origin);  // users, tls, limits (rtsp_security_config.cpp)
    rtsp.finish();
  }
  {
    auto webrtc = r.child("webrtc");
    read_webrtc(webrtc, cfg.webrtc, origin);
    webrtc.finish();
  }
  read_listener(r.child("api"), cfg.api, cfg.api_token);
  read_listener(r.child("metrics"), cfg.metrics, cfg.metrics_token);
  read_listener(r.child("playback"), cfg.playback, cfg.playback_token);
  if (r.present("paths")) {
    std::vector<PathConfig> paths;
    r.for_each("paths", [&](const std::string& name, MapReader& entry) {
      PathConfig p;
      p.name = name;
      read_path(entry, p);
      paths.push_back(std::move(p));
    });
    cfg.paths = std::move(paths);
  }
  r.finish();
  try {
    validate(cfg);
  } catch (const ValueError& e) {
    throw common::ConfigError(fmt::format("{}: {}", origin, e.what()));
  }
  target = std::move(cfg);
}

}  // namespace

void apply_yaml(RelayConfig& cfg, const std::string& yaml_text, const std::string& origin) {
  apply_node(cfg, common::parse_yaml(yaml_text, origin), origin);
}

void apply_file(RelayConfig& cfg, const std::string& path) {
  apply_node(cfg, common::load_yaml_file(path), path);
}

void validate(const RelayConfig& cfg) {
  if (cfg.paths.empty()) {
    throw ValueError("paths: at least one path is required");
  }
  std::set<std::string> names;
  std::set<int> ports;
  for (const auto& p : cfg.paths) {
    if (p.ingest.nack && p.ingest.rtx_payload_type == p.ingest.payload_type) {
      throw ValueError(fmt::format("paths.{}.ingest.rtx_payload_type: {} is the media payload type", p.name,
                                   p.ingest.rtx_payload_type));
    }
    if (p.name.empty() || p.name.find_first_of("/ ?#") != std::string::npos) {
      throw ValueError(fmt::format("paths.{}: a path name must be non-empty, without '/', ' ', '?', '#'", p.name));
    }
    if (!names.insert(p.name).second) {
      throw ValueError(fmt::format("paths.{}: mount /{} is used twice", p.name, p.name));
    }
    const int port = p.ingest.listen.port;
    if (port >= 65535) {
      throw ValueError(fmt::format("paths.{}.ingest.listen: port {} leaves no room for RTCP (port + 1)", p.name, port));
    }
    if (ports.count(port) != 0 || ports.count(port + 1) != 0 || ports.count(port - 1) != 0) {
      throw ValueError(fmt::format(
          "paths.{}.ingest.listen: port {} (RTP) / {} (RTCP) overlaps another path's ingest ports", p.name,
          port, port + 1));
    }
    ports.insert(port);
    if (port <= cfg.rtsp.udp_port_range.max && port + 1 >= cfg.rtsp.udp_port_range.min) {
      throw ValueError(fmt::format("paths.{}.ingest.listen: port {} overlaps rtsp.udp_port_range", p.name, port));
    }
  }
  validate_security(cfg);  // tokens on non-loopback listeners, pass_sha256 only with TLS
  validate_webrtc(cfg);
}

std::string to_yaml(const RelayConfig& cfg) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "log_level" << YAML::Value << std::string(common::to_string(cfg.log_level));
  e << YAML::Key << "stats_interval" << YAML::Value << common::format_duration(cfg.stats_interval);
  e << YAML::Key << "rtsp" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "listen" << YAML::Value << YAML::DoubleQuoted << cfg.rtsp.listen.to_string();
  e << YAML::Key << "transports" << YAML::Value << YAML::Flow << cfg.rtsp.transports;
  e << YAML::Key << "udp_port_range" << YAML::Value << YAML::DoubleQuoted
    << fmt::format("{}-{}", cfg.rtsp.udp_port_range.min, cfg.rtsp.udp_port_range.max);
  e << YAML::Key << "session_timeout" << YAML::Value << common::format_duration(cfg.rtsp.session_timeout);
  e << YAML::Key << "viewer_max_delay" << YAML::Value << common::format_duration(cfg.rtsp.viewer_max_delay);
  e << YAML::Key << "viewer_max_lag" << YAML::Value << common::format_duration(cfg.rtsp.viewer_max_lag);
  e << YAML::Key << "viewer_max_backlog_kb" << YAML::Value << cfg.rtsp.viewer_max_backlog_kb;
  emit_rtsp_security(e, cfg.rtsp);
  e << YAML::EndMap;
  emit_webrtc(e, cfg.webrtc);
  for (const auto& [key, l, token] : {std::tuple{"api", &cfg.api, &cfg.api_token},
                                      std::tuple{"metrics", &cfg.metrics, &cfg.metrics_token},
                                      std::tuple{"playback", &cfg.playback, &cfg.playback_token}}) {
    e << YAML::Key << key << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "enabled" << YAML::Value << l->enabled;
    e << YAML::Key << "listen" << YAML::Value << YAML::DoubleQuoted << l->listen.to_string();
    e << YAML::Key << "token" << YAML::Value << YAML::DoubleQuoted << (token->empty() ? "" : "(set)");
    e << YAML::EndMap;
  }
  e << YAML::Key << "paths" << YAML::Value << YAML::BeginMap;
  for (const auto& p : cfg.paths) {
    e << YAML::Key << p.name << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "ingest" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "listen" << YAML::Value << YAML::DoubleQuoted << p.ingest.listen.to_string();
    e << YAML::Key << "payload_type" << YAML::Value << p.ingest.payload_type;
    e << YAML::Key << "allow_from" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& c : p.ingest.allow_from) {
      e << c.text;
    }
    e << YAML::EndSeq;
    e << YAML::Key << "timeout" << YAML::Value << common::format_duration(p.ingest.timeout);
    e << YAML::Key << "jitter_buffer" << YAML::Value << common::format_duration(p.ingest.jitter_buffer);
    e << YAML::Key << "srtp_key_file" << YAML::Value << YAML::DoubleQuoted << p.ingest.srtp_key_file;
    e << YAML::Key << "takeover" << YAML::Value << std::string(to_string(p.ingest.takeover));
    e << YAML::Key << "nack" << YAML::Value << p.ingest.nack;
    e << YAML::Key << "rtx_payload_type" << YAML::Value << p.ingest.rtx_payload_type;
    e << YAML::Key << "repair_window" << YAML::Value
      << (p.ingest.repair_window.count() == 0 ? std::string("auto") : common::format_duration(p.ingest.repair_window));
    e << YAML::EndMap;
    e << YAML::Key << "max_readers" << YAML::Value << p.max_readers;
    e << YAML::Key << "run_on_ready" << YAML::Value << YAML::DoubleQuoted << p.run_on_ready;
    e << YAML::Key << "run_on_not_ready" << YAML::Value << YAML::DoubleQuoted << p.run_on_not_ready;
    e << YAML::Key << "viewer_max_delay" << YAML::Value << common::format_duration(p.viewer_max_delay);
    e << YAML::Key << "on_size_change" << YAML::Value << p.on_size_change;
    e << YAML::Key << "record" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "enabled" << YAML::Value << p.record.enabled;
    e << YAML::Key << "dir" << YAML::Value << YAML::DoubleQuoted << p.record.dir;
    e << YAML::Key << "segment" << YAML::Value << common::format_duration(p.record.segment);
    e << YAML::Key << "format" << YAML::Value << p.record.format;
    e << YAML::Key << "retention" << YAML::Value << YAML::BeginMap;
    e << YAML::Key << "max_age" << YAML::Value << common::format_duration(p.record.retention.max_age);
    e << YAML::Key << "max_bytes" << YAML::Value << common::format_byte_size(p.record.retention.max_bytes);
    e << YAML::EndMap;
    e << YAML::EndMap;
    e << YAML::EndMap;
  }
  e << YAML::EndMap;
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

std::vector<std::string> served_transports(const RtspConfig& rtsp) {
  std::vector<std::string> out;
  const bool tls = !rtsp.tls.cert_file.empty();
  for (const auto& t : rtsp.transports) {
    if (!(tls && t == "udp")) {
      out.push_back(t);
    }
  }
  return out;
}

}  // namespace veter::relay
