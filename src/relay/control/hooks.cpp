#include "veter/relay/control/hooks.hpp"

#include <signal.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>

#include "veter/common/gst_ptr.hpp"

namespace veter::relay {

struct HookRunner::Hook {
  HookRunner* runner = nullptr;
  std::string label;
  pid_t pid = 0;
  common::GObjectPtr<GSubprocess> proc;
  common::GObjectPtr<GDataInputStream> out;
  common::GObjectPtr<GCancellable> cancel;
  bool exited = false;
  bool output_done = false;
};

namespace {

/// Runs in the forked child before exec: a process group of its own, so that
/// terminating a hook also reaches the commands its shell started.
void child_setup(gpointer /*unused*/) { setpgid(0, 0); }

std::string url_host(const common::Endpoint& listen) {
  const std::string& h = listen.host;
  if (h.empty() || h == "0.0.0.0" || h == "::") {
    return "127.0.0.1";
  }
  if (h.find(':') != std::string::npos) {
    return "[" + h + "]";
  }
  return h;
}

std::string describe_status(GSubprocess* proc) {
  if (g_subprocess_get_if_exited(proc) != FALSE) {
    return "exit status " + std::to_string(g_subprocess_get_exit_status(proc));
  }
  if (g_subprocess_get_if_signaled(proc) != FALSE) {
    const int sig = g_subprocess_get_term_sig(proc);
    return "killed by signal " + std::to_string(sig) + " (" + g_strsignal(sig) + ")";
  }
  return "unknown status";
}

}  // namespace

HookEnv hook_environment(const RtspConfig& rtsp, const PathSnapshot& path, bool ready) {
  std::string source;
  if (path.source_id) {
    source = *path.source_id;
  } else if (!path.ingest.publisher_addr.empty()) {
    source = path.ingest.publisher_addr + ":" + std::to_string(path.ingest.publisher_port);
  }
  const std::string port = std::to_string(rtsp.listen.port);
  return HookEnv{
      {"VETER_PATH", path.name},
      {"VETER_RTSP_URL", "rtsp://" + url_host(rtsp.listen) + ":" + port + "/" + path.name},
      {"VETER_SOURCE_ADDR", source},
      {"VETER_EVENT", ready ? "ready" : "not_ready"},
      {"MTX_PATH", path.name},
      {"RTSP_PORT", port},
  };
}

HookRunner::HookRunner(const RelayConfig& cfg) : rtsp_(cfg.rtsp), paths_(cfg.paths) {}

HookRunner::~HookRunner() { terminate_all(); }

void HookRunner::on_ready_changed(const PathSnapshot& path, bool ready) {
  const auto it = std::find_if(paths_.begin(), paths_.end(),
                               [&](const PathConfig& p) { return p.name == path.conf_name || p.name == path.name; });
  if (it == paths_.end()) {
    return;
  }
  const std::string& command = ready ? it->run_on_ready : it->run_on_not_ready;
  if (command.empty()) {
    return;
  }
  run(path.name + (ready ? " run_on_ready" : " run_on_not_ready"), command, hook_environment(rtsp_, path, ready));
}

bool HookRunner::run(const std::string& label, const std::string& command, const HookEnv& env) {
  common::GObjectPtr<GSubprocessLauncher> launcher(
      g_subprocess_launcher_new(static_cast<GSubprocessFlags>(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                              G_SUBPROCESS_FLAGS_STDERR_MERGE)));
  for (const auto& [key, value] : env) {
    g_subprocess_launcher_setenv(launcher.get(), key.c_str(), value.c_str(), TRUE);
  }
  g_subprocess_launcher_set_child_setup(launcher.get(), &child_setup, nullptr, nullptr);
  const gchar* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  GError* raw = nullptr;
  common::GObjectPtr<GSubprocess> proc(g_subprocess_launcher_spawnv(launcher.get(), argv, &raw));
  common::GErrorPtr err(raw);
  if (!proc) {
    spdlog::error("hook {}: cannot start '{}': {}", label, command, err ? err->message : "unknown error");
    return false;
  }
  auto hook = std::make_unique<Hook>();
  hook->runner = this;
  hook->label = label;
  const gchar* ident = g_subprocess_get_identifier(proc.get());
  hook->pid = ident != nullptr ? static_cast<pid_t>(std::stol(ident)) : 0;
  hook->out.reset(g_data_input_stream_new(g_subprocess_get_stdout_pipe(proc.get())));
  hook->cancel.reset(g_cancellable_new());
  hook->proc = std::move(proc);
  spdlog::info("hook {} started (pid {}): {}", label, hook->pid, command);
  Hook& h = *hook;
  hooks_.push_back(std::move(hook));
  g_subprocess_wait_async(h.proc.get(), nullptr, &HookRunner::on_exit, &h);
  read_next(h);
  return true;
}

void HookRunner::read_next(Hook& hook) {
  g_data_input_stream_read_line_async(hook.out.get(), G_PRIORITY_DEFAULT, hook.cancel.get(), &HookRunner::on_line,
                                      &hook);
}

void HookRunner::on_line(GObject* source, GAsyncResult* res, gpointer data) noexcept {
  auto& hook = *static_cast<Hook*>(data);
  GError* raw = nullptr;
  gsize len = 0;
  common::GCharPtr line(g_data_input_stream_read_line_finish(G_DATA_INPUT_STREAM(source), res, &len, &raw));
  common::GErrorPtr err(raw);
  if (line) {
    std::string_view text(line.get(), len);
    if (!text.empty() && text.back() == '\r') {
      text.remove_suffix(1);
    }
    spdlog::info("hook {} [{}]: {}", hook.label, hook.pid, text);
    hook.runner->read_next(hook);
    return;
  }
  if (err && !g_error_matches(err.get(), G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    spdlog::warn("hook {} [{}]: reading output failed: {}", hook.label, hook.pid, err->message);
  }
  hook.output_done = true;
  hook.runner->maybe_finish(hook);
}

void HookRunner::on_exit(GObject* source, GAsyncResult* res, gpointer data) noexcept {
  auto& hook = *static_cast<Hook*>(data);
  GError* raw = nullptr;
  g_subprocess_wait_finish(G_SUBPROCESS(source), res, &raw);
  common::GErrorPtr err(raw);
  hook.exited = true;
  GSubprocess* proc = G_SUBPROCESS(source);
  if (g_subprocess_get_successful(proc) != FALSE) {
    spdlog::info("hook {} [{}] finished", hook.label, hook.pid);
  } else {
    spdlog::warn("hook {} [{}] failed: {}", hook.label, hook.pid, describe_status(proc));
  }
  hook.runner->maybe_finish(hook);
}

void HookRunner::maybe_finish(Hook& hook) {
  if (!hook.exited || !hook.output_done) {
    return;
  }
  hooks_.remove_if([&](const std::unique_ptr<Hook>& h) { return h.get() == &hook; });
}

void HookRunner::terminate_all(std::chrono::milliseconds grace) {
  if (hooks_.empty()) {
    return;
  }
  using Clock = std::chrono::steady_clock;
  auto signal_all = [this](int sig) {
    for (const auto& h : hooks_) {
      if (h->pid > 0) {
        kill(-h->pid, sig);  // the hook's whole process group (it may have exited, its children not)
      }
    }
  };
  // Iterate the default context until every hook is reaped or the deadline passes.
  auto drain_until = [this](Clock::time_point deadline) {
    while (!hooks_.empty() && Clock::now() < deadline) {
      if (g_main_context_iteration(nullptr, FALSE) == FALSE) {
        g_usleep(5000);
      }
    }
  };
  spdlog::info("terminating {} running hook(s)", hooks_.size());
  signal_all(SIGTERM);
  drain_until(Clock::now() + grace);
  if (!hooks_.empty()) {
    for (const auto& h : hooks_) {
      spdlog::warn("hook {} [{}] still running after {} ms: killing it", h->label, h->pid, grace.count());
    }
    signal_all(SIGKILL);
  }
  // Whatever is left (e.g. output still held open by an orphan) stops reading now.
  for (const auto& h : hooks_) {
    g_cancellable_cancel(h->cancel.get());
  }
  drain_until(Clock::now() + std::chrono::milliseconds(1000));
  if (!hooks_.empty()) {
    // Their async callbacks may still fire: keep the records alive rather than free them under GLib.
    spdlog::error("{} hook(s) could not be reaped; abandoning them", hooks_.size());
    for (auto& h : hooks_) {
      (void)h.release();
    }
    hooks_.clear();
  }
}

}  // namespace veter::relay
