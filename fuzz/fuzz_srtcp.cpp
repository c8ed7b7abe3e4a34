// Fuzz SRTCP as both daemons receive it (the relay's RTCP socket, the
// publisher's RTCP probe): arbitrary datagrams through an inbound
// common::SrtcpContext. Input [0] selects the mode:
//   even: the rest is a datagram from an attacker without the key;
//   odd:  the rest is a plain compound RTCP packet the relay would send: it is
//         protected, possibly altered at byte [1] (xor [2]), and must come back
//         unchanged exactly when it was not altered.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "veter/common/srtcp.hpp"

using namespace veter::common;

namespace {
SrtpKey fixed_key() {
  SrtpKey k;
  for (std::size_t i = 0; i < k.bytes.size(); ++i) {
    k.bytes[i] = static_cast<std::uint8_t>(0x5A ^ i);
  }
  return k;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) {
    return 0;
  }
  static SrtcpContext in(fixed_key(), SrtcpContext::Direction::inbound);
  static SrtcpContext out(fixed_key(), SrtcpContext::Direction::outbound);
  if ((data[0] & 1) == 0) {
    std::vector<std::uint8_t> packet(data + 1, data + size);
    (void)in.unprotect(packet);
    return 0;
  }
  const std::span<const std::uint8_t> plain(data + 3, size - 3);
  if (plain.size() < 8 || plain.size() % 4 != 0) {
    return 0;  // protect() refuses what is not compound-RTCP shaped (tested in the unit tests)
  }
  std::vector<std::uint8_t> packet = out.protect(plain);
  const std::size_t at = data[1] % packet.size();
  packet[at] ^= data[2];
  const bool altered = data[2] != 0;
  const auto r = in.unprotect(packet);
  if (altered == (r == SrtcpContext::Result::ok)) {
    std::abort();  // an altered packet authenticated, or a genuine one did not
  }
  if (!altered && !std::equal(packet.begin(), packet.end(), plain.begin(), plain.end())) {
    std::abort();  // decrypted to something else
  }
  return 0;
}
