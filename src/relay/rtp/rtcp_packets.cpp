#include "veter/relay/rtp/rtcp_packets.hpp"

#include <algorithm>

#include "veter/relay/ingest/packet_filter.hpp"

namespace veter::relay {

namespace {
void put16(std::vector<std::uint8_t>& v, std::uint32_t x) {
  v.push_back(static_cast<std::uint8_t>(x >> 8));
  v.push_back(static_cast<std::uint8_t>(x));
}
void put32(std::vector<std::uint8_t>& v, std::uint32_t x) {
  put16(v, x >> 16);
  put16(v, x & 0xFFFF);
}
std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
}  // namespace

std::vector<std::uint8_t> build_receiver_report(std::uint32_t sender_ssrc, const std::optional<ReportBlock>& block,
                                                std::string_view cname) {
  std::vector<std::uint8_t> v;
  // RR header
  v.push_back(static_cast<std::uint8_t>(0x80 | (block ? 1 : 0)));
  v.push_back(201);
  put16(v, block ? 7 : 1);
  put32(v, sender_ssrc);
  if (block) {
    put32(v, block->ssrc);
    v.push_back(block->fraction_lost);
    const auto cum = static_cast<std::uint32_t>(block->cumulative_lost) & 0xFFFFFF;
    v.push_back(static_cast<std::uint8_t>(cum >> 16));
    put16(v, cum & 0xFFFF);
    put32(v, block->ext_highest_seq);
    put32(v, block->jitter);
    put32(v, block->lsr);
    put32(v, block->dlsr);
  }
  // SDES with one chunk: SSRC, CNAME item, END, padded to 32 bits.
  const std::size_t name_len = cname.size() > 255 ? 255 : cname.size();
  std::size_t chunk = 4 + 2 + name_len + 1;
  chunk = (chunk + 3) / 4 * 4;
  v.push_back(0x81);
  v.push_back(202);
  put16(v, static_cast<std::uint32_t>(chunk / 4));
  put32(v, sender_ssrc);
  v.push_back(1);  // CNAME
  v.push_back(static_cast<std::uint8_t>(name_len));
  v.insert(v.end(), cname.begin(), cname.begin() + static_cast<std::ptrdiff_t>(name_len));
  for (std::size_t i = 4 + 2 + name_len; i < chunk; ++i) {
    v.push_back(0);  // END item + padding
  }
  return v;
}

std::vector<std::uint8_t> build_pli(std::uint32_t sender_ssrc, std::uint32_t media_ssrc) {
  std::vector<std::uint8_t> v;
  v.push_back(0x81);  // V=2, FMT=1 (PLI)
  v.push_back(206);   // PSFB
  put16(v, 2);
  put32(v, sender_ssrc);
  put32(v, media_ssrc);
  return v;
}

std::vector<std::uint8_t> build_nack(std::uint32_t sender_ssrc, std::uint32_t media_ssrc,
                                     std::vector<std::uint16_t> seqs) {
  // Sort in RTP order relative to the first (wrap-safe for a window under 32768 packets).
  if (seqs.empty()) {
    return {};
  }
  const std::uint16_t base = *std::min_element(seqs.begin(), seqs.end(), [&](std::uint16_t a, std::uint16_t b) {
    return static_cast<std::int16_t>(a - seqs.front()) < static_cast<std::int16_t>(b - seqs.front());
  });
  std::sort(seqs.begin(), seqs.end(), [base](std::uint16_t a, std::uint16_t b) {
    return static_cast<std::uint16_t>(a - base) < static_cast<std::uint16_t>(b - base);
  });
  seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
  std::vector<std::pair<std::uint16_t, std::uint16_t>> fci;  // PID, BLP
  for (const std::uint16_t s : seqs) {
    const auto off = static_cast<std::uint16_t>(s - (fci.empty() ? s : fci.back().first));
    if (!fci.empty() && off >= 1 && off <= 16) {
      fci.back().second = static_cast<std::uint16_t>(fci.back().second | (1u << (off - 1)));
    } else {
      fci.emplace_back(s, 0);
    }
  }
  std::vector<std::uint8_t> v;
  v.push_back(0x81);  // V=2, FMT=1 (Generic NACK)
  v.push_back(205);   // RTPFB
  put16(v, static_cast<std::uint16_t>(2 + fci.size()));
  put32(v, sender_ssrc);
  put32(v, media_ssrc);
  for (const auto& [pid, blp] : fci) {
    put16(v, pid);
    put16(v, blp);
  }
  return v;
}

std::optional<SenderReportInfo> find_sender_report(std::span<const std::uint8_t> data) {
  if (check_rtcp(data)) {
    return std::nullopt;
  }
  std::size_t off = 0;
  while (off + 4 <= data.size()) {
    const std::size_t len = 4 * ((std::size_t{data[off + 2]} << 8 | data[off + 3]) + 1);
    if (data[off + 1] == 200 && len >= 28) {
      SenderReportInfo sr;
      sr.ssrc = be32(&data[off + 4]);
      const std::uint32_t ntp_hi = be32(&data[off + 8]);
      const std::uint32_t ntp_lo = be32(&data[off + 12]);
      sr.ntp_middle = (ntp_hi << 16) | (ntp_lo >> 16);
      return sr;
    }
    off += len;
  }
  return std::nullopt;
}

std::vector<std::uint16_t> nacked_sequence_numbers(std::span<const std::uint8_t> data, std::uint32_t media_ssrc) {
  std::vector<std::uint16_t> out;
  std::size_t off = 0;
  while (off + 4 <= data.size() && (data[off] >> 6) == 2) {
    const std::size_t len = 4 * ((std::size_t{data[off + 2]} << 8 | data[off + 3]) + 1);
    if (len > data.size() - off) {
      break;
    }
    if (data[off + 1] == 205 && (data[off] & 0x1F) == 1 && len >= 12 && be32(&data[off + 8]) == media_ssrc) {
      for (std::size_t f = off + 12; f + 4 <= off + len; f += 4) {
        const auto pid = static_cast<std::uint16_t>(data[f] << 8 | data[f + 1]);
        const auto blp = static_cast<std::uint16_t>(data[f + 2] << 8 | data[f + 3]);
        out.push_back(pid);
        for (int b = 0; b < 16; ++b) {
          if ((blp >> b) & 1) {
            out.push_back(static_cast<std::uint16_t>(pid + b + 1));
          }
        }
      }
    }
    off += len;
  }
  return out;
}

bool contains_keyframe_request(std::span<const std::uint8_t> data) {
  // Accept reduced-size RTCP too: walk packets as long as they are well formed.
  std::size_t off = 0;
  while (off + 4 <= data.size()) {
    if ((data[off] >> 6) != 2) {
      return false;
    }
    const std::size_t len = 4 * ((std::size_t{data[off + 2]} << 8 | data[off + 3]) + 1);
    if (len > data.size() - off) {
      return false;
    }
    const int fmt = data[off] & 0x1F;
    if (data[off + 1] == 206 && (fmt == 1 || fmt == 4)) {
      return true;
    }
    off += len;
  }
  return false;
}

}  // namespace veter::relay
