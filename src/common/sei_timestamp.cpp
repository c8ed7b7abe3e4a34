#include "veter/common/sei_timestamp.hpp"

#include <algorithm>

namespace veter::common::sei {

namespace {
constexpr std::uint8_t kNalSei = 6;
constexpr std::uint8_t kSeiUserDataUnregistered = 5;
constexpr std::size_t kPayloadSize = 16 + 8;

int nal_type(std::span<const std::uint8_t> nal) { return nal.empty() ? -1 : (nal[0] & 0x1F); }
}  // namespace

std::vector<std::uint8_t> escape_rbsp(std::span<const std::uint8_t> rbsp) {
  std::vector<std::uint8_t> out;
  out.reserve(rbsp.size() + rbsp.size() / 64 + 4);
  int zeros = 0;
  for (std::uint8_t b : rbsp) {
    if (zeros >= 2 && b <= 0x03) {
      out.push_back(0x03);
      zeros = 0;
    }
    out.push_back(b);
    zeros = (b == 0) ? zeros + 1 : 0;
  }
  return out;
}

std::vector<std::uint8_t> unescape_rbsp(std::span<const std::uint8_t> ebsp) {
  std::vector<std::uint8_t> out;
  out.reserve(ebsp.size());
  int zeros = 0;
  for (std::uint8_t b : ebsp) {
    if (zeros >= 2 && b == 0x03) {
      zeros = 0;
      continue;
    }
    out.push_back(b);
    zeros = (b == 0) ? zeros + 1 : 0;
  }
  return out;
}

std::vector<std::uint8_t> make_timestamp_nal(std::int64_t capture_us) {
  std::vector<std::uint8_t> rbsp;
  rbsp.reserve(2 + kPayloadSize + 1);
  rbsp.push_back(kSeiUserDataUnregistered);
  rbsp.push_back(static_cast<std::uint8_t>(kPayloadSize));
  rbsp.insert(rbsp.end(), kVeterUuid.begin(), kVeterUuid.end());
  const auto u = static_cast<std::uint64_t>(capture_us);
  for (int shift = 56; shift >= 0; shift -= 8) {
    rbsp.push_back(static_cast<std::uint8_t>((u >> shift) & 0xFF));
  }
  rbsp.push_back(0x80);  // rbsp_trailing_bits
  std::vector<std::uint8_t> nal;
  nal.push_back(kNalSei);  // forbidden_zero_bit 0, nal_ref_idc 0, type 6
  const auto escaped = escape_rbsp(rbsp);
  nal.insert(nal.end(), escaped.begin(), escaped.end());
  return nal;
}

std::optional<std::int64_t> parse_timestamp_nal(std::span<const std::uint8_t> nal) {
  if (nal_type(nal) != kNalSei) {
    return std::nullopt;
  }
  const auto rbsp = unescape_rbsp(nal.subspan(1));
  std::size_t i = 0;
  // sei_message()* until rbsp_trailing_bits.
  while (i < rbsp.size() && !(rbsp[i] == 0x80 && i + 1 == rbsp.size())) {
    std::size_t type = 0;
    while (i < rbsp.size() && rbsp[i] == 0xFF) {
      type += 255;
      ++i;
    }
    if (i >= rbsp.size()) {
      return std::nullopt;
    }
    type += rbsp[i++];
    std::size_t size = 0;
    while (i < rbsp.size() && rbsp[i] == 0xFF) {
      size += 255;
      ++i;
    }
    if (i >= rbsp.size()) {
      return std::nullopt;
    }
    size += rbsp[i++];
    if (size > rbsp.size() - i) {
      return std::nullopt;
    }
    if (type == kSeiUserDataUnregistered && size >= kPayloadSize &&
        std::equal(kVeterUuid.begin(), kVeterUuid.end(), rbsp.begin() + static_cast<long>(i))) {
      std::uint64_t u = 0;
      for (std::size_t k = 0; k < 8; ++k) {
        u = (u << 8) | rbsp[i + 16 + k];
      }
      return static_cast<std::int64_t>(u);
    }
    i += size;
  }
  return std::nullopt;
}

void for_each_annexb_nal(std::span<const std::uint8_t> s,
                         const std::function<void(std::span<const std::uint8_t>)>& fn) {
  const std::size_t n = s.size();
  // Find the first start code.
  std::size_t i = 0;
  auto find_start = [&](std::size_t from, std::size_t& code_len) -> std::size_t {
    for (std::size_t k = from; k + 2 < n; ++k) {
      if (s[k] == 0 && s[k + 1] == 0 && s[k + 2] == 1) {
        code_len = 3;
        return k;
      }
    }
    code_len = 0;
    return n;
  };
  std::size_t len = 0;
  i = find_start(0, len);
  while (i < n) {
    const std::size_t begin = i + len;
    std::size_t next_len = 0;
    std::size_t next = find_start(begin, next_len);
    std::size_t end = next;
    // A zero byte before 00 00 01 belongs to a 4-byte start code (or trailing zeros).
    while (end > begin && s[end - 1] == 0 && next < n) {
      --end;
    }
    if (end > begin) {
      fn(s.subspan(begin, end - begin));
    }
    i = next;
    len = next_len;
  }
}

bool for_each_avc_nal(std::span<const std::uint8_t> buf, int length_size,
                      const std::function<void(std::span<const std::uint8_t>)>& fn) {
  if (length_size < 1 || length_size > 4) {
    return false;
  }
  const auto ls = static_cast<std::size_t>(length_size);
  std::size_t i = 0;
  while (i < buf.size()) {
    if (buf.size() - i < ls) {
      return false;
    }
    std::size_t len = 0;
    for (std::size_t k = 0; k < ls; ++k) {
      len = (len << 8) | buf[i + k];
    }
    i += ls;
    if (len > buf.size() - i) {
      return false;
    }
    fn(buf.subspan(i, len));
    i += len;
  }
  return true;
}

std::optional<std::int64_t> find_timestamp_annexb(std::span<const std::uint8_t> au) {
  std::optional<std::int64_t> found;
  for_each_annexb_nal(au, [&](std::span<const std::uint8_t> nal) {
    if (!found) {
      found = parse_timestamp_nal(nal);
    }
  });
  return found;
}

std::optional<std::int64_t> find_timestamp_avc(std::span<const std::uint8_t> au, int length_size) {
  std::optional<std::int64_t> found;
  for_each_avc_nal(au, length_size, [&](std::span<const std::uint8_t> nal) {
    if (!found) {
      found = parse_timestamp_nal(nal);
    }
  });
  return found;
}

std::vector<std::uint8_t> insert_timestamp_annexb(std::span<const std::uint8_t> au,
                                                  std::int64_t capture_us) {
  // Locate the first VCL NAL (types 1..5) and its start code.
  const std::size_t n = au.size();
  std::size_t insert_at = n;
  for (std::size_t k = 0; k + 3 < n; ++k) {
    if (au[k] == 0 && au[k + 1] == 0 && au[k + 2] == 1) {
      const int type = au[k + 3] & 0x1F;
      if (type >= 1 && type <= 5) {
        insert_at = (k > 0 && au[k - 1] == 0) ? k - 1 : k;
        break;
      }
      k += 2;
    }
  }
  static constexpr std::uint8_t kStart[] = {0, 0, 0, 1};
  const auto nal = make_timestamp_nal(capture_us);
  std::vector<std::uint8_t> out;
  out.reserve(n + nal.size() + 4);
  out.insert(out.end(), au.begin(), au.begin() + static_cast<long>(insert_at));
  out.insert(out.end(), std::begin(kStart), std::end(kStart));
  out.insert(out.end(), nal.begin(), nal.end());
  out.insert(out.end(), au.begin() + static_cast<long>(insert_at), au.end());
  return out;
}

}  // namespace veter::common::sei
