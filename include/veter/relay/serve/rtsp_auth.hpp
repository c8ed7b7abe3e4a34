// Viewer authentication pieces of the RTSP server: the failure limiter, the pure helpers of the
// URL check, and the GstRTSPAuth subclass that calls back into RtspSecurity.
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

#include <chrono>
#include <deque>
#include <map>
#include <string>

#include "veter/relay/conf/relay_config.hpp"

namespace veter::relay {

class RtspSecurity;

/// The token field that carries the authenticated user's name.
inline constexpr const char* kRtspUserField = "veter.user";

/// At most `max_failures` authentication failures per address in `window`;
/// beyond that the address is refused without checking credentials.
class FailureLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  FailureLimiter(int max_failures, std::chrono::seconds window) : max_(max_failures), window_(window) {}
  [[nodiscard]] bool blocked(const std::string& addr, Clock::time_point now);
  /// Record one failure; true when this one reached the limit (log it once).
  bool record(const std::string& addr, Clock::time_point now);

 private:
  void expire(std::deque<Clock::time_point>& q, Clock::time_point now) const;
  int max_;
  std::chrono::seconds window_;
  std::map<std::string, std::deque<Clock::time_point>> failures_;
};

/// Constant-time comparison (length is not secret).
bool constant_time_equal(const std::string& a, const std::string& b);

/// The path name a request URL's absolute path addresses: its first segment
/// ("/camera/stream=0" -> "camera"; "/" or "" -> "").
std::string request_path_name(const std::string& abspath);
/// GstRTSPAuthMethod flags to offer: Digest without TLS; with TLS Digest and Basic, or Basic
/// alone when a user has pass_sha256 (clients pick Digest when offered, which such a user cannot answer).
int offered_methods(const RtspConfig& cfg);
/// True when `user` may watch `path_name` (an empty `paths` list allows every path).
bool user_allows_path(const RtspUser& user, const std::string& path_name);

/// A GstRTSPAuth (full reference) whose authenticate and URL check call `owner`.
GstRTSPAuth* rtsp_auth_new(RtspSecurity* owner);
/// From now on `auth` refuses everyone instead of calling its owner (the owner is going away).
void rtsp_auth_detach(GstRTSPAuth* auth);

}  // namespace veter::relay
