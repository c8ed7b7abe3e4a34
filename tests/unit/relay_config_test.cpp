#include <gtest/gtest.h>

#include "veter/common/config_reader.hpp"
#include "veter/relay/conf/relay_config.hpp"

using namespace veter;
using relay::RelayConfig;

TEST(RelayConfig, ExampleFileEqualsDefaults) {
  RelayConfig cfg;
  relay::apply_file(cfg, VETER_SOURCE_DIR "/config/relay.yml");
  EXPECT_EQ(cfg, RelayConfig{});
}

TEST(RelayConfig, DefaultsAreTheSeeds) {
  RelayConfig cfg;
  ASSERT_EQ(cfg.paths.size(), 1U);
  EXPECT_EQ(cfg.paths[0].name, "camera");
  EXPECT_EQ(cfg.paths[0].ingest.listen.port, 9000);
  EXPECT_EQ(cfg.rtsp.listen.port, 8555);
  EXPECT_EQ(cfg.api.listen.to_string(), "127.0.0.1:9997");
  EXPECT_EQ(cfg.metrics.listen.to_string(), "127.0.0.1:9998");
}

TEST(RelayConfig, DumpLoadsBack) {
  RelayConfig cfg;
  cfg.paths[0].ingest.allow_from = {common::parse_cidr("10.0.0.0/8")};
  cfg.paths.push_back(relay::PathConfig{"front", {}, 3, "echo hi", "", "continue", {}, {}});
  cfg.paths[1].ingest.listen.port = 9010;
  cfg.paths[0].ingest.takeover = relay::Takeover::allow_from_only;
  cfg.paths[1].ingest.takeover = relay::Takeover::never;
  RelayConfig again;
  relay::apply_yaml(again, relay::to_yaml(cfg), "dump");
  EXPECT_EQ(again, cfg);
}

struct BadDoc {
  const char* yaml;
  const char* error;
};
class RelayBadConfig : public ::testing::TestWithParam<BadDoc> {};

TEST_P(RelayBadConfig, ExactError) {
  RelayConfig cfg;
  try {
    relay::apply_yaml(cfg, GetParam().yaml, "relay.yml");
    FAIL() << "accepted: " << GetParam().yaml;
  } catch (const common::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), GetParam().error);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, RelayBadConfig,
    ::testing::Values(
        BadDoc{"paths:\n  camera:\n    ingest:\n      listen: \"90000\"\n",
               "relay.yml:4:15: paths.camera.ingest.listen: \"90000\" is not a valid port"},
        BadDoc{"rtsp:\n  lisen: \":8555\"\n", "relay.yml:2:3: rtsp.lisen: unknown key"},
        BadDoc{"paths:\n  camera:\n    ingest:\n      repair_window: 5ms\n",
               "relay.yml:4:22: paths.camera.ingest.repair_window: must be auto or 10ms..1s"},
        BadDoc{"paths:\n  camera:\n    ingest:\n      rtx_payload_type: 96\n",
               "relay.yml: paths.camera.ingest.rtx_payload_type: 96 is the media payload type"},
        BadDoc{"paths:\n  camera:\n    ingest:\n      timeout: 5\n",
               "relay.yml:4:16: paths.camera.ingest.timeout: \"5\" is not a valid duration (use e.g. 250ms, 5s, 1m)"},
        BadDoc{"paths:\n  camera:\n    ingest:\n      allow_from: [10.0.0.0/33]\n",
               "relay.yml:4:19: paths.camera.ingest.allow_from: \"10.0.0.0/33\" is not a valid CIDR (prefix 0..32)"},
        BadDoc{"paths:\n  camera:\n    ingest:\n      takeover: always\n",
               "relay.yml:4:17: paths.camera.ingest.takeover: \"always\" is not one of after_timeout, never, "
               "allow_from_only"},
        BadDoc{"paths:\n  camera:\n    ingest:\n      takeover: allow_from_only\n",
               "relay.yml:4:17: paths.camera.ingest.takeover: allow_from_only needs ingest.allow_from (the sources "
               "that may take the path)"},
        BadDoc{"api:\n  enabled: maybe\n", "relay.yml:2:12: api.enabled: \"maybe\" is not a boolean (true/false)"},
        BadDoc{"rtsp:\n  transports: [tcp, quic]\n",
               "relay.yml:2:15: rtsp.transports: \"quic\" is not a transport (tcp, udp)"},
        BadDoc{"rtsp: 5\n", "relay.yml:1:7: rtsp: expected a mapping of keys"},
        BadDoc{"log_level: debug\nlog_level: error\n",
               "relay.yml:2:1: log_level: duplicate key (first at line 1, column 1)"},
        BadDoc{"paths:\n  a:\n    ingest:\n      listen: \":9000\"\n      listen: \":9002\"\n",
               "relay.yml:5:7: paths.a.ingest.listen: duplicate key (first at line 4, column 7)"},
        BadDoc{"rtsp:\n  users:\n    - {user: a, pass: x, user: b}\n",
               "relay.yml:3:26: rtsp.users[0].user: duplicate key (first at line 3, column 8)"},
        BadDoc{"rtsp:\n  viewer_max_lag: 0s\n", "relay.yml:2:19: rtsp.viewer_max_lag: must be between 500ms and 10m"},
        BadDoc{"rtsp:\n  session_timeout: 0s\n", "relay.yml:2:20: rtsp.session_timeout: must be between 5s and 1h"},
        BadDoc{"paths:\n  a:\n    max_readers: x\n",
               "relay.yml:3:18: paths.a.max_readers: \"x\" is not a whole number"},
        BadDoc{"rtsp:\n  viewer_max_delay: 5ms\n",
               "relay.yml:2:21: rtsp.viewer_max_delay: must be at least 20ms"},
        BadDoc{"paths:\n  a:\n    viewer_max_delay: 5ms\n",
               "relay.yml:3:23: paths.a.viewer_max_delay: must be 0ms (use rtsp.viewer_max_delay) or at least 20ms"},
        BadDoc{"paths:\n  a:\n    on_size_change: restart\n",
               "relay.yml:3:21: paths.a.on_size_change: \"restart\" is not continue or reconnect"},
        BadDoc{"paths:\n  a:\n    record:\n      segment: 0s\n",
               "relay.yml:4:16: paths.a.record.segment: must be between 1s and 24h"},
        BadDoc{"paths:\n  a:\n    record:\n      format: mkv\n",
               "relay.yml:4:15: paths.a.record.format: \"mkv\" is not a recording format (fmp4)"},
        BadDoc{"paths:\n  a:\n    record:\n      dir: rel/dir\n",
               "relay.yml:4:12: paths.a.record.dir: must be an absolute directory"},
        BadDoc{"paths:\n  a:\n    record:\n      retention: {max_bytes: 10XB}\n",
               "relay.yml:4:30: paths.a.record.retention.max_bytes: \"10XB\" is not a valid size (use e.g. 500MB, "
               "10GiB, 1048576)"},
        BadDoc{"paths:\n  a:\n    record:\n      retention: {max_ages: 7d}\n",
               "relay.yml:4:19: paths.a.record.retention.max_ages: unknown key"},
        BadDoc{"playback:\n  enabled: true\n  listen: \":9996\"\n",
               "relay.yml: playback.listen :9996 is not a loopback address: set playback.token (clients send "
               "\"Authorization: Bearer <token>\") or listen on 127.0.0.1"},
        BadDoc{"paths:\n  a: {ingest: {listen: \":9000\"}}\n  b: {ingest: {listen: \":9001\"}}\n",
               "relay.yml: paths.b.ingest.listen: port 9001 (RTP) / 9002 (RTCP) overlaps another path's "
               "ingest ports"}));

TEST(RelayConfig, RecordKeys) {
  RelayConfig cfg;
  relay::apply_yaml(cfg,
                    "playback: {enabled: true, token: t}\n"
                    "paths:\n  front:\n    record:\n      enabled: true\n      dir: /srv/rec\n      segment: 30s\n"
                    "      retention: {max_age: 2d, max_bytes: 500MB}\n",
                    "r.yml");
  const auto& r = cfg.paths.at(0).record;
  EXPECT_TRUE(r.enabled);
  EXPECT_EQ(r.dir, "/srv/rec");
  EXPECT_EQ(r.segment, std::chrono::seconds(30));
  EXPECT_EQ(r.retention.max_age, std::chrono::hours(48));
  EXPECT_EQ(r.retention.max_bytes, 500'000'000U);
  EXPECT_TRUE(cfg.playback.enabled);
  EXPECT_EQ(cfg.playback_token, "t");
  // Defaults: off, 1 minute, 7 days, 10 GiB.
  const relay::RecordConfig d;
  EXPECT_FALSE(d.enabled);
  EXPECT_EQ(d.segment, std::chrono::minutes(1));
  EXPECT_EQ(d.retention.max_age, std::chrono::hours(24 * 7));
  EXPECT_EQ(d.retention.max_bytes, 10ULL << 30);
  RelayConfig again;
  relay::apply_yaml(again, relay::to_yaml(cfg), "dump");
  EXPECT_EQ(again.paths, cfg.paths);
}

TEST(RelayConfig, OverridesWin) {
  RelayConfig cfg;
  relay::apply_yaml(cfg, "log_level: debug\n", "a.yml");
  EXPECT_EQ(cfg.log_level, common::LogLevel::debug);
  EXPECT_EQ(cfg.paths.size(), 1U);  // untouched keys keep defaults
}
