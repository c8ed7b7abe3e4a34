// Bearer-token check for the API and metrics listeners.
#pragma once

#include <string>
#include <string_view>

namespace veter::relay {

/// True when `token` is empty (no token configured) or `authorization` is
/// "Bearer <token>" (scheme case-insensitive); the token is compared in constant time.
bool bearer_token_ok(std::string_view authorization, const std::string& token);

}  // namespace veter::relay
