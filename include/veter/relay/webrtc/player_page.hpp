// The player page and its script (src/relay/webrtc/www/), compiled into the
// relay at build time so the page always matches the binary serving it.
#pragma once

#include <string_view>

namespace veter::relay {

std::string_view player_html();
std::string_view player_js();

}  // namespace veter::relay
