// The playback API's routing and parameter checks (no sockets): 400 for bad /get and /list
// parameters, 404 for unknown paths and empty spans, RFC 3339 parsing.
#include "veter/relay/record/playback.hpp"

#include <gtest/gtest.h>

#include "process.hpp"

namespace veter::relay {
namespace {

using Clock = std::chrono::system_clock;

HttpRequest get(const std::string& path, std::map<std::string, std::string> query) {
  return HttpRequest{"GET", path, std::move(query)};
}

class PlaybackApiTest : public ::testing::Test {
 protected:
  PlaybackApiTest() {
    cfg_.paths.front().record.enabled = true;
    cfg_.paths.front().record.dir = dir_.path();
  }
  veter::test::TempDir dir_;
  RelayConfig cfg_;
};

TEST_F(PlaybackApiTest, BadGetParametersAre400) {
  const PlaybackApi api(cfg_);
  const std::string start = "2026-12-01T21:40:00Z";
  for (const auto& q : std::vector<std::map<std::string, std::string>>{
           {},
           {{"path", ""}},
           {{"path", "camera"}},
           {{"path", "camera"}, {"start", start}},
           {{"path", "camera"}, {"duration", "10"}},
           {{"path", "camera"}, {"start", "yesterday"}, {"duration", "10"}},
           {{"path", "camera"}, {"start", "2026-12-01 21:40:00"}, {"duration", "10"}},
           {{"path", "camera"}, {"start", "2026-12-01T21:40:00"}, {"duration", "10"}},
           {{"path", "camera"}, {"start", "2026-13-01T21:40:00Z"}, {"duration", "10"}},
           {{"path", "camera"}, {"start", start}, {"duration", "0"}},
           {{"path", "camera"}, {"start", start}, {"duration", "-5"}},
           {{"path", "camera"}, {"start", start}, {"duration", "ten"}},
           {{"path", "camera"}, {"start", start}, {"duration", "10s"}},
           {{"path", "camera"}, {"start", start}, {"duration", "nan"}},
           {{"path", "camera"}, {"start", start}, {"duration", "1e9"}},
           {{"path", "camera"}, {"start", start}, {"duration", "10"}, {"format", "mpegts"}},
       }) {
    std::string shown;
    for (const auto& [k, v] : q) {
      shown += k + "=" + v + " ";
    }
    const auto r = api.handle(get("/get", q));
    EXPECT_EQ(r.status, 400U) << shown << r.body;
    EXPECT_NE(r.body.find("\"error\""), std::string::npos) << r.body;
  }
  EXPECT_EQ(api.handle(get("/list", {})).status, 400U);
}

TEST_F(PlaybackApiTest, UnknownPathsRoutesAndEmptySpansAre404) {
  const PlaybackApi api(cfg_);
  EXPECT_EQ(api.handle(get("/get", {{"path", "nope"}, {"start", "2026-12-01T21:40:00Z"}, {"duration", "1"}})).status,
            404U);
  EXPECT_EQ(api.handle(get("/list", {{"path", "nope"}})).status, 404U);
  EXPECT_EQ(api.handle(get("/", {})).status, 404U);
  EXPECT_EQ(api.handle(get("/get", {{"path", "camera"}, {"start", "2026-12-01T21:40:00Z"}, {"duration", "1"}})).status,
            404U);
  const auto r = api.handle(HttpRequest{"POST", "/list", {{"path", "camera"}}});
  EXPECT_EQ(r.status, 405U);
}

TEST_F(PlaybackApiTest, ListOfAnEmptyRecordingIsAnEmptyArray) {
  const PlaybackApi api(cfg_);
  const auto r = api.handle(get("/list", {{"path", "camera"}}));
  EXPECT_EQ(r.status, 200U);
  EXPECT_EQ(r.body, "[]");
}

TEST(Rfc3339, ParsesUtcOffsetsAndFractions) {
  const auto base = Clock::time_point(std::chrono::seconds(1'764'625'200));  // 2025-12-01T21:40:00Z
  EXPECT_EQ(parse_rfc3339("2025-12-01T21:40:00Z"), base);
  EXPECT_EQ(parse_rfc3339("2025-12-01T22:40:00+01:00"), base);
  EXPECT_EQ(parse_rfc3339("2025-12-01T22:40:00 01:00"), base);  // '+' decoded as a space
  EXPECT_EQ(parse_rfc3339("2025-12-01T20:40:00-01:00"), base);
  EXPECT_EQ(parse_rfc3339("2025-12-01T21:40:00.25Z"), base + std::chrono::milliseconds(250));
  for (const std::string bad : {"", "2025-12-01", "2025-12-01T21:40:00", "2025-12-01T21:40:00.Z",
                                "2025-12-01T21:40:00Zjunk", "2025-12-01T25:40:00Z", "2025-12-01T21:40:00+1:00"}) {
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
  }
}

}  // namespace
}  // namespace veter::relay
