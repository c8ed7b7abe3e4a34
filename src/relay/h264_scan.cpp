#include "veter/relay/h264_scan.hpp"

namespace veter::relay {

AccessUnitInfo scan_access_unit(std::span<const std::uint8_t> data) {
  AccessUnitInfo info;
  const std::size_t n = data.size();
  std::size_t i = 0;
  while (i + 3 < n) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
      const std::uint8_t header = data[i + 3];
      if ((header & 0x80) == 0) {  // forbidden_zero_bit
        switch (header & 0x1F) {
          case 5: info.idr = true; break;
          case 7: info.sps = true; break;
          case 8: info.pps = true; break;
          default: break;
        }
        ++info.nal_units;
      }
      i += 3;
    } else {
      ++i;
    }
  }
  return info;
}

}  // namespace veter::relay
