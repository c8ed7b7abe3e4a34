// veter-probe (the real binary) against the real veter-publisher -> veter-relay on loopback.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "process.hpp"
#include "veter/probe/json_fields.hpp"

using namespace std::chrono_literals;
using veter::test::Process;
using veter::test::RunResult;

namespace {

std::string relay_config(int rtsp_port, int ingest_port, int udp_base) {
  return "log_level: info\n"
         "rtsp:\n"
         "  listen: \"127.0.0.1:" + std::to_string(rtsp_port) + "\"\n"
         "  udp_port_range: \"" + std::to_string(udp_base) + "-" + std::to_string(udp_base + 1) + "\"\n"
         "api: { enabled: false }\n"
         "metrics: { enabled: false }\n"
         "paths:\n"
         "  camera:\n"
         "    ingest:\n"
         "      listen: \"127.0.0.1:" + std::to_string(ingest_port) + "\"\n";
}

class ProbeE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    rtsp_port_ = veter::test::free_tcp_port();
    ingest_port_ = veter::test::free_udp_port(true);
    const int udp_base = veter::test::free_udp_port(true);
    const auto cfg = dir_.write("relay.yml", relay_config(rtsp_port_, ingest_port_, udp_base));
    relay_ = std::make_unique<Process>(std::vector<std::string>{VETER_RELAY_BIN, "--config", cfg});
    url_ = "rtsp://127.0.0.1:" + std::to_string(rtsp_port_) + "/camera";
  }

  void start_publisher() {
    const int local = veter::test::free_udp_port(true);
    publisher_ = std::make_unique<Process>(std::vector<std::string>{
        VETER_PUBLISHER_BIN, "640x360", "30", "800", "--source", "test", "--host", "127.0.0.1", "--port",
        std::to_string(ingest_port_), "--local-port", std::to_string(local)});
  }

  // Run the probe; the relay needs the publisher's first IDR before the path is ready,
  // so a run that finds the path not ready yet is retried (bounded: 30 s in total).
  RunResult probe_when_ready(std::vector<std::string> args) {
    args.insert(args.begin(), {VETER_PROBE_BIN, url_});
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    RunResult r;
    do {
      r = veter::test::run_command(args, 60s);
      if (r.status == 0) {
        return r;
      }
      std::this_thread::sleep_for(500ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return r;
  }

  veter::test::TempDir dir_;
  int rtsp_port_ = 0;
  int ingest_port_ = 0;
  std::string url_;
  std::unique_ptr<Process> relay_;
  std::unique_ptr<Process> publisher_;
};

}  // namespace

TEST_F(ProbeE2E, MeasuresALivePublisherThroughTheRelay) {
  start_publisher();
  const auto r = probe_when_ready({"--duration", "4"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  // The plain summary: frames, fps and latency percentiles from the publisher's SEI.
  EXPECT_NE(r.out.find("capture -> arrival   p50 "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("latency              unavailable"), std::string::npos) << r.out;
}

TEST_F(ProbeE2E, JsonHasEveryDocumentedFieldAndRealNumbers) {
  start_publisher();
  const auto r = probe_when_ready({"--duration", "4", "--json", "--decode"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);  // exactly one JSON object on stdout
  for (const auto& field : veter::probe::documented_json_fields()) {
    EXPECT_TRUE(j.contains(nlohmann::json::json_pointer(field))) << field;
  }
  EXPECT_GE(j["fps"].get<double>(), 1.0);
  EXPECT_GE(j["frames"].get<int>(), 10);
  EXPECT_EQ(j["width"], 640);
  EXPECT_EQ(j["height"], 360);
  EXPECT_EQ(j["exit_code"], 0);
  EXPECT_TRUE(j["error"].is_null());
  EXPECT_FALSE(j["time_to_first_frame_ms"].is_null());
  ASSERT_TRUE(j["latency"]["available"].get<bool>());
  const auto& lat = j["latency"]["capture_to_arrival_ms"];
  EXPECT_GE(lat["count"].get<int>(), 10);
  for (const char* k : {"p50", "p95", "p99", "max"}) {
    EXPECT_TRUE(lat[k].is_number()) << k;
  }
  EXPECT_LE(lat["p50"].get<double>(), lat["p99"].get<double>());
  EXPECT_GE(lat["min"].get<double>(), 0.0);  // one host, one clock
  EXPECT_TRUE(j["latency"]["capture_to_decoded_ms"]["p50"].is_number());
  EXPECT_EQ(j["latency"]["negative"], 0);
}

TEST_F(ProbeE2E, UdpTransportWorksToo) {
  start_publisher();
  const auto r = probe_when_ready({"--duration", "3", "--json", "--transport", "udp"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["transport"], "udp");
  EXPECT_GE(j["frames"].get<int>(), 10);
  EXPECT_TRUE(j["latency"]["available"].get<bool>());
}

TEST_F(ProbeE2E, NoPublisherIsNotReadyWithinTwoSeconds) {
  // The relay is up (give it a moment to listen) but nothing publishes to it.
  const auto t0 = std::chrono::steady_clock::now();
  RunResult r;
  do {
    r = veter::test::run_command({VETER_PROBE_BIN, url_, "--duration", "10"}, 10s);
  } while (r.err.find("cannot connect") != std::string::npos && std::chrono::steady_clock::now() - t0 < 10s);
  const auto started = std::chrono::steady_clock::now();
  r = veter::test::run_command({VETER_PROBE_BIN, url_, "--duration", "10"}, 10s);
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("not ready"), std::string::npos) << r.err;
  EXPECT_LT(took, 2s);
}

TEST_F(ProbeE2E, NothingListeningFailsFast) {
  const std::string url = "rtsp://127.0.0.1:" + std::to_string(veter::test::free_tcp_port()) + "/camera";
  const auto r = veter::test::run_command({VETER_PROBE_BIN, url, "--duration", "10", "--json"}, 10s);
  EXPECT_EQ(r.status, 69);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["frames"], 0);
  EXPECT_FALSE(j["error"].is_null());
}
