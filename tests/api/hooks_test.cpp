// Hooks: real /bin/sh processes, environment, output, exit status, termination.
#include <gtest/gtest.h>

#include <signal.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "fixed_model.hpp"
#include "http_client.hpp"
#include "process.hpp"
#include "veter/relay/control/hooks.hpp"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

namespace veter::relay {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string slurp(const std::string& path) { return veter::test::read_text_file(path); }

/// Iterate the main context until `pred` or `timeout`.
template <typename Pred>
bool pump_until(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() > deadline) {
      return false;
    }
    test::pump_main_context(10ms);
  }
  return true;
}

/// True when `pid` no longer exists or is a zombie (exited, not yet reaped by init).
bool gone(pid_t pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) {
    return true;
  }
  const std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  return close == std::string::npos || (close + 2 < stat.size() && stat[close + 2] == 'Z');
}

RelayConfig config_with_hooks(const std::string& on_ready, const std::string& on_not_ready) {
  RelayConfig cfg;
  cfg.rtsp.listen = {"", 8555};
  cfg.paths[0].run_on_ready = on_ready;
  cfg.paths[0].run_on_not_ready = on_not_ready;
  return cfg;
}

TEST(HookEnv, Variables) {
  RtspConfig rtsp;
  rtsp.listen = {"", 8555};
  const HookEnv env = hook_environment(rtsp, test::ready_path(), true);
  const HookEnv expected = {{"VETER_PATH", "camera"},
                            {"VETER_RTSP_URL", "rtsp://127.0.0.1:8555/camera"},
                            {"VETER_SOURCE_ADDR", "203.0.113.7:5004"},
                            {"VETER_EVENT", "ready"},
                            {"MTX_PATH", "camera"},
                            {"RTSP_PORT", "8555"}};
  EXPECT_EQ(env, expected);
  rtsp.listen = {"::1", 554};
  const HookEnv v6 = hook_environment(rtsp, test::fresh_path(), false);
  EXPECT_EQ(v6[1].second, "rtsp://[::1]:554/camera");
  EXPECT_EQ(v6[2].second, "");
  EXPECT_EQ(v6[3].second, "not_ready");
}

TEST(Hooks, ReadyAndNotReadyRunWithEnvironment) {
  veter::test::TempDir dir;
  const std::string ready_file = dir.path() + "/ready.env";
  const std::string not_ready_file = dir.path() + "/not_ready.env";
  HookRunner hooks(config_with_hooks("env > '" + ready_file + "'", "env > '" + not_ready_file + "'"));

  hooks.on_ready_changed(test::ready_path(), true);
  ASSERT_TRUE(pump_until([&] { return hooks.running() == 0; }, 10s));
  const std::string env = slurp(ready_file);
  EXPECT_NE(env.find("VETER_PATH=camera\n"), std::string::npos) << env;
  EXPECT_NE(env.find("VETER_RTSP_URL=rtsp://127.0.0.1:8555/camera\n"), std::string::npos) << env;
  EXPECT_NE(env.find("VETER_SOURCE_ADDR=203.0.113.7:5004\n"), std::string::npos) << env;
  EXPECT_NE(env.find("MTX_PATH=camera\n"), std::string::npos) << env;
  EXPECT_NE(env.find("PATH="), std::string::npos) << "the relay's own environment is inherited";
  EXPECT_FALSE(std::filesystem::exists(not_ready_file));

  hooks.on_ready_changed(test::stale_path(), false);
  ASSERT_TRUE(pump_until([&] { return hooks.running() == 0; }, 10s));
  EXPECT_NE(slurp(not_ready_file).find("VETER_EVENT=not_ready\n"), std::string::npos);

  // Paths without a hook, and unknown paths, start nothing.
  hooks.on_ready_changed(test::fresh_path("other"), true);
  EXPECT_EQ(hooks.running(), 0U);
}

TEST(Hooks, DoNotBlockTheCaller) {
  HookRunner hooks(config_with_hooks("sleep 3", ""));
  const auto t0 = Clock::now();
  hooks.on_ready_changed(test::ready_path(), true);
  EXPECT_LT(Clock::now() - t0, 2s);  // returns while the hook still runs (generous bound, hook takes 3 s)
  EXPECT_EQ(hooks.running(), 1U);
}

/// Routes the default spdlog logger into a string for the test's lifetime.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    sink->set_pattern("%l %v");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  [[nodiscard]] std::string text() const { return stream_.str(); }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream stream_;
};

TEST(Hooks, OutputLinesAndFailuresGoToTheLog) {
  LogCapture log;
  HookRunner hooks(config_with_hooks("", ""));
  ASSERT_TRUE(hooks.run("t1", "for i in $(seq 1 500); do echo out $i; echo err $i >&2; done; exit 3", {}));
  ASSERT_TRUE(hooks.run("t2", "echo fine", {}));
  ASSERT_TRUE(pump_until([&] { return hooks.running() == 0; }, 20s));
  const std::string text = log.text();
  EXPECT_NE(text.find("]: out 1\n"), std::string::npos) << text.substr(0, 2000);
  EXPECT_NE(text.find("]: out 500\n"), std::string::npos);
  EXPECT_NE(text.find("]: err 500\n"), std::string::npos);
  EXPECT_NE(text.find("warning hook t1 ["), std::string::npos);
  EXPECT_NE(text.find("] failed: exit status 3\n"), std::string::npos);
  EXPECT_NE(text.find("]: fine\n"), std::string::npos);
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("hook t2 [") != std::string::npos) {
      EXPECT_EQ(line.find("failed"), std::string::npos) << line;  // exit 0 is not a failure
    }
  }
}

TEST(Hooks, TerminateAllKillsStubbornHooksAndTheirChildren) {
  veter::test::TempDir dir;
  const std::string pids = dir.path() + "/pids";
  HookRunner hooks(config_with_hooks("", ""));
  // Ignores SIGTERM and keeps a child (sleep) that holds the output pipe open.
  ASSERT_TRUE(hooks.run("stubborn",
                        "trap '' TERM; sleep 1000 & echo $$ $! > '" + pids + ".tmp'; mv '" + pids + ".tmp' '" +
                            pids + "'; while true; do sleep 1; done",
                        {}));
  ASSERT_TRUE(pump_until([&] { return std::filesystem::exists(pids); }, 10s));
  pid_t shell = 0;
  pid_t child = 0;
  std::istringstream(slurp(pids)) >> shell >> child;
  ASSERT_GT(shell, 0);
  ASSERT_GT(child, 0);
  ASSERT_FALSE(gone(shell));

  const auto t0 = Clock::now();
  hooks.terminate_all(500ms);
  const auto took = Clock::now() - t0;
  EXPECT_EQ(hooks.running(), 0U);
  EXPECT_LT(took, 2s);
  EXPECT_TRUE(pump_until([&] { return gone(shell) && gone(child); }, 5s)) << "hook processes survived";
}

TEST(Hooks, DestructorTerminatesRunningHooks) {
  veter::test::TempDir dir;
  const std::string pidfile = dir.path() + "/pid";
  pid_t pid = 0;
  {
    HookRunner hooks(config_with_hooks("echo $$ > '" + pidfile + ".tmp'; mv '" + pidfile + ".tmp' '" + pidfile +
                                           "'; exec sleep 1000",
                                       ""));
    hooks.on_ready_changed(test::ready_path(), true);
    ASSERT_TRUE(pump_until([&] { return std::filesystem::exists(pidfile); }, 10s));
    std::istringstream(slurp(pidfile)) >> pid;
    ASSERT_GT(pid, 0);
  }
  EXPECT_TRUE(pump_until([&] { return gone(pid); }, 5s));
}

}  // namespace
}  // namespace veter::relay
