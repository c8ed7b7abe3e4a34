#include "veter/probe/probe_options.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "veter/common/cli.hpp"
#include "veter/probe/probe_session.hpp"

using veter::probe::ProbeOptions;
using veter::probe::Transport;

namespace {
struct Parsed {
  std::optional<int> code;
  ProbeOptions opts;
};
Parsed parse(std::vector<std::string> args) {
  CLI::App app{"probe", "veter-probe"};
  Parsed p;
  veter::probe::add_probe_options(app, p.opts);
  args.insert(args.begin(), "veter-probe");
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  p.code = veter::common::parse_command_line(app, static_cast<int>(argv.size()), argv.data());
  return p;
}
}  // namespace

TEST(ProbeOptions, Defaults) {
  const auto p = parse({"rtsp://127.0.0.1:8555/camera"});
  EXPECT_FALSE(p.code);
  EXPECT_EQ(p.opts.url, "rtsp://127.0.0.1:8555/camera");
  EXPECT_EQ(p.opts.transport, Transport::tcp);
  EXPECT_DOUBLE_EQ(p.opts.duration_s, 10.0);
  EXPECT_FALSE(p.opts.decode);
  EXPECT_FALSE(p.opts.json);
}

TEST(ProbeOptions, AllFlags) {
  const auto p = parse({"rtsp://h/camera", "--transport", "udp", "--duration", "2.5", "--decode", "--json"});
  EXPECT_FALSE(p.code);
  EXPECT_EQ(p.opts.transport, Transport::udp);
  EXPECT_DOUBLE_EQ(p.opts.duration_s, 2.5);
  EXPECT_TRUE(p.opts.decode);
  EXPECT_TRUE(p.opts.json);
  EXPECT_FALSE(parse({"rtsp://h/camera", "--decode", "--no-decode"}).opts.decode);
}

TEST(ProbeOptions, BadInputIsAUsageError) {
  EXPECT_EQ(parse({}).code, 64);
  EXPECT_EQ(parse({"http://h/camera"}).code, 64);
  EXPECT_EQ(parse({"rtsp://h/camera", "--transport", "sctp"}).code, 64);
  EXPECT_EQ(parse({"rtsp://h/camera", "--duration", "-1"}).code, 64);
  EXPECT_EQ(parse({"rtp://@:0"}).code, 64);
  EXPECT_EQ(parse({"rtp://@:70000"}).code, 64);
  EXPECT_EQ(parse({"rtp://host"}).code, 64);
}

TEST(ProbeOptions, UrlHelpers) {
  EXPECT_EQ(veter::probe::url_scheme("rtsp://a/b"), "rtsp");
  EXPECT_EQ(veter::probe::url_scheme("rtp://@:5000"), "rtp");
  EXPECT_THROW(veter::probe::url_scheme("udp://x"), std::invalid_argument);
  EXPECT_EQ(veter::probe::rtp_listen_port("rtp://@:5000"), 5000);
  EXPECT_EQ(veter::probe::rtp_listen_port("rtp://:5002"), 5002);
  EXPECT_EQ(veter::probe::url_host("rtsp://relay.example.org:8555/camera"), "relay.example.org");
  EXPECT_EQ(veter::probe::url_host("rtsp://user:pw@10.0.0.1/camera"), "10.0.0.1");
  EXPECT_EQ(veter::probe::url_host("rtsp://[::1]:8555/camera"), "::1");
  EXPECT_EQ(veter::probe::url_host("rtsp://host"), "host");
}

TEST(ProbeOptions, LocalHosts) {
  EXPECT_TRUE(veter::probe::host_is_local("127.0.0.1"));
  EXPECT_TRUE(veter::probe::host_is_local("localhost"));
  EXPECT_FALSE(veter::probe::host_is_local("192.0.2.1"));  // TEST-NET-1, never ours
}
