#include "veter/probe/probe_report.hpp"

#include <fmt/format.h>

namespace veter::probe {

namespace {
nlohmann::json opt(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

nlohmann::json summary_json(const std::optional<LatencySummary>& s) {
  if (!s) {
    return nullptr;
  }
  return {{"count", s->count}, {"min", s->min}, {"mean", s->mean}, {"p50", s->p50},
          {"p95", s->p95},     {"p99", s->p99}, {"max", s->max}};
}

std::string ms(const std::optional<double>& v) { return v ? fmt::format("{:.1f} ms", *v) : "-"; }

std::string summary_line(const LatencySummary& s) {
  return fmt::format("p50 {:.1f} ms, p95 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms ({} frames)", s.p50, s.p95,
                     s.p99, s.max, s.count);
}
}  // namespace

nlohmann::json to_json(const ProbeReport& r) {
  nlohmann::json j;
  j["url"] = r.url;
  j["transport"] = r.transport;
  j["decode"] = r.decode;
  j["duration_s"] = r.duration_s;
  j["time_to_connect_ms"] = opt(r.time_to_connect_ms);
  j["time_to_first_frame_ms"] = opt(r.time_to_first_frame_ms);
  j["first_frame_age_ms"] = opt(r.first_frame_age_ms);
  j["frames"] = r.frames;
  j["frames_received"] = r.frames_received;
  j["keyframes"] = r.keyframes;
  j["fps"] = r.fps;
  j["bitrate_kbps"] = r.bitrate_kbps;
  j["bytes"] = r.bytes;
  j["rtp_packets"] = r.rtp_packets;
  j["rtp_lost"] = r.rtp_lost;
  j["frozen"] = {{"count", r.frozen.count},
                 {"total_ms", r.frozen.total_ms},
                 {"longest_ms", r.frozen.longest_ms},
                 {"threshold_ms", r.frozen.threshold_ms}};
  j["width"] = r.width ? nlohmann::json(*r.width) : nlohmann::json(nullptr);
  j["height"] = r.height ? nlohmann::json(*r.height) : nlohmann::json(nullptr);
  j["decode_errors"] = r.decode_errors;
  j["concealed_frames"] = r.concealed_frames;
  j["latency"] = {{"available", r.latency_available()},
                  {"frames_with_timestamp", r.frames_with_timestamp},
                  {"capture_to_arrival_ms", summary_json(r.capture_to_arrival_ms)},
                  {"capture_to_decoded_ms", summary_json(r.capture_to_decoded_ms)},
                  {"negative", r.negative_latencies},
                  {"clock_note", r.clock_note.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.clock_note)}};
  j["not_ready"] = r.not_ready;
  j["error"] = r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error);
  j["exit_code"] = r.exit_code;
  return j;
}

std::string status_line(const ProbeReport& r) {
  std::string s = fmt::format("{:6.1f}s  {:5} frames  {:5.1f} fps  {:6.0f} kbit/s", r.duration_s, r.frames,
                              r.fps, r.bitrate_kbps);
  if (r.capture_to_arrival_ms) {
    s += fmt::format("  latency p50 {:.1f} ms p99 {:.1f} ms", r.capture_to_arrival_ms->p50,
                     r.capture_to_arrival_ms->p99);
  } else {
    s += "  latency -";
  }
  if (r.capture_to_decoded_ms) {
    s += fmt::format("  decoded p50 {:.1f} ms", r.capture_to_decoded_ms->p50);
  }
  s += fmt::format("  frozen {}  lost {}", r.frozen.count, r.rtp_lost);
  if (r.frames == 0 && !r.time_to_connect_ms) {
    s += "  (connecting)";
  } else if (r.frames == 0) {
    s += "  (waiting for a decodable frame)";
  }
  return s;
}

std::string summary_text(const ProbeReport& r) {
  std::string s;
  s += fmt::format("url                  {} ({}{})\n", r.url, r.transport, r.decode ? ", decoding" : "");
  if (!r.error.empty()) {
    s += fmt::format("error                {}\n", r.error);
  }
  s += fmt::format("duration             {:.1f} s\n", r.duration_s);
  s += fmt::format("time to connect      {}\n", ms(r.time_to_connect_ms));
  if (!r.error.empty() && r.frames_received == 0) {
    return s;
  }
  s += fmt::format("time to first frame  {}", ms(r.time_to_first_frame_ms));
  if (r.first_frame_age_ms) {
    s += fmt::format(" (captured {:.1f} ms before it arrived)", *r.first_frame_age_ms);
  }
  s += "\n";
  s += fmt::format("frames               {} ({} received, {} keyframes)\n", r.frames, r.frames_received,
                   r.keyframes);
  s += fmt::format("fps                  {:.2f}\n", r.fps);
  s += fmt::format("bitrate              {:.0f} kbit/s ({} bytes)\n", r.bitrate_kbps, r.bytes);
  s += fmt::format("rtp packets          {} ({} lost)\n", r.rtp_packets, r.rtp_lost);
  s += fmt::format("frozen intervals     {} (> {:.1f} ms; {:.0f} ms in total, longest {:.0f} ms)\n", r.frozen.count,
                   r.frozen.threshold_ms, r.frozen.total_ms, r.frozen.longest_ms);
  if (r.width && r.height) {
    s += fmt::format("picture              {}x{}\n", *r.width, *r.height);
  }
  if (r.decode) {
    s += fmt::format("decode errors        {} ({} concealed frames)\n", r.decode_errors, r.concealed_frames);
  }
  if (r.capture_to_arrival_ms) {
    s += "capture -> arrival   " + summary_line(*r.capture_to_arrival_ms) + "\n";
    if (r.capture_to_decoded_ms) {
      s += "capture -> decoded   " + summary_line(*r.capture_to_decoded_ms) + "\n";
    }
    if (r.negative_latencies > 0) {
      s += fmt::format("warning              {} frames arrived before they were captured: the clocks of the "
                       "publisher and this host are not in sync\n",
                       r.negative_latencies);
    }
    if (!r.clock_note.empty()) {
      s += "note                 " + r.clock_note + "\n";
    }
  } else {
    s += "latency              unavailable: no veter capture-time SEI in the stream\n";
  }
  return s;
}

}  // namespace veter::probe
