#include "veter/common/values.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace veter::common {

long long parse_int(std::string_view text, long long lo, long long hi) {
  long long v = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (!text.empty() && text.front() == '+') {
    ++first;
  }
  auto [ptr, ec] = std::from_chars(first, last, v);
  if (text.empty() || ec != std::errc{} || ptr != last) {
    throw ValueError(fmt::format("\"{}\" is not a whole number", text));
  }
  if (v < lo || v > hi) {
    throw ValueError(fmt::format("{} is out of range ({}..{})", v, lo, hi));
  }
  return v;
}

std::uint16_t parse_port(std::string_view text) {
  long long v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size() || v < 1 || v > 65535) {
    throw ValueError(fmt::format("\"{}\" is not a valid port (1..65535)", text));
  }
  return static_cast<std::uint16_t>(v);
}

std::string Endpoint::to_string() const {
  if (host.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", host, port);
  }
  return fmt::format("{}:{}", host, port);
}

Endpoint parse_endpoint(std::string_view text) {
  Endpoint ep;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      throw ValueError(fmt::format("\"{}\" is not a valid [host]:port", text));
    }
    ep.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      port_text = text;
    } else {
      if (text.substr(0, colon).find(':') != std::string_view::npos) {
        throw ValueError(fmt::format("\"{}\": write IPv6 hosts as [addr]:port", text));
      }
      ep.host = std::string(text.substr(0, colon));
      port_text = text.substr(colon + 1);
    }
  }
  try {
    ep.port = parse_port(port_text);
  } catch (const ValueError&) {
    throw ValueError(fmt::format("\"{}\" is not a valid port", text));
  }
  for (char c : ep.host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == ':' || c == '_' || c == '%';
    if (!ok) {
      throw ValueError(fmt::format("\"{}\" has an invalid host name", text));
    }
  }
  return ep;
}

Duration parse_duration(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    ++i;
  }
  const auto number = text.substr(0, i);
  const auto unit = text.substr(i);
  long long n = 0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
  if (number.empty() || ec != std::errc{} || ptr != number.data() + number.size() ||
      n > 100'000'000) {
    throw ValueError(fmt::format("\"{}\" is not a valid duration (use e.g. 250ms, 5s, 1m)", text));
  }
  if (unit == "ms") {
    return Duration(n);
  }
  if (unit == "s") {
    return Duration(n * 1000);
  }
  if (unit == "m") {
    return Duration(n * 60'000);
  }
  if (unit == "h") {
    return Duration(n * 3'600'000);
  }
  if (unit == "d") {
    return Duration(n * 86'400'000);
  }
  throw ValueError(fmt::format("\"{}\" is not a valid duration (use e.g. 250ms, 5s, 1m)", text));
}

std::uint64_t parse_byte_size(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    ++i;
  }
  const auto number = text.substr(0, i);
  const auto unit = text.substr(i);
  std::uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
  const auto bad = [&] {
    return ValueError(fmt::format("\"{}\" is not a valid size (use e.g. 500MB, 10GiB, 1048576)", text));
  };
  if (number.empty() || ec != std::errc{} || ptr != number.data() + number.size()) {
    throw bad();
  }
  static constexpr std::pair<std::string_view, std::uint64_t> kUnits[] = {
      {"", 1},           {"B", 1},           {"kB", 1000ULL},       {"KB", 1000ULL},      {"KiB", 1ULL << 10},
      {"MB", 1000'000ULL}, {"MiB", 1ULL << 20}, {"GB", 1000'000'000ULL}, {"GiB", 1ULL << 30},
      {"TB", 1000'000'000'000ULL}, {"TiB", 1ULL << 40}};
  for (const auto& [name, factor] : kUnits) {
    if (unit == name) {
      if (n > (std::uint64_t{1} << 62) / factor) {
        throw bad();
      }
      return n * factor;
    }
  }
  throw bad();
}

std::string format_byte_size(std::uint64_t bytes) {
  for (const auto& [name, shift] : {std::pair{"TiB", 40}, std::pair{"GiB", 30}, std::pair{"MiB", 20},
                                    std::pair{"KiB", 10}}) {
    const std::uint64_t unit = std::uint64_t{1} << shift;
    if (bytes != 0 && bytes % unit == 0) {
      return fmt::format("{}{}", bytes / unit, name);
    }
  }
  return fmt::format("{}", bytes);
}

std::string format_duration(Duration d) {
  const auto ms = d.count();
  if (ms != 0 && ms % 86'400'000 == 0) {
    return fmt::format("{}d", ms / 86'400'000);
  }
  if (ms != 0 && ms % 3'600'000 == 0) {
    return fmt::format("{}h", ms / 3'600'000);
  }
  if (ms != 0 && ms % 60'000 == 0) {
    return fmt::format("{}m", ms / 60'000);
  }
  if (ms % 1000 == 0) {
    return fmt::format("{}s", ms / 1000);
  }
  return fmt::format("{}ms", ms);
}

Cidr parse_cidr(std::string_view text) {
  Cidr c;
  std::string addr_text(text);
  int max_prefix = 0;
  auto slash = text.find('/');
  std::string_view prefix_text;
  if (slash != std::string_view::npos) {
    addr_text = std::string(text.substr(0, slash));
    prefix_text = text.substr(slash + 1);
  }
  if (inet_pton(AF_INET, addr_text.c_str(), c.addr) == 1) {
    c.family = AF_INET;
    max_prefix = 32;
  } else if (inet_pton(AF_INET6, addr_text.c_str(), c.addr) == 1) {
    c.family = AF_INET6;
    max_prefix = 128;
  } else {
    throw ValueError(fmt::format("\"{}\" is not a valid CIDR (e.g. 203.0.113.0/24)", text));
  }
  c.prefix = max_prefix;
  if (slash != std::string_view::npos) {
    long long p = 0;
    auto [ptr, ec] = std::from_chars(prefix_text.data(), prefix_text.data() + prefix_text.size(), p);
    if (prefix_text.empty() || ec != std::errc{} || ptr != prefix_text.data() + prefix_text.size() ||
        p < 0 || p > max_prefix) {
      throw ValueError(fmt::format("\"{}\" is not a valid CIDR (prefix 0..{})", text, max_prefix));
    }
    c.prefix = static_cast<int>(p);
  }
  c.text = fmt::format("{}/{}", addr_text, c.prefix);
  return c;
}

namespace {
bool prefix_match(const std::uint8_t* a, const std::uint8_t* b, int prefix) {
  const int full = prefix / 8;
  if (std::memcmp(a, b, static_cast<std::size_t>(full)) != 0) {
    return false;
  }
  const int rest = prefix % 8;
  if (rest == 0) {
    return true;
  }
  const auto mask = static_cast<std::uint8_t>(0xFF << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}
}  // namespace

bool Cidr::contains(const sockaddr* sa) const {
  if (sa == nullptr) {
    return false;
  }
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(&in->sin_addr);
    if (family == AF_INET) {
      return prefix_match(addr, bytes, prefix);
    }
    // IPv4 address against an IPv4-mapped IPv6 network.
    std::uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    std::memcpy(mapped + 12, bytes, 4);
    return prefix_match(addr, mapped, prefix);
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(&in6->sin6_addr);
    if (family == AF_INET6) {
      return prefix_match(addr, bytes, prefix);
    }
    static const std::uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    return std::memcmp(bytes, v4mapped, 12) == 0 && prefix_match(addr, bytes + 12, prefix);
  }
  return false;
}

bool cidr_list_allows(const std::vector<Cidr>& list, const sockaddr* sa) {
  if (list.empty()) {
    return true;
  }
  for (const auto& c : list) {
    if (c.contains(sa)) {
      return true;
    }
  }
  return false;
}

std::string VideoSize::to_string() const { return fmt::format("{}x{}", width, height); }

VideoSize parse_video_size(std::string_view text) {
  auto x = text.find('x');
  if (x == std::string_view::npos) {
    throw ValueError(fmt::format("\"{}\" is not a valid size (use WIDTHxHEIGHT, e.g. 1280x720)", text));
  }
  VideoSize s;
  try {
    s.width = static_cast<int>(parse_int(text.substr(0, x), 16, 8192));
    s.height = static_cast<int>(parse_int(text.substr(x + 1), 16, 8192));
  } catch (const ValueError&) {
    throw ValueError(fmt::format(
        "\"{}\" is not a valid size (WIDTHxHEIGHT, each 16..8192, e.g. 1280x720)", text));
  }
  if (s.width % 2 != 0 || s.height % 2 != 0) {
    throw ValueError(fmt::format("\"{}\": width and height must be even", text));
  }
  return s;
}

}  // namespace veter::common
