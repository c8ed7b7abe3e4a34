#include <gtest/gtest.h>

#include "veter/common/config_reader.hpp"

using namespace veter::common;

TEST(ConfigReader, ErrorsNameFileLineColumnAndKey) {
  const auto doc = parse_yaml("a:\n  b:\n    port: \"90000\"\n", "x.yml");
  MapReader r(doc, "", "x.yml");
  auto a = r.child("a");
  auto b = a.child("b");
  Endpoint ep;
  try {
    b.read("port", ep);
    FAIL() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "x.yml:3:11: a.b.port: \"90000\" is not a valid port");
  }
}

TEST(ConfigReader, UnknownKeys) {
  const auto doc = parse_yaml("known: 1\nunknwn: 2\n", "f.yml");
  MapReader r(doc, "", "f.yml");
  int v = 0;
  r.read("known", v);
  try {
    r.finish();
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "f.yml:2:1: unknwn: unknown key");
  }
}

TEST(ConfigReader, SyntaxErrorsHavePositions) {
  try {
    parse_yaml("a: [1, 2\nb: 3\n", "s.yml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("s.yml:"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("YAML syntax error"), std::string::npos);
  }
}

TEST(ConfigReader, MissingFile) {
  EXPECT_THROW(load_yaml_file("/nonexistent/veter.yml"), ConfigError);
}
