// Typed configuration values: endpoints, durations, CIDR lists, video sizes.
// Each parse_* function throws ValueError with a short human reason.
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct sockaddr;

namespace veter::common {

/// Reason a single value is invalid; the config loader adds key path and position.
class ValueError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// "[host]:port". An empty host means "all interfaces" for listeners.
struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
  [[nodiscard]] std::string to_string() const;
  /// Host to bind: "0.0.0.0"-style wildcard when empty.
  [[nodiscard]] std::string bind_host() const { return host.empty() ? "0.0.0.0" : host; }
  bool operator==(const Endpoint&) const = default;
};
/// Accepts ":9000", "9000", "127.0.0.1:9000", "[::1]:9000", "relay.example.org:9000".
Endpoint parse_endpoint(std::string_view text);
/// Port 1..65535 from text.
std::uint16_t parse_port(std::string_view text);

/// Durations such as "5s", "250ms", "1m", "2h", "7d". Stored in milliseconds.
using Duration = std::chrono::milliseconds;
Duration parse_duration(std::string_view text);
std::string format_duration(Duration d);

/// Sizes such as "1048576", "500MB" (10^6), "10GiB" (2^30); kB/KB/KiB, MB/MiB, GB/GiB, TB/TiB.
std::uint64_t parse_byte_size(std::string_view text);
/// The largest exact binary unit ("10GiB"), else plain bytes.
std::string format_byte_size(std::uint64_t bytes);

/// An IPv4 or IPv6 network, "10.0.0.0/8", "2001:db8::/32", or a single address.
struct Cidr {
  int family = 0;  // AF_INET or AF_INET6
  std::uint8_t addr[16] = {};
  int prefix = 0;
  std::string text;  // as written, normalised
  [[nodiscard]] bool contains(const sockaddr* sa) const;
  bool operator==(const Cidr& o) const { return text == o.text; }
};
Cidr parse_cidr(std::string_view text);
/// True when the list is empty (allow everyone) or any entry contains the address.
bool cidr_list_allows(const std::vector<Cidr>& list, const sockaddr* sa);

/// "1280x720": even width/height between 16 and 8192.
struct VideoSize {
  int width = 0;
  int height = 0;
  [[nodiscard]] std::string to_string() const;
  bool operator==(const VideoSize&) const = default;
};
VideoSize parse_video_size(std::string_view text);

/// Strict integer parse of the whole text within [lo, hi].
long long parse_int(std::string_view text, long long lo, long long hi);

}  // namespace veter::common
