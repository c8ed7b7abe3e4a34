#include "veter/relay/relay.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "veter/relay/serve/fanout.hpp"
#include "veter/relay/ingest/ingest.hpp"
#include "veter/relay/record/recorder.hpp"
#include "veter/relay/serve/rtsp_server.hpp"
#include "veter/relay/webrtc/webrtc_fanout.hpp"
#include "veter/relay/webrtc/whep_server.hpp"

namespace veter::relay {

struct Relay::Path {
  PathConfig cfg;
  std::unique_ptr<Fanout> fanout;
  std::unique_ptr<Recorder> recorder;  // paths.<name>.record.enabled
  std::unique_ptr<WebrtcFanout> webrtc;  // null when webrtc is disabled
  std::unique_ptr<Ingest> ingest;
};

namespace {
GstRTSPLowerTrans protocols_of(const RtspConfig& cfg) {
  int flags = 0;
  for (const auto& t : served_transports(cfg)) {
    flags |= t == "tcp" ? GST_RTSP_LOWER_TRANS_TCP : GST_RTSP_LOWER_TRANS_UDP;
  }
  return static_cast<GstRTSPLowerTrans>(flags);
}
}  // namespace

Relay::Relay(RelayConfig cfg) : cfg_(std::move(cfg)) {
  std::vector<MountTarget> mounts;
  for (const auto& pc : cfg_.paths) {
    auto p = std::make_unique<Path>();
    p->cfg = pc;
    p->fanout = std::make_unique<Fanout>(pc.name, protocols_of(cfg_.rtsp), pc.ingest.payload_type);
    Fanout* fanout = p->fanout.get();
    if (pc.record.enabled) {
      p->recorder = std::make_unique<Recorder>(pc.name, pc.record);
    }
    Recorder* recorder = p->recorder.get();
    if (cfg_.webrtc.enabled) {
      p->webrtc = std::make_unique<WebrtcFanout>();
    }
    WebrtcFanout* webrtc = p->webrtc.get();
    p->ingest = std::make_unique<Ingest>(
        pc,
        [fanout, webrtc, recorder](GstBufferList* au) {
          fanout->push(au);  // viewers first; the recorder never blocks (see recorder.hpp)
          if (webrtc != nullptr) {
            webrtc->push(au);
          }
          if (recorder != nullptr) {
            recorder->push(au);
          }
        },
        [fanout](std::vector<std::uint8_t> sps, std::vector<std::uint8_t> pps) {
          fanout->set_parameter_sets(std::move(sps), std::move(pps));
        });
    Path* raw = p.get();
    p->ingest->on_ready_changed([this, raw](bool ready) {
      if (ready_cb_) {
        ready_cb_(snapshot(*raw), ready);
      }
    });
    if (pc.on_size_change == "reconnect") {
      p->ingest->on_size_changed([this, name = pc.name](const std::string& change) {
        const auto n = rtsp_->end_sessions_of(name);
        spdlog::warn("path {}: resolution changed {}: ended {} viewer session(s) so players reopen at the new "
                     "size (on_size_change: reconnect)",
                     name, change, n);
      });
    }
    const auto max_delay = pc.viewer_max_delay.count() == 0 ? cfg_.rtsp.viewer_max_delay : pc.viewer_max_delay;
    mounts.push_back(MountTarget{pc.name, pc.max_readers, p->ingest.get(), fanout, max_delay});
    paths_.push_back(std::move(p));
  }
  rtsp_ = std::make_unique<RtspServer>(cfg_.rtsp, std::move(mounts));
  if (cfg_.webrtc.enabled) {
    std::map<std::string, WebrtcFanout*> fanouts;
    for (auto& p : paths_) {
      fanouts[p->cfg.name] = p->webrtc.get();
    }
    whep_ = std::make_unique<WhepServer>(cfg_, std::move(fanouts), [this](const std::string& path, const char* why) {
      for (auto& p : paths_) {
        if (p->cfg.name == path) {
          p->ingest->request_keyframe(why);  // main loop; rate-limited by the ingest
        }
      }
    });
  }
}

Relay::~Relay() { stop(); }

void Relay::start() {
  for (auto& p : paths_) {
    if (p->recorder) {
      p->recorder->start();
    }
    p->ingest->start();
  }
  rtsp_->start();
  if (whep_) {
    whep_->start();
  }
  tick_.reset(g_timeout_add(100, &Relay::on_tick, this));
  const auto interval = static_cast<guint>(std::max<long long>(100, cfg_.stats_interval.count()));
  stats_.reset(g_timeout_add(interval, &Relay::on_stats, this));
}

void Relay::stop() {
  tick_.reset();
  stats_.reset();
  if (whep_) {
    whep_->stop();
  }
  if (rtsp_) {
    rtsp_->stop();
  }
  for (auto& p : paths_) {
    p->ingest->stop();
    if (p->recorder) {
      p->recorder->stop();  // after ingest: no more pushes; finishes the current segment
    }
  }
}

gboolean Relay::on_tick(gpointer self) {
  auto* me = static_cast<Relay*>(self);
  for (auto& p : me->paths_) {
    p->ingest->tick();
    if (p->recorder) {
      p->recorder->tick();
    }
  }
  me->rtsp_->tick();
  return G_SOURCE_CONTINUE;
}

gboolean Relay::on_stats(gpointer self) {
  static_cast<const Relay*>(self)->log_stats();
  return G_SOURCE_CONTINUE;
}

PathSnapshot Relay::snapshot(const Path& p) const {
  PathSnapshot s;
  s.name = p.cfg.name;
  s.conf_name = p.cfg.name;
  s.ready = p.ingest->ready();
  s.ready_time = p.ingest->ready_time();
  s.ingest = p.ingest->snapshot();
  if (s.ready && !s.ingest.publisher_addr.empty()) {
    s.source_id = s.ingest.publisher_addr.find(':') != std::string::npos
                      ? fmt::format("[{}]:{}", s.ingest.publisher_addr, s.ingest.publisher_port)
                      : fmt::format("{}:{}", s.ingest.publisher_addr, s.ingest.publisher_port);
  }
  s.track = p.ingest->track();
  if (s.track) {
    s.tracks = {s.track->codec};
  }
  s.bytes_received = p.ingest->bytes_received();
  s.bytes_sent = p.fanout->bytes_sent() + (p.webrtc ? p.webrtc->bytes_sent() : 0);
  s.reader_ids = rtsp_->reader_ids(p.cfg.name);
  if (p.recorder) {
    s.record = p.recorder->status();
  }
  return s;
}

std::vector<PathSnapshot> Relay::paths() const {
  std::vector<PathSnapshot> out;
  for (const auto& p : paths_) {
    out.push_back(snapshot(*p));
  }
  return out;
}

std::optional<PathSnapshot> Relay::path(const std::string& name) const {
  for (const auto& p : paths_) {
    if (p->cfg.name == name) {
      return snapshot(*p);
    }
  }
  return std::nullopt;
}

std::vector<SessionSnapshot> Relay::sessions() const { return rtsp_->sessions(); }

bool Relay::kick(const std::string& session_id) {
  const bool ok = rtsp_->kick(session_id);
  if (ok) {
    spdlog::info("RTSP session {} kicked", session_id);
  }
  return ok;
}

std::vector<WebrtcSessionSnapshot> Relay::webrtc_sessions() const {
  return whep_ ? whep_->sessions() : std::vector<WebrtcSessionSnapshot>{};
}

bool Relay::kick_webrtc(const std::string& session_id) { return whep_ && whep_->kick(session_id); }

std::uint16_t Relay::webrtc_port() const { return whep_ ? whep_->port() : 0; }

void Relay::log_stats() const {
  for (const auto& p : paths_) {
    const auto s = snapshot(*p);
    std::string dropped;
    std::uint64_t dropped_total = 0;
    for (const auto& [reason, n] : s.ingest.dropped) {
      if (n > 0) {
        dropped += fmt::format(" {}={}", reason, n);
        dropped_total += n;
      }
    }
    std::string repair;
    if (const auto& r = s.ingest.repair; r.enabled) {
      repair = fmt::format(" rtt={} repair_window={:.0f}ms nacks={} repaired={} too_late={} unrecoverable={} "
                           "frames_dropped={}",
                           r.rtt_ms ? fmt::format("{:.1f}ms", *r.rtt_ms) : std::string("-"), r.repair_window_ms,
                           r.nacks_sent, r.repaired, r.repaired_too_late, r.unrecoverable, r.frames_dropped);
    }
    spdlog::info("stats {}: {} publisher={} in={:.2f}Mbit/s fps={:.1f} packets={} lost={} reordered={} "
                 "jitter={:.2f}ms keyframe_requests={}{} viewers={} out={:.2f}MB dropped={}{}",
                 s.name, s.ready ? "ready" : "not-ready",
                 s.ingest.publisher_addr.empty() ? "-"
                                                 : fmt::format("{}:{}", s.ingest.publisher_addr, s.ingest.publisher_port),
                 s.ingest.bitrate_bps / 1e6, s.ingest.fps, s.ingest.packets, s.ingest.lost, s.ingest.reordered,
                 s.ingest.jitter_ms, p->ingest->keyframe_requests_sent(), repair, s.reader_ids.size(),
                 static_cast<double>(s.bytes_sent) / 1e6, dropped_total, dropped);
  }
}

}  // namespace veter::relay
