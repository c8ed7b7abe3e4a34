// Real-browser end-to-end test of the relay's WebRTC viewers: the real relay
// and publisher on loopback, Debian's chromium (headless) opening the player
// page through puppeteer-core (tests/webrtc/watch.js), asserting on what the
// browser decodes (getStats framesDecoded, frameWidth/frameHeight).
// Skipped, with the reason, only where Chromium cannot start.
#include <gtest/gtest.h>

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <thread>

#include <nlohmann/json.hpp>

#include "process.hpp"
#include "relay_test_helpers.hpp"

namespace veter::test {
namespace {

using namespace std::chrono_literals;

const std::string kWatch = std::string(VETER_SOURCE_DIR) + "/tests/webrtc/watch.js";

/// node from PATH (Process runs a path, not a name).
std::string node_binary() {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin";
  std::size_t pos = 0;
  while (pos <= dirs.size()) {
    auto colon = dirs.find(':', pos);
    const std::string candidate = dirs.substr(pos, colon == std::string::npos ? std::string::npos : colon - pos) + "/node";
    if (access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (colon == std::string::npos) {
      break;
    }
    pos = colon + 1;
  }
  return "/usr/bin/node";
}

struct WebrtcRelay {
  TempDir dir;
  int ingest = free_udp_port(true);
  int whep = free_tcp_port();
  int ice = free_udp_port();
  int api = free_tcp_port();
  int metrics = free_tcp_port();
  std::unique_ptr<Process> proc;

  explicit WebrtcRelay(const std::string& extra_webrtc = "", const std::string& extra_rtsp = "") {
    const int udp_min = free_udp_port(true);
    const std::string cfg = "api: {listen: \"127.0.0.1:" + std::to_string(api) + "\"}\nmetrics: {listen: \"127.0.0.1:" +
                            std::to_string(metrics) + "\"}\nstats_interval: 1s\n"
                            "rtsp:\n  listen: \"127.0.0.1:" + std::to_string(free_tcp_port()) +
                            "\"\n  udp_port_range: \"" + std::to_string(udp_min) + "-" + std::to_string(udp_min + 1) +
                            "\"\n" + extra_rtsp +
                            "webrtc:\n  enabled: true\n  listen: \"127.0.0.1:" + std::to_string(whep) +
                            "\"\n  ice_udp_port: " + std::to_string(ice) + "\n  max_sessions: 4\n" + extra_webrtc +
                            "paths:\n  camera:\n    ingest: {listen: \"127.0.0.1:" + std::to_string(ingest) + "\"}\n";
    const auto file = dir.write("relay.yml", cfg);
    proc = std::make_unique<Process>(std::vector<std::string>{VETER_RELAY_BIN, "-c", file});
  }
  [[nodiscard]] bool listening() const { return proc->wait_for_output("webrtc: WHEP on", 20s); }
};

/// The browser: watch.js printing "stats {json}" lines.
class Browser {
 public:
  Browser(const std::string& url, int seconds, const std::vector<std::string>& extra = {}) {
    // The Chromium profile goes into this browser's own temp dir, removed with it
    // even when Chromium is killed before it could clean up.
    std::vector<std::string> argv{node_binary(), kWatch, "--url", url, "--seconds", std::to_string(seconds),
                                  "--profile-parent", profiles_.path()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    proc_ = std::make_unique<Process>(argv);
  }
  ~Browser() { proc_->stop(10000ms); }
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  /// The newest stats line (null before the first).
  [[nodiscard]] nlohmann::json last() const {
    const std::string out = proc_->out();
    const auto pos = out.rfind("stats {");
    if (pos == std::string::npos) {
      return nullptr;
    }
    const auto end = out.find('\n', pos);
    if (end == std::string::npos) {
      // A partly written last line: use the one before.
      const auto prev = out.rfind("stats {", pos - 1);
      if (prev == std::string::npos || pos == 0) {
        return nullptr;
      }
      return nlohmann::json::parse(out.substr(prev + 6, out.find('\n', prev) - prev - 6), nullptr, false);
    }
    return nlohmann::json::parse(out.substr(pos + 6, end - pos - 6), nullptr, false);
  }
  /// Chromium could not start here: the reason; nullopt otherwise.
  [[nodiscard]] std::optional<std::string> cannot_start() const {
    const std::string out = proc_->out();
    const auto pos = out.find("cannot-start ");
    if (pos == std::string::npos) {
      return std::nullopt;
    }
    return out.substr(pos + 13, out.find('\n', pos) - pos - 13);
  }
  /// Wait (bounded) until `pred` holds for the newest stats; false on timeout or exit.
  bool wait_until(const std::function<bool(const nlohmann::json&)>& pred, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto s = last();
      if (s.is_object() && pred(s)) {
        return true;
      }
      if (!proc_->running()) {
        return false;
      }
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
  [[nodiscard]] Process& process() { return *proc_; }

 private:
  TempDir profiles_;  // declared before proc_: outlives the process
  std::unique_ptr<Process> proc_;
};

#define SKIP_IF_NO_CHROMIUM(browser)                                                             \
  do {                                                                                           \
    (browser).process().wait(0ms);                                                               \
    if (auto why = (browser).cannot_start()) {                                                   \
      GTEST_SKIP() << "Chromium cannot start here: " << *why;                                    \
    }                                                                                            \
  } while (0)

long long frames(const nlohmann::json& s) { return s.value("frames", 0LL); }

TEST(WebrtcE2e, ChromiumPlaysAtThePublishersSizeAndAcrossAPublisherRestart) {
  WebrtcRelay relay;
  ASSERT_TRUE(relay.listening()) << relay.proc->err();
  auto publisher = start_publisher(relay.ingest, free_udp_port(true), "320x240", 30, 800);
  const std::string shot = std::filesystem::current_path().string() + "/webrtc_player.png";
  Browser browser("http://127.0.0.1:" + std::to_string(relay.whep) + "/camera", 120,
                  {"--screenshot", shot, "--screenshot-after-frames", "30"});
  const bool playing = browser.wait_until(
      [](const nlohmann::json& s) { return frames(s) >= 30 && s.value("width", 0) == 320; }, 60s);
  SKIP_IF_NO_CHROMIUM(browser);
  ASSERT_TRUE(playing) << "browser: " << browser.process().out().substr(0, 4000) << browser.process().err()
                       << "\nrelay: " << relay.proc->err();
  const auto s = browser.last();
  EXPECT_EQ(s.value("width", 0), 320);
  EXPECT_EQ(s.value("height", 0), 240);
  EXPECT_EQ(s.value("state", ""), "playing");

  // Publisher restart: a new process (new SSRC, sequence, timestamps, source port).
  publisher->stop();
  publisher = start_publisher(relay.ingest, free_udp_port(true), "320x240", 30, 800);
  ASSERT_TRUE(relay.proc->wait_for_output("publisher 127.0.0.1:", 20s));
  const long long before = frames(browser.last());
  const bool continued = browser.wait_until(
      [before](const nlohmann::json& j) { return frames(j) >= before + 60 && j.value("state", "") == "playing"; }, 60s);
  EXPECT_TRUE(continued) << "frames before restart " << before << ", now " << browser.last().dump() << "\n"
                         << relay.proc->err().substr(0, 3000);
  // Playback continued in the same WebRTC session (no reconnect was needed).
  EXPECT_EQ(browser.last().value("connects", 0), 1);
  EXPECT_TRUE(std::filesystem::exists(shot));

  // The session in the API and the metrics; then kicked through the API.
  const std::string api = "http://127.0.0.1:" + std::to_string(relay.api);
  const auto list = run_command({"/usr/bin/curl", "-sS", "-m", "10", api + "/v3/webrtcsessions/list"});
  ASSERT_EQ(list.status, 0) << list.err;
  const auto j = nlohmann::json::parse(list.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << list.out;
  ASSERT_EQ(j.value("itemCount", 0), 1) << list.out;
  const auto item = j["items"][0];
  EXPECT_EQ(item.value("path", ""), "camera");
  EXPECT_EQ(item.value("state", ""), "read");
  EXPECT_GT(item.value("bytesSent", 0LL), 10000);
  const auto metrics =
      run_command({"/usr/bin/curl", "-sS", "-m", "10", "http://127.0.0.1:" + std::to_string(relay.metrics) + "/metrics"});
  EXPECT_NE(metrics.out.find("webrtc_sessions{id=\"" + item.value("id", "") + "\""), std::string::npos) << metrics.out;
  EXPECT_NE(metrics.out.find("webrtc_sessions_bytes_sent{"), std::string::npos);
  const auto kick = run_command({"/usr/bin/curl", "-sS", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", "-X",
                                 "POST", api + "/v3/webrtcsessions/kick/" + item.value("id", "")});
  EXPECT_EQ(kick.out, "200");
  EXPECT_TRUE(relay.proc->wait_for_output("kicked through the API", 10s));
  EXPECT_TRUE(relay.proc->running());
}

TEST(WebrtcE2e, WrongPasswordFailsCleanlyAndTheRightOnePlays) {
  TempDir certs;
  const std::string cert = certs.path() + "/cert.pem";
  const std::string key = certs.path() + "/key.pem";
  const auto gen = run_command({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                                "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1"},
                               60s);
  ASSERT_EQ(gen.status, 0) << gen.err;
  WebrtcRelay relay("  tls: {cert_file: \"" + cert + "\", key_file: \"" + key + "\"}\n",
                    "  users:\n    - {user: viewer, pass: \"right-password\"}\n");
  ASSERT_TRUE(relay.listening()) << relay.proc->err();
  auto publisher = start_publisher(relay.ingest, free_udp_port(true), "320x240", 30, 800);
  const std::string base = "https://127.0.0.1:" + std::to_string(relay.whep) + "/camera?user=viewer&pass=";
  {
    Browser wrong(base + "wrong", 30, {"--ignore-cert"});
    const bool refused = wrong.wait_until(
        [](const nlohmann::json& s) { return s.value("state", "") == "unauthorized"; }, 40s);
    SKIP_IF_NO_CHROMIUM(wrong);
    ASSERT_TRUE(refused) << wrong.process().out().substr(0, 3000);
    const auto s = wrong.last();
    EXPECT_EQ(frames(s), 0);
    EXPECT_NE(s.value("error", "").find("wrong user or password"), std::string::npos) << s.dump();
  }
  EXPECT_TRUE(relay.proc->running());
  Browser right(base + "right-password", 60, {"--ignore-cert"});
  EXPECT_TRUE(right.wait_until([](const nlohmann::json& s) { return frames(s) >= 10 && s.value("width", 0) == 320; },
                               60s))
      << right.process().out().substr(0, 3000) << "\n" << relay.proc->err().substr(0, 3000);
}

}  // namespace
}  // namespace veter::test
