#include "veter/relay/control/http_api.hpp"

#include <algorithm>
#include <functional>
#include <ctime>
#include <tuple>
#include <optional>
#include <string_view>

#include <fmt/format.h>

#include "veter/common/values.hpp"

namespace veter::relay {

namespace {

using Json = nlohmann::ordered_json;

HttpResponse json_response(unsigned status, const Json& body) { return HttpResponse{status, "application/json", body.dump(), {}}; }

HttpResponse error_response(unsigned status, const std::string& message) {
  return HttpResponse{status, "application/json", api_error_body(message), {}};
}

HttpResponse method_not_allowed(const char* allow) {
  HttpResponse r = error_response(405, "method not allowed");
  r.headers.emplace_back("Allow", allow);
  return r;
}

/// MediaMTX pagination: page (from 0) and itemsPerPage (default 100).
struct Page {
  long long page = 0;
  long long items_per_page = 100;
};

/// nullopt + error message when a parameter is not a valid number.
std::optional<Page> parse_page(const HttpRequest& req, std::string& error) {
  Page p;
  try {
    if (auto it = req.query.find("page"); it != req.query.end()) {
      p.page = common::parse_int(it->second, 0, 1'000'000'000);
    }
  } catch (const common::ValueError&) {
    error = "invalid page";
    return std::nullopt;
  }
  try {
    if (auto it = req.query.find("itemsPerPage"); it != req.query.end()) {
      p.items_per_page = common::parse_int(it->second, 1, 1'000'000'000);
    }
  } catch (const common::ValueError&) {
    error = "invalid itemsPerPage";
    return std::nullopt;
  }
  return p;
}

/// {"itemCount":N,"pageCount":P,"items":[...]} for the requested page.
template <typename T, typename ToJson>
Json paginate(const std::vector<T>& all, const Page& page, ToJson to_json) {
  const auto count = static_cast<long long>(all.size());
  const long long page_count = (count + page.items_per_page - 1) / page.items_per_page;
  const long long first = std::min(count, page.page * page.items_per_page);
  const long long last = std::min(count, first + page.items_per_page);
  Json items = Json::array();
  for (long long i = first; i < last; ++i) {
    items.push_back(to_json(all[static_cast<std::size_t>(i)]));
  }
  return Json{{"itemCount", count}, {"pageCount", page_count}, {"items", std::move(items)}};
}

std::optional<std::string_view> strip_prefix(std::string_view s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) == prefix) {
    return s.substr(prefix.size());
  }
  return std::nullopt;
}

template <typename T>
Json nullable(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

Json repair_json(const RepairSnapshot& r) {
  if (!r.enabled) {
    return Json{{"enabled", false}};
  }
  return Json{
      {"enabled", true},
      {"rttMs", nullable(r.rtt_ms)},
      {"repairWindowMs", r.repair_window_ms},
      {"repairWindowAuto", r.repair_window_auto},
      {"nacksSent", r.nacks_sent},
      {"packetsNacked", r.nacked_packets},
      {"retransmissionsReceived", r.retransmissions_received},
      {"packetsRepaired", r.repaired},
      {"packetsRepairedTooLate", r.repaired_too_late},
      {"packetsUnrecoverable", r.unrecoverable},
      {"framesDropped", r.frames_dropped},
  };
}

Json ingest_json(const IngestSnapshot& in) {
  Json dropped = Json::object();
  for (const auto& [reason, n] : in.dropped) {
    dropped[reason] = n;
  }
  return Json{
      {"publisherAddr", in.publisher_addr.empty() ? Json(nullptr) : Json(in.publisher_addr)},
      {"publisherPort", in.publisher_addr.empty() ? Json(nullptr) : Json(in.publisher_port)},
      {"packetsReceived", in.packets},
      {"bytesReceived", in.bytes},
      {"packetsLost", in.lost},
      {"packetsReordered", in.reordered},
      {"publisherTakeovers", in.takeovers},
      {"dropped", std::move(dropped)},
      {"jitterMs", in.jitter_ms},
      {"fps", in.fps},
      {"bitrateBps", in.bitrate_bps},
      {"lastPacketAgeMs", nullable(in.last_packet_age_ms)},
      {"keyframeIntervalS", nullable(in.keyframe_interval_s)},
      {"repair", repair_json(in.repair)},
  };
}

std::string upper(std::string s) {
  for (auto& c : s) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
  }
  return s;
}

HttpResponse list_paths(RelayModel& model, const HttpRequest& req) {
  std::string error;
  auto page = parse_page(req, error);
  if (!page) {
    return error_response(400, error);
  }
  auto paths = model.paths();
  std::sort(paths.begin(), paths.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return json_response(200, paginate(paths, *page, path_json));
}

HttpResponse get_path(RelayModel& model, std::string_view name) {
  if (name.empty()) {
    return error_response(400, "invalid path name");
  }
  for (const auto& p : model.paths()) {
    if (p.name == name) {
      return json_response(200, path_json(p));
    }
  }
  return error_response(404, "path not found");
}

// RTSP and WebRTC sessions share the list/get/kick shape (MediaMTX's).
template <typename Snapshot, typename JsonFn>
HttpResponse list_sessions(std::vector<Snapshot> sessions, const HttpRequest& req, JsonFn to_json) {
  std::string error;
  auto page = parse_page(req, error);
  if (!page) {
    return error_response(400, error);
  }
  std::sort(sessions.begin(), sessions.end(),
            [](const auto& a, const auto& b) { return std::tie(a.created, a.id) < std::tie(b.created, b.id); });
  return json_response(200, paginate(sessions, *page, to_json));
}

template <typename Snapshot, typename JsonFn>
HttpResponse get_session(const std::vector<Snapshot>& sessions, std::string_view id, JsonFn to_json) {
  if (id.empty()) {
    return error_response(400, "invalid session id");
  }
  for (const auto& s : sessions) {
    if (s.id == id) {
      return json_response(200, to_json(s));
    }
  }
  return error_response(404, "session not found");
}

HttpResponse kick_session(std::string_view id, const std::function<bool(const std::string&)>& kick) {
  if (id.empty()) {
    return error_response(400, "invalid session id");
  }
  if (!kick(std::string(id))) {
    return error_response(404, "session not found");
  }
  return HttpResponse{200, "application/json", "", {}};
}

}  // namespace

std::string format_rfc3339(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto us = duration_cast<microseconds>(t.time_since_epoch()).count();
  auto secs = static_cast<std::time_t>(us / 1'000'000);
  auto frac = us % 1'000'000;
  if (frac < 0) {
    frac += 1'000'000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

std::string api_error_body(const std::string& message) {
  return Json{{"status", "error"}, {"error", message}}.dump();
}

nlohmann::ordered_json path_json(const PathSnapshot& p) {
  Json readers = Json::array();
  for (const auto& id : p.reader_ids) {
    readers.push_back(Json{{"type", "rtspSession"}, {"id", id}});
  }
  Json tracks2 = Json::array();
  if (p.track) {
    tracks2.push_back(Json{{"codec", p.track->codec},
                           {"width", p.track->width},
                           {"height", p.track->height},
                           {"profile", p.track->profile},
                           {"level", p.track->level}});
  }
  return Json{
      {"name", p.name},
      {"confName", p.conf_name},
      {"source", p.source_id ? Json{{"type", "rtpSource"}, {"id", *p.source_id}} : Json(nullptr)},
      {"ready", p.ready},
      {"readyTime", p.ready_time ? Json(format_rfc3339(*p.ready_time)) : Json(nullptr)},
      {"tracks", p.tracks},
      {"bytesReceived", p.bytes_received},
      {"bytesSent", p.bytes_sent},
      {"readers", std::move(readers)},
      {"tracks2", std::move(tracks2)},
      {"ingest", ingest_json(p.ingest)},
      {"record", p.record ? Json{{"recording", p.record->recording},
                                 {"error", p.record->error.empty() ? Json(nullptr) : Json(p.record->error)},
                                 {"directory", p.record->directory},
                                 {"currentFile", p.record->current_file.empty() ? Json(nullptr)
                                                                                : Json(p.record->current_file)},
                                 {"segments", p.record->segments},
                                 {"dropped", p.record->dropped},
                                 {"deleted", p.record->deleted}}
                          : Json(nullptr)},
  };
}

nlohmann::ordered_json session_json(const SessionSnapshot& s) {
  return Json{
      {"id", s.id},
      {"created", format_rfc3339(s.created)},
      {"remoteAddr", s.remote_addr},
      {"state", s.state},
      {"path", s.path},
      {"query", ""},
      {"transport", s.transport.empty() ? Json(nullptr) : Json(upper(s.transport))},
      {"bytesReceived", 0},
      {"bytesSent", s.bytes_sent},
      // veter: bounded viewer delay
      {"framesSkipped", s.frames_skipped},
      {"catchUps", s.catch_ups},
      {"delayMs", s.delay_ms},
  };
}

nlohmann::ordered_json webrtc_session_json(const WebrtcSessionSnapshot& s) {
  return Json{
      {"id", s.id},
      {"created", format_rfc3339(s.created)},
      {"remoteAddr", s.remote_addr},
      {"peerConnectionEstablished", s.state == "read"},
      {"state", s.state},
      {"path", s.path},
      {"query", ""},
      {"user", s.user},
      {"bytesReceived", 0},
      {"bytesSent", s.bytes_sent},
      {"rtpPacketsSent", s.rtp_packets_sent},
  };
}

HttpResponse ControlApi::handle(const HttpRequest& req) const {
  const std::string_view path = req.path;
  const bool get = req.method == "GET";
  const bool post = req.method == "POST";
  if (path == "/v3/paths/list") {
    return get ? list_paths(model_, req) : method_not_allowed("GET");
  }
  if (auto name = strip_prefix(path, "/v3/paths/get/")) {
    return get ? get_path(model_, *name) : method_not_allowed("GET");
  }
  if (path == "/v3/rtspsessions/list") {
    return get ? list_sessions(model_.sessions(), req, session_json) : method_not_allowed("GET");
  }
  if (auto id = strip_prefix(path, "/v3/rtspsessions/get/")) {
    return get ? get_session(model_.sessions(), *id, session_json) : method_not_allowed("GET");
  }
  if (auto id = strip_prefix(path, "/v3/rtspsessions/kick/")) {
    return post ? kick_session(*id, [this](const std::string& i) { return model_.kick(i); }) : method_not_allowed("POST");
  }
  if (path == "/v3/webrtcsessions/list") {
    return get ? list_sessions(model_.webrtc_sessions(), req, webrtc_session_json) : method_not_allowed("GET");
  }
  if (auto id = strip_prefix(path, "/v3/webrtcsessions/get/")) {
    return get ? get_session(model_.webrtc_sessions(), *id, webrtc_session_json) : method_not_allowed("GET");
  }
  if (auto id = strip_prefix(path, "/v3/webrtcsessions/kick/")) {
    return post ? kick_session(*id, [this](const std::string& i) { return model_.kick_webrtc(i); })
                : method_not_allowed("POST");
  }
  return error_response(404, "not found");
}

std::unique_ptr<HttpServer> start_api_server(const HttpListenerConfig& cfg, RelayModel& model) {
  if (!cfg.enabled) {
    return nullptr;
  }
  auto api = std::make_shared<ControlApi>(model);
  return std::make_unique<HttpServer>("api", cfg.listen, [api](const HttpRequest& req) { return api->handle(req); });
}

}  // namespace veter::relay
