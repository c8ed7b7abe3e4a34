// veter-publisher's command line: the seed's positional form, flags over
// positionals over the file, and every bad input -> one line + usage, exit 64/78.
#include <gtest/gtest.h>

#include <chrono>

#include "process.hpp"
#include "veter/common/exit_codes.hpp"
#include "veter/publisher/publisher_cli.hpp"

using namespace veter;
using namespace veter::publisher;
using veter::test::run_command;
using veter::test::TempDir;

namespace {

PublisherConfig parse(std::vector<std::string> args) {
  CLI::App app{"veter-publisher", "veter-publisher"};
  PublisherCli cli;
  add_publisher_options(app, cli);
  std::vector<char*> argv;
  std::string name = "veter-publisher";
  argv.push_back(name.data());
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  app.parse(static_cast<int>(argv.size()), argv.data());
  return resolve_config(cli);
}

}  // namespace

TEST(PublisherCli, SeedPositionalForm) {
  const auto cfg = parse({"1280x720", "30", "2000", "--host", "relay.example.org"});
  EXPECT_EQ(cfg.width, 1280);
  EXPECT_EQ(cfg.height, 720);
  EXPECT_EQ(cfg.fps, 30);
  EXPECT_EQ(cfg.bitrate_kbps, 2000);
  EXPECT_EQ(cfg.destination.host, "relay.example.org");
  EXPECT_EQ(cfg.destination.port, 9000);
  const auto partial = parse({"640x360"});
  EXPECT_EQ(partial.width, 640);
  EXPECT_EQ(partial.fps, PublisherConfig{}.fps);
}

TEST(PublisherCli, FlagsOverridePositionalsWhichOverrideTheFile) {
  TempDir dir;
  const auto file = dir.write("p.yml", "width: 320\nheight: 240\nfps: 10\nbitrate_kbps: 300\nlocal_port: 6000\n"
                                       "destination: \"a.example:7000\"\n");
  const auto from_file = parse({"--config", file});
  EXPECT_EQ(from_file.width, 320);
  EXPECT_EQ(from_file.local_port, 6000);
  const auto positional = parse({"--config", file, "1280x720", "25", "1500"});
  EXPECT_EQ(positional.width, 1280);
  EXPECT_EQ(positional.fps, 25);
  EXPECT_EQ(positional.bitrate_kbps, 1500);
  const auto flags = parse({"--config", file, "1280x720", "25", "1500", "--size", "1920x1080", "--fps", "60",
                            "--bitrate", "4000", "--port", "7100", "--host", "b.example", "--local-port", "0",
                            "--source", "test", "--encoder", "openh264enc", "--test-pattern", "snow"});
  EXPECT_EQ(flags.width, 1920);
  EXPECT_EQ(flags.height, 1080);
  EXPECT_EQ(flags.fps, 60);
  EXPECT_EQ(flags.bitrate_kbps, 4000);
  EXPECT_EQ(flags.destination, (common::Endpoint{"b.example", 7100}));
  EXPECT_EQ(flags.local_port, 0);
  EXPECT_EQ(flags.source, "test");
  EXPECT_EQ(flags.encoder, "openh264enc");
  EXPECT_EQ(flags.test_pattern, "snow");
}

struct BadArgs {
  std::vector<std::string> args;
  const char* reason;  // expected in the one-line error
};

class PublisherBadInput : public ::testing::TestWithParam<BadArgs> {};

TEST_P(PublisherBadInput, OneLineReasonUsageAndExit64NothingStarted) {
  std::vector<std::string> argv{VETER_PUBLISHER_BIN};
  for (const auto& a : GetParam().args) {
    argv.push_back(a);
  }
  // --source test and a free local port: if the input were accepted, it would start streaming.
  argv.insert(argv.end(), {"--local-port", "0"});
  const auto r = run_command(argv, std::chrono::seconds(20));
  EXPECT_EQ(r.status, common::exit_code::usage) << r.err;
  const auto first_line = r.err.substr(0, r.err.find('\n'));
  EXPECT_NE(first_line.find("error:"), std::string::npos) << r.err;
  EXPECT_NE(first_line.find(GetParam().reason), std::string::npos) << first_line;
  EXPECT_NE(r.err.find("Usage"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("starting"), std::string::npos) << "started despite bad input: " << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Table, PublisherBadInput,
    ::testing::Values(BadArgs{{"1280x", "--source", "test"}, "WxH"}, BadArgs{{"0x0", "--source", "test"}, "WxH"},
                      BadArgs{{"99999x99999", "--source", "test"}, "WxH"},
                      BadArgs{{"1280x720", "0", "--source", "test"}, "FPS"},
                      BadArgs{{"1280x720", "30", "--source", "test", "--bitrate=-5"}, "--bitrate"},
                      BadArgs{{"1280x720", "30", "abc", "--source", "test"}, "KBPS"},
                      BadArgs{{"--source", "camera"}, "--source"},
                      BadArgs{{"--source", "test", "--encoder", "h265enc"}, "--encoder"},
                      BadArgs{{"--source", "test", "--port", "0"}, "--port"},
                      BadArgs{{"--source", "test", "--port", "70000"}, "--port"},
                      BadArgs{{"--source", "test", "--port", "65535"}, "port+1"},
                      BadArgs{{"--source", "test", "--size", "641x480"}, "even"},
                      BadArgs{{"--source", "test", "--fps", "0"}, "--fps"},
                      BadArgs{{"--source", "test", "--test-pattern", "smpte"}, "--test-pattern"}));

TEST(PublisherCli, NegativeBitratePositionalIsRejected) {
  const auto r = run_command({VETER_PUBLISHER_BIN, "1280x720", "30", "-5", "--source", "test", "--local-port", "0"},
                             std::chrono::seconds(20));
  EXPECT_EQ(r.status, common::exit_code::usage) << r.err;
  EXPECT_NE(r.err.find("error:"), std::string::npos);
}

TEST(PublisherCli, ConfigFileErrorsExit78AndNeverLoop) {
  TempDir dir;
  const auto bad = dir.write("p.yml", "fps: 0\n");
  const auto r = run_command({VETER_PUBLISHER_BIN, "--config", bad, "--source", "test"}, std::chrono::seconds(20));
  EXPECT_EQ(r.status, common::exit_code::config) << r.err;
  EXPECT_NE(r.err.find("p.yml:1:6: fps: 0 is out of range (1..240)"), std::string::npos) << r.err;
  const auto src = dir.write("s.yml", "source: camera\n");
  EXPECT_EQ(run_command({VETER_PUBLISHER_BIN, "--config", src}, std::chrono::seconds(20)).status,
            common::exit_code::config);
}

TEST(PublisherCli, DryRunPrintsChoiceAndPipeline) {
  const auto r = run_command({VETER_PUBLISHER_BIN, "--dry-run", "1280x720", "30", "2000", "--source", "test",
                              "--encoder", "x264enc"},
                             std::chrono::seconds(20));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("source: test (videotestsrc)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("encoder: x264enc\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pipeline: rtpbin name=rtpbin videotestsrc name=src is-live=true"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("x264enc name=enc tune=zerolatency speed-preset=ultrafast bitrate=2000"), std::string::npos);
}

TEST(PublisherCli, PassthroughFromTheFileAndTheCommandLine) {
  veter::test::TempDir dir;
  const auto file = dir.write("p.yml", "encoder: passthrough\nsource: test\n");
  const auto r = run_command({VETER_PUBLISHER_BIN, "--config", file, "--dry-run", "640x360"}, std::chrono::seconds(20));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("encoder: passthrough\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("h264parse name=enc config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au ! "
                       "rtph264pay"),
            std::string::npos)
      << r.out;
  const auto c = run_command({VETER_PUBLISHER_BIN, "--dry-run", "--source", "test", "--encoder", "passthrough"},
                             std::chrono::seconds(20));
  ASSERT_EQ(c.status, 0) << c.err;
  EXPECT_NE(c.out.find("encoder: passthrough\n"), std::string::npos) << c.out;
}

TEST(PublisherCli, MissingEncoderOrCameraExit69Named) {
  const auto enc = run_command({VETER_PUBLISHER_BIN, "--dry-run", "--source", "test", "--encoder", "nvv4l2h264enc"},
                               std::chrono::seconds(20));
  EXPECT_EQ(enc.status, common::exit_code::unavailable);
  EXPECT_NE(enc.err.find("encoder nvv4l2h264enc is not available"), std::string::npos) << enc.err;
}
