// The built binaries' command-line contract: exit codes and messages.
#include <gtest/gtest.h>

#include "process.hpp"
#include "veter/common/exit_codes.hpp"
#include "veter/publisher/publisher_cli.hpp"

using namespace veter;
using veter::test::run_command;
using veter::test::TempDir;

namespace {
// VETER_RELAY_BIN is "" where configure skipped the relay (an older system): the publisher alone.
std::vector<std::string> binaries() {
  std::vector<std::string> out{VETER_PUBLISHER_BIN};
  if (!std::string(VETER_RELAY_BIN).empty()) {
    out.emplace_back(VETER_RELAY_BIN);
  }
  return out;
}
bool have_relay() { return !std::string(VETER_RELAY_BIN).empty(); }
}  // namespace

TEST(Cli, VersionAndHelpExitZero) {
  for (const auto& bin : binaries()) {
    auto v = run_command({bin, "--version"});
    EXPECT_EQ(v.status, 0) << bin;
    EXPECT_NE(v.out.find("0."), std::string::npos) << v.out;
    auto h = run_command({bin, "--help"});
    EXPECT_EQ(h.status, 0);
    EXPECT_NE(h.out.find("--check-config"), std::string::npos);
  }
}

TEST(Cli, BadFlagIsUsage64) {
  for (const auto& bin : binaries()) {
    auto r = run_command({bin, "--no-such-flag"});
    EXPECT_EQ(r.status, common::exit_code::usage) << bin;
    EXPECT_NE(r.err.find("error:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("Usage"), std::string::npos) << r.err;
    auto l = run_command({bin, "--log-level", "loud"});
    EXPECT_EQ(l.status, common::exit_code::usage) << bin;
  }
}

TEST(Cli, CheckConfigPrintsEffectiveYaml) {
  if (have_relay()) {
    auto r = run_command({VETER_RELAY_BIN, "--config", VETER_SOURCE_DIR "/config/relay.yml", "--check-config"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("listen: \":8555\""), std::string::npos) << r.out;
  }
  auto p = run_command({VETER_PUBLISHER_BIN, "--config", VETER_SOURCE_DIR "/config/publisher.yml", "640x360", "15",
                        "800", "--check-config"});
  EXPECT_EQ(p.status, 0) << p.err;
  EXPECT_NE(p.out.find("width: 640"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("bitrate_kbps: 800"), std::string::npos) << p.out;
}

TEST(Cli, BadConfigIs78WithPosition) {
  TempDir dir;
  if (have_relay()) {
    const auto f = dir.write("relay.yml", "paths:\n  camera:\n    ingest:\n      listen: \"90000\"\n");
    auto r = run_command({VETER_RELAY_BIN, "--config", f, "--check-config"});
    EXPECT_EQ(r.status, common::exit_code::config);
    EXPECT_NE(r.err.find("relay.yml:4:15: paths.camera.ingest.listen: \"90000\" is not a valid port"),
              std::string::npos)
        << r.err;
  }
  auto missing = run_command({VETER_PUBLISHER_BIN, "--config", dir.path() + "/nope.yml", "--check-config"});
  EXPECT_EQ(missing.status, common::exit_code::config);
}
