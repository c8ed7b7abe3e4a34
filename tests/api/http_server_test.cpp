// The real libsoup listener on 127.0.0.1 with a real HTTP client.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fixed_model.hpp"
#include "http_client.hpp"
#include "veter/common/cli.hpp"
#include "veter/relay/control/control_plane.hpp"
#include "veter/relay/control/http_api.hpp"
#include "veter/relay/control/metrics.hpp"

namespace veter::relay {
namespace {

using Json = nlohmann::json;
using test::http_get;
using test::http_request;

/// Built field by field so that later additions to HttpListenerConfig keep their defaults.
HttpListenerConfig listener(bool enabled, common::Endpoint listen) {
  HttpListenerConfig c;
  c.enabled = enabled;
  c.listen = std::move(listen);
  return c;
}

std::string base(const HttpServer& s) { return "http://127.0.0.1:" + std::to_string(s.port()) + "/"; }

TEST(HttpServer, ServesApiOverHttp) {
  test::FixedModel model;
  model.path_list = {test::ready_path(), test::fresh_path("cam one")};
  model.session_list = {test::session("s1", "tcp", 5, 1)};
  auto server = start_api_server(listener(true, {"127.0.0.1", 0}), model);
  ASSERT_NE(server, nullptr);
  ASSERT_GT(server->port(), 0);
  const std::string url = base(*server);

  auto r = http_get(url + "v3/paths/get/camera");
  ASSERT_EQ(r.status, 200U) << r.error;
  EXPECT_EQ(r.content_type, "application/json");
  const Json path = Json::parse(r.body);
  EXPECT_EQ(path["ready"], true);
  EXPECT_EQ(path["tracks"], Json::parse(R"(["H264"])"));
  EXPECT_EQ(path["bytesReceived"], 1048576);

  r = http_get(url + "v3/paths/get/cam%20one");  // percent-decoded before routing
  ASSERT_EQ(r.status, 200U);
  EXPECT_EQ(Json::parse(r.body)["name"], "cam one");

  r = http_get(url + "v3/paths/list?page=0&itemsPerPage=1");
  ASSERT_EQ(r.status, 200U);
  EXPECT_EQ(Json::parse(r.body)["pageCount"], 2);

  r = http_get(url + "v3/paths/list?itemsPerPage=abc");
  EXPECT_EQ(r.status, 400U);
  EXPECT_EQ(r.body, R"({"status":"error","error":"invalid itemsPerPage"})");

  r = http_get(url + "no/such/route");
  EXPECT_EQ(r.status, 404U);
  EXPECT_EQ(r.body, R"({"status":"error","error":"not found"})");

  r = http_request("DELETE", url + "v3/paths/list");
  EXPECT_EQ(r.status, 405U);
  EXPECT_EQ(r.allow, "GET");
  EXPECT_EQ(Json::parse(r.body)["status"], "error");

  r = http_get(url + "v3/rtspsessions/kick/s1");
  EXPECT_EQ(r.status, 405U);
  EXPECT_EQ(r.allow, "POST");
  r = http_request("POST", url + "v3/rtspsessions/kick/s1");
  EXPECT_EQ(r.status, 200U);
  EXPECT_EQ(model.kicked, std::vector<std::string>{"s1"});
  r = http_get(url + "v3/rtspsessions/list");
  EXPECT_EQ(r.body, R"({"itemCount":0,"pageCount":0,"items":[]})");
}

TEST(HttpServer, ServesMetricsOverHttp) {
  test::FixedModel model;
  model.path_list = {test::ready_path()};
  auto server = start_metrics_server(listener(true, {"127.0.0.1", 0}), model);
  ASSERT_NE(server, nullptr);
  auto r = http_get(base(*server) + "metrics");
  ASSERT_EQ(r.status, 200U) << r.error;
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(r.body.find("\npaths{name=\"camera\",state=\"ready\"} 1\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\nprocess_open_fds "), std::string::npos);
  EXPECT_EQ(http_get(base(*server) + "v3/paths/list").status, 404U);
}

TEST(HttpServer, DisabledListenersAreNotStarted) {
  test::FixedModel model;
  EXPECT_EQ(start_api_server(listener(false, {"127.0.0.1", 0}), model), nullptr);
  EXPECT_EQ(start_metrics_server(listener(false, {"127.0.0.1", 0}), model), nullptr);
}

TEST(HttpServer, BusyPortIsUnavailableError) {
  test::FixedModel model;
  auto first = start_api_server(listener(true, {"127.0.0.1", 0}), model);
  ASSERT_NE(first, nullptr);
  const common::Endpoint busy{"127.0.0.1", first->port()};
  try {
    auto second = start_metrics_server(listener(true, busy), model);
    FAIL() << "binding a busy port succeeded";
  } catch (const common::UnavailableError& e) {
    EXPECT_NE(std::string(e.what()).find("metrics listener: cannot listen on 127.0.0.1:" + std::to_string(busy.port)),
              std::string::npos)
        << e.what();
  }
}

TEST(HttpServer, ControlPlaneFromConfig) {
  test::FixedModel model;
  model.path_list = {test::ready_path()};
  RelayConfig cfg;
  cfg.api.listen = {"127.0.0.1", 0};
  cfg.metrics.listen = {"127.0.0.1", 0};
  ControlPlane plane(cfg, model);
  ASSERT_NE(plane.api(), nullptr);
  ASSERT_NE(plane.metrics(), nullptr);
  EXPECT_EQ(http_get(base(*plane.api()) + "v3/paths/get/camera").status, 200U);
  EXPECT_EQ(http_get(base(*plane.metrics()) + "metrics").status, 200U);

  cfg.api.enabled = false;
  cfg.metrics.enabled = false;
  ControlPlane off(cfg, model);
  EXPECT_EQ(off.api(), nullptr);
  EXPECT_EQ(off.metrics(), nullptr);
}

}  // namespace
}  // namespace veter::relay
