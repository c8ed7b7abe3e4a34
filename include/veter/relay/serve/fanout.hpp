// Fan-out of one path's RTP packets into its shared RTSP media.
//
// One GstRTSPMediaFactory per path builds a media that is only an appsrc
// (veterrtpsrc, named pay0; shared, never suspended): the publisher's RTP packets are forwarded as
// they are, one buffer list per access unit, with SSRC, sequence number and
// timestamp rewritten by an RtpRewriter so that viewers see one continuous
// line across publisher restarts. No depayloading or re-payloading: that is
// the relay's whole per-packet cost besides the sockets.
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "veter/common/gst_ptr.hpp"
#include "veter/relay/rtp/rtp_rewriter.hpp"

namespace veter::relay {

namespace detail {
struct SinkWatch;  // what one of a media's sinks has received (fanout.cpp)
struct Drain;
}  // namespace detail

/// A viewer waiting to be resumed at the next keyframe (Fanout::resume_at_keyframe).
struct ResumeTicket {
  std::atomic<bool> resumed{false};
  std::uint64_t wire_position = 0;  // Fanout::wire_bytes() just before the keyframe (valid once resumed)
  std::uint64_t access_units = 0;   // Fanout::access_units() just before it
};

class Fanout {
 public:
  /// `protocols`: GstRTSPLowerTrans flags the factory offers; `payload_type`: the ingest's.
  Fanout(std::string path_name, GstRTSPLowerTrans protocols, int payload_type = 96);
  ~Fanout();
  Fanout(const Fanout&) = delete;
  Fanout& operator=(const Fanout&) = delete;

  [[nodiscard]] GstRTSPMediaFactory* factory() const { return factory_.get(); }
  /// Streaming thread: one access unit's RTP packets as the publisher sent them (transfer none).
  void push(GstBufferList* au);
  /// Streaming thread: the publisher's current SPS and PPS (NAL units without start code).
  void set_parameter_sets(std::vector<std::uint8_t> sps, std::vector<std::uint8_t> pps);
  /// Main loop (the RTSP clients' handlers), from the PLAY request's start (before gst-rtsp-server
  /// reads RTP-Info) to its end (after the viewer's transport is added): while a
  /// join is open, access units are held back instead of pushed, and the
  /// media's RTP-Info names the packet that comes next. When the last open join
  /// ends, the held access units go out, led by a STAP-A with the parameter sets
  /// stamped with the timestamp of the picture that follows it. So the first
  /// packet every joining viewer receives is exactly the one its RTP-Info names.
  /// A join not ended within kMaxJoinHold is dropped (a PLAY that failed).
  void begin_join();
  void end_join();
  /// True when a media is prepared (someone has DESCRIBEd/SETUP and it is running).
  [[nodiscard]] bool has_media() const;
  /// Viewers currently playing (maintained by the RTSP layer); scales bytes_sent. While
  /// it is 0 the media gets no packets (only a new media's parameter sets).
  void set_playing_viewers(int n) { playing_.store(n); }
  /// RTP bytes handed to the media (one copy, i.e. per viewer).
  [[nodiscard]] std::uint64_t payload_bytes() const { return payload_bytes_.load(); }
  /// Interleaved bytes (RTP + 4-byte framing) of every access unit handed to the media so far: a TCP
  /// viewer's position in the stream is its acknowledged byte count mapped onto this line.
  [[nodiscard]] std::uint64_t wire_bytes() const { return wire_bytes_.load(); }
  /// Access units handed to the media so far.
  [[nodiscard]] std::uint64_t access_units() const { return access_units_.load(); }
  /// Any thread: how long ago the access unit holding wire byte `position` was
  /// handed to the media (0 when the position is at or past the end; the oldest
  /// remembered age, about 30 s, when it is further back than that).
  [[nodiscard]] std::chrono::nanoseconds age_at(std::uint64_t position) const;
  /// Any thread: activate `transport` (a viewer skipped) just before the next
  /// access unit that holds an IDR goes out, and fill `ticket` then.
  void resume_at_keyframe(common::GObjectPtr<GstRTSPStreamTransport> transport, std::shared_ptr<ResumeTicket> ticket);
  /// Any thread: forget a pending resume (the viewer's session ended).
  void cancel_resume(const std::shared_ptr<ResumeTicket>& ticket);
  /// RTP bytes sent to all viewers together.
  [[nodiscard]] std::uint64_t bytes_sent() const { return bytes_sent_.load(); }

 private:
  struct Entry;
  static void on_deep_element_added(GstBin* pipeline, GstBin* sub_bin, GstElement* element, gpointer entry);
  /// begin_join's part under the lock: the sinks to wait for and the last packet pushed to each.
  std::vector<std::pair<std::shared_ptr<detail::SinkWatch>, int>> open_join();
  static void on_media_configure(GstRTSPMediaFactory* factory, GstRTSPMedia* media, gpointer self);
  static void on_media_unprepared(GstRTSPMedia* media, gpointer self);
  static void on_need_data(GstElement* appsrc, guint length, gpointer self);
  void attach(GstRTSPMedia* media);
  void detach(GstRTSPMedia* media);
  // Called with mutex_ held.
  [[nodiscard]] common::CapsPtr caps_locked() const;
  [[nodiscard]] common::BufferPtr parameter_set_packet_locked(RtpRewriter::Numbers numbers) const;
  void push_locked(Entry& e, GstBufferList* list, RtpRewriter::Numbers last);
  [[nodiscard]] std::vector<Entry*> live_locked() const;
  void forward_locked(GstBufferList* au, std::int64_t now_ns);
  void release_held_locked(std::int64_t now_ns);

  std::string name_;
  int payload_type_;
  common::GObjectPtr<GstRTSPMediaFactory> factory_;
  common::SignalConnection configure_;
  std::shared_ptr<detail::Drain> drain_;  // sinks' progress, for begin_join
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Entry>> entries_;
  std::vector<std::uint8_t> sps_;  // the publisher's current parameter sets
  std::vector<std::uint8_t> pps_;
  RtpRewriter rewriter_;
  int joins_ = 0;                          // open joins (PLAY requests between RTP-Info and transport)
  std::int64_t join_since_ns_ = 0;         // when the first of them began
  bool join_parameter_sets_ = false;       // the next access unit goes out led by the parameter sets
  std::vector<common::BufferListPtr> held_;  // access units that arrived during open joins
  std::atomic<int> playing_{0};
  std::atomic<std::uint64_t> payload_bytes_{0};
  std::atomic<std::uint64_t> bytes_sent_{0};
  std::atomic<std::uint64_t> wire_bytes_{0};
  std::atomic<std::uint64_t> access_units_{0};
  struct Sent {
    std::uint64_t wire_end;  // wire_bytes_ after this access unit
    std::int64_t at_ns;      // when it was handed to the media
  };
  std::deque<Sent> sent_;  // the last kSentKept access units (fan-out lock)
  std::vector<std::pair<common::GObjectPtr<GstRTSPStreamTransport>, std::shared_ptr<ResumeTicket>>> resumes_;
};

}  // namespace veter::relay
