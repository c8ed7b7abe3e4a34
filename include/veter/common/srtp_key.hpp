// SRTP master key + salt for AES_CM_128_HMAC_SHA1_80 (RFC 3711): 16 bytes key
// followed by 14 bytes salt, read from a file that only its owner may read.
//
// The key itself is never logged; fingerprint() (first bytes of its SHA-256)
// lets an operator compare both ends without revealing it.
#pragma once

#include <gst/gst.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "veter/common/gst_ptr.hpp"

namespace veter::common {

inline constexpr std::size_t kSrtpKeyBytes = 30;  // 16 key + 14 salt

struct SrtpKey {
  std::array<std::uint8_t, kSrtpKeyBytes> bytes{};
  /// "sha256:1a2b3c4d": safe to log, identifies the key.
  [[nodiscard]] std::string fingerprint() const;
  /// A new GstBuffer holding the 30 bytes (srtpenc "key" / srtpdec "srtp-key").
  [[nodiscard]] BufferPtr to_buffer() const;
};

/// Parse the file contents: hex (60 digits, optional spaces/colons) or base64
/// (40 characters) of exactly 30 bytes; surrounding whitespace and "#" comment
/// lines are ignored. Throws ConfigError naming `origin` (never the key).
SrtpKey parse_srtp_key(std::string_view text, const std::string& origin);

/// Load `path`: refuses a file that is not a regular file or that group or
/// others can read or write (chmod 600/400), then parse_srtp_key. Throws ConfigError.
SrtpKey load_srtp_key_file(const std::string& path);

}  // namespace veter::common
