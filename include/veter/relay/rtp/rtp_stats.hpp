// Receive statistics for one RTP stream (RFC 3550 §6.4.1 / appendix A.1, A.8):
// loss and reordering from sequence numbers, interarrival jitter, and the
// fields of an RTCP receiver report block. Pure; resets on an SSRC change and
// keeps path-lifetime totals across publishers.
#pragma once

#include <cstdint>
#include <optional>

namespace veter::relay {

struct ReportBlock {
  std::uint32_t ssrc = 0;
  std::uint8_t fraction_lost = 0;
  std::int32_t cumulative_lost = 0;  // 24-bit signed on the wire
  std::uint32_t ext_highest_seq = 0;
  std::uint32_t jitter = 0;  // timestamp units
  std::uint32_t lsr = 0;     // middle 32 bits of the last SR's NTP time
  std::uint32_t dlsr = 0;    // 1/65536 s since that SR
};

class RtpStats {
 public:
  explicit RtpStats(std::uint32_t clock_rate = 90000) : clock_rate_(clock_rate) {}
  /// One accepted packet; arrival_ns is any monotonic clock in nanoseconds.
  void on_packet(std::uint32_t ssrc, std::uint16_t seq, std::uint32_t rtp_ts, std::int64_t arrival_ns);

  [[nodiscard]] std::uint64_t lost_total() const;
  [[nodiscard]] std::uint64_t reordered_total() const { return reordered_total_; }
  [[nodiscard]] std::uint64_t received_total() const { return received_prev_ + received_; }
  [[nodiscard]] double jitter_ms() const { return jitter_ / 16.0 * 1000.0 / clock_rate_; }
  [[nodiscard]] std::optional<std::uint32_t> ssrc() const { return ssrc_; }
  /// Report block for the current source (updates the "since last report" interval).
  [[nodiscard]] std::optional<ReportBlock> make_report_block();

 private:
  void reset(std::uint32_t ssrc, std::uint16_t seq);
  std::uint32_t clock_rate_;
  std::optional<std::uint32_t> ssrc_;
  std::uint32_t cycles_ = 0;
  std::uint16_t max_seq_ = 0;
  std::uint32_t base_seq_ = 0;
  std::uint64_t received_ = 0;
  std::uint64_t received_prev_ = 0;
  std::uint64_t lost_prev_ = 0;  // totals of earlier SSRCs
  std::uint64_t reordered_total_ = 0;
  std::uint64_t expected_prior_ = 0;
  std::uint64_t received_prior_ = 0;
  std::int64_t jitter_ = 0;  // scaled by 16 (RFC 3550 A.8)
  std::optional<std::int64_t> last_transit_;
  std::uint32_t last_ts_ = 0;
};

}  // namespace veter::relay
