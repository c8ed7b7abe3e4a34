// End to end: the viewer registry under churn. Many RTSP viewers connect, play and leave (TEARDOWN
// or an abrupt close) while the control API lists and kicks sessions and the metrics endpoint is
// scraped. The registry is written by the RTSP clients' handlers and read by the API: with the
// clients on another thread than the API this raced (ThreadSanitizer reports it in a TSan build,
// where a report makes the relay exit); here every viewer must be served, the relay must stay up
// and the registry must end empty.
#include <gtest/gtest.h>

#include <atomic>
#include <sstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "process.hpp"
#include "raw_rtsp_client.hpp"

namespace veter::relay {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;
using veter::test::Process;
using veter::test::RawRtspClient;

constexpr int kViewerThreads = 6;
constexpr int kJoinsPerThread = 12;

/// One viewer's life: DESCRIBE, SETUP (TCP interleaved), PLAY, then TEARDOWN or a plain close.
bool one_viewer(int rtsp_port, const std::string& url, bool teardown) {
  RawRtspClient c(rtsp_port);
  if (c.request("DESCRIBE", url, {"Accept: application/sdp"}, 60s).status != 200) {
    return false;
  }
  auto setup = c.request("SETUP", url + "/stream=0", {"Transport: RTP/AVP/TCP;unicast;interleaved=0-1"}, 60s);
  if (setup.status != 200) {
    return false;
  }
  std::string session = setup.header("Session");
  session = session.substr(0, session.find(';'));
  if (c.request("PLAY", url, {"Session: " + session, "Range: npt=0-"}, 60s).status != 200) {
    return false;
  }
  if (teardown) {
    // A kick from the API may have closed the connection first: any answer (or none) is fine.
    c.request("TEARDOWN", url, {"Session: " + session}, 10s);
  }
  return true;
}

TEST(ViewerRegistryE2E, ViewersComeAndGoWhileTheApiAndMetricsArePolled) {
  veter::test::TempDir dir;
  const int rtsp_port = veter::test::free_tcp_port();
  const int api_port = veter::test::free_tcp_port();
  const int metrics_port = veter::test::free_tcp_port();
  const int ingest_port = veter::test::free_udp_port(true);
  const int udp_range = veter::test::free_udp_port(true);
  std::ostringstream yml;
  yml << "log_level: warn\n"
      << "rtsp:\n  listen: \"127.0.0.1:" << rtsp_port << "\"\n"
      << "  udp_port_range: \"" << udp_range << "-" << udp_range + 1 << "\"\n"
      << "api: { enabled: true, listen: \"127.0.0.1:" << api_port << "\" }\n"
      << "metrics: { enabled: true, listen: \"127.0.0.1:" << metrics_port << "\" }\n"
      << "paths:\n  camera:\n    ingest:\n      listen: \"127.0.0.1:" << ingest_port << "\"\n";
  Process relay({VETER_RELAY_BIN, "--config", dir.write("relay.yml", yml.str())});
  Process publisher({VETER_PUBLISHER_BIN, "320x240", "30", "300", "--host", "127.0.0.1", "--port",
                     std::to_string(ingest_port), "--source", "test", "--encoder", "x264enc", "--local-port",
                     std::to_string(veter::test::free_udp_port(true))});
  const std::string api = "http://127.0.0.1:" + std::to_string(api_port);
  const std::string url = "rtsp://127.0.0.1:" + std::to_string(rtsp_port) + "/camera";

  auto camera_ready = [&] {
    const auto r = test::http_get(api + "/v3/paths/get/camera");
    return r.status == 200 && Json::parse(r.body).value("ready", false);
  };
  const auto ready_deadline = Clock::now() + 60s;
  while (!camera_ready() && relay.running() && Clock::now() < ready_deadline) {
    test::pump_main_context(100ms);
  }
  ASSERT_TRUE(camera_ready()) << relay.err();

  std::atomic<int> served{0};
  std::atomic<int> refused{0};
  std::atomic<int> running{kViewerThreads};
  std::vector<std::thread> viewers;
  for (int t = 0; t < kViewerThreads; ++t) {
    viewers.emplace_back([&, t] {
      for (int i = 0; i < kJoinsPerThread; ++i) {
        (one_viewer(rtsp_port, url, (i + t) % 2 == 0) ? served : refused).fetch_add(1);
      }
      running.fetch_sub(1);
    });
  }
  // Meanwhile: list sessions, kick one now and then, scrape the metrics, until every viewer is done.
  int polls = 0;
  int kicks = 0;
  int api_errors = 0;
  while (running.load() > 0) {
    const auto list = test::http_get(api + "/v3/rtspsessions/list");
    const auto metrics = test::http_get("http://127.0.0.1:" + std::to_string(metrics_port) + "/metrics");
    const auto paths = test::http_get(api + "/v3/paths/list");
    if (list.status != 200 || metrics.status != 200 || paths.status != 200) {
      ++api_errors;
    } else if (++polls % 4 == 0) {
      const Json items = Json::parse(list.body).value("items", Json::array());
      if (!items.empty()) {
        test::http_request("POST", api + "/v3/rtspsessions/kick/" + items.front().value("id", std::string()));
        ++kicks;
      }
    }
  }
  for (auto& v : viewers) {
    v.join();
  }
  std::printf("[ measure ] churn: %d viewers served, %d refused, %d API polls, %d kicks\n", served.load(),
              refused.load(), polls, kicks);
  EXPECT_EQ(api_errors, 0);
  // A kick can close a viewer's connection before its PLAY is answered: that viewer counts as
  // refused. Every other one must have been served.
  EXPECT_GE(served.load(), kViewerThreads * kJoinsPerThread - kicks);
  EXPECT_GT(polls, 0);
  // Every viewer has gone: the registry empties (TCP sessions end with their connection).
  const auto empty_deadline = Clock::now() + 60s;
  std::string last;
  while (Clock::now() < empty_deadline) {
    const auto r = test::http_get(api + "/v3/rtspsessions/list");
    last = r.body;
    if (r.status == 200 && Json::parse(r.body).value("items", Json::array()).empty()) {
      break;
    }
    test::pump_main_context(100ms);
  }
  EXPECT_TRUE(Json::parse(last).value("items", Json::array()).empty()) << last;
  EXPECT_TRUE(relay.running()) << relay.err();
  EXPECT_EQ(relay.err().find("ThreadSanitizer"), std::string::npos) << relay.err();
  publisher.stop();
  EXPECT_EQ(relay.stop(), 0) << relay.err();
}

}  // namespace
}  // namespace veter::relay
