// The relay process's own resource usage, read from /proc/self (Linux).
#pragma once

#include <cstdint>
#include <optional>

namespace veter::relay {

struct ProcessStats {
  double cpu_seconds = 0;              // user + system CPU time
  std::uint64_t resident_bytes = 0;    // RSS
  std::uint64_t virtual_bytes = 0;     // VSZ
  std::uint64_t open_fds = 0;          // entries in /proc/self/fd
  std::uint64_t max_fds = 0;           // RLIMIT_NOFILE soft limit
  double start_time_seconds = 0;       // since the Unix epoch
  bool operator==(const ProcessStats&) const = default;
};

/// Current values, or nullopt when /proc is unreadable.
std::optional<ProcessStats> read_process_stats();

}  // namespace veter::relay
