// Hex digests (GLib's g_compute_checksum_for_data), owned and freed in one place.
#pragma once

#include <glib.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace veter::common {

/// Lower-case hex digest of `data` (e.g. G_CHECKSUM_SHA256, G_CHECKSUM_MD5).
std::string checksum_hex(GChecksumType type, std::span<const std::uint8_t> data);
inline std::string checksum_hex(GChecksumType type, std::string_view text) {
  return checksum_hex(type, std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

}  // namespace veter::common
