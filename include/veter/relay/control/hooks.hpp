// run_on_ready / run_on_not_ready: per-path shell commands started on ready
// transitions. Each runs as `/bin/sh -c COMMAND` (GSubprocess, own process
// group) without blocking the main loop; its stdout/stderr lines go to the log,
// a non-zero exit is logged with its status, and hooks still running when the
// runner is destroyed are terminated (SIGTERM, then SIGKILL) within ~2 s.
#pragma once

#include <gio/gio.h>

#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "veter/relay/conf/relay_config.hpp"
#include "veter/relay/relay_model.hpp"

namespace veter::relay {

using HookEnv = std::vector<std::pair<std::string, std::string>>;

/// The environment a hook sees for `path` (VETER_PATH, VETER_RTSP_URL,
/// VETER_SOURCE_ADDR, VETER_EVENT, MTX_PATH, RTSP_PORT).
HookEnv hook_environment(const RtspConfig& rtsp, const PathSnapshot& path, bool ready);

class HookRunner {
 public:
  explicit HookRunner(const RelayConfig& cfg);
  HookRunner(const HookRunner&) = delete;
  HookRunner& operator=(const HookRunner&) = delete;
  /// Terminates hooks that are still running (see terminate_all).
  ~HookRunner();

  /// Call on every ready transition of a path (on the main loop).
  void on_ready_changed(const PathSnapshot& path, bool ready);

  /// Start `/bin/sh -c command` with `env` added to the relay's environment.
  /// `label` names it in log lines. Returns false (logged) if it could not start.
  bool run(const std::string& label, const std::string& command, const HookEnv& env);

  /// Hooks started and not yet finished (process exited and output drained).
  [[nodiscard]] std::size_t running() const { return hooks_.size(); }

  /// SIGTERM every running hook's process group, SIGKILL what is left after
  /// `grace`, and wait (iterating the default main context) until they are
  /// reaped; bounded by grace + 1 s.
  void terminate_all(std::chrono::milliseconds grace = std::chrono::milliseconds(1000));

 private:
  struct Hook;
  static void on_line(GObject* source, GAsyncResult* res, gpointer data) noexcept;
  static void on_exit(GObject* source, GAsyncResult* res, gpointer data) noexcept;
  void read_next(Hook& hook);
  void maybe_finish(Hook& hook);

  RtspConfig rtsp_;
  std::vector<PathConfig> paths_;
  std::list<std::unique_ptr<Hook>> hooks_;
};

}  // namespace veter::relay
