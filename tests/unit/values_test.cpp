#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "veter/common/values.hpp"

using namespace veter::common;

TEST(Values, Endpoints) {
  EXPECT_EQ(parse_endpoint(":9000"), (Endpoint{"", 9000}));
  EXPECT_EQ(parse_endpoint("9000"), (Endpoint{"", 9000}));
  EXPECT_EQ(parse_endpoint("127.0.0.1:9997"), (Endpoint{"127.0.0.1", 9997}));
  EXPECT_EQ(parse_endpoint("[::1]:8555"), (Endpoint{"::1", 8555}));
  EXPECT_EQ(parse_endpoint("relay.example.org:9000").host, "relay.example.org");
  EXPECT_EQ((Endpoint{"::1", 8555}).to_string(), "[::1]:8555");
  for (const char* bad : {"", ":0", ":70000", "90000", "host:", "a b:1", "::1:80", "[::1]80", "h:-1"}) {
    EXPECT_THROW(parse_endpoint(bad), ValueError) << bad;
  }
}

TEST(Values, Durations) {
  EXPECT_EQ(parse_duration("5s").count(), 5000);
  EXPECT_EQ(parse_duration("250ms").count(), 250);
  EXPECT_EQ(parse_duration("2m").count(), 120000);
  EXPECT_EQ(parse_duration("1h").count(), 3600000);
  EXPECT_EQ(format_duration(parse_duration("250ms")), "250ms");
  EXPECT_EQ(format_duration(parse_duration("5s")), "5s");
  EXPECT_EQ(format_duration(parse_duration("0ms")), "0s");
  EXPECT_EQ(parse_duration("7d").count(), 7LL * 86400000);
  EXPECT_EQ(format_duration(parse_duration("7d")), "7d");
  EXPECT_EQ(format_duration(parse_duration("36h")), "36h");
  for (const char* bad : {"", "5", "s", "5 s", "-5s", "1.5s", "5sec", "ms", "5D"}) {
    EXPECT_THROW(parse_duration(bad), ValueError) << bad;
  }
}

TEST(Values, ByteSizes) {
  EXPECT_EQ(parse_byte_size("1048576"), 1048576U);
  EXPECT_EQ(parse_byte_size("500MB"), 500'000'000U);
  EXPECT_EQ(parse_byte_size("10GiB"), 10ULL << 30);
  EXPECT_EQ(parse_byte_size("64KiB"), 65536U);
  EXPECT_EQ(parse_byte_size("0"), 0U);
  EXPECT_EQ(format_byte_size(10ULL << 30), "10GiB");
  EXPECT_EQ(format_byte_size(1536), "1536");
  EXPECT_EQ(format_byte_size(500'000'000), "500000000");
  for (const char* bad : {"", "GiB", "10 GiB", "-1", "1.5GB", "10gib", "99999999999TiB"}) {
    EXPECT_THROW(parse_byte_size(bad), ValueError) << bad;
  }
}

TEST(Values, CidrMatching) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  inet_pton(AF_INET, "10.1.2.3", &a.sin_addr);
  const auto* sa = reinterpret_cast<const sockaddr*>(&a);
  EXPECT_TRUE(parse_cidr("10.0.0.0/8").contains(sa));
  EXPECT_TRUE(parse_cidr("10.1.2.3").contains(sa));
  EXPECT_FALSE(parse_cidr("10.1.2.4/32").contains(sa));
  EXPECT_TRUE(parse_cidr("10.1.2.0/23").contains(sa));
  EXPECT_TRUE(parse_cidr("::ffff:10.0.0.0/104").contains(sa));
  EXPECT_FALSE(parse_cidr("2001:db8::/32").contains(sa));
  EXPECT_TRUE(parse_cidr("0.0.0.0/0").contains(sa));

  sockaddr_in6 b{};
  b.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "2001:db8::5", &b.sin6_addr);
  const auto* sb = reinterpret_cast<const sockaddr*>(&b);
  EXPECT_TRUE(parse_cidr("2001:db8::/32").contains(sb));
  EXPECT_FALSE(parse_cidr("10.0.0.0/8").contains(sb));
  EXPECT_TRUE(cidr_list_allows({}, sb));
  EXPECT_FALSE(cidr_list_allows({parse_cidr("10.0.0.0/8")}, sb));
  for (const char* bad : {"", "10.0.0.0/33", "10.0.0/8", "abc", "10.0.0.0/", "::/129", "1.2.3.4/-1"}) {
    EXPECT_THROW(parse_cidr(bad), ValueError) << bad;
  }
}

TEST(Values, Sizes) {
  EXPECT_EQ(parse_video_size("1280x720"), (VideoSize{1280, 720}));
  for (const char* bad : {"1280x", "0x0", "99999x99999", "x720", "1280*720", "1281x720", "8x8", ""}) {
    EXPECT_THROW(parse_video_size(bad), ValueError) << bad;
  }
}
