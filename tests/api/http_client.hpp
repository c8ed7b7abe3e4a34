// Test HTTP client: libsoup-3 SoupSession, run asynchronously on the default
// main context (so it also works against a server living on that context).
#pragma once

#include <chrono>
#include <string>

namespace veter::relay::test {

struct HttpResult {
  unsigned status = 0;  // 0 = transport error (see error)
  std::string body;
  std::string content_type;
  std::string allow;  // Allow header
  std::string error;
};

/// One request, bounded by `timeout` (the default context is iterated meanwhile).
HttpResult http_request(const std::string& method, const std::string& url,
                        std::chrono::milliseconds timeout = std::chrono::seconds(10));
inline HttpResult http_get(const std::string& url) { return http_request("GET", url); }

/// Iterate the default main context for `d`.
void pump_main_context(std::chrono::milliseconds d);

}  // namespace veter::relay::test
