// SRTP on a path's ingest: an srtpdec between udpsrc and the
// depayloader, keyed from paths.<p>.ingest.srtp_key_file.
//
// Order on the streaming thread: allow list + RTP structure (input probe, on
// udpsrc) -> srtpdec authenticates, decrypts and rejects replays -> the
// path's full PacketFilter incl. the publisher lock (Ingest::handle_rtp, on
// srtpdec's output), so an unauthenticated sender can never take the lock.
// Packets that went in but did not come out failed authentication or replay
// checks: dropped{reason="srtp_auth"}.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "veter/common/gst_ptr.hpp"
#include "veter/common/srtp_key.hpp"
#include "veter/common/values.hpp"
#include "veter/relay/ingest/packet_filter.hpp"

namespace veter::relay {

class IngestSrtp {
 public:
  using DropCounter = std::function<void(DropReason)>;  // streaming thread
  /// Loads the key file (throws common::ConfigError: permissions, format).
  IngestSrtp(std::string path_name, const std::string& key_file, std::vector<common::Cidr> allow_from,
             DropCounter count_drop);
  ~IngestSrtp();
  IngestSrtp(const IngestSrtp&) = delete;
  IngestSrtp& operator=(const IngestSrtp&) = delete;

  /// udpsrc caps: application/x-srtp with the H.264 fields.
  [[nodiscard]] common::CapsPtr input_caps(int payload_type) const;
  /// The srtpdec element (keyed through "request-key"); add it to the pipeline.
  common::ElementPtr make_decoder();
  /// Probes: pre-filter on `udpsrc_src`, counting on the decoder's rtp_src.
  void attach(GstPad* udpsrc_src, GstPad* decoder_src);
  void detach();
  /// Main loop: log a key mismatch once (every packet failing, none passing), and
  /// packets that failed authentication among good ones at most once per 10 s, with their count.
  void tick();
  [[nodiscard]] std::uint64_t auth_failures() const;
  /// The master key + salt (for the SRTCP contexts of the RTCP socket).
  [[nodiscard]] const common::SrtpKey& key() const { return key_; }

 private:
  static GstPadProbeReturn on_input(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn on_output(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static GstCaps* on_request_key(GstElement* dec, guint ssrc, gpointer self);

  std::string path_;
  common::SrtpKey key_;
  std::vector<common::Cidr> allow_from_;
  DropCounter count_drop_;
  common::PadProbe in_probe_;
  common::PadProbe out_probe_;
  std::atomic<std::uint64_t> in_{0};
  std::atomic<std::uint64_t> out_{0};
  // main loop
  std::uint64_t last_in_ = 0;
  std::uint64_t last_out_ = 0;
  bool mismatch_logged_ = false;
  std::uint64_t failures_reported_ = 0;
  std::chrono::steady_clock::time_point failures_logged_at_{};
};

}  // namespace veter::relay
