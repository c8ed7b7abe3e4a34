#include "veter/common/main_loop.hpp"

#include <glib-unix.h>
#include <spdlog/spdlog.h>

#include <csignal>

namespace veter::common {

MainLoop::MainLoop() : loop_(g_main_loop_new(nullptr, FALSE)) {
  sigint_.reset(g_unix_signal_add(SIGINT, &MainLoop::on_signal, &ctx_int_));
  sigterm_.reset(g_unix_signal_add(SIGTERM, &MainLoop::on_signal, &ctx_term_));
}

MainLoop::~MainLoop() = default;

gboolean MainLoop::on_signal(gpointer data) {
  auto* ctx = static_cast<SignalCtx*>(data);
  ctx->self->handle_signal(ctx->signum);
  return G_SOURCE_CONTINUE;
}

void MainLoop::handle_signal(int signum) {
  ++signals_seen_;
  last_signal_ = signum;
  if (signals_seen_ > 1 || !shutdown_) {
    if (signals_seen_ > 1) {
      spdlog::warn("second signal {}: exiting now", signum);
    } else {
      spdlog::info("signal {}: shutting down", signum);
    }
    quit(0);
    return;
  }
  spdlog::info("signal {}: shutting down", signum);
  shutdown_(signum);
}

int MainLoop::run() {
  g_main_loop_run(loop_.get());
  return exit_code_;
}

void MainLoop::quit(int exit_code) {
  exit_code_ = exit_code;
  g_main_loop_quit(loop_.get());
}

}  // namespace veter::common
