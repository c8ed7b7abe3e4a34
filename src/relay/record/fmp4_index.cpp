#include "veter/relay/record/fmp4_index.hpp"

#include <algorithm>
#include <cstring>

namespace veter::relay {
namespace {

std::uint32_t be32(std::span<const std::uint8_t> b, std::uint64_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) | (std::uint32_t{b[at + 2]} << 8) |
         std::uint32_t{b[at + 3]};
}
std::uint64_t be64(std::span<const std::uint8_t> b, std::uint64_t at) {
  return (std::uint64_t{be32(b, at)} << 32) | be32(b, at + 4);
}
void put32(std::vector<std::uint8_t>& b, std::uint64_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    b[at + i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
  }
}
void put64(std::vector<std::uint8_t>& b, std::uint64_t at, std::uint64_t v) {
  put32(b, at, static_cast<std::uint32_t>(v >> 32));
  put32(b, at + 4, static_cast<std::uint32_t>(v));
}

struct Box {
  std::uint64_t offset = 0;
  std::uint64_t header = 0;
  std::uint64_t size = 0;
  char type[5] = {};
  [[nodiscard]] bool is(const char* t) const { return std::memcmp(type, t, 4) == 0; }
  [[nodiscard]] std::uint64_t body() const { return offset + header; }
  [[nodiscard]] std::uint64_t end() const { return offset + size; }
};

/// The box at `at` within [.., end); nullopt when its header or body does not fit.
std::optional<Box> box_at(std::span<const std::uint8_t> b, std::uint64_t at, std::uint64_t end) {
  if (at + 8 > end) {
    return std::nullopt;
  }
  Box x;
  x.offset = at;
  x.size = be32(b, at);
  x.header = 8;
  std::memcpy(x.type, &b[at + 4], 4);
  if (x.size == 1) {
    if (at + 16 > end) {
      return std::nullopt;
    }
    x.size = be64(b, at + 8);
    x.header = 16;
  } else if (x.size == 0) {
    x.size = end - at;
  }
  if (x.size < x.header || x.size > end - at) {
    return std::nullopt;
  }
  return x;
}

/// Children of a container box, in order (stops at the first that does not fit).
std::vector<Box> children(std::span<const std::uint8_t> b, const Box& parent) {
  std::vector<Box> out;
  std::uint64_t at = parent.body();
  while (auto c = box_at(b, at, parent.end())) {
    out.push_back(*c);
    at = c->end();
  }
  return out;
}

const Box* find(const std::vector<Box>& boxes, const char* type) {
  for (const auto& x : boxes) {
    if (x.is(type)) {
      return &x;
    }
  }
  return nullptr;
}

struct Trex {
  std::uint32_t duration = 0;
  std::uint32_t flags = 0;
};

struct MoovInfo {
  std::uint32_t movie_timescale = 0;
  std::uint32_t timescale = 0;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  Trex trex;
  // Duration fields to rewrite when splicing: offset and whether it is 64-bit.
  std::vector<std::pair<std::uint64_t, bool>> movie_durations;  // mvhd, tkhd, mehd (movie timescale)
  std::vector<std::pair<std::uint64_t, bool>> media_durations;  // mdhd (track timescale)
};

bool parse_moov(std::span<const std::uint8_t> b, const Box& moov, MoovInfo& m) {
  const auto kids = children(b, moov);
  if (const Box* mvhd = find(kids, "mvhd"); mvhd != nullptr && mvhd->size >= mvhd->header + 36) {
    const bool v1 = b[mvhd->body()] == 1;
    const std::uint64_t ts = mvhd->body() + (v1 ? 20 : 12);
    m.movie_timescale = be32(b, ts);
    m.movie_durations.emplace_back(ts + 4, v1);
  }
  int video_tracks = 0;
  for (const auto& trak : kids) {
    if (!trak.is("trak")) {
      continue;
    }
    const auto t = children(b, trak);
    const Box* tkhd = find(t, "tkhd");
    const Box* mdia = find(t, "mdia");
    if (tkhd == nullptr || mdia == nullptr || tkhd->size < tkhd->header + (b[tkhd->body()] == 1 ? 96 : 84)) {
      continue;
    }
    const auto md = children(b, *mdia);
    const Box* mdhd = find(md, "mdhd");
    const Box* hdlr = find(md, "hdlr");
    if (mdhd == nullptr || hdlr == nullptr || hdlr->size < hdlr->header + 12 ||
        std::memcmp(&b[hdlr->body() + 8], "vide", 4) != 0 ||
        mdhd->size < mdhd->header + (b[mdhd->body()] == 1 ? 36 : 24)) {
      continue;
    }
    ++video_tracks;
    const bool tv1 = b[tkhd->body()] == 1;
    m.movie_durations.emplace_back(tkhd->body() + (tv1 ? 28 : 20), tv1);
    m.width = be32(b, tkhd->end() - 8) >> 16;
    m.height = be32(b, tkhd->end() - 4) >> 16;
    const bool mv1 = b[mdhd->body()] == 1;
    const std::uint64_t ts = mdhd->body() + (mv1 ? 20 : 12);
    m.timescale = be32(b, ts);
    m.media_durations.emplace_back(ts + 4, mv1);
  }
  if (const Box* mvex = find(kids, "mvex")) {
    const auto mv = children(b, *mvex);
    if (const Box* mehd = find(mv, "mehd"); mehd != nullptr && mehd->size >= mehd->header + 8) {
      m.movie_durations.emplace_back(mehd->body() + 4, b[mehd->body()] == 1);
    }
    if (const Box* trex = find(mv, "trex"); trex != nullptr && trex->size >= trex->header + 24) {
      m.trex.duration = be32(b, trex->body() + 12);
      m.trex.flags = be32(b, trex->body() + 20);
    }
  }
  return video_tracks == 1 && m.timescale != 0;
}

constexpr std::uint32_t kNonSync = 0x10000;

/// One moof: its first traf's samples. False when it is not one we understand.
bool parse_moof(std::span<const std::uint8_t> b, const Box& moof, const Trex& trex, Fmp4Fragment& f,
                std::uint64_t next_start) {
  const auto kids = children(b, moof);
  const Box* mfhd = find(kids, "mfhd");
  const Box* traf = find(kids, "traf");
  if (mfhd == nullptr || traf == nullptr) {
    return false;
  }
  f.mfhd_offset = mfhd->offset;
  const auto t = children(b, *traf);
  const Box* tfhd = find(t, "tfhd");
  if (tfhd == nullptr || tfhd->size < tfhd->header + 8) {
    return false;
  }
  const std::uint32_t tf_flags = be32(b, tfhd->body()) & 0xFFFFFF;
  if ((tf_flags & 0x1) != 0) {
    return false;  // absolute base-data-offset: not what the recorder writes
  }
  std::uint64_t at = tfhd->body() + 8;
  std::uint32_t default_duration = trex.duration;
  std::uint32_t default_flags = trex.flags;
  const auto take = [&](std::uint32_t bit, std::uint32_t* out) {
    if ((tf_flags & bit) != 0) {
      if (at + 4 <= tfhd->end() && out != nullptr) {
        *out = be32(b, at);
      }
      at += 4;
    }
  };
  take(0x2, nullptr);
  take(0x8, &default_duration);
  take(0x10, nullptr);
  take(0x20, &default_flags);
  f.start = next_start;
  if (const Box* tfdt = find(t, "tfdt"); tfdt != nullptr && tfdt->size >= tfdt->header + 8) {
    f.tfdt_offset = tfdt->offset;
    f.start = b[tfdt->body()] == 1 ? be64(b, tfdt->body() + 4) : be32(b, tfdt->body() + 4);
  }
  bool first = true;
  for (const auto& trun : t) {
    if (!trun.is("trun") || trun.size < trun.header + 8) {
      continue;
    }
    const std::uint32_t flags = be32(b, trun.body()) & 0xFFFFFF;
    const std::uint32_t count = be32(b, trun.body() + 4);
    std::uint64_t p = trun.body() + 8;
    if ((flags & 0x1) != 0) {
      p += 4;
    }
    std::optional<std::uint32_t> first_flags;
    if ((flags & 0x4) != 0) {
      first_flags = be32(b, p);
      p += 4;
    }
    const std::uint64_t per_sample = 4ULL * (((flags & 0x100) != 0) + ((flags & 0x200) != 0) +
                                             ((flags & 0x400) != 0) + ((flags & 0x800) != 0));
    if (p + per_sample * count > trun.end()) {
      return false;
    }
    for (std::uint32_t i = 0; i < count; ++i) {
      std::uint32_t duration = default_duration;
      std::uint32_t sflags = default_flags;
      if ((flags & 0x100) != 0) {
        duration = be32(b, p);
        p += 4;
      }
      if ((flags & 0x200) != 0) {
        p += 4;
      }
      if ((flags & 0x400) != 0) {
        sflags = be32(b, p);
        p += 4;
      }
      if ((flags & 0x800) != 0) {
        p += 4;
      }
      if (first) {
        f.starts_with_sync = ((i == 0 && first_flags ? *first_flags : sflags) & kNonSync) == 0;
        first = false;
      }
      f.duration += duration;
      ++f.samples;
    }
  }
  return f.samples > 0;
}

}  // namespace

std::uint64_t Fmp4Index::duration() const {
  std::uint64_t d = 0;
  for (const auto& f : fragments) {
    d += f.duration;
  }
  return d;
}

double Fmp4Index::duration_seconds() const {
  return timescale == 0 ? 0.0 : static_cast<double>(duration()) / timescale;
}

std::uint32_t Fmp4Index::samples() const {
  std::uint32_t n = 0;
  for (const auto& f : fragments) {
    n += f.samples;
  }
  return n;
}

namespace {

/// Box header at `at` of a source of `size` bytes; nullopt when the box does not fit.
std::optional<Box> header_at(const Fmp4Reader& read, std::uint64_t size, std::uint64_t at) {
  std::vector<std::uint8_t> h;
  if (at + 8 > size || !read(at, std::min<std::uint64_t>(16, size - at), h) || h.size() < 8) {
    return std::nullopt;
  }
  Box x;
  x.offset = at;
  x.size = be32(h, 0);
  x.header = 8;
  std::memcpy(x.type, &h[4], 4);
  if (x.size == 1) {
    if (h.size() < 16) {
      return std::nullopt;
    }
    x.size = be64(h, 8);
    x.header = 16;
  } else if (x.size == 0) {
    x.size = size - at;  // to the end of the file
  }
  if (x.size < x.header || x.size > size - at) {
    return std::nullopt;
  }
  return x;
}

}  // namespace

std::optional<Fmp4Index> index_fmp4(std::span<const std::uint8_t> file) {
  return index_fmp4(file.size(), [file](std::uint64_t offset, std::uint64_t length, std::vector<std::uint8_t>& out) {
    if (offset + length > file.size()) {
      return false;
    }
    out.assign(file.begin() + static_cast<std::ptrdiff_t>(offset),
               file.begin() + static_cast<std::ptrdiff_t>(offset + length));
    return true;
  });
}

std::optional<Fmp4Index> index_fmp4(std::uint64_t size, const Fmp4Reader& read) {
  Fmp4Index idx;
  MoovInfo moov;
  bool have_moov = false;
  std::uint64_t at = 0;
  std::uint64_t next_start = 0;
  std::vector<std::uint8_t> bytes;
  while (at < size) {
    const auto box = header_at(read, size, at);
    if (!box) {
      idx.truncated = true;
      break;
    }
    if (box->is("moov")) {
      if (!read(at, box->size, bytes)) {
        idx.truncated = true;
        break;
      }
      Box local = *box;
      local.offset = 0;
      if (!parse_moov(bytes, local, moov)) {
        return std::nullopt;
      }
      have_moov = true;
      idx.init_size = box->end();
    } else if (box->is("moof")) {
      if (!have_moov) {
        return std::nullopt;
      }
      const auto mdat = header_at(read, size, box->end());
      if (!mdat || !mdat->is("mdat") || !read(at, box->size, bytes)) {
        idx.truncated = true;
        break;
      }
      Box local = *box;
      local.offset = 0;
      Fmp4Fragment f;
      if (!parse_moof(bytes, local, moov.trex, f, next_start)) {
        idx.truncated = true;
        break;
      }
      f.offset = box->offset;
      f.size = mdat->end() - box->offset;
      f.mfhd_offset += box->offset;
      if (f.tfdt_offset != 0) {
        f.tfdt_offset += box->offset;
      }
      next_start = f.start + f.duration;
      idx.fragments.push_back(f);
      at = mdat->end();
      continue;
    } else if (box->is("mfra")) {
      break;  // the random-access index at the end of a finished file
    } else if (!have_moov) {
      idx.init_size = box->end();  // ftyp and anything else before the moov
    }
    at = box->end();
  }
  if (!have_moov) {
    return std::nullopt;
  }
  idx.timescale = moov.timescale;
  idx.movie_timescale = moov.movie_timescale;
  idx.width = moov.width;
  idx.height = moov.height;
  return idx;
}

std::vector<std::uint8_t> splice_fmp4(std::span<const Fmp4Part> parts) {
  std::vector<std::uint8_t> out;
  if (parts.empty() || parts.front().index == nullptr) {
    return out;
  }
  const auto& head = parts.front();
  std::uint64_t total = 0;
  for (const auto& p : parts) {
    for (std::size_t i = p.first; i < p.last; ++i) {
      total += p.index->fragments[i].duration;
    }
  }
  out.assign(head.file.begin(), head.file.begin() + static_cast<std::ptrdiff_t>(head.index->init_size));
  MoovInfo moov;
  for (std::uint64_t at = 0; at < out.size();) {
    const auto box = box_at(out, at, out.size());
    if (!box) {
      break;
    }
    if (box->is("moov")) {
      parse_moov(out, *box, moov);
    }
    at = box->end();
  }
  const auto scaled = [&](std::uint32_t to) {
    return head.index->timescale == 0 ? 0 : total * to / head.index->timescale;
  };
  for (const auto& [at, wide] : moov.movie_durations) {
    wide ? put64(out, at, scaled(moov.movie_timescale))
         : put32(out, at, static_cast<std::uint32_t>(scaled(moov.movie_timescale)));
  }
  for (const auto& [at, wide] : moov.media_durations) {
    wide ? put64(out, at, total) : put32(out, at, static_cast<std::uint32_t>(total));
  }
  std::uint64_t time = 0;
  std::uint32_t seq = 1;
  for (const auto& p : parts) {
    for (std::size_t i = p.first; i < p.last; ++i) {
      const auto& f = p.index->fragments[i];
      const std::uint64_t base = out.size();
      out.insert(out.end(), p.file.begin() + static_cast<std::ptrdiff_t>(f.offset),
                 p.file.begin() + static_cast<std::ptrdiff_t>(f.offset + f.size));
      put32(out, base + (f.mfhd_offset - f.offset) + 12, seq++);
      if (f.tfdt_offset != 0) {
        const std::uint64_t tfdt = base + (f.tfdt_offset - f.offset);
        if (out[tfdt + 8] == 1) {
          put64(out, tfdt + 12, time);
        } else {
          put32(out, tfdt + 12, static_cast<std::uint32_t>(time));
        }
      }
      time += f.duration;
    }
  }
  return out;
}

}  // namespace veter::relay
