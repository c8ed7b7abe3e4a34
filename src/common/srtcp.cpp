#include "veter/common/srtcp.hpp"

#include <srtp2/srtp.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <stdexcept>

#include <fmt/format.h>

namespace veter::common {

namespace {

/// libsrtp's crypto kernel is process-wide. GStreamer's srtp plugin may have
/// initialised it already (then srtp_init reports bad_param for the debug
/// module it registers twice; the kernel is usable). Never srtp_shutdown():
/// the plugin shares it.
void init_libsrtp_once() {
  static std::once_flag once;
  std::call_once(once, [] { (void)srtp_init(); });
}

constexpr std::size_t kRtcpHeader = 8;  // V/P/RC, PT, length, sender SSRC: sent in clear

}  // namespace

SrtcpContext::SrtcpContext(const SrtpKey& key, Direction direction) : direction_(direction) {
  init_libsrtp_once();
  std::array<unsigned char, kSrtpKeyBytes> k{};
  std::copy(key.bytes.begin(), key.bytes.end(), k.begin());
  srtp_policy_t policy{};
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
  policy.ssrc.type = direction == Direction::outbound ? ssrc_any_outbound : ssrc_any_inbound;
  policy.key = k.data();
  policy.window_size = 128;
  policy.allow_repeat_tx = 0;
  policy.next = nullptr;
  srtp_t session = nullptr;
  const srtp_err_status_t st = srtp_create(&session, &policy);
  std::fill(k.begin(), k.end(), 0);
  if (st != srtp_err_status_ok || session == nullptr) {
    throw std::runtime_error(fmt::format("libsrtp2 refused the SRTCP policy (error {})", static_cast<int>(st)));
  }
  session_ = session;
}

SrtcpContext::~SrtcpContext() {
  if (session_ != nullptr) {
    srtp_dealloc(session_);
  }
}

std::vector<std::uint8_t> SrtcpContext::protect(std::span<const std::uint8_t> rtcp) {
  if (direction_ != Direction::outbound) {
    throw std::logic_error("SrtcpContext::protect on an inbound context");
  }
  if (rtcp.size() < kRtcpHeader || rtcp.size() % 4 != 0 || rtcp.size() > 65536) {
    throw std::runtime_error(fmt::format("SRTCP: {} bytes is not a compound RTCP packet", rtcp.size()));
  }
  // libsrtp appends E|index and the tag in place: room for SRTP_MAX_TRAILER_LEN + 4.
  std::vector<std::uint8_t> out(rtcp.size() + SRTP_MAX_TRAILER_LEN + 4);
  std::copy(rtcp.begin(), rtcp.end(), out.begin());
  int len = static_cast<int>(rtcp.size());
  const srtp_err_status_t st = srtp_protect_rtcp(session_, out.data(), &len);
  if (st != srtp_err_status_ok) {
    throw std::runtime_error(fmt::format("SRTCP protect failed (libsrtp2 error {})", static_cast<int>(st)));
  }
  out.resize(static_cast<std::size_t>(len));
  return out;
}

SrtcpContext::Result SrtcpContext::unprotect(std::vector<std::uint8_t>& packet) {
  if (direction_ != Direction::inbound) {
    throw std::logic_error("SrtcpContext::unprotect on an outbound context");
  }
  if (packet.size() < kRtcpHeader + kSrtcpOverhead || packet.size() > 65536) {
    return Result::too_short;
  }
  int len = static_cast<int>(packet.size());
  const srtp_err_status_t st = srtp_unprotect_rtcp(session_, packet.data(), &len);
  switch (st) {
    case srtp_err_status_ok:
      packet.resize(static_cast<std::size_t>(len));
      return Result::ok;
    case srtp_err_status_auth_fail:
    case srtp_err_status_cant_check:  // E flag absent: plain RTCP with a trailer-sized tail
      return Result::auth_failed;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
      return Result::replayed;
    case srtp_err_status_bad_param:
      return Result::too_short;
    default:
      return Result::failed;
  }
}

std::string_view to_string(SrtcpContext::Result r) {
  switch (r) {
    case SrtcpContext::Result::ok: return "ok";
    case SrtcpContext::Result::too_short: return "too_short";
    case SrtcpContext::Result::auth_failed: return "auth_failed";
    case SrtcpContext::Result::replayed: return "replayed";
    case SrtcpContext::Result::failed: return "failed";
  }
  return "?";
}

}  // namespace veter::common
