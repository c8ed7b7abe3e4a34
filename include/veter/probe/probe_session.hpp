// One probe run: an RTSP (rtspsrc, latency 0) or direct RTP client that depayloads
// H.264, reads the capture-time SEI of every access unit and optionally decodes.
#pragma once

#include <functional>
#include <memory>

#include "veter/probe/probe_options.hpp"
#include "veter/probe/probe_report.hpp"

namespace veter::probe {

class ProbeSession {
 public:
  explicit ProbeSession(ProbeOptions opts);
  ~ProbeSession();
  ProbeSession(const ProbeSession&) = delete;
  ProbeSession& operator=(const ProbeSession&) = delete;

  /// Run on the default main context until the duration is over, an error, EOS or
  /// stop(). `on_status` is called on the main loop about every `status_period_ms`.
  ProbeReport run(const std::function<void(const ProbeReport&)>& on_status, int status_period_ms);
  /// Ask a running session to finish (from the main loop, e.g. on SIGINT).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// True when `host` names this machine (loopback or one of its interface addresses).
bool host_is_local(const std::string& host);

}  // namespace veter::probe
