#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "veter/common/config_reader.hpp"
#include "veter/publisher/publisher_config.hpp"

using namespace veter;
using publisher::PublisherConfig;

TEST(PublisherConfig, ExampleFileEqualsDefaults) {
  PublisherConfig cfg;
  publisher::apply_file(cfg, VETER_SOURCE_DIR "/config/publisher.yml");
  EXPECT_EQ(cfg, PublisherConfig{});
}

TEST(PublisherConfig, CheckConfigOutputLoadsBackToTheSame) {
  PublisherConfig cfg;
  cfg.width = 640;
  cfg.source = "test";
  cfg.test_pattern = "snow";
  PublisherConfig again;
  publisher::apply_yaml(again, publisher::to_yaml(cfg), "dump");
  EXPECT_EQ(again, cfg);
}

struct BadDoc {
  const char* yaml;
  const char* error;
};

class PublisherBadConfig : public ::testing::TestWithParam<BadDoc> {};

TEST_P(PublisherBadConfig, ExactError) {
  PublisherConfig cfg;
  try {
    publisher::apply_yaml(cfg, GetParam().yaml, "publisher.yml");
    FAIL() << "accepted: " << GetParam().yaml;
  } catch (const common::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), GetParam().error);
  }
  EXPECT_EQ(cfg, PublisherConfig{}) << "a bad document must change nothing";
}

INSTANTIATE_TEST_SUITE_P(
    Table, PublisherBadConfig,
    ::testing::Values(
        BadDoc{"fps: 30\nwidht: 640\n", "publisher.yml:2:1: widht: unknown key"},
        BadDoc{"fps: thirty\n", "publisher.yml:1:6: fps: \"thirty\" is not a whole number"},
        BadDoc{"fps: 0\n", "publisher.yml:1:6: fps: 0 is out of range (1..240)"},
        BadDoc{"bitrate_kbps: -5\n", "publisher.yml:1:15: bitrate_kbps: -5 is out of range (50..200000)"},
        BadDoc{"destination: \"relay:70000\"\n",
               "publisher.yml:1:14: destination: \"relay:70000\" is not a valid port"},
        BadDoc{"source: camera\n",
               "publisher.yml:1:9: source: \"camera\" is not a source (auto, argus, v4l2, test)"},
        BadDoc{"test_pattern: smpte\n",
               "publisher.yml:1:15: test_pattern: \"smpte\" is not a test pattern (ball, snow)"},
        BadDoc{"width: [1, 2]\n", "publisher.yml:1:8: width: expected a number"},
        BadDoc{"log_level: loud\n",
               "publisher.yml:1:12: log_level: \"loud\" is not a log level (trace, debug, info, warn, error)"},
        BadDoc{"width: 641\n", "publisher.yml: size 641x720: width and height must be even"}));
