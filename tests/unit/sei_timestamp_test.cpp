#include <gtest/gtest.h>

#include <vector>

#include "veter/common/sei_timestamp.hpp"

using namespace veter::common::sei;

TEST(Sei, RoundTripThroughANal) {
  for (std::int64_t t : {0LL, 1LL, 1764000000123456LL, -5LL, 0x0000000300000003LL, 0x7fffffffffffffffLL}) {
    const auto nal = make_timestamp_nal(t);
    EXPECT_EQ(nal[0], 0x06);
    EXPECT_EQ(parse_timestamp_nal(nal), t) << t;
  }
}

TEST(Sei, EmulationPreventionIsApplied) {
  // 0x0000000300000003 has 00 00 03 and 00 00 00 runs inside the payload.
  const auto nal = make_timestamp_nal(0x0000000300000003LL);
  for (std::size_t i = 0; i + 2 < nal.size(); ++i) {
    EXPECT_FALSE(nal[i] == 0 && nal[i + 1] == 0 && nal[i + 2] <= 3 && nal[i + 2] != 3)
        << "unescaped start-code-like sequence at " << i;
  }
  const std::vector<std::uint8_t> raw = {0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 3};
  const auto esc = escape_rbsp(raw);
  EXPECT_EQ(esc, (std::vector<std::uint8_t>{0, 0, 3, 0, 0, 3, 1, 0, 0, 3, 2, 0, 0, 3, 3}));
  EXPECT_EQ(unescape_rbsp(esc), raw);
}

TEST(Sei, InsertBeforeFirstSliceAndFind) {
  // AUD, SPS, PPS, IDR slice (content is arbitrary bytes)
  const std::vector<std::uint8_t> au = {0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x67, 0x42, 0xC0, 0x1F,
                                        0, 0, 0, 1, 0x68, 0xCE, 0x3C, 0x80, 0, 0, 1, 0x65, 0x88, 0x84};
  const auto out = insert_timestamp_annexb(au, 42);
  EXPECT_EQ(find_timestamp_annexb(out), 42);
  std::vector<int> types;
  for_each_annexb_nal(out, [&](std::span<const std::uint8_t> nal) { types.push_back(nal[0] & 0x1F); });
  EXPECT_EQ(types, (std::vector<int>{9, 7, 8, 6, 5}));
  EXPECT_FALSE(find_timestamp_annexb(au).has_value());
}

TEST(Sei, AvcFormat) {
  const auto nal = make_timestamp_nal(777);
  std::vector<std::uint8_t> buf = {0, 0, 0, static_cast<std::uint8_t>(nal.size())};
  buf.insert(buf.end(), nal.begin(), nal.end());
  buf.insert(buf.end(), {0, 0, 0, 2, 0x41, 0x9a});
  EXPECT_EQ(find_timestamp_avc(buf), 777);
  buf.push_back(0);  // truncated length
  EXPECT_FALSE(for_each_avc_nal(buf, 4, [](auto) {}));
}

TEST(Sei, ForeignAndBrokenSeiAreIgnored) {
  auto nal = make_timestamp_nal(5);
  nal[3] ^= 0xFF;  // change the UUID
  EXPECT_FALSE(parse_timestamp_nal(nal).has_value());
  const std::vector<std::uint8_t> truncated = {0x06, 0x05, 0x18, 0xe1};
  EXPECT_FALSE(parse_timestamp_nal(truncated).has_value());
  const std::vector<std::uint8_t> ff = {0x06, 0xFF, 0xFF, 0xFF};
  EXPECT_FALSE(parse_timestamp_nal(ff).has_value());
}
