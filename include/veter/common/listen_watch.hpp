// A main-loop watch on a listening socket whose accept can fail.
//
// When a process runs out of file descriptors (EMFILE/ENFILE), accept() fails
// while the pending connection stays in the backlog, so the listening socket
// stays readable: a plain socket source then fires again at once and spins at
// full CPU, logging each failure. ListenWatch calls `accept_one` when the socket
// is readable; when it reports a failure the watch pauses (50 ms, doubling up to
// 1 s while failures continue), logs at most one line per 10 s with the number
// of failures and the descriptors in use, and resumes by itself. Main loop only.
#pragma once

#include <gio/gio.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "veter/common/gst_ptr.hpp"

namespace veter::common {

class ListenWatch {
 public:
  /// `accept_one` accepts one connection; returns false when accepting failed.
  ListenWatch(std::string name, GSocket* listening, std::function<bool()> accept_one);
  ListenWatch(const ListenWatch&) = delete;
  ListenWatch& operator=(const ListenWatch&) = delete;
  ~ListenWatch();

  /// Accept failures so far.
  [[nodiscard]] std::uint64_t failures() const { return failures_; }
  /// True while paused after a failure.
  [[nodiscard]] bool backing_off() const { return static_cast<bool>(retry_); }

 private:
  void watch();
  static gboolean on_readable(GSocket* socket, GIOCondition condition, gpointer self);
  static gboolean on_retry(gpointer self);
  void failed();

  std::string name_;
  GObjectPtr<GSocket> socket_;
  std::function<bool()> accept_one_;
  AttachedSourcePtr source_;  // empty while backing off
  SourceId retry_;
  std::chrono::milliseconds delay_{0};
  std::uint64_t failures_ = 0;
  std::uint64_t unlogged_ = 0;
  std::chrono::steady_clock::time_point last_log_{};
};

/// Open file descriptors of this process and its RLIMIT_NOFILE soft limit ("412 of 1024").
std::string describe_fd_usage();

}  // namespace veter::common
