#include "veter/common/checksum.hpp"

#include "veter/common/gst_ptr.hpp"

namespace veter::common {

std::string checksum_hex(GChecksumType type, std::span<const std::uint8_t> data) {
  GCharPtr hex(g_compute_checksum_for_data(type, data.data(), data.size()));
  return hex ? std::string(hex.get()) : std::string();
}

}  // namespace veter::common
