#include "veter/relay/rtp/rtp_h264.hpp"

#include <algorithm>

namespace veter::relay {
namespace {
constexpr int kSps = 7;
constexpr int kPps = 8;
constexpr int kIdr = 5;
constexpr int kStapA = 24;
constexpr int kFuA = 28;

void note_unit(H264PayloadInfo& info, std::span<const std::uint8_t> unit) {
  if (unit.empty() || (unit[0] & 0x80) != 0) {
    return;
  }
  switch (unit[0] & 0x1F) {
    case kSps:
      info.sps = true;
      info.sps_units.push_back(unit);
      break;
    case kPps:
      info.pps = true;
      info.pps_units.push_back(unit);
      break;
    case kIdr:
      info.idr = true;
      break;
    default:
      break;
  }
}
}  // namespace

H264PayloadInfo inspect_h264_payload(std::span<const std::uint8_t> payload) {
  H264PayloadInfo info;
  if (payload.empty() || (payload[0] & 0x80) != 0) {
    return info;
  }
  const int type = payload[0] & 0x1F;
  if (type >= 1 && type <= 23) {
    info.valid = true;
    note_unit(info, payload);
  } else if (type == kStapA) {
    info.valid = true;
    std::size_t i = 1;
    while (i + 2 <= payload.size()) {
      const std::size_t len = (static_cast<std::size_t>(payload[i]) << 8) | payload[i + 1];
      i += 2;
      if (len == 0 || i + len > payload.size()) {
        break;
      }
      note_unit(info, payload.subspan(i, len));
      i += len;
    }
  } else if (type == kFuA) {
    if (payload.size() >= 2) {
      info.valid = true;
      const bool start = (payload[1] & 0x80) != 0;
      if (start && (payload[1] & 0x1F) == kIdr) {
        info.idr = true;
      }
    }
  }
  return info;
}

std::vector<std::uint8_t> make_stap_a(std::span<const std::vector<std::uint8_t>> units) {
  std::vector<std::uint8_t> out;
  std::uint8_t nri = 0;
  for (const auto& u : units) {
    if (!u.empty()) {
      nri = std::max<std::uint8_t>(nri, u[0] & 0x60);
    }
  }
  out.push_back(static_cast<std::uint8_t>(nri | kStapA));
  for (const auto& u : units) {
    if (u.empty() || u.size() > 0xFFFF) {
      continue;
    }
    out.push_back(static_cast<std::uint8_t>(u.size() >> 8));
    out.push_back(static_cast<std::uint8_t>(u.size() & 0xFF));
    out.insert(out.end(), u.begin(), u.end());
  }
  return out;
}

}  // namespace veter::relay
