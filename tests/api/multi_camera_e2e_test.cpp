// End to end, two cameras of one robot: two real veter-publisher processes, each started from its
// own per-camera configuration file (as veter-publisher@NAME.service does with
// /etc/veter/publisher-NAME.yml), different picture sizes, each to its own relay path and ingest
// port at the same time. Each viewer must decode its own camera's size; the API lists both ready.
#include <gtest/gtest.h>

#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "process.hpp"
#include "rtsp_viewer.hpp"

namespace veter::relay {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;
using veter::test::Process;
using veter::test::TempDir;

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() > deadline) {
      return false;
    }
    test::pump_main_context(50ms);
  }
  return true;
}

struct Camera {
  std::string name;
  int width;
  int height;
  int ingest_port = 0;
  int local_port = 0;
  std::optional<Process> publisher;
};

TEST(MultiCameraE2e, TwoPublishersOfDifferentSizesToTwoPaths) {
  veter::test::init_gstreamer_once();
  TempDir dir;
  const int rtsp_port = veter::test::free_tcp_port();
  const int api_port = veter::test::free_tcp_port();
  const int udp_range = veter::test::free_udp_port(true);
  Camera cams[2] = {{"front", 640, 360, 0, 0, std::nullopt}, {"cannon", 320, 240, 0, 0, std::nullopt}};
  for (auto& c : cams) {
    do {
      c.ingest_port = veter::test::free_udp_port(true);
    } while (c.ingest_port == udp_range || (&c != &cams[0] && c.ingest_port == cams[0].ingest_port));
  }
  std::ostringstream yml;
  yml << "rtsp:\n  listen: \"127.0.0.1:" << rtsp_port << "\"\n"
      << "  udp_port_range: \"" << udp_range << "-" << udp_range + 1 << "\"\n"
      << "api: { enabled: true, listen: \"127.0.0.1:" << api_port << "\" }\n"
      << "metrics: { enabled: false }\n"
      << "paths:\n";
  for (const auto& c : cams) {
    yml << "  " << c.name << ":\n    ingest:\n      listen: \"127.0.0.1:" << c.ingest_port << "\"\n";
  }
  Process relay({VETER_RELAY_BIN, "--config", dir.write("relay.yml", yml.str())});
  const auto api = [&](const std::string& p) {
    return test::http_get("http://127.0.0.1:" + std::to_string(api_port) + p);
  };
  ASSERT_TRUE(eventually([&] { return api("/v3/paths/list").status == 200 || !relay.running(); }, 30s));
  ASSERT_TRUE(relay.running()) << relay.err();

  for (auto& c : cams) {
    do {
      c.local_port = veter::test::free_udp_port(true);
    } while (c.local_port == c.ingest_port || (&c != &cams[0] && c.local_port == cams[0].local_port));
    std::ostringstream p;
    p << "source: test\nencoder: x264enc\n"
      << "destination: \"127.0.0.1:" << c.ingest_port << "\"\n"
      << "width: " << c.width << "\nheight: " << c.height << "\nfps: 30\nbitrate_kbps: 600\n"
      << "local_port: " << c.local_port << "\n";
    const std::string cfg = dir.write("publisher-" + c.name + ".yml", p.str());
    c.publisher.emplace(std::vector<std::string>{VETER_PUBLISHER_BIN, "--config", cfg});
  }

  // The API lists both paths, both ready.
  const auto both_ready = [&] {
    const auto r = api("/v3/paths/list");
    if (r.status != 200) {
      return false;
    }
    const Json j = Json::parse(r.body);
    int ready = 0;
    for (const auto& item : j["items"]) {
      for (const auto& c : cams) {
        if (item.value("name", "") == c.name && item.value("ready", false)) {
          ++ready;
        }
      }
    }
    return ready == 2;
  };
  ASSERT_TRUE(eventually(both_ready, 30s)) << api("/v3/paths/list").body << relay.err()
                                           << cams[0].publisher->err() << cams[1].publisher->err();

  // One viewer per path, both at once; each decodes its own camera's picture size.
  veter::test::RtspViewer v0("rtsp://127.0.0.1:" + std::to_string(rtsp_port) + "/" + cams[0].name);
  veter::test::RtspViewer v1("rtsp://127.0.0.1:" + std::to_string(rtsp_port) + "/" + cams[1].name);
  ASSERT_TRUE(v0.start());
  ASSERT_TRUE(v1.start());
  EXPECT_TRUE(v0.wait_frames(30, 30s)) << v0.error().value_or("") << relay.err();
  EXPECT_TRUE(v1.wait_frames(30, 30s)) << v1.error().value_or("") << relay.err();
  EXPECT_EQ(v0.width(), cams[0].width);
  EXPECT_EQ(v0.height(), cams[0].height);
  EXPECT_EQ(v1.width(), cams[1].width);
  EXPECT_EQ(v1.height(), cams[1].height);
  v0.stop();
  v1.stop();

  for (auto& c : cams) {
    EXPECT_EQ(c.publisher->stop(), 0) << c.publisher->err();
  }
  relay.stop();
}

}  // namespace
}  // namespace veter::relay
