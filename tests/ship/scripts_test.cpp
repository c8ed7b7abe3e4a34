// Operator scripts: firewall rules from the relay config (golden), start_camera.sh passing the
// seed's positional form through, view_stream.sh's command line, and POSIX sh syntax.
#include <gtest/gtest.h>

#include <regex>

#include "process.hpp"
#include "ship_support.hpp"

using namespace veter::test;
using namespace veter::test::ship;

namespace {

const std::string kSource = VETER_SOURCE_DIR;
const std::string kData = VETER_SHIP_DATA_DIR;
const std::string kFirewall = kSource + "/scripts/firewall-ufw.sh";
const std::string kStartCamera = kSource + "/scripts/start_camera.sh";
const std::string kViewStream = kSource + "/scripts/view_stream.sh";

RunResult firewall(const std::vector<std::string>& args, std::vector<std::string> env = {}) {
  std::vector<std::string> argv{"/bin/sh", kFirewall};
  argv.insert(argv.end(), args.begin(), args.end());
  env.push_back(std::string("VETER_RELAY=") + VETER_RELAY_BIN);
  return run_command(argv, std::chrono::seconds(60), env);
}

/// The script's output for a sample config, with the config's path replaced by @CONFIG@.
std::string firewall_output(const std::string& sample) {
  TempDir tmp;
  const std::string cfg = tmp.write("relay.yml", read_text(kData + "/" + sample));
  const auto r = firewall({"--config", cfg});
  EXPECT_EQ(r.status, 0) << r.err;
  return std::regex_replace(r.out, std::regex(cfg), "@CONFIG@");
}

}  // namespace

TEST(FirewallScript, GoldenOutputForSampleConfig) {
  EXPECT_EQ(firewall_output("firewall-sample.yml"), read_text(kData + "/firewall-sample.golden"));
}

TEST(FirewallScript, GoldenOutputForTcpOnlyConfig) {
  EXPECT_EQ(firewall_output("firewall-tcp-only.yml"), read_text(kData + "/firewall-tcp-only.golden"));
}

TEST(FirewallScript, ShippedConfigOpensTheSeedsPorts) {
  const auto r = firewall({"--config", kSource + "/config/relay.yml"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("ufw allow 8555/tcp "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ufw allow 8000:8001/udp "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ufw allow 9000:9001/udp "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("9997/tcp"), std::string::npos) << "the API is loopback-only by default";
}

TEST(FirewallScript, ConfigErrorIsReportedNotGuessed) {
  TempDir tmp;
  const std::string cfg = tmp.write("relay.yml", "rtsp:\n  listn: \":8555\"\n");
  const auto r = firewall({"--config", cfg});
  EXPECT_EQ(r.status, 78) << r.out << r.err;
  EXPECT_EQ(r.out.find("ufw allow"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("listn"), std::string::npos) << r.err;
}

TEST(FirewallScript, UsageAndApplyWithoutUfw) {
  EXPECT_EQ(firewall({"--help"}).status, 0);
  EXPECT_EQ(firewall({"--bogus"}).status, 64);
  const auto r = firewall({"--config", kSource + "/config/relay.yml", "--apply"}, {"UFW=/nonexistent/ufw"});
  EXPECT_EQ(r.status, 69) << r.err;
}

TEST(StartCameraScript, PassesTheSeedsPositionalFormToThePublisher) {
  TempDir tmp;
  const std::string cfg = tmp.write("publisher.yml", "destination: \"192.0.2.1:9100\"\nkeyframe_interval: 15\n");
  const auto r = run_command({"/bin/sh", kStartCamera, "640x480", "15", "800", "--check-config"},
                             std::chrono::seconds(30),
                             {std::string("VETER_PUBLISHER=") + VETER_PUBLISHER_BIN, "VETER_PUBLISHER_CONFIG=" + cfg});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("destination: 192.0.2.1:9100"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("width: 640\nheight: 480\nfps: 15\nbitrate_kbps: 800\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("keyframe_interval: 15"), std::string::npos) << r.out;

  const auto host = run_command({"/bin/sh", kStartCamera, "--check-config"}, std::chrono::seconds(30),
                                {std::string("VETER_PUBLISHER=") + VETER_PUBLISHER_BIN,
                                 "VETER_PUBLISHER_CONFIG=" + cfg, "VETER_RELAY_HOST=relay.example.org"});
  ASSERT_EQ(host.status, 0) << host.err;
  EXPECT_NE(host.out.find("destination: relay.example.org:9100"), std::string::npos) << host.out;

  const auto missing = run_command({"/bin/sh", kStartCamera}, std::chrono::seconds(30),
                                   {std::string("VETER_PUBLISHER=") + VETER_PUBLISHER_BIN,
                                    "VETER_PUBLISHER_CONFIG=" + tmp.path() + "/nope.yml"});
  EXPECT_EQ(missing.status, 78) << missing.err;
  const auto help = run_command({"/bin/sh", kStartCamera, "--help"}, std::chrono::seconds(30),
                                {std::string("VETER_PUBLISHER=") + VETER_PUBLISHER_BIN});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("[WxH] [FPS] [KBPS]"), std::string::npos);
  EXPECT_NE(help.out.find("--bitrate"), std::string::npos) << "veter-publisher's own options follow";
}

TEST(ViewStreamScript, CommandLine) {
  const auto help = run_command({"/bin/sh", kViewStream, "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("ffplay"), std::string::npos);
  EXPECT_EQ(run_command({"/bin/sh", kViewStream, "--bogus"}).status, 64);
  EXPECT_EQ(run_command({"/bin/sh", kViewStream, "http://example.org/"}).status, 64);
  EXPECT_EQ(run_command({"/bin/sh", kViewStream, "--latency", "abc"}).status, 64);
  EXPECT_EQ(run_command({"/bin/sh", kViewStream}, std::chrono::seconds(30), {"VETER_VIEW_PLAYER=/opt/x/mplayer"}).status,
            64);
}

TEST(ViewStreamScript, RetriesAnUnreachableRelayThenGivesUp) {
  const std::string ffmpeg = which("ffmpeg");
  if (ffmpeg.empty()) {
    GTEST_SKIP() << "ffmpeg is not installed";
  }
  const int port = free_tcp_port();  // nothing listens there
  const auto r = run_command({"/bin/sh", kViewStream, "--retry", "0", "rtsp://127.0.0.1:" + std::to_string(port) + "/camera"},
                             std::chrono::seconds(60), {"VETER_VIEW_PLAYER=" + ffmpeg, "VETER_VIEW_MAX_ATTEMPTS=3"});
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("attempt 1: ffmpeg (tcp)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("attempt 3: ffmpeg (tcp)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("giving up after 3 attempts"), std::string::npos) << r.err;
}

TEST(Scripts, PosixShellSyntax) {
  const std::vector<std::string> scripts{kFirewall, kStartCamera, kViewStream};
  for (const auto& s : scripts) {
    SCOPED_TRACE(s);
    if (!which("dash").empty()) {
      const auto r = run_command({which("dash"), "-n", s});
      EXPECT_EQ(r.status, 0) << r.err;
    }
    // macOS runs /bin/sh as bash 3.2 in POSIX mode.
    const auto b = run_command({"/bin/bash", "--posix", "-n", s});
    EXPECT_EQ(b.status, 0) << b.err;
    const std::string shellcheck = which("shellcheck");
    if (!shellcheck.empty()) {
      const auto c = run_command({shellcheck, "-s", "sh", s});
      EXPECT_EQ(c.status, 0) << c.out << c.err;
    }
  }
}
