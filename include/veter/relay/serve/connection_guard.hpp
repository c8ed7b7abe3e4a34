// Connection counting for the RTSP server's connection guard (pure, unit-tested).
#pragma once

#include <map>
#include <string>

namespace veter::relay {

/// Total and per-address connection counting (0 = unlimited).
class ConnectionLimiter {
 public:
  ConnectionLimiter(int max_total, int max_per_address) : max_total_(max_total), max_per_(max_per_address) {}
  enum class Verdict { admitted, too_many_total, too_many_from_address };
  Verdict admit(const std::string& addr);
  void release(const std::string& addr);
  [[nodiscard]] int total() const { return total_; }

 private:
  int max_total_;
  int max_per_;
  int total_ = 0;
  std::map<std::string, int> per_address_;
};

}  // namespace veter::relay
