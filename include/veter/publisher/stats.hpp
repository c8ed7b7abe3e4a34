// The publisher's periodic stats line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace veter::publisher {

/// What the relay's last RTCP receiver report said about our stream.
struct ReceiverReport {
  double fraction_lost = 0;  // 0..1
  std::int64_t packets_lost = 0;
  double jitter_ms = 0;
  double rtt_ms = 0;  // 0 when the relay sent no LSR/DLSR yet
  std::uint32_t ext_highest_seq = 0;  // tells one report from the next
};

/// Counter deltas over one interval.
struct StatsInterval {
  double seconds = 10;
  std::uint64_t frames = 0;
  std::uint64_t bytes = 0;  // encoded H.264 bytes
  std::uint64_t forced_idrs = 0;
  std::uint64_t periodic_idrs = 0;
  std::optional<ReceiverReport> rr;
  std::uint64_t rtcp_rejected = 0;  // incoming RTCP that did not authenticate (SRTCP)
  std::uint64_t rtcp_foreign = 0;   // incoming RTCP not from the relay's address and port
  std::uint64_t rtx_requests = 0;   // retransmissions asked for (NACKed packets)
  std::uint64_t rtx_refused = 0;    // ... refused by the retransmission budget
  std::optional<int> target_kbps;   // congestion control on: the encoder's current target
  std::string target_reason;        // why it last changed
};

/// e.g. "stats: 300 frames 30.0 fps 1987 kbit/s, IDRs forced 1 periodic 10, relay RR: lost 0.0% (0) jitter 1.2 ms rtt 0.8 ms"
/// plus ", RTCP dropped (not authenticated) N" when N > 0, ", RTCP dropped (not from the relay) N"
/// when N > 0, ", retransmissions asked N refused (budget) M" when N > 0 and
/// ", target K kbit/s (reason)" when congestion control is on.
std::string format_stats_line(const StatsInterval& s);

}  // namespace veter::publisher
