#include "veter/relay/rtp/rtp_stats.hpp"

#include <algorithm>
#include <cstdlib>

namespace veter::relay {

namespace {
constexpr int kMaxDropout = 3000;
constexpr int kMaxMisorder = 100;
}  // namespace

void RtpStats::reset(std::uint32_t ssrc, std::uint16_t seq) {
  if (ssrc_) {
    received_prev_ += received_;
    lost_prev_ = lost_total();
  }
  ssrc_ = ssrc;
  cycles_ = 0;
  max_seq_ = seq;
  base_seq_ = seq;
  received_ = 0;
  expected_prior_ = 0;
  received_prior_ = 0;
  jitter_ = 0;
  last_transit_.reset();
}

void RtpStats::on_packet(std::uint32_t ssrc, std::uint16_t seq, std::uint32_t rtp_ts, std::int64_t arrival_ns) {
  if (!ssrc_ || *ssrc_ != ssrc) {
    reset(ssrc, seq);
  } else {
    const auto delta = static_cast<std::uint16_t>(seq - max_seq_);
    if (delta == 0) {
      // duplicate: counted as received (as RFC 3550 does), not as reordered
    } else if (delta < kMaxDropout) {
      if (seq < max_seq_) {
        cycles_ += 65536;
      }
      max_seq_ = seq;
    } else if (delta <= 65536 - kMaxMisorder) {
      // A huge jump within one SSRC: the sender restarted its numbering.
      const auto keep_ssrc = ssrc;
      received_prev_ += received_;
      lost_prev_ = lost_total();
      ssrc_.reset();
      reset(keep_ssrc, seq);
    } else {
      ++reordered_total_;  // late packet from before max_seq_
    }
  }
  ++received_;
  // Interarrival jitter in timestamp units.
  const std::int64_t arrival = arrival_ns / 1000 * clock_rate_ / 1000000;
  const std::int64_t transit = arrival - static_cast<std::int64_t>(rtp_ts);
  if (last_transit_ && rtp_ts != last_ts_) {
    std::int64_t d = transit - *last_transit_;
    // Wrap-safe: RTP timestamps are 32-bit.
    d = static_cast<std::int32_t>(static_cast<std::uint32_t>(d));
    jitter_ += std::llabs(d) - ((jitter_ + 8) >> 4);
  }
  if (!last_transit_ || rtp_ts != last_ts_) {
    last_transit_ = transit;
    last_ts_ = rtp_ts;
  }
}

std::uint64_t RtpStats::lost_total() const {
  if (!ssrc_) {
    return lost_prev_;
  }
  const std::uint64_t ext_max = cycles_ + max_seq_;
  const std::uint64_t expected = ext_max - base_seq_ + 1;
  const std::uint64_t lost = expected > received_ ? expected - received_ : 0;
  return lost_prev_ + lost;
}

std::optional<ReportBlock> RtpStats::make_report_block() {
  if (!ssrc_) {
    return std::nullopt;
  }
  ReportBlock b;
  b.ssrc = *ssrc_;
  const std::uint64_t ext_max = cycles_ + max_seq_;
  const std::uint64_t expected = ext_max - base_seq_ + 1;
  const std::int64_t lost = static_cast<std::int64_t>(expected) - static_cast<std::int64_t>(received_);
  b.cumulative_lost = static_cast<std::int32_t>(std::clamp<std::int64_t>(lost, -0x800000, 0x7FFFFF));
  const std::uint64_t expected_interval = expected - expected_prior_;
  const std::uint64_t received_interval = received_ - received_prior_;
  expected_prior_ = expected;
  received_prior_ = received_;
  if (expected_interval > received_interval && expected_interval > 0) {
    b.fraction_lost = static_cast<std::uint8_t>(((expected_interval - received_interval) << 8) / expected_interval);
  }
  b.ext_highest_seq = static_cast<std::uint32_t>(ext_max);
  b.jitter = static_cast<std::uint32_t>(jitter_ >> 4);
  return b;
}

}  // namespace veter::relay
