// Test helpers: start real binaries, capture their output, stop them, find free ports.
// Every wait is bounded; a Process still running when destroyed is killed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace veter::test {

class Process {
 public:
  /// Start `argv[0]` with arguments; stdout and stderr go to a temp file each.
  /// `env` entries ("K=V") are added to the inherited environment.
  explicit Process(std::vector<std::string> argv, std::vector<std::string> env = {});
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  Process(Process&& o) noexcept;
  Process& operator=(Process&&) = delete;
  ~Process();

  [[nodiscard]] pid_t pid() const { return pid_; }
  /// Send a signal (no-op once exited).
  void signal(int sig) const;
  /// Wait for exit up to `timeout`; returns the exit status (128+signal when killed), or nullopt.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  /// SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit status.
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000));
  [[nodiscard]] bool running();
  [[nodiscard]] std::string out() const;
  [[nodiscard]] std::string err() const;
  /// Wait until stderr+stdout contain `text` (bounded).
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout) const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string out_path_;
  std::string err_path_;
};

/// Run to completion (bounded); returns {exit status, stdout, stderr}.
struct RunResult {
  int status = -1;
  std::string out;
  std::string err;
};
RunResult run_command(std::vector<std::string> argv, std::chrono::milliseconds timeout = std::chrono::seconds(30),
                      std::vector<std::string> env = {});

/// The whole content of a text file ("" when it cannot be read).
std::string read_text_file(const std::string& path);

/// A free port on 127.0.0.1 (TCP or UDP). With `pair`, the port is even and port+1 is free too.
int free_tcp_port();
int free_udp_port(bool pair = false);

/// A temporary directory removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

}  // namespace veter::test
