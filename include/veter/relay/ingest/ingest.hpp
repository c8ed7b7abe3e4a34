// Always-on ingest for one path: UDP RTP in (filtered and counted per packet),
// each H.264 RTP payload inspected (SPS/PPS/IDR, picture size from the SPS),
// the packets of each access unit handed to the fan-out as they are; RTCP
// receiver reports and keyframe requests (PLI) back to the publisher.
//
// With ingest.srtp_key_file the RTCP socket speaks SRTCP both ways:
// our reports and PLIs are protected (libsrtp2, common::SrtcpContext) and the
// publisher's RTCP is only read (sender reports, its RTCP address) once it has
// authenticated.
//
// Threads (docs/relay.md "Threads"): the packet probe and the access-unit
// callback run on the ingest pipeline's streaming thread and touch only
// atomics, mutex_-protected state and the access unit being assembled;
// everything else (tick, RTCP, snapshots, request_keyframe from a viewer's
// PLAY) runs on the main loop, which also serves the RTSP clients.
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "veter/common/gst_ptr.hpp"
#include "veter/common/srtcp.hpp"
#include "veter/relay/ingest/ingest_repair.hpp"
#include "veter/relay/ingest/ingest_srtp.hpp"
#include "veter/relay/ingest/packet_filter.hpp"
#include "veter/relay/conf/relay_config.hpp"
#include "veter/relay/relay_model.hpp"
#include "veter/relay/rtp/rtp_h264.hpp"
#include "veter/relay/rtp/rtp_stats.hpp"

namespace veter::relay {

class Ingest {
 public:
  /// Called on the streaming thread with each access unit's RTP packets (transfer none).
  using AccessUnitSink = std::function<void(GstBufferList* au)>;
  /// Called on the streaming thread when the publisher's SPS or PPS change (NAL units, no start code).
  using ParameterSetsSink = std::function<void(std::vector<std::uint8_t> sps, std::vector<std::uint8_t> pps)>;
  using Clock = std::chrono::steady_clock;

  Ingest(PathConfig cfg, AccessUnitSink sink, ParameterSetsSink parameter_sets = {});
  ~Ingest();
  Ingest(const Ingest&) = delete;
  Ingest& operator=(const Ingest&) = delete;

  /// Bind the ports and start the pipeline; throws std::runtime_error on failure.
  void start();
  void stop();

  /// Main loop, every ~100 ms: readiness, logs, receiver reports, pending keyframe requests.
  void tick();
  /// Ask the publisher for an IDR (RTCP PLI), at most once per 500 ms. Main loop.
  void request_keyframe(const char* why);
  void on_ready_changed(std::function<void(bool ready)> cb) { ready_cb_ = std::move(cb); }
  /// Main loop: the publisher's picture size changed (`change`: "WxH -> WxH").
  void on_size_changed(std::function<void(const std::string& change)> cb) { size_cb_ = std::move(cb); }

  [[nodiscard]] bool ready() const { return ready_; }
  /// True when an accepted packet arrived within `max_age` (any thread).
  [[nodiscard]] bool receiving(std::chrono::milliseconds max_age) const;
  [[nodiscard]] std::optional<std::chrono::system_clock::time_point> ready_time() const { return ready_time_; }
  [[nodiscard]] IngestSnapshot snapshot() const;
  [[nodiscard]] std::optional<TrackSnapshot> track() const;
  [[nodiscard]] std::uint64_t bytes_received() const { return bytes_.load(); }
  [[nodiscard]] std::uint64_t keyframe_requests_sent() const { return plis_sent_; }
  /// Loss repair counters (main loop); enabled = false when ingest.nack is off.
  [[nodiscard]] RepairSnapshot repair() const { return repair_ ? repair_->snapshot() : RepairSnapshot{}; }
  [[nodiscard]] const PathConfig& config() const { return cfg_; }

 private:
  static GstPadProbeReturn on_rtp_probe(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static GstFlowReturn on_new_sample(GstElement* sink, gpointer self);
  static gboolean on_rtcp_readable(GSocket* socket, GIOCondition cond, gpointer self);
  static gboolean on_bus_message(GstBus* bus, GstMessage* msg, gpointer self);

  bool handle_rtp(GstBuffer* buffer);
  void handle_packet(GstBuffer* buffer);
  void handle_parameter_sets(const H264PayloadInfo& info);
  void flush_access_unit();
  void read_rtcp();
  void send_rtcp(const std::vector<std::uint8_t>& packet);
  void send_receiver_report(bool with_pli);
  void send_nack(std::uint32_t media_ssrc, std::vector<std::uint16_t> seqs);
  // tick()'s parts: readiness.cpp (returns "silent"), rtcp_feedback.cpp, ingest.cpp.
  bool update_readiness(Clock::time_point now, const std::optional<SourceAddress>& pub,
                        std::optional<Clock::time_point> last, const std::optional<TrackSnapshot>& track);
  void tick_feedback(Clock::time_point now, bool silent);
  void update_rates(Clock::time_point now);
  void count_drop(DropReason r) { drops_[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed); }

  PathConfig cfg_;
  AccessUnitSink sink_;
  ParameterSetsSink parameter_sets_sink_;
  common::GObjectPtr<GSocket> rtp_socket_;
  common::GObjectPtr<GSocket> rtcp_socket_;
  common::ElementPtr pipeline_;
  common::AttachedSourcePtr rtcp_watch_;
  common::SourceId bus_watch_;
  common::PadProbe rtp_probe_;
  std::unique_ptr<IngestRepair> repair_;  // ingest.nack: NACK out, RTX in, frames held until complete
  std::unique_ptr<IngestSrtp> srtp_;  // set when ingest.srtp_key_file is configured
  std::unique_ptr<common::SrtcpContext> srtcp_out_;  // our RTCP to the publisher (main loop)
  std::unique_ptr<common::SrtcpContext> srtcp_in_;   // the publisher's RTCP (main loop)
  std::atomic<std::uint64_t> srtcp_rejected_{0};     // counted in dropped{reason="srtp_auth"}

  // Streaming-thread state, guarded by mutex_.
  mutable std::mutex mutex_;
  PacketFilter filter_;
  RtpStats stats_;
  std::optional<SourceAddress> publisher_;
  std::optional<Clock::time_point> last_packet_;
  std::optional<Clock::time_point> last_idr_;
  std::optional<double> keyframe_interval_s_;
  std::optional<TrackSnapshot> track_;
  bool publisher_changed_ = false;
  std::optional<SourceAddress> taken_from_;  // the silent publisher a new source replaced (logged by tick)
  std::uint64_t takeovers_ = 0;
  std::string resolution_change_;  // non-empty: log it on the main loop
  bool bad_sps_ = false;           // an SPS that does not parse arrived: log it on the main loop
  bool bad_sps_logged_ = false;    // until a good SPS arrives
  std::vector<std::uint8_t> sps_;  // the publisher's current parameter sets
  std::vector<std::uint8_t> pps_;

  // Streaming-thread only: the access unit being collected.
  common::BufferListPtr pending_;
  std::uint32_t pending_ts_ = 0;
  bool pending_idr_ = false;
  bool pending_broken_ = false;  // a packet of it was given up (repair window passed)

  // Streaming-thread counters.
  std::atomic<std::uint64_t> packets_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::uint64_t> access_units_{0};
  std::array<std::atomic<std::uint64_t>, kDropReasonCount> drops_{};
  std::atomic<bool> seen_sps_{false};
  std::atomic<bool> seen_pps_{false};
  std::atomic<bool> seen_idr_{false};
  std::atomic<bool> keyframe_wanted_{false};

  // Main-loop state.
  bool ready_ = false;
  std::optional<std::chrono::system_clock::time_point> ready_time_;
  std::function<void(bool)> ready_cb_;
  std::function<void(const std::string&)> size_cb_;
  std::uint32_t own_ssrc_;
  common::GObjectPtr<GSocketAddress> rtcp_peer_;  // where the publisher's RTCP comes from
  struct LastSr {
    std::uint32_t ntp_middle = 0;
    Clock::time_point at{};
  };
  std::optional<LastSr> last_sr_;
  Clock::time_point last_rr_{};
  Clock::time_point last_pli_{};
  std::uint64_t plis_sent_ = 0;
  std::uint64_t lost_seen_ = 0;  // loss already answered with a keyframe request (raw, or unrecoverable with nack)
  // Rate window.
  Clock::time_point window_start_{};
  std::uint64_t window_aus_ = 0;
  std::uint64_t window_bytes_ = 0;
  double fps_ = 0;
  double bitrate_bps_ = 0;
};

}  // namespace veter::relay
