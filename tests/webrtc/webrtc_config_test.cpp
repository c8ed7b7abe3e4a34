#include "veter/relay/conf/relay_config.hpp"

#include <gtest/gtest.h>

#include "veter/common/config_reader.hpp"

namespace veter::relay {
namespace {

TEST(WebrtcConfig, DefaultsAreOffAndDocumented) {
  RelayConfig cfg;
  EXPECT_FALSE(cfg.webrtc.enabled);
  EXPECT_EQ(cfg.webrtc.listen.port, 8889);
  EXPECT_EQ(cfg.webrtc.ice_udp_port, 8189);
  EXPECT_NE(to_yaml(cfg).find("webrtc:"), std::string::npos);
}

TEST(WebrtcConfig, ReadsTheSection) {
  RelayConfig cfg;
  apply_yaml(cfg,
             "webrtc:\n  enabled: true\n  listen: \":8890\"\n  ice_udp_port: 20000\n  ice_tcp: false\n"
             "  additional_hosts: [203.0.113.7]\n  ice_servers:\n    - {url: \"stun:stun.example.org:3478\"}\n"
             "    - {url: \"turn:turn.example.org:3478?transport=tcp\", username: u, credential: p}\n"
             "  token: abc\n  max_sessions: 10\n  max_sessions_per_address: 2\n",
             "test.yml");
  EXPECT_TRUE(cfg.webrtc.enabled);
  EXPECT_EQ(cfg.webrtc.listen.port, 8890);
  EXPECT_EQ(cfg.webrtc.ice_udp_port, 20000);
  EXPECT_FALSE(cfg.webrtc.ice_tcp);
  ASSERT_EQ(cfg.webrtc.ice_servers.size(), 2u);
  EXPECT_EQ(cfg.webrtc.ice_servers[1].username, "u");
  EXPECT_EQ(cfg.webrtc.max_sessions_per_address, 2);
  EXPECT_EQ(to_yaml(cfg).find("credential: \"p\""), std::string::npos);  // secrets are not printed
}

TEST(WebrtcConfig, BadValuesNameTheKey) {
  const std::pair<const char*, const char*> cases[] = {
      {"webrtc:\n  ice_servers:\n    - {url: \"http://x\"}\n", "url"},
      {"webrtc:\n  ice_servers:\n    - {url: \"turn:x:1\"}\n", "TURN"},
      {"webrtc:\n  bogus: 1\n", "bogus"},
      {"webrtc:\n  max_sessions: 0\n", "max_sessions"},
      {"webrtc:\n  enabled: true\n  ice_udp_port: 8999\n  max_sessions: 10\n", "overlap"},
      {"webrtc:\n  enabled: true\n  tls: {cert_file: a.pem}\n", "key_file"},
  };
  for (const auto& [yaml, needle] : cases) {
    RelayConfig cfg;
    try {
      apply_yaml(cfg, yaml, "test.yml");
      ADD_FAILURE() << "accepted: " << yaml;
    } catch (const std::exception& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_FALSE(cfg.webrtc.enabled);  // nothing changed
    }
  }
}

}  // namespace
}  // namespace veter::relay
