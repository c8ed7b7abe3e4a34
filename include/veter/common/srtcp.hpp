// SRTCP (RFC 3711 §3.4) with AES_CM_128_HMAC_SHA1_80 for the RTCP that
// GStreamer does not protect for us: the relay's hand-built receiver
// reports and keyframe requests, and their check on the publisher.
//
// libsrtp2 does the cryptography, the SRTCP index (31 bits, per sender SSRC,
// E flag set) and the replay window (128 packets). One context is one
// direction:
//  - outbound: protect() any compound RTCP; each sender SSRC has its own
//    index (libsrtp2 starts it at 1), E flag always set.
//  - inbound: unprotect() authenticates, rejects replays and decrypts. Streams
//    for new SSRCs come from a template and are only kept once a packet has
//    authenticated, so forged packets with random SSRCs allocate nothing.
//
// Not thread-safe: use one context from one thread at a time.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "veter/common/srtp_key.hpp"

struct srtp_ctx_t_;  // libsrtp2's session (srtp_t)

namespace veter::common {

class SrtcpContext {
 public:
  enum class Direction { outbound, inbound };
  enum class Result {
    ok,
    too_short,    // shorter than an RTCP header + SRTCP index + tag
    auth_failed,  // wrong key, forged, altered, or plain RTCP
    replayed,     // an index already seen (or too old for the window)
    failed,       // any other libsrtp error
  };

  /// Throws std::runtime_error when libsrtp refuses the policy.
  SrtcpContext(const SrtpKey& key, Direction direction);
  ~SrtcpContext();
  SrtcpContext(const SrtcpContext&) = delete;
  SrtcpContext& operator=(const SrtcpContext&) = delete;

  /// Outbound: the SRTCP packet for `rtcp` (a compound RTCP packet, at least 8
  /// bytes, a multiple of 4): encrypted past the first 8 bytes, then E|index
  /// and a 10-byte tag. Throws std::runtime_error on failure (bad input or an
  /// exhausted index: 2^31 packets per SSRC).
  [[nodiscard]] std::vector<std::uint8_t> protect(std::span<const std::uint8_t> rtcp);

  /// Inbound: on ok, `packet` is replaced by the plain compound RTCP; otherwise
  /// it is left in an unspecified state and must be dropped.
  [[nodiscard]] Result unprotect(std::vector<std::uint8_t>& packet);

 private:
  srtp_ctx_t_* session_ = nullptr;  // owned: srtp_dealloc in the destructor
  Direction direction_;
};

std::string_view to_string(SrtcpContext::Result r);

/// SRTCP overhead per packet: 4 bytes E|index + 10 bytes HMAC-SHA1-80 tag.
inline constexpr std::size_t kSrtcpOverhead = 14;

}  // namespace veter::common
