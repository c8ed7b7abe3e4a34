// The daemons' single GLib main loop, with SIGINT/SIGTERM handled on it.
#pragma once

#include <glib.h>

#include <functional>

#include "veter/common/gst_ptr.hpp"

namespace veter::common {

class MainLoop {
 public:
  /// Runs on the default main context. SIGINT/SIGTERM call the shutdown
  /// handler (default: quit with exit code 0); a second signal quits at once.
  MainLoop();
  MainLoop(const MainLoop&) = delete;
  MainLoop& operator=(const MainLoop&) = delete;
  ~MainLoop();

  /// Called on the main loop for the first SIGINT/SIGTERM. It must eventually call quit().
  void on_shutdown(std::function<void(int signum)> handler) { shutdown_ = std::move(handler); }
  /// Run until quit(); returns the exit code given to quit().
  int run();
  void quit(int exit_code = 0);
  [[nodiscard]] bool stopping() const { return signals_seen_ > 0; }
  [[nodiscard]] GMainLoop* get() const { return loop_.get(); }

 private:
  static gboolean on_signal(gpointer self);
  void handle_signal(int signum);

  MainLoopPtr loop_;
  std::function<void(int)> shutdown_;
  SourceId sigint_;
  SourceId sigterm_;
  int exit_code_ = 0;
  int signals_seen_ = 0;
  int last_signal_ = 0;
  struct SignalCtx {
    MainLoop* self;
    int signum;
  } ctx_int_{this, 2}, ctx_term_{this, 15};
};

}  // namespace veter::common
