#include "veter/relay/control/api_token.hpp"

#include <strings.h>

#include "veter/relay/serve/rtsp_security.hpp"

namespace veter::relay {

bool bearer_token_ok(std::string_view authorization, const std::string& token) {
  if (token.empty()) {
    return true;
  }
  constexpr std::string_view scheme = "Bearer ";
  if (authorization.size() < scheme.size() ||
      strncasecmp(authorization.data(), scheme.data(), scheme.size()) != 0) {
    return false;
  }
  std::string_view given = authorization.substr(scheme.size());
  while (!given.empty() && given.front() == ' ') {
    given.remove_prefix(1);
  }
  while (!given.empty() && (given.back() == ' ' || given.back() == '\t')) {
    given.remove_suffix(1);
  }
  return constant_time_equal(std::string(given), token);
}

}  // namespace veter::relay
