#include "veter/relay/control/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

#include <fmt/format.h>

#include "veter/relay/control/http_api.hpp"

namespace veter::relay {

namespace {

using Labels = std::vector<std::pair<const char*, std::string>>;

std::string format_value(double v) {
  if (std::isnan(v)) {
    return "NaN";
  }
  if (std::isinf(v)) {
    return v > 0 ? "+Inf" : "-Inf";
  }
  return fmt::format("{}", v);
}
std::string format_value(std::uint64_t v) { return std::to_string(v); }

/// Appends families in exposition format: one HELP and TYPE line, then samples.
class Exposition {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  template <typename V>
  void sample(const char* name, const Labels& labels, V value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      bool first = true;
      for (const auto& [key, val] : labels) {
        if (!first) {
          out_ += ',';
        }
        first = false;
        out_ += key;
        out_ += "=\"";
        out_ += escape_label_value(val);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += format_value(value);
    out_ += '\n';
  }
  [[nodiscard]] std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

const char* state_of(const PathSnapshot& p) { return p.ready ? "ready" : "notReady"; }

void path_series(Exposition& e, const std::vector<PathSnapshot>& paths) {
  e.family("paths", "gauge", "Paths of this relay: 1 per path, state is ready or notReady.");
  for (const auto& p : paths) {
    e.sample("paths", {{"name", p.name}, {"state", state_of(p)}}, std::uint64_t{1});
  }
  e.family("paths_bytes_received", "gauge", "Bytes received from the path's publisher since start-up.");
  for (const auto& p : paths) {
    e.sample("paths_bytes_received", {{"name", p.name}, {"state", state_of(p)}}, p.bytes_received);
  }
  e.family("paths_bytes_sent", "gauge", "Bytes sent to the path's viewers since start-up.");
  for (const auto& p : paths) {
    e.sample("paths_bytes_sent", {{"name", p.name}, {"state", state_of(p)}}, p.bytes_sent);
  }
  e.family("paths_readers", "gauge", "RTSP sessions currently reading the path.");
  for (const auto& p : paths) {
    e.sample("paths_readers", {{"name", p.name}, {"state", state_of(p)}},
             static_cast<std::uint64_t>(p.reader_ids.size()));
  }
}

void session_series(Exposition& e, const std::vector<SessionSnapshot>& sessions) {
  auto labels = [](const SessionSnapshot& s) {
    return Labels{{"id", s.id}, {"path", s.path}, {"remote_addr", s.remote_addr}, {"state", s.state}};
  };
  e.family("rtsp_sessions", "gauge", "RTSP sessions: 1 per session.");
  for (const auto& s : sessions) {
    e.sample("rtsp_sessions", labels(s), std::uint64_t{1});
  }
  e.family("rtsp_sessions_bytes_sent", "gauge", "Bytes sent to the RTSP session.");
  for (const auto& s : sessions) {
    e.sample("rtsp_sessions_bytes_sent", labels(s), s.bytes_sent);
  }
  e.family("veter_rtsp_session_frames_skipped_total", "counter",
           "Access units not sent to the session while it caught up (rtsp.viewer_max_delay).");
  for (const auto& s : sessions) {
    e.sample("veter_rtsp_session_frames_skipped_total", labels(s), s.frames_skipped);
  }
  e.family("veter_rtsp_session_catch_ups_total", "counter",
           "Times the session skipped to the next keyframe because it was more than rtsp.viewer_max_delay behind.");
  for (const auto& s : sessions) {
    e.sample("veter_rtsp_session_catch_ups_total", labels(s), s.catch_ups);
  }
}

void webrtc_series(Exposition& e, const std::vector<WebrtcSessionSnapshot>& sessions) {
  auto labels = [](const WebrtcSessionSnapshot& s) {
    return Labels{{"id", s.id}, {"path", s.path}, {"remote_addr", s.remote_addr}, {"state", s.state}};
  };
  e.family("webrtc_sessions", "gauge", "WebRTC (WHEP) sessions: 1 per session.");
  for (const auto& s : sessions) {
    e.sample("webrtc_sessions", labels(s), std::uint64_t{1});
  }
  e.family("webrtc_sessions_bytes_sent", "gauge", "RTP bytes sent to the WebRTC session (before SRTP).");
  for (const auto& s : sessions) {
    e.sample("webrtc_sessions_bytes_sent", labels(s), s.bytes_sent);
  }
}

void ingest_series(Exposition& e, const std::vector<PathSnapshot>& paths) {
  e.family("veter_path_ready", "gauge", "1 when the path is ready (SPS, PPS and an IDR seen, packets flowing).");
  for (const auto& p : paths) {
    e.sample("veter_path_ready", {{"name", p.name}}, std::uint64_t{p.ready ? 1U : 0U});
  }
  e.family("veter_ingest_packets_total", "counter", "RTP packets accepted on the path's ingest.");
  for (const auto& p : paths) {
    e.sample("veter_ingest_packets_total", {{"name", p.name}}, p.ingest.packets);
  }
  e.family("veter_ingest_bytes_total", "counter", "RTP bytes accepted on the path's ingest.");
  for (const auto& p : paths) {
    e.sample("veter_ingest_bytes_total", {{"name", p.name}}, p.ingest.bytes);
  }
  e.family("veter_ingest_packets_lost_total", "counter", "RTP packets missing (sequence number gaps).");
  for (const auto& p : paths) {
    e.sample("veter_ingest_packets_lost_total", {{"name", p.name}}, p.ingest.lost);
  }
  e.family("veter_ingest_packets_reordered_total", "counter", "RTP packets that arrived late or out of order.");
  for (const auto& p : paths) {
    e.sample("veter_ingest_packets_reordered_total", {{"name", p.name}}, p.ingest.reordered);
  }
  e.family("veter_ingest_takeovers_total", "counter",
           "Times another source took the path from a publisher silent for ingest.timeout (ingest.takeover).");
  for (const auto& p : paths) {
    e.sample("veter_ingest_takeovers_total", {{"name", p.name}}, p.ingest.takeovers);
  }
  e.family("veter_ingest_dropped_total", "counter", "Datagrams dropped on the path's ingest, by reason.");
  for (const auto& p : paths) {
    for (const auto& [reason, n] : p.ingest.dropped) {
      e.sample("veter_ingest_dropped_total", {{"name", p.name}, {"reason", reason}}, n);
    }
  }
  e.family("veter_ingest_jitter_seconds", "gauge", "RTP interarrival jitter (RFC 3550).");
  for (const auto& p : paths) {
    e.sample("veter_ingest_jitter_seconds", {{"name", p.name}}, p.ingest.jitter_ms / 1000.0);
  }
  struct RepairCounter {
    const char* name;
    const char* help;
    std::uint64_t RepairSnapshot::*field;
  };
  for (const RepairCounter& c : {
           RepairCounter{"veter_ingest_nacks_sent_total", "RTCP NACK packets sent to the publisher.",
                         &RepairSnapshot::nacks_sent},
           RepairCounter{"veter_ingest_packets_nacked_total", "Sequence numbers asked for again (retries included).",
                         &RepairSnapshot::nacked_packets},
           RepairCounter{"veter_ingest_packets_repaired_total", "Missing RTP packets that a retransmission filled in time.",
                         &RepairSnapshot::repaired},
           RepairCounter{"veter_ingest_packets_repaired_too_late_total",
                         "Packets (retransmissions included) that arrived after the repair window.",
                         &RepairSnapshot::repaired_too_late},
           RepairCounter{"veter_ingest_packets_unrecoverable_total",
                         "Missing packets given up on after the repair window (then PLI).",
                         &RepairSnapshot::unrecoverable},
           RepairCounter{"veter_ingest_frames_dropped_total", "Incomplete frames not forwarded to viewers.",
                         &RepairSnapshot::frames_dropped},
       }) {
    e.family(c.name, "counter", c.help);
    for (const auto& p : paths) {
      if (p.ingest.repair.enabled) {
        e.sample(c.name, {{"name", p.name}}, p.ingest.repair.*(c.field));
      }
    }
  }
  e.family("veter_ingest_repair_window_seconds", "gauge", "How long a frame may wait for a missing packet.");
  for (const auto& p : paths) {
    if (p.ingest.repair.enabled) {
      e.sample("veter_ingest_repair_window_seconds", {{"name", p.name}}, p.ingest.repair.repair_window_ms / 1000.0);
    }
  }
  e.family("veter_ingest_rtt_seconds", "gauge", "Round trip NACK -> retransmission on the ingest leg.");
  for (const auto& p : paths) {
    if (p.ingest.repair.enabled && p.ingest.repair.rtt_ms) {
      e.sample("veter_ingest_rtt_seconds", {{"name", p.name}}, *p.ingest.repair.rtt_ms / 1000.0);
    }
  }
  e.family("veter_ingest_fps", "gauge", "Access units per second received (last window).");
  for (const auto& p : paths) {
    e.sample("veter_ingest_fps", {{"name", p.name}}, p.ingest.fps);
  }
  e.family("veter_ingest_bitrate", "gauge", "Ingest bit rate in bits per second (last window).");
  for (const auto& p : paths) {
    e.sample("veter_ingest_bitrate", {{"name", p.name}}, p.ingest.bitrate_bps);
  }
  e.family("veter_ingest_last_packet_age_seconds", "gauge", "Time since the last accepted packet.");
  for (const auto& p : paths) {
    if (p.ingest.last_packet_age_ms) {
      e.sample("veter_ingest_last_packet_age_seconds", {{"name", p.name}},
               static_cast<double>(*p.ingest.last_packet_age_ms) / 1000.0);
    }
  }
  e.family("veter_ingest_keyframe_interval_seconds", "gauge", "Time between the last two IDR frames.");
  for (const auto& p : paths) {
    if (p.ingest.keyframe_interval_s) {
      e.sample("veter_ingest_keyframe_interval_seconds", {{"name", p.name}}, *p.ingest.keyframe_interval_s);
    }
  }
  // Recording (paths with record.enabled only; no families when none records).
  if (std::none_of(paths.begin(), paths.end(), [](const PathSnapshot& p) { return p.record.has_value(); })) {
    return;
  }
  e.family("veter_record_recording", "gauge", "1 while the path's recording writes a segment.");
  for (const auto& p : paths) {
    if (p.record) {
      e.sample("veter_record_recording", {{"name", p.name}}, std::uint64_t{p.record->recording ? 1U : 0U});
    }
  }
  e.family("veter_record_error", "gauge", "1 when the path's recording stopped on an error (see the log and API).");
  for (const auto& p : paths) {
    if (p.record) {
      e.sample("veter_record_error", {{"name", p.name}}, std::uint64_t{p.record->error.empty() ? 0U : 1U});
    }
  }
  e.family("veter_record_segments_total", "counter", "Recording segments started.");
  for (const auto& p : paths) {
    if (p.record) {
      e.sample("veter_record_segments_total", {{"name", p.name}}, p.record->segments);
    }
  }
  e.family("veter_record_dropped_total", "counter", "Access units not recorded because the recorder fell behind.");
  for (const auto& p : paths) {
    if (p.record) {
      e.sample("veter_record_dropped_total", {{"name", p.name}}, p.record->dropped);
    }
  }
  e.family("veter_record_deleted_total", "counter", "Recording segments removed by retention.");
  for (const auto& p : paths) {
    if (p.record) {
      e.sample("veter_record_deleted_total", {{"name", p.name}}, p.record->deleted);
    }
  }
}

void process_series(Exposition& e, const ProcessStats& s) {
  e.family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
  e.sample("process_cpu_seconds_total", {}, s.cpu_seconds);
  e.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  e.sample("process_resident_memory_bytes", {}, s.resident_bytes);
  e.family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
  e.sample("process_virtual_memory_bytes", {}, s.virtual_bytes);
  e.family("process_open_fds", "gauge", "Number of open file descriptors.");
  e.sample("process_open_fds", {}, s.open_fds);
  if (s.max_fds > 0) {
    e.family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
    e.sample("process_max_fds", {}, s.max_fds);
  }
  e.family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
  e.sample("process_start_time_seconds", {}, s.start_time_seconds);
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_metrics(const std::vector<PathSnapshot>& paths_in, const std::vector<SessionSnapshot>& sessions_in,
                           const std::optional<ProcessStats>& process, const std::vector<WebrtcSessionSnapshot>* webrtc) {
  auto paths = paths_in;
  std::sort(paths.begin(), paths.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  auto sessions = sessions_in;
  std::sort(sessions.begin(), sessions.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  Exposition e;
  path_series(e, paths);
  session_series(e, sessions);
  if (webrtc != nullptr) {
    auto w = *webrtc;
    std::sort(w.begin(), w.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    webrtc_series(e, w);
  }
  ingest_series(e, paths);
  if (process) {
    process_series(e, *process);
  }
  return e.take();
}

HttpResponse MetricsEndpoint::handle(const HttpRequest& req) const {
  if (req.path != "/metrics") {
    return HttpResponse{404, "application/json", api_error_body("not found"), {}};
  }
  if (req.method != "GET" && req.method != "HEAD") {
    HttpResponse r{405, "application/json", api_error_body("method not allowed"), {}};
    r.headers.emplace_back("Allow", "GET");
    return r;
  }
  const auto webrtc = model_.webrtc_sessions();
  return HttpResponse{200, kMetricsContentType,
                      render_metrics(model_.paths(), model_.sessions(), read_process_stats(),
                                     model_.webrtc_enabled() ? &webrtc : nullptr),
                      {}};
}

std::unique_ptr<HttpServer> start_metrics_server(const HttpListenerConfig& cfg, RelayModel& model) {
  if (!cfg.enabled) {
    return nullptr;
  }
  auto endpoint = std::make_shared<MetricsEndpoint>(model);
  return std::make_unique<HttpServer>("metrics", cfg.listen,
                                      [endpoint](const HttpRequest& req) { return endpoint->handle(req); });
}

}  // namespace veter::relay
