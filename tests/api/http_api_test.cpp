// Golden JSON for each path state, session JSON, pagination, errors and routes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fixed_model.hpp"
#include "veter/relay/control/http_api.hpp"

namespace veter::relay {
namespace {

using test::FixedModel;
using Json = nlohmann::json;

HttpResponse call(ControlApi& api, const std::string& method, const std::string& path,
                  std::map<std::string, std::string> query = {}) {
  return api.handle(HttpRequest{method, path, std::move(query)});
}

TEST(ApiJson, Rfc3339) {
  EXPECT_EQ(format_rfc3339(test::at(1764095000, 123456)), "2025-11-25T18:23:20.123456Z");
  EXPECT_EQ(format_rfc3339(test::at(0)), "1970-01-01T00:00:00.000000Z");
}

TEST(ApiJson, FreshPathGolden) {
  EXPECT_EQ(path_json(test::fresh_path()).dump(2), R"({
  "name": "camera",
  "confName": "camera",
  "source": null,
  "ready": false,
  "readyTime": null,
  "tracks": [],
  "bytesReceived": 0,
  "bytesSent": 0,
  "readers": [],
  "tracks2": [],
  "ingest": {
    "publisherAddr": null,
    "publisherPort": null,
    "packetsReceived": 0,
    "bytesReceived": 0,
    "packetsLost": 0,
    "packetsReordered": 0,
    "publisherTakeovers": 0,
    "dropped": {},
    "jitterMs": 0.0,
    "fps": 0.0,
    "bitrateBps": 0.0,
    "lastPacketAgeMs": null,
    "keyframeIntervalS": null,
    "repair": {
      "enabled": false
    }
  },
  "record": null
})");
}

TEST(ApiJson, ReadyPathGolden) {
  EXPECT_EQ(path_json(test::ready_path()).dump(2), R"({
  "name": "camera",
  "confName": "camera",
  "source": {
    "type": "rtpSource",
    "id": "203.0.113.7:5004"
  },
  "ready": true,
  "readyTime": "2025-11-25T18:23:20.123456Z",
  "tracks": [
    "H264"
  ],
  "bytesReceived": 1048576,
  "bytesSent": 2097152,
  "readers": [
    {
      "type": "rtspSession",
      "id": "5f2a9c01"
    },
    {
      "type": "rtspSession",
      "id": "77b0e4d2"
    }
  ],
  "tracks2": [
    {
      "codec": "H264",
      "width": 1280,
      "height": 720,
      "profile": "Constrained Baseline",
      "level": "3.1"
    }
  ],
  "ingest": {
    "publisherAddr": "203.0.113.7",
    "publisherPort": 5004,
    "packetsReceived": 900,
    "bytesReceived": 1048576,
    "packetsLost": 3,
    "packetsReordered": 1,
    "publisherTakeovers": 2,
    "dropped": {
      "foreign_source": 2,
      "malformed": 5
    },
    "jitterMs": 1.25,
    "fps": 30.0,
    "bitrateBps": 2000000.0,
    "lastPacketAgeMs": 12,
    "keyframeIntervalS": 1.0,
    "repair": {
      "enabled": true,
      "rttMs": 52.5,
      "repairWindowMs": 98.0,
      "repairWindowAuto": true,
      "nacksSent": 41,
      "packetsNacked": 57,
      "retransmissionsReceived": 55,
      "packetsRepaired": 54,
      "packetsRepairedTooLate": 1,
      "packetsUnrecoverable": 2,
      "framesDropped": 1
    }
  },
  "record": null
})");
}

TEST(ApiJson, RecordingPath) {
  PathSnapshot p = test::ready_path();
  p.record = RecordSnapshot{true, true, "", "/rec/camera", "/rec/camera/2025-11-25_18-23-20-123456.mp4", 4, 1, 2};
  Json j = Json::parse(path_json(p).dump());
  EXPECT_EQ(j["record"]["recording"], true);
  EXPECT_TRUE(j["record"]["error"].is_null());
  EXPECT_EQ(j["record"]["directory"], "/rec/camera");
  EXPECT_EQ(j["record"]["currentFile"], "/rec/camera/2025-11-25_18-23-20-123456.mp4");
  EXPECT_EQ(j["record"]["segments"], 4);
  EXPECT_EQ(j["record"]["dropped"], 1);
  EXPECT_EQ(j["record"]["deleted"], 2);
  p.record->recording = false;
  p.record->error = "No space left on device";
  p.record->current_file.clear();
  j = Json::parse(path_json(p).dump());
  EXPECT_EQ(j["record"]["error"], "No space left on device");
  EXPECT_TRUE(j["record"]["currentFile"].is_null());
}

TEST(ApiJson, StalePathGolden) {
  const Json j = Json::parse(path_json(test::stale_path()).dump());
  EXPECT_EQ(j["ready"], false);
  EXPECT_TRUE(j["readyTime"].is_null());
  EXPECT_TRUE(j["source"].is_null());
  EXPECT_EQ(j["readers"], Json::parse(R"([{"type":"rtspSession","id":"5f2a9c01"}])"));
  EXPECT_EQ(j["ingest"]["lastPacketAgeMs"], 5200);
  EXPECT_EQ(j["ingest"]["publisherAddr"], "203.0.113.7");
  EXPECT_EQ(j["bytesReceived"], 1048576);
}

TEST(ApiJson, SessionGolden) {
  EXPECT_EQ(session_json(test::session("5f2a9c01", "tcp", 4096, 1764094990)).dump(),
            R"({"id":"5f2a9c01","created":"2025-11-25T18:23:10.000000Z","remoteAddr":"127.0.0.1:40000",)"
            R"("state":"read","path":"camera","query":"","transport":"TCP","bytesReceived":0,"bytesSent":4096,)"
            R"("framesSkipped":0,"catchUps":0,"delayMs":0.0})");
  auto idle = test::session("a", "", 0, 0);
  idle.state = "idle";
  const Json j = Json::parse(session_json(idle).dump());
  EXPECT_TRUE(j["transport"].is_null());
  EXPECT_EQ(j["state"], "idle");
}

TEST(ApiRoutes, PathsGetAndList) {
  FixedModel model;
  model.path_list = {test::ready_path(), test::fresh_path("backcam")};
  ControlApi api(model);

  auto r = call(api, "GET", "/v3/paths/get/camera");
  EXPECT_EQ(r.status, 200U);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, path_json(test::ready_path()).dump());

  r = call(api, "GET", "/v3/paths/list");
  ASSERT_EQ(r.status, 200U);
  const Json list = Json::parse(r.body);
  EXPECT_EQ(list["itemCount"], 2);
  EXPECT_EQ(list["pageCount"], 1);
  ASSERT_EQ(list["items"].size(), 2U);
  EXPECT_EQ(list["items"][0]["name"], "backcam");  // sorted by name
  EXPECT_EQ(list["items"][1]["name"], "camera");
  EXPECT_EQ(r.body.substr(0, 29), R"({"itemCount":2,"pageCount":1,)");
}

TEST(ApiRoutes, Pagination) {
  FixedModel model;
  for (const char* n : {"a", "b", "c", "d", "e"}) {
    model.path_list.push_back(test::fresh_path(n));
  }
  ControlApi api(model);
  auto page = [&](const char* p, const char* per) {
    auto r = call(api, "GET", "/v3/paths/list", {{"page", p}, {"itemsPerPage", per}});
    EXPECT_EQ(r.status, 200U) << r.body;
    return Json::parse(r.body);
  };
  Json j = page("0", "2");
  EXPECT_EQ(j["itemCount"], 5);
  EXPECT_EQ(j["pageCount"], 3);
  ASSERT_EQ(j["items"].size(), 2U);
  EXPECT_EQ(j["items"][0]["name"], "a");
  j = page("2", "2");
  ASSERT_EQ(j["items"].size(), 1U);
  EXPECT_EQ(j["items"][0]["name"], "e");
  j = page("7", "2");
  EXPECT_EQ(j["items"].size(), 0U);
  EXPECT_EQ(j["pageCount"], 3);

  FixedModel empty;
  ControlApi api2(empty);
  auto r = call(api2, "GET", "/v3/paths/list");
  EXPECT_EQ(r.body, R"({"itemCount":0,"pageCount":0,"items":[]})");
}

TEST(ApiRoutes, BadPaginationIs400) {
  FixedModel model;
  ControlApi api(model);
  for (auto q : std::vector<std::map<std::string, std::string>>{
           {{"page", "x"}}, {{"page", "-1"}}, {{"itemsPerPage", "0"}}, {{"itemsPerPage", "1e3"}}}) {
    auto r = call(api, "GET", "/v3/rtspsessions/list", q);
    EXPECT_EQ(r.status, 400U);
    const Json j = Json::parse(r.body);
    EXPECT_EQ(j["status"], "error");
    EXPECT_TRUE(j["error"].is_string());
  }
  EXPECT_EQ(call(api, "GET", "/v3/paths/list", {{"page", "x"}}).body,
            R"({"status":"error","error":"invalid page"})");
}

TEST(ApiRoutes, Sessions) {
  FixedModel model;
  model.session_list = {test::session("bbb", "udp", 10, 200), test::session("aaa", "tcp", 20, 100)};
  ControlApi api(model);
  auto r = call(api, "GET", "/v3/rtspsessions/list");
  ASSERT_EQ(r.status, 200U);
  Json j = Json::parse(r.body);
  EXPECT_EQ(j["itemCount"], 2);
  EXPECT_EQ(j["items"][0]["id"], "aaa");  // oldest first
  EXPECT_EQ(j["items"][1]["transport"], "UDP");

  r = call(api, "GET", "/v3/rtspsessions/get/bbb");
  ASSERT_EQ(r.status, 200U);
  EXPECT_EQ(Json::parse(r.body)["bytesSent"], 10);

  r = call(api, "GET", "/v3/rtspsessions/get/nope");
  EXPECT_EQ(r.status, 404U);
  EXPECT_EQ(r.body, R"({"status":"error","error":"session not found"})");

  r = call(api, "POST", "/v3/rtspsessions/kick/aaa");
  EXPECT_EQ(r.status, 200U);
  EXPECT_EQ(model.kicked, std::vector<std::string>{"aaa"});
  r = call(api, "POST", "/v3/rtspsessions/kick/aaa");
  EXPECT_EQ(r.status, 404U);
  EXPECT_EQ(r.body, R"({"status":"error","error":"session not found"})");
}

TEST(ApiRoutes, ErrorsAndMethods) {
  FixedModel model;
  model.path_list = {test::ready_path()};
  ControlApi api(model);
  struct Case {
    const char* method;
    const char* path;
    unsigned status;
    const char* body;
  };
  const Case cases[] = {
      {"GET", "/v3/paths/get/missing", 404, R"({"status":"error","error":"path not found"})"},
      {"GET", "/v3/paths/get/", 400, R"({"status":"error","error":"invalid path name"})"},
      {"POST", "/v3/rtspsessions/kick/", 400, R"({"status":"error","error":"invalid session id"})"},
      {"GET", "/v3/nothing", 404, R"({"status":"error","error":"not found"})"},
      {"GET", "/", 404, R"({"status":"error","error":"not found"})"},
      {"GET", "/v2/paths/list", 404, R"({"status":"error","error":"not found"})"},
      {"POST", "/v3/paths/list", 405, R"({"status":"error","error":"method not allowed"})"},
      {"DELETE", "/v3/paths/get/camera", 405, R"({"status":"error","error":"method not allowed"})"},
      {"GET", "/v3/rtspsessions/kick/abc", 405, R"({"status":"error","error":"method not allowed"})"},
      {"PUT", "/v3/rtspsessions/list", 405, R"({"status":"error","error":"method not allowed"})"},
  };
  for (const auto& c : cases) {
    auto r = call(api, c.method, c.path);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.path;
    EXPECT_EQ(r.body, c.body) << c.method << " " << c.path;
  }
  auto r = call(api, "POST", "/v3/paths/list");
  ASSERT_EQ(r.headers.size(), 1U);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Allow", "GET"}));
}

}  // namespace
}  // namespace veter::relay
