// What the WHEP endpoint checks in the SDP it is handed, before any of it
// reaches webrtcbin: the viewer's offer (RFC 8829 / 8866) and trickle-ICE
// fragments (RFC 8840, application/trickle-ice-sdpfrag). Pure functions, no
// GStreamer state: a bad body is a clear error string and changes nothing.
// Also the answer-side rewrite that advertises webrtc.additional_hosts.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace veter::relay {

/// Largest offer / fragment the endpoint accepts.
inline constexpr std::size_t kMaxSdpBytes = 64 * 1024;

struct OfferInfo {
  unsigned video_mline = 0;  // index of the first video m-line
  int h264_pt = 0;           // its H.264 packetization-mode=1 constrained-baseline format
  std::string mid;           // that m-line's a=mid ("" when absent)
  std::string ice_ufrag;     // the viewer's ICE credentials
  std::string ice_pwd;
};

/// Check a viewer's offer; on failure returns nullopt and sets `error` (one sentence).
std::optional<OfferInfo> inspect_offer(std::string_view sdp, std::string& error);

struct TrickleCandidate {
  std::string mid;        // a=mid the candidate follows ("" = the first m-line)
  std::string candidate;  // "candidate:..." as in the fragment
};

struct TrickleFragment {
  std::string ice_ufrag;  // "" when the fragment does not repeat it
  std::string ice_pwd;
  std::vector<TrickleCandidate> candidates;
  bool end_of_candidates = false;
};

/// Parse a trickle-ICE SDP fragment; nullopt + `error` on malformed input.
std::optional<TrickleFragment> parse_trickle(std::string_view fragment, std::string& error);

/// For every host candidate in `sdp`, add a copy carrying each of `hosts`
/// (IP literals) instead of its address, with a lower priority.
std::string add_host_candidates(const std::string& sdp, const std::vector<std::string>& hosts);

}  // namespace veter::relay
