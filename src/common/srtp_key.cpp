#include "veter/common/srtp_key.hpp"
#include "veter/common/checksum.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "veter/common/config_reader.hpp"

namespace veter::common {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+' || c == '-') {
    return 62;
  }
  if (c == '/' || c == '_') {
    return 63;
  }
  return -1;
}

/// Strip comment lines and every whitespace character.
std::string compact(std::string_view text) {
  std::string out;
  bool line_start = true;
  bool comment = false;
  for (char c : text) {
    if (c == '\n') {
      line_start = true;
      comment = false;
      continue;
    }
    if (line_start && c == '#') {
      comment = true;
    }
    if (c != ' ' && c != '\t' && c != '\r') {
      line_start = false;
    }
    if (comment || c == ' ' || c == '\t' || c == '\r') {
      continue;
    }
    out.push_back(c);
  }
  return out;
}

bool decode_hex(const std::string& s, std::vector<std::uint8_t>& out) {
  std::string digits;
  for (char c : s) {
    if (c == ':') {
      continue;
    }
    digits.push_back(c);
  }
  if (digits.size() % 2 != 0) {
    return false;
  }
  out.clear();
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    const int hi = hex_value(digits[i]);
    const int lo = hex_value(digits[i + 1]);
    if (hi < 0 || lo < 0) {
      return false;
    }
    out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
  }
  return true;
}

bool decode_base64(std::string s, std::vector<std::uint8_t>& out) {
  while (!s.empty() && s.back() == '=') {
    s.pop_back();
  }
  out.clear();
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    const int v = base64_value(c);
    if (v < 0) {
      return false;
    }
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xff));
    }
  }
  return bits < 6;  // a lone trailing character is not base64
}

}  // namespace

std::string SrtpKey::fingerprint() const {
  return "sha256:" + checksum_hex(G_CHECKSUM_SHA256, bytes).substr(0, 8);
}

BufferPtr SrtpKey::to_buffer() const {
  return buffer_copy_of(bytes.data(), bytes.size());
}

SrtpKey parse_srtp_key(std::string_view text, const std::string& origin) {
  const std::string s = compact(text);
  std::vector<std::uint8_t> raw;
  const bool hex_ok = decode_hex(s, raw) && raw.size() == kSrtpKeyBytes;
  if (!hex_ok && !(decode_base64(s, raw) && raw.size() == kSrtpKeyBytes)) {
    throw ConfigError(fmt::format(
        "{}: not an SRTP key: expected the 30-byte master key + salt (AES_CM_128_HMAC_SHA1_80) as 60 hex "
        "digits or 40 base64 characters (found {} characters); generate one with: openssl rand -hex 30",
        origin, s.size()));
  }
  SrtpKey key;
  std::memcpy(key.bytes.data(), raw.data(), kSrtpKeyBytes);
  std::fill(raw.begin(), raw.end(), 0);
  return key;
}

SrtpKey load_srtp_key_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    throw ConfigError(fmt::format("srtp_key_file {}: cannot open: {}", path, std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw ConfigError(fmt::format("srtp_key_file {}: not a regular file", path));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    ::close(fd);
    throw ConfigError(fmt::format("srtp_key_file {}: permissions {:04o} let group/others access the key; "
                                  "run: chmod 600 {}",
                                  path, st.st_mode & 07777, path));
  }
  std::string text;
  char buf[512];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && text.size() < 4096) {
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  std::fill(std::begin(buf), std::end(buf), '\0');
  auto key = parse_srtp_key(text, "srtp_key_file " + path);
  std::fill(text.begin(), text.end(), '\0');
  return key;
}

}  // namespace veter::common
