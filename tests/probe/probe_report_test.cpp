#include "veter/probe/probe_report.hpp"

#include <gtest/gtest.h>

#include "veter/probe/json_fields.hpp"

using veter::probe::ProbeReport;

TEST(ProbeReport, JsonHasEveryDocumentedFieldEvenWhenEmpty) {
  const ProbeReport r;
  const auto j = veter::probe::to_json(r);
  for (const auto& path : veter::probe::documented_json_fields()) {
    EXPECT_TRUE(j.contains(nlohmann::json::json_pointer(path))) << path;
  }
  EXPECT_TRUE(j["time_to_first_frame_ms"].is_null());
  EXPECT_FALSE(j["latency"]["available"].get<bool>());
  EXPECT_TRUE(j["latency"]["capture_to_arrival_ms"].is_null());
}

TEST(ProbeReport, JsonCarriesTheNumbers) {
  ProbeReport r;
  r.url = "rtsp://h/camera";
  r.frames = 300;
  r.fps = 29.97;
  r.time_to_first_frame_ms = 41.5;
  r.capture_to_arrival_ms = veter::probe::summarize({10, 20, 30});
  const auto j = veter::probe::to_json(r);
  EXPECT_EQ(j["frames"], 300);
  EXPECT_DOUBLE_EQ(j["fps"].get<double>(), 29.97);
  EXPECT_DOUBLE_EQ(j["time_to_first_frame_ms"].get<double>(), 41.5);
  EXPECT_TRUE(j["latency"]["available"].get<bool>());
  EXPECT_DOUBLE_EQ(j["latency"]["capture_to_arrival_ms"]["p50"].get<double>(), 20);
  EXPECT_EQ(j["latency"]["capture_to_arrival_ms"]["count"], 3);
}

TEST(ProbeReport, TextSaysWhenLatencyIsUnavailable) {
  ProbeReport r;
  r.frames = 10;
  r.frames_received = 10;
  EXPECT_NE(veter::probe::summary_text(r).find("latency              unavailable"), std::string::npos);
  r.capture_to_arrival_ms = veter::probe::summarize({5});
  r.clock_note = "clocks!";
  const auto text = veter::probe::summary_text(r);
  EXPECT_NE(text.find("capture -> arrival   p50 5.0 ms"), std::string::npos);
  EXPECT_NE(text.find("note                 clocks!"), std::string::npos);
}

TEST(ProbeReport, StatusLineIsOneLine) {
  ProbeReport r;
  r.frames = 3;
  r.capture_to_arrival_ms = veter::probe::summarize({5, 6});
  const auto line = veter::probe::status_line(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find("latency p50 5.5 ms"), std::string::npos);
}
