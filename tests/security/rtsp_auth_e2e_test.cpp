// RTSP viewer authentication end to end: 401 comes before anything
// that reveals a path's state, per-user paths and ips, pass_sha256 users.
// Raw RTSP requests (with a Digest answer computed in the test) check status
// codes; rtspsrc viewers check that video is decoded, or not.
#include <gtest/gtest.h>
#include "veter/common/checksum.hpp"

#include <thread>

#include "security_helpers.hpp"

using namespace std::chrono_literals;
using namespace veter::test;
using namespace veter::test::security;

namespace {

std::string url(const Ports& p, const std::string& path, const char* scheme = "rtsp") {
  return std::string(scheme) + "://127.0.0.1:" + std::to_string(p.rtsp) + "/" + path;
}

/// relay_yaml plus a second path, "other", that nobody publishes to.
std::string two_path_yaml(const Ports& p, const std::string& rtsp_extra) {
  int other = 0;
  do {
    other = free_udp_port(true);
  } while (other == p.ingest || other == p.udp_min);
  return relay_yaml(p, rtsp_extra, "") + "  other:\n    ingest:\n      listen: \"127.0.0.1:" + std::to_string(other) +
         "\"\n      timeout: 1s\n";
}

int count_of(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

std::string sha256_hex(const std::string& text) { return veter::common::checksum_hex(G_CHECKSUM_SHA256, text); }

const char* kTcpTransport = "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n";

}  // namespace

// Before the fix an anonymous DESCRIBE on a configured but not-ready path got 404 (and on a ready
// one 401): anyone could tell whether the robot was live. Now every request but OPTIONS needs
// credentials first; only an authenticated user learns 404 / not ready.
TEST(RtspAuthE2e, UnauthenticatedRequestsGet401BeforeThePathStateIsRevealed) {
  TempDir dir;
  const auto p = pick_ports();
  Relay relay(dir, relay_yaml(p, "  users:\n    - {user: alice, pass: \"wonderland\"}\n", ""));
  {
    RtspClient anon(p.rtsp);
    const auto d = anon.request("DESCRIBE", url(p, "camera"), "Accept: application/sdp\r\n");
    EXPECT_EQ(d.status, 401) << d.headers;
    EXPECT_NE(d.headers.find("WWW-Authenticate: Digest"), std::string::npos) << d.headers;
    EXPECT_EQ(anon.request("DESCRIBE", url(p, "no-such-path")).status, 401) << "unknown paths are not revealed either";
    EXPECT_EQ(anon.request("SETUP", url(p, "camera") + "/stream=0", kTcpTransport).status, 401);
    EXPECT_EQ(anon.request("PLAY", url(p, "camera")).status, 401);
    EXPECT_EQ(anon.request("OPTIONS", url(p, "camera")).status, 200) << "OPTIONS reveals nothing and stays open";
  }
  {
    RtspClient wrong(p.rtsp, "alice", "not-the-password");
    EXPECT_EQ(wrong.request("DESCRIBE", url(p, "camera")).status, 401);
  }
  EXPECT_EQ(relay.process().err().find("404, path not ready"), std::string::npos)
      << "an unauthenticated request reached the readiness check\n" << relay.process().err();
  {
    RtspClient alice(p.rtsp, "alice", "wonderland");
    EXPECT_EQ(alice.request("DESCRIBE", url(p, "camera")).status, 404) << "authenticated: learns 'not ready'";
    EXPECT_EQ(alice.request("DESCRIBE", url(p, "no-such-path")).status, 404);
  }
  EXPECT_EQ(count_of(relay.process().err() + relay.process().out(), "404, path not ready"), 1)
      << relay.process().err();

  // Once the path is live: anonymous still 401, the user gets the SDP.
  Sender s("127.0.0.1", free_udp_port(true), p.ingest);
  ASSERT_TRUE(relay.wait_ready(30s)) << relay.process().err();
  RtspClient anon(p.rtsp);
  EXPECT_EQ(anon.request("DESCRIBE", url(p, "camera")).status, 401);
  RtspClient alice(p.rtsp, "alice", "wonderland");
  const auto ok = alice.request("DESCRIBE", url(p, "camera"), "Accept: application/sdp\r\n");
  EXPECT_EQ(ok.status, 200) << ok.headers;
  EXPECT_NE(ok.body.find("m=video"), std::string::npos) << ok.body;
}

TEST(RtspAuthE2e, PerUserPathsAndIpsRestrictions) {
  TempDir dir;
  const auto p = pick_ports();
  Relay relay(dir, two_path_yaml(p,
                                 "  users:\n"
                                 "    - {user: alice, pass: \"a-pass\", paths: [camera]}\n"
                                 "    - {user: bob, pass: \"b-pass\", ips: [10.0.0.0/8]}\n"
                                 "    - {user: carol, pass: \"c-pass\"}\n"));
  Sender s("127.0.0.1", free_udp_port(true), p.ingest);
  ASSERT_TRUE(relay.wait_ready(30s)) << relay.process().err();

  // alice: camera only.
  {
    RtspClient alice(p.rtsp, "alice", "a-pass");
    EXPECT_EQ(alice.request("DESCRIBE", url(p, "camera")).status, 200);
    const auto other = alice.request("DESCRIBE", url(p, "other"));
    EXPECT_EQ(other.status, 401) << "a user not allowed on a path must not learn its state\n" << other.headers;
    EXPECT_EQ(alice.request("SETUP", url(p, "other") + "/stream=0", kTcpTransport).status, 401);
  }
  EXPECT_TRUE(relay.process().wait_for_output("RTSP user alice from 127.0.0.1: not allowed on path /other", 5s))
      << relay.process().err();
  {
    Viewer v(url(p, "camera"), "alice", "a-pass");
    EXPECT_TRUE(v.wait_frames(20, 30s)) << "frames: " << v.frames() << relay.process().err();
  }
  {
    Viewer v(url(p, "other"), "alice", "a-pass");
    std::this_thread::sleep_for(3s);
    EXPECT_EQ(v.frames(), 0);
  }
  // carol: every path; "other" has no publisher, and she (authenticated, allowed) may learn that.
  {
    RtspClient carol(p.rtsp, "carol", "c-pass");
    EXPECT_EQ(carol.request("DESCRIBE", url(p, "other")).status, 404);
    EXPECT_EQ(carol.request("DESCRIBE", url(p, "camera")).status, 200);
  }
  // bob: right password, but only from 10.0.0.0/8; this test connects from 127.0.0.1.
  {
    RtspClient bob(p.rtsp, "bob", "b-pass");
    EXPECT_EQ(bob.request("DESCRIBE", url(p, "camera")).status, 401);
    EXPECT_EQ(bob.request("DESCRIBE", url(p, "other")).status, 401);
  }
  EXPECT_TRUE(relay.process().wait_for_output("RTSP user bob from 127.0.0.1: address not in the user's ips", 5s))
      << relay.process().err();
  {
    Viewer v(url(p, "camera"), "bob", "b-pass");
    std::this_thread::sleep_for(4s);
    EXPECT_EQ(v.frames(), 0) << "a user outside its ips got video";
  }
  EXPECT_TRUE(relay.process().running());
}

// pass_sha256: the relay stores only the hash; the password travels in Basic inside TLS.
TEST(RtspAuthE2e, PassSha256UserGetsVideoOverRtsps) {
  TempDir dir;
  const auto cert = dir.path() + "/cert.pem";
  const auto keyf = dir.path() + "/key.pem";
  const auto gen = run_command({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyf,
                                "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1"},
                               60s);
  ASSERT_EQ(gen.status, 0) << gen.err;
  const auto p = pick_ports();
  const std::string password = "correct-horse-battery-staple";
  Relay relay(dir, relay_yaml(p,
                              "  tls: {cert_file: \"" + cert + "\", key_file: \"" + keyf + "\"}\n" +
                                  "  users:\n    - {user: hashed, pass_sha256: \"" + sha256_hex(password) +
                                  "\", paths: [camera]}\n",
                              ""));
  const auto cfg = read_text_file(dir.path() + "/relay.yml");
  EXPECT_EQ(cfg.find(password), std::string::npos) << "the configuration holds only the hash";
  Sender s("127.0.0.1", free_udp_port(true), p.ingest);
  ASSERT_TRUE(relay.wait_ready(30s)) << relay.process().err();
  {
    Viewer v(url(p, "camera", "rtsps"), "hashed", password);
    EXPECT_TRUE(v.wait_frames(20, 40s)) << "frames: " << v.frames() << relay.process().err();
    EXPECT_EQ(v.width(), 320);
  }
  {
    Viewer v(url(p, "camera", "rtsps"), "hashed", "wrong-password");
    std::this_thread::sleep_for(4s);
    EXPECT_EQ(v.frames(), 0);
  }
  EXPECT_TRUE(relay.process().wait_for_output("RTSP authentication failed from 127.0.0.1", 5s))
      << relay.process().err();
}
