#include "veter/relay/webrtc/whep_auth.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "veter/common/gst_ptr.hpp"

namespace veter::relay {
namespace {

std::string basic(const std::string& user_pass) {
  common::GCharPtr b64(g_base64_encode(reinterpret_cast<const guchar*>(user_pass.data()), user_pass.size()));
  return std::string("Basic ") + b64.get();
}

RelayConfig with_users() {
  RelayConfig cfg;
  cfg.webrtc.token = "s3cret";
  cfg.rtsp.users = {RtspUser{"viewer", "pw", "", {}, {}}, RtspUser{"front", "pw2", "", {"front"}, {}}};
  return cfg;
}

TEST(WhepAuth, OpenWithoutUsersOrToken) {
  RelayConfig cfg;
  EXPECT_FALSE(whep_auth_required(cfg));
  EXPECT_TRUE(whep_authorize(cfg, "", false, "camera", nullptr).ok);
}

TEST(WhepAuth, BearerToken) {
  const auto cfg = with_users();
  EXPECT_TRUE(whep_authorize(cfg, "Bearer s3cret", false, "camera", nullptr).ok);
  EXPECT_FALSE(whep_authorize(cfg, "Bearer wrong", false, "camera", nullptr).ok);
  EXPECT_FALSE(whep_authorize(cfg, "", true, "camera", nullptr).ok);
}

TEST(WhepAuth, BasicOnlyOverTls) {
  const auto cfg = with_users();
  const auto plain = whep_authorize(cfg, basic("viewer:pw"), false, "camera", nullptr);
  EXPECT_FALSE(plain.ok);
  EXPECT_NE(plain.reason.find("TLS"), std::string::npos);
  const auto tls = whep_authorize(cfg, basic("viewer:pw"), true, "camera", nullptr);
  EXPECT_TRUE(tls.ok);
  EXPECT_EQ(tls.user, "viewer");
  EXPECT_FALSE(whep_authorize(cfg, basic("viewer:nope"), true, "camera", nullptr).ok);
  EXPECT_FALSE(whep_authorize(cfg, basic("nobody:pw"), true, "camera", nullptr).ok);
  EXPECT_FALSE(whep_authorize(cfg, "Basic !!!", true, "camera", nullptr).ok);
}

TEST(WhepAuth, UsersPathsAndAddresses) {
  auto cfg = with_users();
  EXPECT_FALSE(whep_authorize(cfg, basic("front:pw2"), true, "camera", nullptr).ok);
  EXPECT_TRUE(whep_authorize(cfg, basic("front:pw2"), true, "front", nullptr).ok);
  cfg.rtsp.users[0].ips = {common::parse_cidr("10.0.0.0/8")};
  sockaddr_in in{};
  in.sin_family = AF_INET;
  inet_pton(AF_INET, "192.168.1.2", &in.sin_addr);
  EXPECT_FALSE(whep_authorize(cfg, basic("viewer:pw"), true, "camera", reinterpret_cast<sockaddr*>(&in)).ok);
  inet_pton(AF_INET, "10.1.2.3", &in.sin_addr);
  EXPECT_TRUE(whep_authorize(cfg, basic("viewer:pw"), true, "camera", reinterpret_cast<sockaddr*>(&in)).ok);
}

}  // namespace
}  // namespace veter::relay
