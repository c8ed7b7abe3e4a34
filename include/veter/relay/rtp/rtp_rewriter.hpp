// One continuous RTP line for viewers across publisher restarts.
//
// The relay forwards the publisher's packets without re-payloading, but
// viewers must never see the publisher's SSRC, sequence numbers or timestamps
// jump: a new publisher (new SSRC) continues the previous sequence at +1 and
// its timestamps at the previous one plus the wall-clock time in between.
// Within one source the offsets stay fixed, so reordering and loss pass
// through unchanged. Pure; not thread-safe (the fan-out holds its lock).
#pragma once

#include <cstdint>
#include <optional>

namespace veter::relay {

class RtpRewriter {
 public:
  struct Numbers {
    std::uint16_t seq = 0;
    std::uint32_t timestamp = 0;
  };

  /// `ssrc`: the SSRC viewers see; `first_seq`/`first_ts`: where the line starts.
  RtpRewriter(std::uint32_t ssrc, std::uint16_t first_seq, std::uint32_t first_ts, std::uint32_t clock_rate = 90000);

  /// The viewer-side numbers of one publisher packet; `now_ns`: a monotonic clock.
  Numbers map(std::uint32_t in_ssrc, std::uint16_t in_seq, std::uint32_t in_ts, std::int64_t now_ns);
  /// A publisher packet that reaches no viewer: it moves the timeline on (its
  /// timestamp, a source switch) but takes no sequence number, so the next
  /// packet given out continues the line without a gap. A media whose first
  /// packet waits in gst-rtsp-server's block for the first PLAY relies on it:
  /// that packet is what RTP-Info names, and the packet after it must follow it.
  void pass_over(std::uint32_t in_ssrc, std::uint16_t in_seq, std::uint32_t in_ts, std::int64_t now_ns);
  /// Numbers for a packet the relay inserts itself (parameter sets for a new
  /// media): the next sequence number, the last timestamp. Later packets of
  /// the current source move up by one so nothing is numbered twice.
  Numbers insert(std::int64_t now_ns);
  /// The numbers the next packet would get if it were the next picture: the
  /// next sequence number and the last timestamp plus the last picture
  /// interval (or, after a longer pause, plus the time since the last picture):
  /// what a viewer joining now is told in RTP-Info. Changes nothing.
  [[nodiscard]] Numbers next(std::int64_t now_ns) const;

  [[nodiscard]] std::uint32_t ssrc() const { return ssrc_; }
  /// Number of source switches seen (a new publisher SSRC after the first).
  [[nodiscard]] std::uint64_t switches() const { return switches_; }

 private:
  void follow(std::uint32_t in_ssrc, std::uint16_t in_seq, std::uint32_t in_ts, std::int64_t now_ns);
  void note_time(std::uint32_t timestamp, std::int64_t now_ns);
  void note_out(Numbers n, std::int64_t now_ns);
  [[nodiscard]] std::uint32_t elapsed_ticks(std::int64_t now_ns) const;

  std::uint32_t ssrc_;
  std::uint32_t clock_rate_;
  std::optional<std::uint32_t> in_ssrc_;
  std::uint16_t seq_delta_ = 0;
  std::uint32_t ts_delta_ = 0;
  std::uint16_t highest_seq_;     // highest sequence number given out (RFC 1982 order)
  std::uint32_t last_ts_;         // timestamp of that packet
  std::int64_t last_out_ns_ = 0;  // when it was given out
  std::uint32_t last_step_ = 0;   // timestamp difference between the last two pictures (0: unknown)
  bool any_out_ = false;
  std::uint64_t switches_ = 0;
};

}  // namespace veter::relay
