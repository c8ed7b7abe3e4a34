#include "veter/relay/control/process_stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace veter::relay {

namespace {

/// Boot time (seconds since the epoch) from /proc/stat's btime line.
std::optional<double> boot_time() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double t = 0;
      if (in >> t) {
        return t;
      }
      return std::nullopt;
    }
    in.ignore(1 << 20, '\n');
  }
  return std::nullopt;
}

std::uint64_t count_fds() {
  std::error_code ec;
  std::uint64_t n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) {
    ++n;
  }
  // The directory iterator holds one descriptor open while counting.
  return n > 0 ? n - 1 : 0;
}

}  // namespace

std::optional<ProcessStats> read_process_stats() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  if (!std::getline(in, line)) {
    return std::nullopt;
  }
  // The command name (field 2) is in parentheses and may contain spaces: parse after the last ')'.
  const auto close = line.rfind(')');
  if (close == std::string::npos) {
    return std::nullopt;
  }
  std::istringstream rest(line.substr(close + 1));
  std::vector<std::string> fields;  // fields[0] is field 3 (state)
  for (std::string f; rest >> f;) {
    fields.push_back(f);
  }
  if (fields.size() < 22) {
    return std::nullopt;
  }
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const long page = sysconf(_SC_PAGESIZE);
  ProcessStats s;
  try {
    s.cpu_seconds = (std::stod(fields[11]) + std::stod(fields[12])) / ticks;  // utime, stime (fields 14, 15)
    const double start_ticks = std::stod(fields[19]);                         // starttime (field 22)
    s.virtual_bytes = std::stoull(fields[20]);                                // vsize (field 23)
    s.resident_bytes = std::stoull(fields[21]) * static_cast<std::uint64_t>(page);  // rss pages (field 24)
    if (auto bt = boot_time()) {
      s.start_time_seconds = *bt + start_ticks / ticks;
    }
  } catch (const std::exception&) {
    return std::nullopt;
  }
  s.open_fds = count_fds();
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    s.max_fds = lim.rlim_cur == RLIM_INFINITY ? 0 : static_cast<std::uint64_t>(lim.rlim_cur);
  }
  return s;
}

}  // namespace veter::relay
