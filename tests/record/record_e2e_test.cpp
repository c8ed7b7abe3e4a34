// End to end: the real relay recording the real publisher's stream; what players make of the
// files (ffprobe -count_frames, ffmpeg), kill -9 mid-segment, retention, a picture-size change,
// an unwritable directory, the playback server (/list, /get across segment boundaries).
#include <gtest/gtest.h>
#include <signal.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "process.hpp"
#include "rtsp_viewer.hpp"
#include "veter/relay/record/fmp4_index.hpp"
#include "veter/relay/record/playback.hpp"
#include "veter/relay/record/recorder.hpp"
#include "veter/relay/control/http_api.hpp"

namespace veter::relay {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;
using veter::test::Process;
using veter::test::TempDir;

constexpr int kFps = 30;

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() > deadline) {
      return false;
    }
    test::pump_main_context(100ms);
  }
  return true;
}

struct Probe {
  int frames = -1;
  double duration = 0;
  int width = 0;
  int height = 0;
  std::string err;
};

/// ffprobe -count_frames on a file or URL.
Probe ffprobe(const std::string& what) {
  const auto r = veter::test::run_command(
      {"/usr/bin/ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
       "stream=nb_read_frames,width,height:format=duration", "-of", "json", what},
      60s);
  Probe p;
  p.err = r.err;
  if (r.status != 0) {
    return p;
  }
  const Json j = Json::parse(r.out, nullptr, false);
  if (j.is_discarded() || j["streams"].empty()) {
    return p;
  }
  const auto& s = j["streams"][0];
  p.frames = std::stoi(s.value("nb_read_frames", "-1"));
  p.width = s.value("width", 0);
  p.height = s.value("height", 0);
  p.duration = std::stod(j["format"].value("duration", "0"));
  return p;
}

std::optional<Fmp4Index> index_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), {}};
  return index_fmp4(bytes);
}

class RecordE2e : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { veter::test::init_gstreamer_once(); }

  void start_relay(const std::string& record_yaml, bool playback = false) {
    rtsp_ = veter::test::free_tcp_port();
    api_ = veter::test::free_tcp_port();
    playback_ = veter::test::free_tcp_port();
    metrics_ = veter::test::free_tcp_port();
    ingest_ = veter::test::free_udp_port(true);
    int range = 0;
    do {
      range = veter::test::free_udp_port(true);
    } while (range == ingest_);
    std::ostringstream yml;
    yml << "rtsp:\n  listen: \"127.0.0.1:" << rtsp_ << "\"\n"
        << "  udp_port_range: \"" << range << "-" << range + 1 << "\"\n"
        << "api: { enabled: true, listen: \"127.0.0.1:" << api_ << "\" }\n"
        << "metrics: { enabled: true, listen: \"127.0.0.1:" << metrics_ << "\" }\n"
        << "playback: { enabled: " << (playback ? "true" : "false") << ", listen: \"127.0.0.1:" << playback_
        << "\" }\n"
        << "paths:\n  camera:\n    ingest:\n      listen: \"127.0.0.1:" << ingest_ << "\"\n"
        << "    record:\n" << record_yaml;
    relay_.emplace(std::vector<std::string>{VETER_RELAY_BIN, "--config", dir_.write("relay.yml", yml.str())});
    ASSERT_TRUE(eventually([&] { return http("api", "/v3/paths/list").status == 200 || !relay_->running(); }, 30s));
    ASSERT_TRUE(relay_->running()) << relay_->err();
  }

  void start_publisher(const std::string& size = "320x240", int kbps = 600) {
    if (local_ == 0) {
      do {
        local_ = veter::test::free_udp_port(true);
      } while (local_ == ingest_);
    }
    publisher_.emplace(std::vector<std::string>{VETER_PUBLISHER_BIN, size, std::to_string(kFps),
                                                std::to_string(kbps), "--host", "127.0.0.1", "--port",
                                                std::to_string(ingest_), "--source", "test", "--encoder", "x264enc",
                                                "--local-port", std::to_string(local_)});
  }

  test::HttpResult http(const std::string& listener, const std::string& path) {
    const int port = listener == "api" ? api_ : listener == "metrics" ? metrics_ : playback_;
    return test::http_get("http://127.0.0.1:" + std::to_string(port) + path);
  }

  std::string rec_dir() const { return dir_.path() + "/rec/camera"; }
  std::vector<SegmentFile> segments() const { return list_segments(rec_dir()); }

  void TearDown() override {
    if (publisher_) {
      publisher_->stop();
    }
    if (relay_) {
      relay_->stop();
    }
  }

  TempDir dir_;
  int rtsp_ = 0, api_ = 0, playback_ = 0, metrics_ = 0, ingest_ = 0, local_ = 0;
  std::optional<Process> relay_;
  std::optional<Process> publisher_;
};

TEST_F(RecordE2e, SegmentsPlayAcrossBoundariesAndSurviveKill9) {
  start_relay("      enabled: true\n      dir: \"" + dir_.path() + "/rec\"\n      segment: 2s\n", true);
  start_publisher();
  // Three finished segments and a fourth being written.
  ASSERT_TRUE(eventually([&] { return segments().size() >= 4; }, 60s)) << relay_->err();

  // /list: one span from the first segment on; /get across the first boundary plays in ffmpeg.
  const auto list = http("playback", "/list?path=camera");
  ASSERT_EQ(list.status, 200U) << list.body;
  const Json spans = Json::parse(list.body);
  ASSERT_EQ(spans.size(), 1U) << list.body;
  EXPECT_GE(spans[0]["duration"].get<double>(), 5.5) << list.body;
  const auto first_start = parse_rfc3339(spans[0]["start"].get<std::string>());
  ASSERT_TRUE(first_start);
  EXPECT_EQ(*first_start, segments().front().start);
  // 1.5 s .. 3.5 s: crosses the boundary at 2 s; starts at the keyframe at 1 s.
  const std::string from = format_rfc3339(*first_start + 1500ms);
  const std::string get_path = "/get?path=camera&start=" + from + "&duration=2";
  const std::string url = "http://127.0.0.1:" + std::to_string(playback_) + get_path;
  const auto decoded = veter::test::run_command({"/usr/bin/ffmpeg", "-v", "error", "-i", url, "-f", "null", "-"}, 60s);
  EXPECT_EQ(decoded.status, 0) << decoded.err;
  EXPECT_EQ(decoded.err, "") << "ffmpeg reported errors decoding the span";
  const Probe span = ffprobe(url);
  // From the keyframe at or before `start` (keyframes every 30 frames = 1 s here).
  EXPECT_GE(span.frames, 2 * kFps - 1) << span.err;
  EXPECT_LE(span.frames, 4 * kFps + 2) << span.err;
  EXPECT_NEAR(span.duration, span.frames / static_cast<double>(kFps), 2.0 / kFps);
  const auto bad = http("playback", "/get?path=camera&start=" + from + "&duration=abc");
  EXPECT_EQ(bad.status, 400U) << bad.body;

  // The API and the metrics show the recording.
  const Json cam = Json::parse(http("api", "/v3/paths/get/camera").body);
  EXPECT_EQ(cam["record"]["recording"], true) << cam.dump(2);
  EXPECT_TRUE(cam["record"]["error"].is_null());
  EXPECT_NE(http("metrics", "/metrics").body.find("veter_record_recording{name=\"camera\"} 1"), std::string::npos);

  // kill -9 once the segment being written has a complete fragment.
  ASSERT_TRUE(cam["record"]["currentFile"].is_string());
  ASSERT_TRUE(eventually(
      [&] {
        const auto s = segments();
        const auto idx = index_file(s.back().path);
        return idx && !idx->fragments.empty();
      },
      20s));
  relay_->signal(SIGKILL);
  relay_->wait(10s);

  // Every finished segment plays whole: frames = duration x fps (+-1), starting at a keyframe,
  // consecutive segments back to back; the killed one plays up to its last complete fragment.
  const auto segs = segments();
  ASSERT_GE(segs.size(), 4U);
  int total_frames = 0;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    SCOPED_TRACE(segs[i].path);
    const Probe p = ffprobe(segs[i].path);
    const auto idx = index_file(segs[i].path);
    ASSERT_TRUE(idx);
    ASSERT_FALSE(idx->fragments.empty());
    EXPECT_TRUE(idx->fragments.front().starts_with_sync) << "a segment starts at a keyframe";
    EXPECT_EQ(p.width, 320);
    EXPECT_EQ(p.height, 240);
    if (i + 1 == segs.size()) {
      // The killed one: its complete fragments play (ffmpeg may also show frames of the partial one).
      EXPECT_GE(p.frames, static_cast<int>(idx->samples())) << p.err;
      EXPECT_LE(p.frames, static_cast<int>(idx->samples()) + kFps) << p.err;
      continue;
    }
    EXPECT_EQ(p.frames, static_cast<int>(idx->samples())) << p.err;
    EXPECT_NEAR(p.frames, idx->duration_seconds() * kFps, 1.0);
    EXPECT_NEAR(idx->duration_seconds(), 2.0, 1.0 + 1.0 / kFps) << "segment: 2s, keyframes every 1 s";
    total_frames += p.frames;
    if (i + 1 < segs.size()) {
      const double gap = std::chrono::duration<double>(segs[i + 1].start - segs[i].start).count();
      EXPECT_NEAR(gap, idx->duration_seconds(), 1.0 / kFps) << "the next segment starts where this one ends";
    }
  }
  const double span_s = std::chrono::duration<double>(segs.back().start - segs.front().start).count();
  EXPECT_NEAR(total_frames, span_s * kFps, static_cast<double>(segs.size()));
}

TEST_F(RecordE2e, RetentionDeletesOldestFirstAndSizeChangeStartsASegment) {
  // The ball pattern needs well under its 600 kbit/s: 1 s segments of a few tens of kB, so
  // 60 kB keeps the newest few.
  start_relay("      enabled: true\n      dir: \"" + dir_.path() + "/rec\"\n      segment: 1s\n"
              "      retention: { max_bytes: 60000, max_age: 7d }\n");
  start_publisher("320x240");
  ASSERT_TRUE(eventually([&] { return segments().size() >= 3; }, 60s)) << relay_->err();
  // The camera switches to 480x272: a new segment at the new size.
  publisher_->stop();
  start_publisher("480x272");
  std::vector<std::string> seen;  // every segment name the relay logged, in order
  const auto logged = [&] {
    seen.clear();
    std::istringstream log(relay_->err() + relay_->out());
    for (std::string line; std::getline(log, line);) {
      const auto at = line.find("recording segment ");
      if (at != std::string::npos) {
        seen.push_back(line.substr(at + 18));
      }
    }
    return seen;
  };
  ASSERT_TRUE(eventually(
      [&] {
        const auto s = segments();
        return !s.empty() && index_file(s.back().path) && index_file(s.back().path)->width == 480 &&
               relay_->err().find("retention removed") != std::string::npos;
      },
      60s))
      << relay_->err();
  publisher_->stop();
  relay_->stop();
  logged();
  const auto left = segments();
  ASSERT_FALSE(left.empty());
  ASSERT_GT(seen.size(), left.size());
  // What is left is the newest segments, in order: everything older was removed, oldest first.
  for (std::size_t i = 0; i < left.size(); ++i) {
    EXPECT_EQ(left[i].path, seen[seen.size() - left.size() + i]);
  }
  std::size_t removed_at = 0;
  for (std::size_t i = 0; i + left.size() < seen.size(); ++i) {
    const auto at = relay_->err().find("retention removed " + seen[i]);
    EXPECT_NE(at, std::string::npos) << seen[i];
    EXPECT_GE(at, removed_at) << "removed out of order: " << seen[i];
    removed_at = at;
  }
  // Each file has one picture size.
  for (const auto& s : left) {
    const Probe p = ffprobe(s.path);
    const auto idx = index_file(s.path);
    ASSERT_TRUE(idx);
    EXPECT_EQ(p.width, static_cast<int>(idx->width)) << s.path;
    EXPECT_EQ(p.frames, static_cast<int>(idx->samples())) << s.path << p.err;
  }
}

TEST_F(RecordE2e, UnwritableDirectoryStopsRecordingNotTheRelay) {
  const std::string not_a_dir = dir_.write("file", "x");
  start_relay("      enabled: true\n      dir: \"" + not_a_dir + "\"\n");
  start_publisher();
  // The viewer opens once the path is ready (asked through the API): before that a DESCRIBE is a 404.
  ASSERT_TRUE(eventually(
      [&] {
        const Json path = Json::parse(http("api", "/v3/paths/get/camera").body, nullptr, false);
        return path.is_object() && path.value("ready", false);
      },
      30s))
      << relay_->err();
  veter::test::RtspViewer viewer("rtsp://127.0.0.1:" + std::to_string(rtsp_) + "/camera");
  ASSERT_TRUE(viewer.start());
  EXPECT_TRUE(viewer.wait_frames(30, 30s)) << viewer.error().value_or("") << relay_->err();
  viewer.stop();
  EXPECT_NE(relay_->err().find("recording stopped"), std::string::npos) << relay_->err();
  const Json cam = Json::parse(http("api", "/v3/paths/get/camera").body);
  EXPECT_TRUE(cam["record"]["error"].is_string()) << cam.dump(2);
  EXPECT_EQ(cam["record"]["recording"], false);
  EXPECT_NE(http("metrics", "/metrics").body.find("veter_record_error{name=\"camera\"} 1"), std::string::npos);
  EXPECT_TRUE(relay_->running());
}

}  // namespace
}  // namespace veter::relay
