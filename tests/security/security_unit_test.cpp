#include <gtest/gtest.h>

#include "veter/common/config_reader.hpp"
#include "veter/relay/control/api_token.hpp"
#include "veter/relay/conf/relay_config.hpp"
#include "veter/relay/serve/rtsp_security.hpp"
#include "veter/relay/conf/rtsp_security_config.hpp"

using namespace veter;
using namespace veter::relay;
using namespace std::chrono_literals;

TEST(FailureLimiter, BlocksAfterTenFailuresInAMinuteThenForgets) {
  FailureLimiter lim(10, 60s);
  const auto t0 = FailureLimiter::Clock::now();
  for (int i = 0; i < 9; ++i) {
    EXPECT_FALSE(lim.record("10.0.0.1", t0 + i * 1s));
  }
  EXPECT_FALSE(lim.blocked("10.0.0.1", t0 + 9s));
  EXPECT_TRUE(lim.record("10.0.0.1", t0 + 9s));  // the 10th: reported once
  EXPECT_FALSE(lim.record("10.0.0.1", t0 + 10s));
  EXPECT_TRUE(lim.blocked("10.0.0.1", t0 + 10s));
  EXPECT_FALSE(lim.blocked("10.0.0.2", t0 + 10s)) << "another address is not affected";
  EXPECT_FALSE(lim.blocked("10.0.0.1", t0 + 61s)) << "the first failure expired";
  EXPECT_FALSE(lim.blocked("10.0.0.1", t0 + 200s));
}

TEST(ConnectionLimiter, TotalAndPerAddress) {
  ConnectionLimiter lim(3, 2);
  EXPECT_EQ(lim.admit("a"), ConnectionLimiter::Verdict::admitted);
  EXPECT_EQ(lim.admit("a"), ConnectionLimiter::Verdict::admitted);
  EXPECT_EQ(lim.admit("a"), ConnectionLimiter::Verdict::too_many_from_address);
  EXPECT_EQ(lim.admit("b"), ConnectionLimiter::Verdict::admitted);
  EXPECT_EQ(lim.admit("c"), ConnectionLimiter::Verdict::too_many_total);
  lim.release("a");
  EXPECT_EQ(lim.total(), 2);
  EXPECT_EQ(lim.admit("c"), ConnectionLimiter::Verdict::admitted);
  lim.release("zzz");  // unknown: no effect
  EXPECT_EQ(lim.total(), 3);
  ConnectionLimiter open(0, 0);
  for (int i = 0; i < 5000; ++i) {
    ASSERT_EQ(open.admit("x"), ConnectionLimiter::Verdict::admitted);
  }
}

TEST(BearerToken, ExactTokenOnly) {
  EXPECT_TRUE(bearer_token_ok("", ""));
  EXPECT_TRUE(bearer_token_ok("anything", ""));
  EXPECT_TRUE(bearer_token_ok("Bearer s3cret", "s3cret"));
  EXPECT_TRUE(bearer_token_ok("bearer  s3cret ", "s3cret"));
  EXPECT_FALSE(bearer_token_ok("", "s3cret"));
  EXPECT_FALSE(bearer_token_ok("Bearer s3cre", "s3cret"));
  EXPECT_FALSE(bearer_token_ok("Bearer s3cret2", "s3cret"));
  EXPECT_FALSE(bearer_token_ok("Basic s3cret", "s3cret"));
  EXPECT_FALSE(bearer_token_ok("s3cret", "s3cret"));
  EXPECT_FALSE(bearer_token_ok("Bearer ", "s3cret"));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
  EXPECT_FALSE(constant_time_equal("", "a"));
}

TEST(SecurityConfig, Loopback) {
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.5.0.9"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_FALSE(is_loopback_host(""));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("10.1.2.3"));
  EXPECT_FALSE(is_loopback_host("::"));
  EXPECT_FALSE(is_loopback_host("relay.example.org"));
}

TEST(SecurityConfig, UsersTlsLimitsRoundTrip) {
  RelayConfig cfg;
  apply_yaml(cfg,
             "rtsp:\n"
             "  users:\n"
             "    - {user: alice, pass: \"wonder land\", paths: [camera], ips: [10.0.0.0/8]}\n"
             "    - {user: bob, pass_sha256: \"" + std::string(64, 'A') + "\"}\n"
             "  tls: {cert_file: /etc/veter/cert.pem, key_file: /etc/veter/key.pem}\n"
             "  max_connections: 10\n  max_connections_per_address: 3\n  idle_timeout: 5s\n"
             "api: {listen: \"0.0.0.0:9997\", token: \"t\"}\n"
             "paths:\n  camera:\n    ingest:\n      srtp_key_file: /etc/veter/srtp.key\n",
             "t.yml");
  ASSERT_EQ(cfg.rtsp.users.size(), 2U);
  EXPECT_EQ(cfg.rtsp.users[0].pass, "wonder land");
  EXPECT_EQ(cfg.rtsp.users[0].paths, std::vector<std::string>{"camera"});
  EXPECT_EQ(cfg.rtsp.users[0].ips.at(0).text, "10.0.0.0/8");
  EXPECT_EQ(cfg.rtsp.users[1].pass_sha256, std::string(64, 'a'));
  EXPECT_EQ(cfg.rtsp.tls.key_file, "/etc/veter/key.pem");
  EXPECT_EQ(cfg.rtsp.max_connections, 10);
  EXPECT_EQ(cfg.rtsp.max_connections_per_address, 3);
  EXPECT_EQ(cfg.rtsp.idle_timeout, 5s);
  EXPECT_EQ(cfg.api_token, "t");
  EXPECT_EQ(cfg.paths[0].ingest.srtp_key_file, "/etc/veter/srtp.key");
  const auto dump = to_yaml(cfg);
  EXPECT_EQ(dump.find("wonder land"), std::string::npos) << "a password is printed";
  EXPECT_EQ(dump.find(std::string(64, 'a')), std::string::npos);
  EXPECT_EQ(dump.find("token: \"t\""), std::string::npos);
}

struct BadSecDoc {
  const char* yaml;
  const char* error_part;
};
class SecurityBadConfig : public ::testing::TestWithParam<BadSecDoc> {};

TEST_P(SecurityBadConfig, Refused) {
  RelayConfig cfg;
  try {
    apply_yaml(cfg, GetParam().yaml, "relay.yml");
    FAIL() << "accepted: " << GetParam().yaml;
  } catch (const common::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(GetParam().error_part), std::string::npos) << e.what();
  }
  EXPECT_EQ(cfg, RelayConfig{}) << "a refused document changed the config";
}

INSTANTIATE_TEST_SUITE_P(
    Table, SecurityBadConfig,
    ::testing::Values(
        BadSecDoc{"api: {listen: \":9997\"}\n", "api.token"},
        BadSecDoc{"metrics: {listen: \"10.0.0.1:9998\"}\n", "metrics.token"},
        BadSecDoc{"rtsp:\n  users:\n    - {user: a}\n", "exactly one of pass and pass_sha256"},
        BadSecDoc{"rtsp:\n  users:\n    - {user: a, pass: x, pass_sha256: \"" 
                  "0000000000000000000000000000000000000000000000000000000000000000\"}\n",
                  "exactly one of pass and pass_sha256"},
        BadSecDoc{"rtsp:\n  users:\n    - {user: b, pass_sha256: \"abc\"}\n", "64 hex digits"},
        BadSecDoc{"rtsp:\n  users:\n    - {user: b, pass_sha256: "
                  "\"0000000000000000000000000000000000000000000000000000000000000000\"}\n",
                  "works only with Basic"},
        BadSecDoc{"rtsp:\n  users:\n    - {user: a, pass: x}\n    - {user: a, pass: y}\n", "listed twice"},
        BadSecDoc{"rtsp:\n  users:\n    - {user: a, pass: x, paths: [nope]}\n", "\"nope\""},
        BadSecDoc{"rtsp:\n  users:\n    - {user: a, pass: x, colour: red}\n", "colour: unknown key"},
        BadSecDoc{"rtsp:\n  users: {a: b}\n", "expected a list"},
        BadSecDoc{"rtsp:\n  tls: {cert_file: /x.pem}\n", "both cert_file and key_file"},
        BadSecDoc{"rtsp:\n  transports: [udp]\n  tls: {cert_file: /x.pem, key_file: /k.pem}\n", "only tcp is served"},
        BadSecDoc{"rtsp:\n  idle_timeout: 10ms\n", "at least 500ms"}));

TEST(RtspTls, UdpIsNotServedUnderTls) {
  RtspConfig rtsp;
  EXPECT_EQ(served_transports(rtsp), (std::vector<std::string>{"tcp", "udp"}));
  rtsp.tls = {"/etc/cert.pem", "/etc/key.pem"};
  EXPECT_EQ(served_transports(rtsp), (std::vector<std::string>{"tcp"})) << "RTP over UDP would be in the clear";
}

TEST(RtspAuthorization, RequestPathNameIsTheUrlsFirstSegment) {
  EXPECT_EQ(request_path_name("/camera"), "camera");
  EXPECT_EQ(request_path_name("/camera/"), "camera");
  EXPECT_EQ(request_path_name("/camera/stream=0"), "camera");
  EXPECT_EQ(request_path_name("//camera/stream=0"), "camera");
  EXPECT_EQ(request_path_name("/"), "");
  EXPECT_EQ(request_path_name(""), "");
  EXPECT_EQ(request_path_name("/camera2"), "camera2") << "no prefix match";
}

TEST(RtspAuthorization, UserPathsAndOfferedMethods) {
  RtspUser any{"carol", "pw", "", {}, {}};
  RtspUser cam{"alice", "pw", "", {"camera"}, {}};
  EXPECT_TRUE(user_allows_path(any, "camera"));
  EXPECT_TRUE(user_allows_path(any, "other"));
  EXPECT_TRUE(user_allows_path(cam, "camera"));
  EXPECT_FALSE(user_allows_path(cam, "other"));
  EXPECT_FALSE(user_allows_path(cam, "camera2"));
  EXPECT_FALSE(user_allows_path(cam, ""));

  RtspConfig rtsp;
  rtsp.users = {cam};
  EXPECT_EQ(offered_methods(rtsp), GST_RTSP_AUTH_DIGEST) << "no TLS: Digest only";
  rtsp.tls = {"/etc/cert.pem", "/etc/key.pem"};
  EXPECT_EQ(offered_methods(rtsp), GST_RTSP_AUTH_DIGEST | GST_RTSP_AUTH_BASIC);
  rtsp.users.push_back(RtspUser{"hashed", "", std::string(64, 'a'), {}, {}});
  EXPECT_EQ(offered_methods(rtsp), GST_RTSP_AUTH_BASIC) << "a pass_sha256 user can only answer Basic";
}
