#include "veter/relay/record/recorder.hpp"

#include <gst/app/gstappsrc.h>
#include <gst/rtp/gstrtpbuffer.h>

#include <filesystem>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "veter/relay/rtp/rtp_h264.hpp"
#include "veter/relay/rtp/sps_info.hpp"

namespace veter::relay {

namespace {
constexpr std::uint64_t kRtpClock = 90000;
// More than this much queued in front of the recording pipeline = it has fallen behind.
constexpr guint64 kMaxQueuedBytes = 8ULL << 20;
constexpr auto kFinishTimeout = std::chrono::seconds(5);
constexpr auto kRetentionEvery = std::chrono::seconds(5);

struct AccessUnitInfo {
  bool idr = false;
  std::optional<std::uint32_t> rtp_ts;
  std::optional<TrackSnapshot> size;  // from an SPS in this access unit
};

AccessUnitInfo inspect(GstBufferList* au) {
  AccessUnitInfo info;
  const guint n = gst_buffer_list_length(au);
  for (guint i = 0; i < n; ++i) {
    GstBuffer* b = gst_buffer_list_get(au, i);
    common::MappedRtpBuffer rtp(b, GST_MAP_READ);
    if (!rtp) {
      continue;
    }
    if (!info.rtp_ts) {
      info.rtp_ts = gst_rtp_buffer_get_timestamp(rtp.get());
    }
    const auto h = inspect_h264_payload(rtp.payload());
    info.idr = info.idr || h.idr;
    if (!info.size) {
      for (const auto& sps : h.sps_units) {
        if (auto t = parse_sps(sps)) {
          info.size = t;
          break;
        }
      }
    }
  }
  return info;
}
}  // namespace

struct Recorder::Session {
  common::ElementPtr pipeline;
  GstElement* appsrc = nullptr;  // owned by pipeline
  Recorder::SystemClock::time_point base_utc;  // wall clock of PTS 0
  int width = 0;
  int height = 0;
  std::chrono::steady_clock::time_point eos_sent{};
  std::string file;  // the segment this session writes
};

Recorder::Recorder(std::string path_name, RecordConfig cfg)
    : name_(std::move(path_name)),
      cfg_(std::move(cfg)),
      dir_(recording_directory(name_, cfg_)),
      segment_ticks_(static_cast<std::uint64_t>(cfg_.segment.count()) * kRtpClock / 1000) {
  status_.enabled = cfg_.enabled;
  status_.directory = dir_;
}

Recorder::~Recorder() { stop(); }

void Recorder::start() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) {
    fail(fmt::format("cannot create {}: {}", dir_, ec.message()));
    return;
  }
  spdlog::info("path {}: recording to {} (segments of {}, fragments of at most 1s)", name_, dir_,
               common::format_duration(cfg_.segment));
  enforce_retention();
}

void Recorder::stop() {
  std::vector<std::unique_ptr<Session>> sessions;
  {
    std::lock_guard lock(mutex_);
    end_session_locked();
    sessions = std::move(finishing_);
    finishing_.clear();
    status_.recording = false;
    status_.current_file.clear();
  }
  for (auto& s : sessions) {
    // Wait (bounded) for the muxer to write the last fragment and finish the file.
    common::BusPtr bus(gst_element_get_bus(s->pipeline.get()));
    common::MessagePtr m(gst_bus_timed_pop_filtered(
        bus.get(), static_cast<GstClockTime>(std::chrono::nanoseconds(kFinishTimeout).count()),
        static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
    gst_element_set_state(s->pipeline.get(), GST_STATE_NULL);
  }
}

std::unique_ptr<Recorder::Session> Recorder::make_session(int width, int height, SystemClock::time_point start) {
  const std::string file = (std::filesystem::path(dir_) / segment_file_name(start)).string();
  GError* err = nullptr;
  // Fragments of at most 1 s (mp4mux also starts one at each keyframe), written unbuffered.
  auto pipeline = common::adopt_floating(gst_parse_launch(
      "appsrc name=src is-live=true format=time do-timestamp=false block=false "
      "caps=\"application/x-rtp,media=video,clock-rate=90000,encoding-name=H264\" "
      "! rtph264depay ! h264parse ! mp4mux fragment-duration=1000 "
      "! filesink name=sink buffer-mode=unbuffered sync=false async=false",
      &err));
  common::GErrorPtr e(err);
  if (e || !pipeline) {
    fail_locked(fmt::format("cannot build the recording pipeline: {}", e ? e->message : "?"));
    return nullptr;
  }
  auto s = std::make_unique<Session>();
  s->pipeline = std::move(pipeline);
  s->width = width;
  s->height = height;
  s->base_utc = start;
  s->file = file;
  common::ElementPtr appsrc(gst_bin_get_by_name(GST_BIN(s->pipeline.get()), "src"));
  common::ElementPtr sink(gst_bin_get_by_name(GST_BIN(s->pipeline.get()), "sink"));
  s->appsrc = appsrc.get();  // the pipeline keeps its own reference
  g_object_set(sink.get(), "location", file.c_str(), nullptr);
  if (gst_element_set_state(s->pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    gst_element_set_state(s->pipeline.get(), GST_STATE_NULL);
    fail_locked(fmt::format("the recording pipeline does not start ({})", file));
    return nullptr;
  }
  status_.current_file = file;
  status_.recording = true;
  ++status_.segments;
  spdlog::info("path {}: recording segment {}", name_, file);
  return s;
}

void Recorder::end_session_locked() {
  if (session_) {
    gst_app_src_end_of_stream(GST_APP_SRC(session_->appsrc));
    session_->eos_sent = std::chrono::steady_clock::now();
    finishing_.push_back(std::move(session_));
  }
  wait_keyframe_ = true;
}

void Recorder::push(GstBufferList* au) {
  const AccessUnitInfo info = inspect(au);
  if (!info.rtp_ts) {
    return;
  }
  std::lock_guard lock(mutex_);
  if (failed_ || !cfg_.enabled) {
    return;
  }
  // Unwrapped RTP time; a jump backwards or of more than 10 s is a new publisher clock.
  bool discontinuity = false;
  std::uint64_t ts = *info.rtp_ts;
  if (last_ts_) {
    const auto delta = static_cast<std::int32_t>(*info.rtp_ts - last_rtp_ts_);
    if (delta < -static_cast<std::int64_t>(kRtpClock) || delta > static_cast<std::int64_t>(10 * kRtpClock)) {
      discontinuity = true;
      ts = *last_ts_ + kRtpClock;  // a fresh session starts at its own zero anyway
    } else {
      ts = *last_ts_ + static_cast<std::uint64_t>(std::max<std::int64_t>(0, delta));
    }
  } else {
    ts = kRtpClock * 1000;  // room below for small backward steps
  }
  last_ts_ = ts;
  last_rtp_ts_ = *info.rtp_ts;
  if (info.size) {
    width_ = info.size->width;
    height_ = info.size->height;
  }
  std::optional<SystemClock::time_point> next_start;  // of a segment that follows on seamlessly
  if (session_ && (discontinuity || session_->width != width_ || session_->height != height_)) {
    spdlog::info("path {}: {}: new recording segment", name_,
                 discontinuity ? "publisher clock jumped" : fmt::format("picture size {}x{}", width_, height_));
    end_session_locked();
  } else if (session_ && info.idr && ts - first_ts_ >= segment_ticks_) {
    // The first keyframe after `segment`: this one starts the next file, on the same timeline.
    next_start = session_->base_utc + std::chrono::duration_cast<SystemClock::duration>(
                                          std::chrono::microseconds((ts - first_ts_) * 1'000'000 / kRtpClock));
    end_session_locked();
  }
  if (session_ && gst_app_src_get_current_level_bytes(GST_APP_SRC(session_->appsrc)) > kMaxQueuedBytes) {
    ++status_.dropped;
    wait_keyframe_ = true;  // resume at the next keyframe
    return;
  }
  if (wait_keyframe_) {
    if (!info.idr || width_ == 0) {
      return;
    }
    wait_keyframe_ = false;
    if (!session_) {
      session_ = make_session(width_, height_, next_start.value_or(SystemClock::now()));
      if (!session_) {
        return;
      }
      first_ts_ = ts;
    }
  }
  if (!session_) {
    return;
  }
  const GstClockTime pts = gst_util_uint64_scale(ts - first_ts_, GST_SECOND, kRtpClock);
  common::BufferListPtr list(gst_buffer_list_new_sized(gst_buffer_list_length(au)));
  const guint n = gst_buffer_list_length(au);
  for (guint i = 0; i < n; ++i) {
    GstBuffer* copy = gst_buffer_copy(gst_buffer_list_get(au, i));  // shares the memory
    GST_BUFFER_PTS(copy) = pts;
    GST_BUFFER_DTS(copy) = pts;
    gst_buffer_list_add(list.get(), copy);
  }
  gst_app_src_push_buffer_list(GST_APP_SRC(session_->appsrc), list.release());
}

void Recorder::fail(const std::string& why) {
  std::lock_guard lock(mutex_);
  fail_locked(why);
}

void Recorder::fail_locked(const std::string& why) {
  spdlog::error("path {}: recording stopped: {}", name_, why);
  failed_ = true;
  status_.error = why;
  status_.recording = false;
}

void Recorder::poll_session(Session& s, bool& finished) {
  common::BusPtr bus(gst_element_get_bus(s.pipeline.get()));
  while (common::MessagePtr m{gst_bus_pop_filtered(
             bus.get(), static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_WARNING))}) {
    if (GST_MESSAGE_TYPE(m.get()) == GST_MESSAGE_EOS) {
      finished = true;
      continue;
    }
    GError* err = nullptr;
    gchar* debug = nullptr;
    const bool error = GST_MESSAGE_TYPE(m.get()) == GST_MESSAGE_ERROR;
    if (error) {
      gst_message_parse_error(m.get(), &err, &debug);
    } else {
      gst_message_parse_warning(m.get(), &err, &debug);
    }
    common::GErrorPtr e(err);
    common::GCharPtr d(debug);
    const std::string text = fmt::format("{} ({})", e ? e->message : "?", s.file);
    if (error) {
      fail(text);
      finished = true;
    } else {
      spdlog::warn("path {}: recording: {}", name_, text);
    }
  }
}

void Recorder::tick() {
  if (!cfg_.enabled) {
    return;
  }
  // The sessions' pipelines are only set to NULL here (main loop), outside mutex_: push() and
  // the segment-name callback take mutex_ and must never wait for a state change.
  std::vector<std::unique_ptr<Session>> done;
  {
    std::unique_lock lock(mutex_);
    std::vector<Session*> all;
    if (session_) {
      all.push_back(session_.get());
    }
    for (auto& s : finishing_) {
      all.push_back(s.get());
    }
    lock.unlock();
    std::vector<Session*> finished_now;
    for (Session* s : all) {
      bool finished = false;
      poll_session(*s, finished);
      if (finished || (s->eos_sent != std::chrono::steady_clock::time_point{} &&
                       std::chrono::steady_clock::now() - s->eos_sent > kFinishTimeout)) {
        finished_now.push_back(s);
      }
    }
    lock.lock();
    for (Session* f : finished_now) {
      if (session_.get() == f) {
        done.push_back(std::move(session_));
        wait_keyframe_ = true;
      }
      for (auto it = finishing_.begin(); it != finishing_.end(); ++it) {
        if (it->get() == f) {
          done.push_back(std::move(*it));
          finishing_.erase(it);
          break;
        }
      }
    }
    if (!session_ && finishing_.empty()) {
      status_.recording = false;
      status_.current_file.clear();
    }
  }
  for (auto& s : done) {
    gst_element_set_state(s->pipeline.get(), GST_STATE_NULL);
  }
  if (std::chrono::steady_clock::now() - last_retention_ > kRetentionEvery) {
    enforce_retention();
  }
}

void Recorder::enforce_retention() {
  last_retention_ = std::chrono::steady_clock::now();
  std::string keep;
  {
    std::lock_guard lock(mutex_);
    keep = status_.current_file;
  }
  for (const auto& s : segments_to_delete(list_segments(dir_), cfg_.retention, SystemClock::now(), keep)) {
    std::error_code ec;
    if (std::filesystem::remove(s.path, ec)) {
      spdlog::info("path {}: retention removed {} ({} bytes)", name_, s.path, s.bytes);
      std::lock_guard lock(mutex_);
      ++status_.deleted;
    } else if (ec) {
      spdlog::warn("path {}: retention cannot remove {}: {}", name_, s.path, ec.message());
    }
  }
}

RecordStatus Recorder::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

}  // namespace veter::relay
