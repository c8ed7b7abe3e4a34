// Recording of one path: the forwarded RTP packets, without re-encoding, into fragmented MP4
// segments on disk (docs/recording.md).
//
// A session is one segment file, written by one GStreamer pipeline appsrc ! rtph264depay !
// h264parse ! mp4mux (1 s fragments) ! filesink (unbuffered). A session starts at a keyframe;
// the first keyframe after `segment` ends it (EOS finishes the file) and starts the next one on
// the same timeline; so do a picture-size change and a jump of the publisher's RTP clock (a
// restarted publisher). Segments are named by their UTC start time,
// <dir>/<path>/YYYY-MM-DD_HH-MM-SS-ffffff.mp4. Each finished fragment (moof + mdat) is written
// straight to the kernel, so a killed relay loses at most the fragment being collected (<= 1 s).
//
// Threads and owners:
//   push()            ingest streaming thread (the only caller): timestamps, keyframe gate,
//                     session switch; pushes into appsrc, never blocks (when the recording
//                     pipeline falls behind, access units are dropped and counted, and recording
//                     resumes at the next keyframe).
//   recording pipeline its own streaming threads (depay, mux, file writes).
//   start/stop/tick, status, retention: the main loop. tick() polls the sessions' buses:
//                     an error (disk full, unwritable directory) stops recording for this path
//                     with the error in the log, status() (API, metrics); the relay and its
//                     viewers go on.
// Mutable state shared between these threads is behind mutex_.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "veter/common/gst_ptr.hpp"
#include "veter/relay/conf/relay_config.hpp"
#include "veter/relay/relay_model.hpp"

namespace veter::relay {

using RecordStatus = RecordSnapshot;

class Recorder {
 public:
  using SystemClock = std::chrono::system_clock;

  Recorder(std::string path_name, RecordConfig cfg);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  /// Main loop: create the directory (an error stops recording, it does not throw).
  void start();
  /// Main loop: finish the current segment (bounded) and stop.
  void stop();
  /// Main loop, ~every 100 ms: session buses, finished sessions, retention (every few seconds).
  void tick();
  /// Ingest streaming thread: one access unit's RTP packets (transfer none).
  void push(GstBufferList* au);

  [[nodiscard]] RecordStatus status() const;
  [[nodiscard]] const std::string& directory() const { return dir_; }

 private:
  struct Session;
  std::unique_ptr<Session> make_session(int width, int height, SystemClock::time_point start);  // mutex_ held
  void end_session_locked();
  void fail(const std::string& why);
  void fail_locked(const std::string& why);
  void poll_session(Session& s, bool& finished);
  void enforce_retention();

  std::string name_;
  RecordConfig cfg_;
  std::string dir_;
  std::uint64_t segment_ticks_;  // cfg_.segment in RTP clock ticks

  mutable std::mutex mutex_;
  std::unique_ptr<Session> session_;                 // receiving access units
  std::vector<std::unique_ptr<Session>> finishing_;  // EOS sent, waiting for the last write
  RecordStatus status_;
  bool failed_ = false;

  // Ingest-streaming-thread state (push() only).
  std::optional<std::uint64_t> last_ts_;  // unwrapped RTP timestamp of the last access unit
  std::uint32_t last_rtp_ts_ = 0;         // ... as it was on the wire
  std::uint64_t first_ts_ = 0;            // of the session's first access unit
  int width_ = 0;
  int height_ = 0;
  bool wait_keyframe_ = true;

  // Main-loop state.
  std::chrono::steady_clock::time_point last_retention_{};
};

/// <record.dir>/<path name>: where a path's segments are.
std::string recording_directory(const std::string& path_name, const RecordConfig& cfg);
/// "2026-12-01_21-40-00-123456.mp4" for a segment starting at `t` (UTC).
std::string segment_file_name(std::chrono::system_clock::time_point t);
/// The start time of a segment from its file name; nullopt for other names.
std::optional<std::chrono::system_clock::time_point> parse_segment_file_name(const std::string& name);

/// A segment file on disk.
struct SegmentFile {
  std::string path;
  std::chrono::system_clock::time_point start;
  std::uint64_t bytes = 0;
};
/// The segments in `dir`, oldest first (other files are ignored).
std::vector<SegmentFile> list_segments(const std::string& dir);
/// Which segments retention removes, oldest first: those older than max_age (by start time),
/// then the oldest until the rest fit in max_bytes. `keep` (the one being written) is never chosen.
std::vector<SegmentFile> segments_to_delete(const std::vector<SegmentFile>& segments, const RecordRetention& r,
                                            std::chrono::system_clock::time_point now, const std::string& keep);

}  // namespace veter::relay
