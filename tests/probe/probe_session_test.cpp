// The probe's measuring core against a real stamped x264 stream sent over RTP on
// loopback (rtp://@:PORT mode), without the publisher or relay.
#include "veter/probe/probe_session.hpp"

#include <gst/gst.h>
#include <gtest/gtest.h>

#include "process.hpp"
#include "stamp_inserter.hpp"

using veter::probe::ProbeOptions;
using veter::probe::ProbeSession;

namespace {
class ProbeSessionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { gst_init(nullptr, nullptr); }
};
}  // namespace

TEST_F(ProbeSessionTest, MeasuresAStampedRtpStream) {
  const int port = veter::test::free_udp_port();
  veter::test::StampedRtpSender sender(port, 320, 240, 30);
  ProbeOptions opts;
  opts.url = "rtp://@:" + std::to_string(port);
  opts.duration_s = 3;
  ProbeSession session(opts);
  int statuses = 0;
  const auto r = session.run([&](const veter::probe::ProbeReport&) { ++statuses; }, 500);
  EXPECT_EQ(r.exit_code, 0) << r.error;
  EXPECT_GE(statuses, 3);
  EXPECT_GE(r.frames, 30U);  // 3 s at 30 fps, generous under load
  EXPECT_GE(r.keyframes, 1U);
  EXPECT_GT(r.fps, 5.0);
  EXPECT_GT(r.bitrate_kbps, 0.0);
  EXPECT_GT(r.rtp_packets, r.frames);
  ASSERT_TRUE(r.latency_available());
  EXPECT_EQ(r.frames_with_timestamp, r.frames_received);  // every access unit carried its stamp
  EXPECT_EQ(r.capture_to_arrival_ms->count, r.frames_received);
  EXPECT_GE(r.capture_to_arrival_ms->min, 0.0);   // same host: nothing arrives before capture
  EXPECT_LT(r.capture_to_arrival_ms->p50, 2000.0);
  EXPECT_EQ(r.negative_latencies, 0U);
  ASSERT_TRUE(r.time_to_first_frame_ms);
  EXPECT_FALSE(r.capture_to_decoded_ms.has_value());  // not decoding
}

// x264 sliced threads give several slices per frame, and rtph264pay config-interval=-1 repeats
// SPS/PPS before each IDR slice, so the depayloader pushes an IDR frame as two buffers: the
// probe must still count one frame, one keyframe and one latency sample per frame.
TEST_F(ProbeSessionTest, FramesSplitByTheDepayloaderCountOnce) {
  const int port = veter::test::free_udp_port();
  veter::test::StampedRtpSender sender(port, 640, 360, 30, 800, "ball", true);
  ProbeOptions opts;
  opts.url = "rtp://@:" + std::to_string(port);
  opts.duration_s = 3.5;
  ProbeSession session(opts);
  const auto r = session.run({}, 0);
  EXPECT_EQ(r.exit_code, 0) << r.error;
  EXPECT_GE(r.frames_received, 30U);
  EXPECT_EQ(r.frames_with_timestamp, r.frames_received);
  // One IDR a second (key-int-max = fps): 3-4 in 3.5 s, not twice that.
  EXPECT_GE(r.keyframes, 2U);
  EXPECT_LE(r.keyframes, 5U);
  EXPECT_LE(r.fps, 40.0);
}

TEST_F(ProbeSessionTest, DecodesAndMeasuresCaptureToDecoded) {
  const int port = veter::test::free_udp_port();
  veter::test::StampedRtpSender sender(port, 320, 240, 30);
  ProbeOptions opts;
  opts.url = "rtp://@:" + std::to_string(port);
  opts.duration_s = 3;
  opts.decode = true;
  ProbeSession session(opts);
  const auto r = session.run({}, 0);
  EXPECT_EQ(r.exit_code, 0) << r.error;
  EXPECT_GE(r.frames, 30U);  // decoded frames
  EXPECT_EQ(r.decode_errors, 0U);
  EXPECT_EQ(r.width, 320);
  EXPECT_EQ(r.height, 240);
  ASSERT_TRUE(r.capture_to_decoded_ms.has_value());
  ASSERT_TRUE(r.capture_to_arrival_ms.has_value());
  // Nearly every decoded picture is matched to its capture stamp.
  EXPECT_GE(static_cast<double>(r.capture_to_decoded_ms->count), 0.9 * static_cast<double>(r.frames));
  // Decoding comes after arrival.
  EXPECT_GE(r.capture_to_decoded_ms->p50, r.capture_to_arrival_ms->p50);
}

TEST_F(ProbeSessionTest, UnstampedStreamHasNoLatencyButEverythingElse) {
  const int port = veter::test::free_udp_port();
  GError* raw = nullptr;
  veter::common::ElementPtr sender = veter::common::adopt_floating(gst_parse_launch(
      ("videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ! "
       "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 ! rtph264pay config-interval=-1 ! "
       "udpsink host=127.0.0.1 port=" + std::to_string(port)).c_str(), &raw));
  veter::common::GErrorPtr err(raw);
  ASSERT_FALSE(err);
  gst_element_set_state(sender.get(), GST_STATE_PLAYING);
  ProbeOptions opts;
  opts.url = "rtp://@:" + std::to_string(port);
  opts.duration_s = 2;
  ProbeSession session(opts);
  const auto r = session.run({}, 0);
  gst_element_set_state(sender.get(), GST_STATE_NULL);
  EXPECT_EQ(r.exit_code, 0) << r.error;
  EXPECT_GE(r.frames, 10U);
  EXPECT_FALSE(r.latency_available());
  EXPECT_EQ(r.frames_with_timestamp, 0U);
}

TEST_F(ProbeSessionTest, NothingArrivingIsAFailure) {
  ProbeOptions opts;
  opts.url = "rtp://@:" + std::to_string(veter::test::free_udp_port());
  opts.duration_s = 1;
  ProbeSession session(opts);
  const auto r = session.run({}, 0);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.frames, 0U);
  EXPECT_FALSE(r.error.empty());
}
