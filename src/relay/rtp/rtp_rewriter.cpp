#include "veter/relay/rtp/rtp_rewriter.hpp"

#include <algorithm>

namespace veter::relay {

RtpRewriter::RtpRewriter(std::uint32_t ssrc, std::uint16_t first_seq, std::uint32_t first_ts,
                         std::uint32_t clock_rate)
    : ssrc_(ssrc),
      clock_rate_(clock_rate),
      highest_seq_(static_cast<std::uint16_t>(first_seq - 1)),
      last_ts_(first_ts) {}

std::uint32_t RtpRewriter::elapsed_ticks(std::int64_t now_ns) const {
  if (!any_out_) {
    return 0;
  }
  const std::int64_t dt = std::max<std::int64_t>(0, now_ns - last_out_ns_);
  // At least one tick: a new picture never shares the previous one's timestamp.
  const auto ticks = static_cast<std::uint64_t>(dt) * clock_rate_ / 1'000'000'000ULL;
  return static_cast<std::uint32_t>(std::max<std::uint64_t>(1, ticks));
}

void RtpRewriter::note_time(std::uint32_t timestamp, std::int64_t now_ns) {
  const std::uint32_t step = timestamp - last_ts_;
  if (any_out_ && step != 0) {
    last_step_ = step < clock_rate_ ? step : 0;  // a picture interval, not a pause
  }
  last_ts_ = timestamp;
  last_out_ns_ = now_ns;
  any_out_ = true;
}

void RtpRewriter::note_out(Numbers n, std::int64_t now_ns) {
  // Newer in RFC 1982 serial order (a reordered late packet does not move the line back).
  if (!any_out_ || static_cast<std::int16_t>(n.seq - highest_seq_) > 0) {
    highest_seq_ = n.seq;
    note_time(n.timestamp, now_ns);
  }
  any_out_ = true;
}

void RtpRewriter::follow(std::uint32_t in_ssrc, std::uint16_t in_seq, std::uint32_t in_ts, std::int64_t now_ns) {
  if (!in_ssrc_ || *in_ssrc_ != in_ssrc) {
    if (in_ssrc_) {
      ++switches_;
    }
    const auto next_seq = static_cast<std::uint16_t>(highest_seq_ + 1);
    const std::uint32_t next_ts = last_ts_ + elapsed_ticks(now_ns);
    seq_delta_ = static_cast<std::uint16_t>(next_seq - in_seq);
    ts_delta_ = next_ts - in_ts;
    in_ssrc_ = in_ssrc;
  }
}

RtpRewriter::Numbers RtpRewriter::map(std::uint32_t in_ssrc, std::uint16_t in_seq, std::uint32_t in_ts,
                                      std::int64_t now_ns) {
  follow(in_ssrc, in_seq, in_ts, now_ns);
  const Numbers out{static_cast<std::uint16_t>(in_seq + seq_delta_), in_ts + ts_delta_};
  note_out(out, now_ns);
  return out;
}

void RtpRewriter::pass_over(std::uint32_t in_ssrc, std::uint16_t in_seq, std::uint32_t in_ts, std::int64_t now_ns) {
  follow(in_ssrc, in_seq, in_ts, now_ns);
  const auto would_be = static_cast<std::uint16_t>(in_seq + seq_delta_);
  if (any_out_ && static_cast<std::int16_t>(would_be - highest_seq_) <= 0) {
    return;  // older than the line (reordered): changes nothing
  }
  // The number this packet would have had goes to the next one instead.
  seq_delta_ = static_cast<std::uint16_t>(highest_seq_ - in_seq);
  note_time(in_ts + ts_delta_, now_ns);
}

RtpRewriter::Numbers RtpRewriter::next(std::int64_t now_ns) const {
  const std::uint32_t elapsed = elapsed_ticks(now_ns);
  // A steady source's next picture comes one interval after the last; after a
  // pause longer than two intervals, "now" is the better guess.
  const bool steady = last_step_ != 0 && elapsed < 2 * last_step_;
  return Numbers{static_cast<std::uint16_t>(highest_seq_ + 1), last_ts_ + (steady ? last_step_ : elapsed)};
}

RtpRewriter::Numbers RtpRewriter::insert(std::int64_t now_ns) {
  const Numbers out{static_cast<std::uint16_t>(highest_seq_ + 1), last_ts_};
  ++seq_delta_;
  const bool had_out = any_out_;
  const auto keep_ns = last_out_ns_;
  note_out(out, now_ns);
  if (had_out) {
    last_out_ns_ = keep_ns;  // an inserted packet is not a new picture in time
  }
  return out;
}

}  // namespace veter::relay
