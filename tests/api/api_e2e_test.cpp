// End to end: the real veter-relay and veter-publisher on loopback, the real
// HTTP API / metrics listeners, real RTSP viewers (GStreamer rtspsrc, decoded).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

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

std::string slurp(const std::string& path) { return veter::test::read_text_file(path); }

/// Poll `pred` (iterating the main context) until true or `timeout`.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout, std::chrono::milliseconds step = 50ms) {
  const auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() > deadline) {
      return false;
    }
    test::pump_main_context(step);
  }
  return true;
}

long long ms(Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

bool gone(pid_t pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) {
    return true;
  }
  const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  return close == std::string::npos || (close + 2 < stat.size() && stat[close + 2] == 'Z');
}

struct RelayOptions {
  std::string run_on_ready;
  std::string run_on_not_ready;
};

class ApiE2e : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { veter::test::init_gstreamer_once(); }

  void start_relay(const RelayOptions& opts = {}) {
    rtsp_port_ = veter::test::free_tcp_port();
    api_port_ = veter::test::free_tcp_port();
    metrics_port_ = veter::test::free_tcp_port();
    ingest_port_ = veter::test::free_udp_port(true);
    const int udp_range = veter::test::free_udp_port(true);
    std::ostringstream yml;
    yml << "log_level: debug\n"
        << "rtsp:\n  listen: \"127.0.0.1:" << rtsp_port_ << "\"\n"
        << "  udp_port_range: \"" << udp_range << "-" << udp_range + 1 << "\"\n"
        << "api: { enabled: true, listen: \"127.0.0.1:" << api_port_ << "\" }\n"
        << "metrics: { enabled: true, listen: \"127.0.0.1:" << metrics_port_ << "\" }\n"
        << "paths:\n  camera:\n    ingest:\n      listen: \"127.0.0.1:" << ingest_port_ << "\"\n"
        << "      timeout: 2s\n"
        << "    run_on_ready: " << Json(opts.run_on_ready).dump() << "\n"
        << "    run_on_not_ready: " << Json(opts.run_on_not_ready).dump() << "\n";
    const std::string cfg = dir_.write("relay.yml", yml.str());
    relay_.emplace(std::vector<std::string>{VETER_RELAY_BIN, "--config", cfg});
    ASSERT_TRUE(eventually([&] { return http_get_api("/v3/paths/list").status == 200 || !relay_->running(); }, 30s));
    ASSERT_TRUE(relay_->running()) << relay_->err();
  }

  void start_publisher() {
    publisher_port_ = veter::test::free_udp_port(true);
    publisher_.emplace(std::vector<std::string>{VETER_PUBLISHER_BIN, "--source", "test", "--host", "127.0.0.1",
                                                "--port", std::to_string(ingest_port_), "--local-port",
                                                std::to_string(publisher_port_), "--size", "640x360", "--fps", "30",
                                                "--bitrate", "800"});
  }

  test::HttpResult http_get_api(const std::string& path) {
    return test::http_get("http://127.0.0.1:" + std::to_string(api_port_) + path);
  }
  Json camera() {
    auto r = http_get_api("/v3/paths/get/camera");
    EXPECT_EQ(r.status, 200U) << r.error << r.body;
    return r.status == 200 ? Json::parse(r.body) : Json::object();
  }
  Json sessions() {
    auto r = http_get_api("/v3/rtspsessions/list");
    EXPECT_EQ(r.status, 200U) << r.error << r.body;
    return r.status == 200 ? Json::parse(r.body) : Json::object();
  }
  bool camera_ready() {
    const Json c = camera();
    return c.value("ready", false);
  }
  std::string rtsp_url() const { return "rtsp://127.0.0.1:" + std::to_string(rtsp_port_) + "/camera"; }

  void TearDown() override {
    if (publisher_) {
      publisher_->stop();
    }
    if (relay_) {
      relay_->stop();
    }
  }

  TempDir dir_;
  int rtsp_port_ = 0;
  int api_port_ = 0;
  int metrics_port_ = 0;
  int ingest_port_ = 0;
  int publisher_port_ = 0;
  std::optional<Process> relay_;
  std::optional<Process> publisher_;
};

TEST_F(ApiE2e, ReadyFollowsThePublisherAndBytesGrow) {
  start_relay();
  Json c = camera();
  EXPECT_EQ(c["name"], "camera");
  EXPECT_EQ(c["ready"], false);
  EXPECT_TRUE(c["source"].is_null());
  EXPECT_TRUE(c["readyTime"].is_null());

  start_publisher();
  Clock::time_point first_packet;
  ASSERT_TRUE(eventually([&] { return camera()["ingest"].value("packetsReceived", 0) > 0; }, 30s))
      << relay_->err() << publisher_->err();
  first_packet = Clock::now();
  ASSERT_TRUE(eventually([&] { return camera_ready(); }, 10s)) << camera().dump(2);
  const auto to_ready = Clock::now() - first_packet;
  std::cout << "[ measured ] ready " << ms(to_ready) << " ms after the API first showed packets\n";
  EXPECT_LT(to_ready, 2s) << "ready took "
                          << std::chrono::duration_cast<std::chrono::milliseconds>(to_ready).count()
                          << " ms after the first packet";

  c = camera();
  EXPECT_EQ(c["tracks"], Json::parse(R"(["H264"])"));
  EXPECT_EQ(c["source"]["type"], "rtpSource");
  EXPECT_EQ(c["source"]["id"], "127.0.0.1:" + std::to_string(publisher_port_));
  EXPECT_TRUE(c["readyTime"].is_string());
  ASSERT_EQ(c["tracks2"].size(), 1U) << c.dump(2);
  EXPECT_EQ(c["tracks2"][0]["codec"], "H264");
  EXPECT_EQ(c["tracks2"][0]["width"], 640);
  EXPECT_EQ(c["tracks2"][0]["height"], 360);
  EXPECT_EQ(c["ingest"]["publisherAddr"], "127.0.0.1");
  EXPECT_EQ(c["ingest"]["publisherPort"], publisher_port_);

  // bytesReceived grows while the publisher sends.
  const auto before = c["bytesReceived"].get<std::uint64_t>();
  EXPECT_GT(before, 0U);
  ASSERT_TRUE(eventually([&] { return camera()["bytesReceived"].get<std::uint64_t>() > before + 10000; }, 10s));

  // The same numbers in /metrics, and promtool accepts the page.
  auto m = test::http_get("http://127.0.0.1:" + std::to_string(metrics_port_) + "/metrics");
  ASSERT_EQ(m.status, 200U) << m.error;
  EXPECT_NE(m.body.find("\npaths{name=\"camera\",state=\"ready\"} 1\n"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("\nveter_path_ready{name=\"camera\"} 1\n"), std::string::npos);
  EXPECT_NE(m.body.find("\nprocess_resident_memory_bytes "), std::string::npos);
  if (std::filesystem::exists("/usr/bin/promtool")) {
    const std::string file = dir_.write("metrics.prom", m.body);
    auto r = veter::test::run_command({"/bin/sh", "-c", "/usr/bin/promtool check metrics < '" + file + "'"});
    EXPECT_EQ(r.status, 0) << r.out << r.err << m.body;
  } else {
    std::cout << "[ SKIPPED  ] promtool check: /usr/bin/promtool absent (Debian package prometheus)\n";
  }

  // The publisher stops: not ready once ingest.timeout (2 s) has passed without packets.
  // Packets flow until SIGTERM reaches the publisher, so "not ready" must not come earlier
  // than about ingest.timeout after this point (one frame interval of slack, plus margin).
  const auto stopping = Clock::now();
  publisher_->stop();
  publisher_.reset();
  ASSERT_TRUE(eventually([&] { return !camera_ready(); }, 15s));
  const auto to_not_ready = Clock::now() - stopping;
  std::cout << "[ measured ] not ready " << ms(to_not_ready) << " ms after SIGTERM to the publisher (timeout 2 s)\n";
  EXPECT_GE(to_not_ready, 1800ms) << "not ready before ingest.timeout";
  c = camera();
  EXPECT_TRUE(c["source"].is_null());
  m = test::http_get("http://127.0.0.1:" + std::to_string(metrics_port_) + "/metrics");
  EXPECT_NE(m.body.find("\npaths{name=\"camera\",state=\"notReady\"} 1\n"), std::string::npos) << m.body;
}

TEST_F(ApiE2e, TwoViewersAreReadersAndKickEndsOne) {
  start_relay();
  start_publisher();
  ASSERT_TRUE(eventually([&] { return camera_ready(); }, 30s)) << relay_->err();

  veter::test::RtspViewer a(rtsp_url(), "tcp");
  ASSERT_TRUE(a.start());
  ASSERT_TRUE(a.wait_frames(15, 30s)) << "viewer A decoded " << a.frames();
  EXPECT_EQ(a.width(), 640);
  EXPECT_EQ(a.height(), 360);
  ASSERT_TRUE(eventually([&] { return sessions()["itemCount"] == 1; }, 10s)) << sessions().dump(2);
  const std::string id_a = sessions()["items"][0]["id"];

  veter::test::RtspViewer b(rtsp_url(), "tcp");
  ASSERT_TRUE(b.start());
  ASSERT_TRUE(b.wait_frames(15, 30s)) << "viewer B decoded " << b.frames();
  ASSERT_TRUE(eventually([&] { return sessions()["itemCount"] == 2; }, 10s)) << sessions().dump(2);
  std::string id_b;
  const Json two = sessions();
  for (const auto& s : two["items"]) {
    EXPECT_EQ(s["path"], "camera");
    EXPECT_EQ(s["state"], "read");
    EXPECT_EQ(s["transport"], "TCP");
    if (s["id"] != id_a) {
      id_b = s["id"];
    }
  }
  ASSERT_FALSE(id_b.empty()) << two.dump(2);

  Json c = camera();
  ASSERT_EQ(c["readers"].size(), 2U) << c.dump(2);
  std::set<std::string> reader_ids;
  for (const auto& r : c["readers"]) {
    EXPECT_EQ(r["type"], "rtspSession");
    reader_ids.insert(r["id"].get<std::string>());
  }
  EXPECT_EQ(reader_ids, (std::set<std::string>{id_a, id_b}));

  // bytesSent grows, per path and per session.
  const auto sent = c["bytesSent"].get<std::uint64_t>();
  EXPECT_GT(sent, 0U);
  ASSERT_TRUE(eventually([&] { return camera()["bytesSent"].get<std::uint64_t>() > sent + 20000; }, 10s));
  auto r = http_get_api("/v3/rtspsessions/get/" + id_b);
  ASSERT_EQ(r.status, 200U);
  const auto sent_b = Json::parse(r.body)["bytesSent"].get<std::uint64_t>();
  EXPECT_GT(sent_b, 0U);

  // Kick A: A's stream ends, B keeps decoding, A is gone from the API.
  r = test::http_request("POST", "http://127.0.0.1:" + std::to_string(api_port_) + "/v3/rtspsessions/kick/" + id_a);
  EXPECT_EQ(r.status, 200U) << r.error << r.body << "\nrelay log:\n" << relay_->err();
  int last_a = a.frames();
  auto a_stalled_since = Clock::now();
  const bool a_ended = eventually(
      [&] {
        a.poll();
        if (a.eos() || a.error()) {
          return true;
        }
        if (a.frames() != last_a) {
          last_a = a.frames();
          a_stalled_since = Clock::now();
        }
        return Clock::now() - a_stalled_since > 3s;  // no frame for 3 s while B keeps going
      },
      20s);
  EXPECT_TRUE(a_ended) << "kicked viewer still decoding: " << a.frames();
  const int b_now = b.frames();
  EXPECT_TRUE(b.wait_frames(b_now + 30, 15s)) << "viewer B stopped at " << b.frames();
  EXPECT_TRUE(eventually(
      [&] {
        const Json s = sessions();
        return s["itemCount"] == 1 && s["items"][0]["id"] == id_b;
      },
      10s))
      << sessions().dump(2);
  EXPECT_EQ(camera()["readers"].size(), 1U);

  r = test::http_request("POST", "http://127.0.0.1:" + std::to_string(api_port_) + "/v3/rtspsessions/kick/" + id_a);
  EXPECT_EQ(r.status, 404U);
  EXPECT_EQ(r.body, R"({"status":"error","error":"session not found"})");
}

TEST_F(ApiE2e, HooksSeeTheirEnvironment) {
  const std::string ready_file = dir_.path() + "/ready.env";
  const std::string not_ready_file = dir_.path() + "/not_ready.env";
  start_relay({"env > '" + ready_file + ".tmp' && mv '" + ready_file + ".tmp' '" + ready_file + "'",
               "env > '" + not_ready_file + ".tmp' && mv '" + not_ready_file + ".tmp' '" + not_ready_file + "'"});
  start_publisher();
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(ready_file); }, 30s)) << relay_->err();
  const std::string env = slurp(ready_file);
  EXPECT_NE(env.find("VETER_PATH=camera\n"), std::string::npos) << env;
  EXPECT_NE(env.find("MTX_PATH=camera\n"), std::string::npos) << env;
  EXPECT_NE(env.find("VETER_RTSP_URL=" + rtsp_url() + "\n"), std::string::npos) << env;
  EXPECT_NE(env.find("VETER_SOURCE_ADDR=127.0.0.1:" + std::to_string(publisher_port_) + "\n"), std::string::npos)
      << env;
  EXPECT_FALSE(std::filesystem::exists(not_ready_file));

  publisher_->stop();
  publisher_.reset();
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(not_ready_file); }, 20s)) << relay_->err();
  EXPECT_NE(slurp(not_ready_file).find("VETER_EVENT=not_ready\n"), std::string::npos);
}

TEST_F(ApiE2e, SleepingHookDoesNotDelayShutdown) {
  const std::string pidfile = dir_.path() + "/hook.pid";
  // Ignores SIGTERM and keeps a child: only SIGKILL of its process group ends it.
  start_relay({"trap '' TERM; echo $$ > '" + pidfile + ".tmp'; mv '" + pidfile + ".tmp' '" + pidfile +
                   "'; while :; do sleep 1; done",
               ""});
  start_publisher();
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(pidfile); }, 30s)) << relay_->err();
  pid_t hook = 0;
  std::istringstream(slurp(pidfile)) >> hook;
  ASSERT_GT(hook, 0);
  ASSERT_FALSE(gone(hook));

  publisher_->stop();
  publisher_.reset();
  const auto t0 = Clock::now();
  relay_->signal(SIGTERM);
  const auto status = relay_->wait(10s);
  const auto took = Clock::now() - t0;
  std::cout << "[ measured ] relay shutdown with a SIGTERM-ignoring hook: " << ms(took) << " ms\n";
  ASSERT_TRUE(status.has_value()) << "relay did not exit within 10 s";
  EXPECT_EQ(*status, 0) << relay_->err();
  // Hook termination is bounded by 2 s; allow 2 s more for the relay's own teardown on a loaded machine.
  EXPECT_LT(took, 4s) << "shutdown took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                      << " ms";
  EXPECT_TRUE(eventually([&] { return gone(hook); }, 5s)) << "hook survived the relay";
  EXPECT_NE(relay_->err().find("killing it"), std::string::npos) << relay_->err();
}

TEST_F(ApiE2e, BusyApiPortIsAStartupError) {
  // Occupy a TCP port on 127.0.0.1, then ask the relay to serve its API there.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int busy = ntohs(addr.sin_port);

  const int rtsp = veter::test::free_tcp_port();
  const int ingest = veter::test::free_udp_port(true);
  const int range = veter::test::free_udp_port(true);
  const std::string cfg = dir_.write(
      "busy.yml", "rtsp:\n  listen: \"127.0.0.1:" + std::to_string(rtsp) + "\"\n  udp_port_range: \"" +
                      std::to_string(range) + "-" + std::to_string(range + 1) + "\"\n" +
                      "api: { listen: \"127.0.0.1:" + std::to_string(busy) + "\" }\n" +
                      "metrics: { enabled: false }\n" + "paths:\n  camera:\n    ingest:\n      listen: \"127.0.0.1:" +
                      std::to_string(ingest) + "\"\n");
  auto r = veter::test::run_command({VETER_RELAY_BIN, "--config", cfg}, 30s);
  close(fd);
  EXPECT_EQ(r.status, 69) << r.err;
  EXPECT_NE(r.err.find("api listener: cannot listen on 127.0.0.1:" + std::to_string(busy)), std::string::npos) << r.err;
}

}  // namespace
}  // namespace veter::relay
