// Playback of recordings over HTTP, in the shape of MediaMTX's playback server:
//   GET /list?path=NAME                       -> [{"start": RFC 3339, "duration": seconds, "url": "/get?..."}]
//   GET /get?path=NAME&start=RFC3339&duration=SECONDS[&format=fmp4] -> video/mp4 of that span
// /list gives one entry per run of back-to-back segments (no gap over 1 s, same picture size).
// /get concatenates the fragments that overlap the span, across segment boundaries, starting at
// the keyframe at or before `start` (a decoder needs it), into one fragmented MP4; no
// re-encoding. Bad parameters get 400, an unknown or unrecorded path or an empty span 404.
// Pure request -> response over the recording directories; HttpServer carries it on the main
// loop (its own listener, `playback:` in the configuration, token like the API).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "veter/relay/conf/relay_config.hpp"
#include "veter/relay/control/http_server.hpp"

namespace veter::relay {

/// RFC 3339 ("2026-12-01T21:40:00Z", "...T21:40:00.5+01:00"); nullopt when it is not one.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(const std::string& text);

class PlaybackApi {
 public:
  explicit PlaybackApi(const RelayConfig& cfg);
  /// Route one request. Never throws for bad input.
  [[nodiscard]] HttpResponse handle(const HttpRequest& req) const;

 private:
  [[nodiscard]] HttpResponse list(const std::string& dir, const std::string& path) const;
  [[nodiscard]] HttpResponse get(const std::string& dir, std::chrono::system_clock::time_point start,
                                 std::chrono::microseconds duration) const;
  std::map<std::string, std::string> dirs_;  // recorded path -> its segment directory
};

/// The playback listener from `cfg.playback`, or nullptr when disabled. Throws
/// common::UnavailableError when it cannot bind.
std::unique_ptr<HttpServer> start_playback_server(const RelayConfig& cfg);

}  // namespace veter::relay
