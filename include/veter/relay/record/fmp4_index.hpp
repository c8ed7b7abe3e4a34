// What a recorded fragmented MP4 segment holds, read from its boxes (ISO/IEC 14496-12):
// the initialisation part (ftyp + moov) and each fragment (moof + mdat) with its media time,
// duration, sample count and whether it starts with a sync sample (keyframe).
//
// A segment cut short by a crash (kill -9, power loss) ends in a partial box: the index stops
// at the last complete fragment, which is exactly what a player can play. Pure functions over
// bytes; no GStreamer.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace veter::relay {

struct Fmp4Fragment {
  std::uint64_t offset = 0;      // of the moof box in the file
  std::uint64_t size = 0;        // moof + mdat
  std::uint64_t start = 0;       // decode time of its first sample, in the track's timescale
  std::uint64_t duration = 0;    // sum of its sample durations
  std::uint32_t samples = 0;
  bool starts_with_sync = false;  // first sample is a keyframe
  std::uint64_t tfdt_offset = 0;  // of the tfdt box in the file (0 = none)
  std::uint64_t mfhd_offset = 0;  // of the mfhd box in the file
};

struct Fmp4Index {
  std::uint64_t init_size = 0;      // ftyp + moov (+ anything before the first moof)
  std::uint32_t timescale = 0;      // the track's (mdhd)
  std::uint32_t movie_timescale = 0;  // mvhd's
  std::uint32_t width = 0;          // tkhd, whole pixels
  std::uint32_t height = 0;
  std::vector<Fmp4Fragment> fragments;
  bool truncated = false;  // a partial box after the last complete fragment

  [[nodiscard]] std::uint64_t duration() const;  // in timescale units, all fragments
  [[nodiscard]] double duration_seconds() const;
  [[nodiscard]] std::uint32_t samples() const;
};

/// Index a segment; nullopt when there is no moov with one video track (not an fMP4 we wrote).
std::optional<Fmp4Index> index_fmp4(std::span<const std::uint8_t> file);
/// The same, reading only box headers, moov and moof boxes (not the media data) through
/// `read(offset, length, out)`, which returns false when those bytes cannot be read.
using Fmp4Reader = std::function<bool(std::uint64_t offset, std::uint64_t length, std::vector<std::uint8_t>& out)>;
std::optional<Fmp4Index> index_fmp4(std::uint64_t size, const Fmp4Reader& read);

/// The fragments [first, last) of several segments as one fMP4: the first segment's init part
/// with its durations set to the total, then each fragment with its decode time made continuous
/// and its sequence number renumbered. Every part must have the same track (timescale and size).
struct Fmp4Part {
  std::span<const std::uint8_t> file;
  const Fmp4Index* index = nullptr;
  std::size_t first = 0;
  std::size_t last = 0;
};
std::vector<std::uint8_t> splice_fmp4(std::span<const Fmp4Part> parts);

}  // namespace veter::relay
