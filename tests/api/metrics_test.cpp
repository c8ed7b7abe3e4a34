// /metrics text: exact golden output, label escaping, promtool, process series.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "fixed_model.hpp"
#include "process.hpp"
#include "veter/relay/control/metrics.hpp"

namespace veter::relay {
namespace {

std::vector<PathSnapshot> golden_paths() { return {test::ready_path(), test::fresh_path("backcam")}; }
std::vector<SessionSnapshot> golden_sessions() {
  return {test::session("77b0e4d2", "udp", 1000, 200), test::session("5f2a9c01", "tcp", 2000, 100)};
}

constexpr const char* kGolden = R"(# HELP paths Paths of this relay: 1 per path, state is ready or notReady.
# TYPE paths gauge
paths{name="backcam",state="notReady"} 1
paths{name="camera",state="ready"} 1
# HELP paths_bytes_received Bytes received from the path's publisher since start-up.
# TYPE paths_bytes_received gauge
paths_bytes_received{name="backcam",state="notReady"} 0
paths_bytes_received{name="camera",state="ready"} 1048576
# HELP paths_bytes_sent Bytes sent to the path's viewers since start-up.
# TYPE paths_bytes_sent gauge
paths_bytes_sent{name="backcam",state="notReady"} 0
paths_bytes_sent{name="camera",state="ready"} 2097152
# HELP paths_readers RTSP sessions currently reading the path.
# TYPE paths_readers gauge
paths_readers{name="backcam",state="notReady"} 0
paths_readers{name="camera",state="ready"} 2
# HELP rtsp_sessions RTSP sessions: 1 per session.
# TYPE rtsp_sessions gauge
rtsp_sessions{id="5f2a9c01",path="camera",remote_addr="127.0.0.1:40000",state="read"} 1
rtsp_sessions{id="77b0e4d2",path="camera",remote_addr="127.0.0.1:40000",state="read"} 1
# HELP rtsp_sessions_bytes_sent Bytes sent to the RTSP session.
# TYPE rtsp_sessions_bytes_sent gauge
rtsp_sessions_bytes_sent{id="5f2a9c01",path="camera",remote_addr="127.0.0.1:40000",state="read"} 2000
rtsp_sessions_bytes_sent{id="77b0e4d2",path="camera",remote_addr="127.0.0.1:40000",state="read"} 1000
# HELP veter_rtsp_session_frames_skipped_total Access units not sent to the session while it caught up (rtsp.viewer_max_delay).
# TYPE veter_rtsp_session_frames_skipped_total counter
veter_rtsp_session_frames_skipped_total{id="5f2a9c01",path="camera",remote_addr="127.0.0.1:40000",state="read"} 0
veter_rtsp_session_frames_skipped_total{id="77b0e4d2",path="camera",remote_addr="127.0.0.1:40000",state="read"} 0
# HELP veter_rtsp_session_catch_ups_total Times the session skipped to the next keyframe because it was more than rtsp.viewer_max_delay behind.
# TYPE veter_rtsp_session_catch_ups_total counter
veter_rtsp_session_catch_ups_total{id="5f2a9c01",path="camera",remote_addr="127.0.0.1:40000",state="read"} 0
veter_rtsp_session_catch_ups_total{id="77b0e4d2",path="camera",remote_addr="127.0.0.1:40000",state="read"} 0
# HELP veter_path_ready 1 when the path is ready (SPS, PPS and an IDR seen, packets flowing).
# TYPE veter_path_ready gauge
veter_path_ready{name="backcam"} 0
veter_path_ready{name="camera"} 1
# HELP veter_ingest_packets_total RTP packets accepted on the path's ingest.
# TYPE veter_ingest_packets_total counter
veter_ingest_packets_total{name="backcam"} 0
veter_ingest_packets_total{name="camera"} 900
# HELP veter_ingest_bytes_total RTP bytes accepted on the path's ingest.
# TYPE veter_ingest_bytes_total counter
veter_ingest_bytes_total{name="backcam"} 0
veter_ingest_bytes_total{name="camera"} 1048576
# HELP veter_ingest_packets_lost_total RTP packets missing (sequence number gaps).
# TYPE veter_ingest_packets_lost_total counter
veter_ingest_packets_lost_total{name="backcam"} 0
veter_ingest_packets_lost_total{name="camera"} 3
# HELP veter_ingest_packets_reordered_total RTP packets that arrived late or out of order.
# TYPE veter_ingest_packets_reordered_total counter
veter_ingest_packets_reordered_total{name="backcam"} 0
veter_ingest_packets_reordered_total{name="camera"} 1
# HELP veter_ingest_takeovers_total Times another source took the path from a publisher silent for ingest.timeout (ingest.takeover).
# TYPE veter_ingest_takeovers_total counter
veter_ingest_takeovers_total{name="backcam"} 0
veter_ingest_takeovers_total{name="camera"} 2
# HELP veter_ingest_dropped_total Datagrams dropped on the path's ingest, by reason.
# TYPE veter_ingest_dropped_total counter
veter_ingest_dropped_total{name="camera",reason="foreign_source"} 2
veter_ingest_dropped_total{name="camera",reason="malformed"} 5
# HELP veter_ingest_jitter_seconds RTP interarrival jitter (RFC 3550).
# TYPE veter_ingest_jitter_seconds gauge
veter_ingest_jitter_seconds{name="backcam"} 0
veter_ingest_jitter_seconds{name="camera"} 0.00125
# HELP veter_ingest_nacks_sent_total RTCP NACK packets sent to the publisher.
# TYPE veter_ingest_nacks_sent_total counter
veter_ingest_nacks_sent_total{name="camera"} 41
# HELP veter_ingest_packets_nacked_total Sequence numbers asked for again (retries included).
# TYPE veter_ingest_packets_nacked_total counter
veter_ingest_packets_nacked_total{name="camera"} 57
# HELP veter_ingest_packets_repaired_total Missing RTP packets that a retransmission filled in time.
# TYPE veter_ingest_packets_repaired_total counter
veter_ingest_packets_repaired_total{name="camera"} 54
# HELP veter_ingest_packets_repaired_too_late_total Packets (retransmissions included) that arrived after the repair window.
# TYPE veter_ingest_packets_repaired_too_late_total counter
veter_ingest_packets_repaired_too_late_total{name="camera"} 1
# HELP veter_ingest_packets_unrecoverable_total Missing packets given up on after the repair window (then PLI).
# TYPE veter_ingest_packets_unrecoverable_total counter
veter_ingest_packets_unrecoverable_total{name="camera"} 2
# HELP veter_ingest_frames_dropped_total Incomplete frames not forwarded to viewers.
# TYPE veter_ingest_frames_dropped_total counter
veter_ingest_frames_dropped_total{name="camera"} 1
# HELP veter_ingest_repair_window_seconds How long a frame may wait for a missing packet.
# TYPE veter_ingest_repair_window_seconds gauge
veter_ingest_repair_window_seconds{name="camera"} 0.098
# HELP veter_ingest_rtt_seconds Round trip NACK -> retransmission on the ingest leg.
# TYPE veter_ingest_rtt_seconds gauge
veter_ingest_rtt_seconds{name="camera"} 0.0525
# HELP veter_ingest_fps Access units per second received (last window).
# TYPE veter_ingest_fps gauge
veter_ingest_fps{name="backcam"} 0
veter_ingest_fps{name="camera"} 30
# HELP veter_ingest_bitrate Ingest bit rate in bits per second (last window).
# TYPE veter_ingest_bitrate gauge
veter_ingest_bitrate{name="backcam"} 0
veter_ingest_bitrate{name="camera"} 2000000
# HELP veter_ingest_last_packet_age_seconds Time since the last accepted packet.
# TYPE veter_ingest_last_packet_age_seconds gauge
veter_ingest_last_packet_age_seconds{name="camera"} 0.012
# HELP veter_ingest_keyframe_interval_seconds Time between the last two IDR frames.
# TYPE veter_ingest_keyframe_interval_seconds gauge
veter_ingest_keyframe_interval_seconds{name="camera"} 1
)";

TEST(Metrics, GoldenText) { EXPECT_EQ(render_metrics(golden_paths(), golden_sessions(), std::nullopt), kGolden); }

TEST(Metrics, RecordingPathsOnly) {
  auto rec = test::ready_path();
  rec.name = "front";
  rec.record = RecordSnapshot{true, false, "No space left on device", "/rec/front", "", 3, 7, 1};
  const std::string text = render_metrics({test::ready_path(), rec}, {}, std::nullopt);
  EXPECT_NE(text.find("\nveter_record_recording{name=\"front\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nveter_record_error{name=\"front\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("\nveter_record_segments_total{name=\"front\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("\nveter_record_dropped_total{name=\"front\"} 7\n"), std::string::npos);
  EXPECT_NE(text.find("\nveter_record_deleted_total{name=\"front\"} 1\n"), std::string::npos);
  EXPECT_EQ(text.find("veter_record_recording{name=\"camera\"}"), std::string::npos) << "camera does not record";
}

TEST(Metrics, LabelEscaping) {
  EXPECT_EQ(escape_label_value(R"(a\b)"), R"(a\\b)");
  EXPECT_EQ(escape_label_value(R"(say "hi")"), R"(say \"hi\")");
  EXPECT_EQ(escape_label_value("two\nlines"), R"(two\nlines)");
  EXPECT_EQ(escape_label_value("plain-ÄÖ/ü:1"), "plain-ÄÖ/ü:1");  // UTF-8 and other bytes pass through

  auto p = test::fresh_path("we\"ird\\na\nme");
  const std::string text = render_metrics({p}, {}, std::nullopt);
  EXPECT_NE(text.find(R"(paths{name="we\"ird\\na\nme",state="notReady"} 1)"), std::string::npos) << text;
}

TEST(Metrics, ProcessSeries) {
  auto stats = read_process_stats();
  ASSERT_TRUE(stats.has_value());
  EXPECT_GT(stats->resident_bytes, 1024U * 1024U);
  EXPECT_GE(stats->virtual_bytes, stats->resident_bytes);
  EXPECT_GT(stats->open_fds, 2U);  // at least stdin/stdout/stderr
  EXPECT_GT(stats->max_fds, 0U);
  const auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_GT(stats->start_time_seconds, now - 3600);
  EXPECT_LE(stats->start_time_seconds, now + 1);

  // Open descriptors are counted, not guessed.
  const int extra = dup(1);
  ASSERT_GE(extra, 0);
  const auto with_extra = read_process_stats();
  close(extra);
  ASSERT_TRUE(with_extra.has_value());
  EXPECT_EQ(with_extra->open_fds, stats->open_fds + 1);

  const std::string text = render_metrics({}, {}, ProcessStats{12.5, 4096, 8192, 7, 1024, 1764095000.25});
  EXPECT_NE(text.find("\nprocess_cpu_seconds_total 12.5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("\nprocess_resident_memory_bytes 4096\n"), std::string::npos);
  EXPECT_NE(text.find("\nprocess_virtual_memory_bytes 8192\n"), std::string::npos);
  EXPECT_NE(text.find("\nprocess_open_fds 7\n"), std::string::npos);
  EXPECT_NE(text.find("\nprocess_max_fds 1024\n"), std::string::npos);
  EXPECT_NE(text.find("\nprocess_start_time_seconds 1764095000.25\n"), std::string::npos);
}

TEST(Metrics, NonFiniteValues) {
  auto p = test::ready_path();
  p.ingest.fps = std::numeric_limits<double>::quiet_NaN();
  p.ingest.bitrate_bps = std::numeric_limits<double>::infinity();
  const std::string text = render_metrics({p}, {}, std::nullopt);
  EXPECT_NE(text.find("veter_ingest_fps{name=\"camera\"} NaN\n"), std::string::npos);
  EXPECT_NE(text.find("veter_ingest_bitrate{name=\"camera\"} +Inf\n"), std::string::npos);
}

/// promtool check metrics on a page; nullopt when promtool is not installed.
std::optional<veter::test::RunResult> promtool(const std::string& text) {
  if (!std::filesystem::exists("/usr/bin/promtool")) {
    return std::nullopt;
  }
  veter::test::TempDir dir;
  const std::string file = dir.write("metrics.prom", text);
  return veter::test::run_command({"/bin/sh", "-c", "/usr/bin/promtool check metrics < '" + file + "'"});
}

TEST(Metrics, PromtoolAcceptsEveryShape) {
  auto weird = test::fresh_path("we\"ird\\na\nme");
  auto ready = test::ready_path();
  const std::vector<std::string> pages = {
      render_metrics(golden_paths(), golden_sessions(), read_process_stats()),
      render_metrics({}, {}, read_process_stats()),
      render_metrics({weird, test::stale_path()}, {test::session("x\"y", "tcp", 1, 1)}, std::nullopt),
  };
  for (const auto& page : pages) {
    auto r = promtool(page);
    if (!r) {
      GTEST_SKIP() << "promtool not installed (Debian package prometheus; scripts/deps.sh installs it)";
    }
    EXPECT_EQ(r->status, 0) << r->out << r->err << "\n" << page;
  }
  // promtool does fail on what it should reject, so the check above means something.
  auto bad = promtool("paths_bytes_received{name=\"a\"} 1\n# TYPE x counter\nx 1\n");
  ASSERT_TRUE(bad.has_value());
  EXPECT_NE(bad->status, 0);
}

TEST(Metrics, EndpointRoutes) {
  test::FixedModel model;
  model.path_list = golden_paths();
  MetricsEndpoint endpoint(model);
  auto r = endpoint.handle(HttpRequest{"GET", "/metrics", {}});
  EXPECT_EQ(r.status, 200U);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r.body.rfind(render_metrics(golden_paths(), {}, std::nullopt), 0), 0U);  // + process series
  EXPECT_NE(r.body.find("\nprocess_resident_memory_bytes "), std::string::npos);
  EXPECT_EQ(endpoint.handle(HttpRequest{"GET", "/", {}}).status, 404U);
  EXPECT_EQ(endpoint.handle(HttpRequest{"GET", "/metrics/x", {}}).status, 404U);
  auto post = endpoint.handle(HttpRequest{"POST", "/metrics", {}});
  EXPECT_EQ(post.status, 405U);
  EXPECT_EQ(post.body, R"({"status":"error","error":"method not allowed"})");
}

}  // namespace
}  // namespace veter::relay
