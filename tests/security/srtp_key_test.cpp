#include <gtest/gtest.h>
#include <sys/stat.h>

#include "process.hpp"
#include "veter/common/config_reader.hpp"
#include "veter/common/srtp_key.hpp"

using veter::common::ConfigError;
using veter::common::load_srtp_key_file;
using veter::common::parse_srtp_key;

namespace {
const std::string kHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d";
}

TEST(SrtpKey, HexAndBase64GiveTheSameBytes) {
  const auto a = parse_srtp_key(kHex + "\n", "t");
  const auto b = parse_srtp_key("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\n", "t");
  EXPECT_EQ(a.bytes, b.bytes);
  EXPECT_EQ(a.bytes[0], 0);
  EXPECT_EQ(a.bytes[29], 0x1d);
  const auto c = parse_srtp_key("# comment line\n  00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:"
                                "10:11:12:13:14:15:16:17:18:19:1a:1b:1c:1d  \n",
                                "t");
  EXPECT_EQ(a.bytes, c.bytes);
  EXPECT_EQ(a.fingerprint().rfind("sha256:", 0), 0U);
  EXPECT_EQ(a.fingerprint().size(), 15U);
}

TEST(SrtpKey, WrongLengthOrAlphabetIsRejectedWithoutEchoingTheKey) {
  for (const std::string& bad : {kHex.substr(0, 58), kHex + "00", std::string("zz") + kHex.substr(2), std::string(""),
                                std::string("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGx")}) {
    try {
      parse_srtp_key(bad, "key.txt");
      FAIL() << "accepted: " << bad;
    } catch (const ConfigError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("key.txt"), std::string::npos);
      if (bad.size() > 8) {
        EXPECT_EQ(msg.find(bad.substr(4, 8)), std::string::npos) << "the error echoes key material: " << msg;
      }
    }
  }
}

TEST(SrtpKey, FileReadableByGroupOrOthersIsRefused) {
  veter::test::TempDir dir;
  const auto path = dir.write("k", kHex + "\n");
  chmod(path.c_str(), 0640);
  try {
    load_srtp_key_file(path);
    FAIL() << "a group-readable key file was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("chmod 600"), std::string::npos) << e.what();
  }
  chmod(path.c_str(), 0604);
  EXPECT_THROW(load_srtp_key_file(path), ConfigError);
  chmod(path.c_str(), 0600);
  EXPECT_EQ(load_srtp_key_file(path).bytes, parse_srtp_key(kHex, "t").bytes);
  chmod(path.c_str(), 0400);
  EXPECT_NO_THROW(load_srtp_key_file(path));
  EXPECT_THROW(load_srtp_key_file(dir.path() + "/missing"), ConfigError);
  EXPECT_THROW(load_srtp_key_file(dir.path()), ConfigError);  // a directory
}
