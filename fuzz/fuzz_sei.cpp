// Fuzz the SEI capture-timestamp codec on arbitrary bitstreams.
#include <cstddef>
#include <cstdint>
#include <span>

#include "veter/common/sei_timestamp.hpp"

using namespace veter::common::sei;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  (void)find_timestamp_annexb(in);
  (void)find_timestamp_avc(in, 4);
  (void)find_timestamp_avc(in, 2);
  (void)parse_timestamp_nal(in);
  const auto unescaped = unescape_rbsp(in);
  // escape(unescape(x)) must unescape back to the same bytes.
  const auto again = unescape_rbsp(escape_rbsp(unescaped));
  if (again != unescaped) {
    __builtin_trap();
  }
  // Inserting a stamp into any access unit must make it findable.
  if (size > 8) {
    std::int64_t t = 0;
    for (int i = 0; i < 8; ++i) {
      t = (t << 8) | data[i];
    }
    const auto out = insert_timestamp_annexb(in.subspan(8), t);
    const auto found = find_timestamp_annexb(out);
    if (!found) {
      __builtin_trap();
    }
  }
  return 0;
}
