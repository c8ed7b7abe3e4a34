#include "veter/relay/rtp/sps_info.hpp"

// The codecparsers API is marked unstable; 1.22 is what Debian 12 ships and what we build against.
#define GST_USE_UNSTABLE_API 1
#include <gst/codecparsers/gsth264parser.h>

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <memory>
#include <vector>

namespace veter::relay {

std::string h264_profile_name(int profile_idc, bool constraint_set1, bool constraint_set3) {
  switch (profile_idc) {
    case 66: return constraint_set1 ? "constrained-baseline" : "baseline";
    case 77: return "main";
    case 88: return "extended";
    case 100: return "high";
    case 110: return constraint_set3 ? "high-10-intra" : "high-10";
    case 122: return constraint_set3 ? "high-4:2:2-intra" : "high-4:2:2";
    case 244: return constraint_set3 ? "high-4:4:4-intra" : "high-4:4:4";
    default: return "";
  }
}

std::string h264_level_name(int level_idc, bool constraint_set3, int profile_idc) {
  // Level 1b: level_idc 11 with constraint_set3 in Baseline/Main/Extended, or 9.
  if (level_idc == 9 || (level_idc == 11 && constraint_set3 && (profile_idc == 66 || profile_idc == 77 ||
                                                                 profile_idc == 88))) {
    return "1b";
  }
  if (level_idc % 10 == 0) {
    return fmt::format("{}", level_idc / 10);
  }
  return fmt::format("{}.{}", level_idc / 10, level_idc % 10);
}

std::optional<TrackSnapshot> parse_sps(std::span<const std::uint8_t> sps) {
  if (sps.size() < 4 || (sps[0] & 0x1F) != 7) {
    return std::nullopt;
  }
  // The parser finds NAL units by start code: give it one.
  std::vector<std::uint8_t> annexb{0, 0, 0, 1};
  annexb.insert(annexb.end(), sps.begin(), sps.end());
  std::unique_ptr<GstH264NalParser, decltype(&gst_h264_nal_parser_free)> parser(gst_h264_nal_parser_new(),
                                                                                 &gst_h264_nal_parser_free);
  GstH264NalUnit nalu{};
  if (gst_h264_parser_identify_nalu_unchecked(parser.get(), annexb.data(), 0, static_cast<guint>(annexb.size()),
                                              &nalu) != GST_H264_PARSER_OK) {
    return std::nullopt;
  }
  GstH264SPS parsed{};
  if (gst_h264_parser_parse_sps(parser.get(), &nalu, &parsed) != GST_H264_PARSER_OK) {
    return std::nullopt;
  }
  static constexpr int kLevels[] = {9, 10, 11, 12, 13, 20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51, 52, 60, 61, 62};
  const bool known_level = std::find(std::begin(kLevels), std::end(kLevels), parsed.level_idc) != std::end(kLevels);
  TrackSnapshot t;
  t.width = parsed.frame_cropping_flag != 0 ? parsed.crop_rect_width : parsed.width;
  t.height = parsed.frame_cropping_flag != 0 ? parsed.crop_rect_height : parsed.height;
  t.profile = h264_profile_name(parsed.profile_idc, parsed.constraint_set1_flag != 0, parsed.constraint_set3_flag != 0);
  t.level = h264_level_name(parsed.level_idc, parsed.constraint_set3_flag != 0, parsed.profile_idc);
  gst_h264_sps_clear(&parsed);
  const auto side_ok = [](int v) { return v >= 64 && v <= 8192; };
  if (t.profile.empty() || !known_level || !side_ok(t.width) || !side_ok(t.height) || t.width > 8 * t.height ||
      t.height > 8 * t.width) {
    return std::nullopt;
  }
  return t;
}

}  // namespace veter::relay
