// Fan-out of one path's access units into its shared RTSP media.
//
// One GstRTSPMediaFactory per path builds `appsrc ! rtph264pay` (shared, never
// suspended); every access unit from the ingest is pushed into the appsrc of
// each live media (normally exactly one). The payloader re-stamps RTP, so
// viewers see one continuous SSRC/sequence/timestamp line across publisher
// restarts.
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "veter/common/gst_ptr.hpp"

namespace veter::relay {

class Fanout {
 public:
  /// `protocols`: GstRTSPLowerTrans flags the factory offers.
  Fanout(std::string path_name, GstRTSPLowerTrans protocols);
  ~Fanout();
  Fanout(const Fanout&) = delete;
  Fanout& operator=(const Fanout&) = delete;

  [[nodiscard]] GstRTSPMediaFactory* factory() const { return factory_.get(); }
  /// Streaming thread: hand one access unit to every live media (transfer none).
  void push(GstBuffer* au);
  /// True when a media is prepared (someone has DESCRIBEd/SETUP and it is running).
  [[nodiscard]] bool has_media() const;
  /// Viewers currently playing (maintained by the RTSP layer); scales bytes_sent.
  void set_playing_viewers(int n) { playing_.store(n); }
  /// RTP bytes produced by the payloader (one copy, i.e. per viewer).
  [[nodiscard]] std::uint64_t payload_bytes() const { return payload_bytes_.load(); }
  /// RTP bytes sent to all viewers together.
  [[nodiscard]] std::uint64_t bytes_sent() const { return bytes_sent_.load(); }

 private:
  struct Entry;
  static void on_media_configure(GstRTSPMediaFactory* factory, GstRTSPMedia* media, gpointer self);
  static void on_media_unprepared(GstRTSPMedia* media, gpointer self);
  static GstPadProbeReturn on_payload(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static void on_need_data(GstElement* appsrc, guint length, gpointer self);
  void attach(GstRTSPMedia* media);
  void detach(GstRTSPMedia* media);

  std::string name_;
  common::GstPtr<GstRTSPMediaFactory> factory_;
  common::SignalConnection configure_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Entry>> entries_;
  common::BufferPtr parameter_sets_;  // SPS+PPS of the last IDR, sent first to a new media
  std::atomic<int> playing_{0};
  std::atomic<std::uint64_t> payload_bytes_{0};
  std::atomic<std::uint64_t> bytes_sent_{0};
};

}  // namespace veter::relay
