// Plain-socket HTTP for e2e tests: one GET per connection to a loopback port, and
// the wait for a relay path to be ready, asked through the relay's control API.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace veter::test {

/// Raw TCP to 127.0.0.1:`port`: send `bytes`, read until the peer closes or `timeout`; returns what was read.
std::string raw_exchange(int port, const std::string& bytes, std::chrono::milliseconds timeout);

struct HttpReply {
  int status = 0;  // 0: no answer
  std::string body;
};
/// GET `path` (Connection: close), bounded by 10 s.
HttpReply http_get(int port, const std::string& path, const std::vector<std::string>& headers = {});

/// Bounded wait until the relay's API (`api_port`, optional bearer `token`) says that path
/// `name` is ready (GET /v3/paths/get/NAME answers "ready":true).
bool wait_path_ready(int api_port, const std::string& name, std::chrono::milliseconds timeout,
                     const std::string& token = "");

}  // namespace veter::test
