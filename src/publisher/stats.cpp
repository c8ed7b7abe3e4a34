#include "veter/publisher/stats.hpp"

#include <fmt/format.h>

namespace veter::publisher {

std::string format_stats_line(const StatsInterval& s) {
  const double secs = s.seconds > 0 ? s.seconds : 1;
  std::string line = fmt::format("stats: {} frames {:.1f} fps {:.0f} kbit/s, IDRs forced {} periodic {}", s.frames,
                                 static_cast<double>(s.frames) / secs,
                                 static_cast<double>(s.bytes) * 8.0 / 1000.0 / secs, s.forced_idrs, s.periodic_idrs);
  if (s.rr) {
    line += fmt::format(", relay RR: lost {:.1f}% ({}) jitter {:.1f} ms rtt {:.1f} ms", s.rr->fraction_lost * 100.0,
                        s.rr->packets_lost, s.rr->jitter_ms, s.rr->rtt_ms);
  } else {
    line += ", relay RR: none";
  }
  if (s.rtcp_rejected > 0) {
    line += fmt::format(", RTCP dropped (not authenticated) {}", s.rtcp_rejected);
  }
  if (s.rtcp_foreign > 0) {
    line += fmt::format(", RTCP dropped (not from the relay) {}", s.rtcp_foreign);
  }
  if (s.target_kbps) {
    line += fmt::format(", target {} kbit/s ({})", *s.target_kbps, s.target_reason);
  }
  if (s.rtx_requests > 0) {
    line += fmt::format(", retransmissions asked {} refused (budget) {}", s.rtx_requests, s.rtx_refused);
  }
  return line;
}

}  // namespace veter::publisher
