// The running publisher: one pipeline on the daemon's main loop, restarted with
// backoff after errors or stalls, symmetric RTP sockets that outlive restarts,
// rate-limited forced IDRs, destination re-resolution, periodic stats.
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "veter/common/gst_ptr.hpp"
#include "veter/common/main_loop.hpp"
#include "veter/common/srtp_key.hpp"
#include "veter/publisher/backoff.hpp"
#include "veter/publisher/encoder_probes.hpp"
#include "veter/publisher/local_sockets.hpp"
#include "veter/publisher/publisher_config.hpp"
#include "veter/publisher/selection.hpp"
#include "veter/publisher/bitrate_controller.hpp"
#include "veter/publisher/feedback_guard.hpp"
#include "veter/publisher/srtcp_filter.hpp"
#include "veter/publisher/stats.hpp"

namespace veter::publisher {

class Publisher {
 public:
  /// `encoder` is the selected one: with passthrough the bitrate controller stays off (the
  /// camera's encoder sets the rate).
  Publisher(PublisherConfig cfg, std::string description, EncoderKind encoder, common::MainLoop& loop);
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;
  ~Publisher();

  /// Bind the local ports (throws common::UnavailableError) and start the first attempt.
  void start();
  /// SIGINT/SIGTERM: EOS, then NULL (bounded to ~1 s), then quit the loop with 0.
  void shutdown();

  /// For tests and the stats line: frames encoded so far, and the restart delays used.
  [[nodiscard]] std::uint64_t frames_sent() const { return counters_.frames.load(); }
  [[nodiscard]] const std::vector<std::chrono::milliseconds>& restart_delays() const { return restart_delays_; }

 private:
  enum class Phase { idle, resolving, running, waiting, stopping };

  void attempt();
  void on_resolved(GInetAddress* address, const std::string& error);
  void launch(const std::string& address);
  void fail(const std::string& cause);
  void teardown();
  void finish_shutdown();
  void handle_message(GstMessage* msg);
  void tick();
  void log_stats();
  void follow_congestion();
  void log_rtcp_events();
  std::optional<ReceiverReport> receiver_report() const;
  void resolve_async(bool for_start);
  void maybe_reresolve();

  static gboolean bus_cb(GstBus* bus, GstMessage* msg, gpointer self);
  static void resolve_cb(GObject* source, GAsyncResult* res, gpointer data);

  PublisherConfig cfg_;
  std::string description_;
  EncoderKind encoder_;
  common::MainLoop& loop_;
  Phase phase_ = Phase::idle;
  LocalSockets sockets_;
  std::optional<common::SrtpKey> srtp_key_;  // loaded in start()
  std::unique_ptr<SrtcpFilter> srtcp_filter_;  // incoming RTCP must be SRTCP with our key
  FeedbackGuard feedback_{0.30};
  std::optional<BitrateController> abr_;       // cfg.abr: set in start()
  std::uint32_t abr_last_report_seq_ = 0;
  std::uint64_t abr_last_bytes_ = 0;
  std::chrono::steady_clock::time_point abr_last_{};               // RTCP only from the relay; retransmissions <= 30 % of media
  std::uint64_t key_requests_logged_ = 0;      // main loop: keyframe requests already logged
  std::uint64_t rtcp_rejected_logged_ = 0;     // main loop: rejected RTCP already reported
  std::chrono::steady_clock::time_point last_rtcp_reject_warning_{};
  std::string address_;  // resolved destination address in use
  common::ElementPtr pipeline_;
  common::SourceId bus_watch_;
  common::SourceId tick_timer_;
  common::SourceId stats_timer_;
  common::SourceId retry_timer_;
  common::SourceId stop_timer_;
  common::GObjectPtr<GCancellable> cancellable_;
  bool resolve_in_flight_ = false;
  std::chrono::steady_clock::time_point last_reresolve_{};

  EncoderCounters counters_;
  EncoderProbes probes_{counters_, std::chrono::milliseconds(500)};
  Backoff backoff_;
  std::vector<std::chrono::milliseconds> restart_delays_;
  bool ready_notified_ = false;
  std::uint64_t frames_at_start_ = 0;
  std::uint64_t frames_last_tick_ = 0;
  std::chrono::steady_clock::time_point started_at_{};
  std::chrono::steady_clock::time_point last_progress_{};
  bool streaming_ = false;
  std::uint64_t send_failures_ = 0;
  std::chrono::steady_clock::time_point last_send_warning_log_{};

  struct Snapshot {
    std::uint64_t frames = 0, bytes = 0, keyframes = 0, forced = 0, rtcp_rejected = 0;
    std::uint64_t rtcp_foreign = 0, rtx_requests = 0, rtx_refused = 0;
    std::chrono::steady_clock::time_point at{};
  } last_stats_;
};

}  // namespace veter::publisher
