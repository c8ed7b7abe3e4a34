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

std::vector<std::uint8_t> extract_parameter_sets(std::span<const std::uint8_t> data) {
  std::vector<std::uint8_t> out;
  const std::size_t n = data.size();
  // Positions of every NAL header (the byte after a 00 00 01 start code).
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i + 3 < n; ++i) {
    if (data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1) {
      starts.push_back(i + 3);
      i += 2;
    }
  }
  for (std::size_t k = 0; k < starts.size(); ++k) {
    const std::size_t begin = starts[k];
    std::size_t end = k + 1 < starts.size() ? starts[k + 1] - 3 : n;
    while (end > begin && data[end - 1] == 0) {
      --end;  // trailing zero of a 4-byte start code / trailing_zero_8bits
    }
    const int type = data[begin] & 0x1F;
    if ((type == 7 || type == 8) && end > begin) {
      out.insert(out.end(), {0, 0, 0, 1});
      out.insert(out.end(), data.begin() + static_cast<std::ptrdiff_t>(begin),
                 data.begin() + static_cast<std::ptrdiff_t>(end));
    }
  }
  return out;
}

}  // namespace veter::relay
