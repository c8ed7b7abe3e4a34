#include <gtest/gtest.h>

#include <vector>

#include "veter/relay/rtp/rtp_h264.hpp"
#include "veter/relay/rtp/rtp_rewriter.hpp"
#include "veter/relay/rtp/sps_info.hpp"

using namespace veter::relay;

namespace {
using Bytes = std::vector<std::uint8_t>;

// SPS NAL units written by x264enc (gst-launch-1.0 videotestsrc ! x264enc, Debian 12).
const Bytes kSps720Baseline = {0x67, 0x42, 0xc0, 0x1f, 0xd9, 0x00, 0x50, 0x05, 0xbb, 0x01, 0x6a, 0x02, 0x02, 0x02,
                               0x80, 0x00, 0x00, 0x03, 0x00, 0x80, 0x00, 0x00, 0x1e, 0x47, 0x8c, 0x19, 0x24};
const Bytes kSps1080High = {0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02, 0x27, 0xe5, 0xc0, 0x5a, 0x80, 0x80,
                            0x80, 0xa0, 0x00, 0x00, 0x03, 0x00, 0x20, 0x00, 0x00, 0x07, 0x91, 0xe3, 0x06, 0x32, 0xc0};
const Bytes kSps240High = {0x67, 0x64, 0x00, 0x14, 0xac, 0xd9, 0x41, 0x41, 0xfb, 0x01, 0x6a, 0x0c, 0x0c, 0x0d, 0x4a,
                           0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x79, 0x1e, 0x28, 0x53, 0x2c};
const Bytes kPps = {0x68, 0xce, 0x3c, 0x80};
}  // namespace

TEST(RtpH264, SingleNalUnits) {
  auto info = inspect_h264_payload(kSps720Baseline);
  EXPECT_TRUE(info.valid);
  EXPECT_TRUE(info.sps);
  ASSERT_EQ(info.sps_units.size(), 1U);
  EXPECT_EQ(Bytes(info.sps_units[0].begin(), info.sps_units[0].end()), kSps720Baseline);
  info = inspect_h264_payload(Bytes{0x65, 0x88, 0x84, 0x00});
  EXPECT_TRUE(info.idr);
  EXPECT_FALSE(info.sps || info.pps);
  info = inspect_h264_payload(Bytes{0x41, 0x9a, 0x00});
  EXPECT_TRUE(info.valid);
  EXPECT_FALSE(info.idr || info.sps || info.pps);
}

TEST(RtpH264, StapARoundTripsParameterSets) {
  const std::vector<Bytes> units{kSps720Baseline, kPps};
  const Bytes stap = make_stap_a(units);
  EXPECT_EQ(stap[0] & 0x1F, 24);
  EXPECT_EQ(stap[0] & 0x60, 0x60);  // the highest NRI of its units
  const auto info = inspect_h264_payload(stap);
  EXPECT_TRUE(info.valid && info.sps && info.pps);
  ASSERT_EQ(info.sps_units.size(), 1U);
  ASSERT_EQ(info.pps_units.size(), 1U);
  EXPECT_EQ(Bytes(info.pps_units[0].begin(), info.pps_units[0].end()), kPps);
}

TEST(RtpH264, FuAStartOfAnIdrOnly) {
  EXPECT_TRUE(inspect_h264_payload(Bytes{0x7c, 0x85, 0x88}).idr);    // FU-A, start bit, type 5
  EXPECT_FALSE(inspect_h264_payload(Bytes{0x7c, 0x05, 0x88}).idr);   // continuation fragment
  EXPECT_FALSE(inspect_h264_payload(Bytes{0x7c, 0x81, 0x9a}).idr);   // start of a non-IDR slice
  EXPECT_FALSE(inspect_h264_payload(Bytes{0x7c}).valid);             // truncated FU header
}

TEST(RtpH264, MalformedPayloadsAreHarmless) {
  EXPECT_FALSE(inspect_h264_payload({}).valid);
  EXPECT_FALSE(inspect_h264_payload(Bytes{0x80 | 0x05, 0x00}).valid);  // forbidden bit
  EXPECT_FALSE(inspect_h264_payload(Bytes{0x1e, 0x00}).valid);         // type 30: not in packetization-mode 1
  // STAP-A whose second length runs past the end: the first unit still counts, nothing is read beyond.
  const Bytes bad = {0x78, 0x00, 0x04, 0x68, 0xce, 0x3c, 0x80, 0x00, 0x40, 0x67};
  const auto info = inspect_h264_payload(bad);
  EXPECT_TRUE(info.pps);
  EXPECT_FALSE(info.sps);
}

TEST(SpsInfo, SizeProfileAndLevelFromX264) {
  auto t = parse_sps(kSps720Baseline);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->width, 1280);
  EXPECT_EQ(t->height, 720);
  EXPECT_EQ(t->profile, "constrained-baseline");
  EXPECT_EQ(t->level, "3.1");
  t = parse_sps(kSps1080High);  // 1088 coded lines, cropped to 1080
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->width, 1920);
  EXPECT_EQ(t->height, 1080);
  EXPECT_EQ(t->profile, "high");
  EXPECT_EQ(t->level, "4");
  t = parse_sps(kSps240High);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->width, 320);
  EXPECT_EQ(t->height, 240);
  EXPECT_EQ(t->level, "2");
}

TEST(SpsInfo, GarbageIsNotAnSps) {
  EXPECT_FALSE(parse_sps(kPps).has_value());
  EXPECT_FALSE(parse_sps(Bytes{0x67}).has_value());
  EXPECT_FALSE(parse_sps(Bytes{0x67, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}).has_value());
  EXPECT_EQ(h264_level_name(11, true, 66), "1b");
  EXPECT_EQ(h264_profile_name(66, false, false), "baseline");
}

TEST(RtpRewriter, OneContinuousLineAcrossPublishers) {
  RtpRewriter rw(0x1234, 1000, 50000);
  EXPECT_EQ(rw.ssrc(), 0x1234U);
  const std::int64_t ms = 1'000'000;
  // First publisher: starts where the line starts, keeps its own spacing.
  auto a = rw.map(0xAAAA, 40000, 7000, 0);
  EXPECT_EQ(a.seq, 1000);
  EXPECT_EQ(a.timestamp, 50000U);
  auto b = rw.map(0xAAAA, 40001, 10000, 33 * ms);
  EXPECT_EQ(b.seq, 1001);
  EXPECT_EQ(b.timestamp, 53000U);
  // Reordered late packet: mapped with the same offsets, does not move the line back.
  auto late = rw.map(0xAAAA, 39999, 4000, 34 * ms);
  EXPECT_EQ(late.seq, 999);
  // A new publisher 3 s later: sequence continues at +1, timestamp by the wall-clock gap.
  auto c = rw.map(0xBBBB, 7, 123, 3033 * ms);
  EXPECT_EQ(c.seq, 1002);
  EXPECT_EQ(c.timestamp, 53000U + 3 * 90000U);
  auto d = rw.map(0xBBBB, 8, 3123, 3066 * ms);
  EXPECT_EQ(d.seq, 1003);
  EXPECT_EQ(d.timestamp, c.timestamp + 3000U);
  EXPECT_EQ(rw.switches(), 1U);
}

TEST(RtpRewriter, WrapsAndInsertsWithoutDuplicates) {
  RtpRewriter rw(1, 65535, 0xFFFFFF00U);
  auto a = rw.map(9, 100, 0, 0);
  EXPECT_EQ(a.seq, 65535);
  auto b = rw.map(9, 101, 3000, 33'000'000);
  EXPECT_EQ(b.seq, 0);  // 16-bit wrap
  EXPECT_EQ(b.timestamp, 0xFFFFFF00U + 3000U);  // 32-bit wrap
  // An inserted packet takes the next number and the last timestamp...
  auto ins = rw.insert(40'000'000);
  EXPECT_EQ(ins.seq, 1);
  EXPECT_EQ(ins.timestamp, b.timestamp);
  // ...and the publisher's next packet moves up by one.
  auto c = rw.map(9, 102, 6000, 66'000'000);
  EXPECT_EQ(c.seq, 2);
  EXPECT_EQ(c.timestamp, 0xFFFFFF00U + 6000U);
}

TEST(RtpRewriter, NextNamesThePacketAJoiningViewerGetsFirst) {
  RtpRewriter rw(1, 500, 9000);
  const std::int64_t ms = 1'000'000;
  rw.map(7, 10, 0, 0);
  // 20 ms after the last picture: the next number, the timestamp moved on by 20 ms.
  auto n = rw.next(20 * ms);
  EXPECT_EQ(n.seq, 501);
  EXPECT_EQ(n.timestamp, 9000U + 1800U);
  // Asking changes nothing: the inserted parameter sets take that number...
  EXPECT_EQ(rw.next(20 * ms).seq, 501);
  EXPECT_EQ(rw.insert(21 * ms).seq, 501);
  // ...and the picture after them the one after.
  EXPECT_EQ(rw.map(7, 11, 3000, 33 * ms).seq, 502);
  // A steady 30 fps source: the next picture one interval (3000 ticks) later, whenever asked.
  rw.map(7, 12, 6000, 66 * ms);
  EXPECT_EQ(rw.next(70 * ms).timestamp, 9000U + 9000U);
  EXPECT_EQ(rw.next(95 * ms).timestamp, 9000U + 9000U);
  // After a pause of more than two intervals: the time since the last picture.
  EXPECT_EQ(rw.next(166 * ms).timestamp, 9000U + 6000U + 9000U);
}

// Packets nobody receives (a prepared media waiting for its first PLAY with its first packet
// held) take no numbers: the next packet given out follows the last one given out.
TEST(RtpRewriter, PacketsPassedOverLeaveNoGap) {
  RtpRewriter rw(1, 100, 0);
  const std::int64_t ms = 1'000'000;
  EXPECT_EQ(rw.map(7, 10, 0, 0).seq, 100);
  EXPECT_EQ(rw.insert(1 * ms).seq, 101);  // the parameter sets the media holds
  rw.pass_over(7, 11, 3000, 33 * ms);
  rw.pass_over(7, 12, 6000, 66 * ms);
  rw.pass_over(7, 10, 0, 67 * ms);  // a late duplicate changes nothing
  // RTP-Info for a viewer joining now: the number after the held packet, the timeline moved on.
  EXPECT_EQ(rw.next(70 * ms).seq, 102);
  EXPECT_EQ(rw.next(70 * ms).timestamp, 9000U);
  const auto n = rw.map(7, 13, 9000, 99 * ms);
  EXPECT_EQ(n.seq, 102);
  EXPECT_EQ(n.timestamp, 9000U);  // timestamps keep the source's spacing
  EXPECT_EQ(rw.map(7, 14, 12000, 133 * ms).seq, 103);
  // A new publisher while nobody watches: still no gap, timestamps by the wall clock.
  rw.pass_over(8, 500, 77, 1133 * ms);
  const auto m = rw.map(8, 501, 3077, 1166 * ms);
  EXPECT_EQ(m.seq, 104);
  EXPECT_EQ(m.timestamp, 12000U + 90000U + 3000U);
  // Before anything was given out: the line still starts where it was told to.
  RtpRewriter fresh(1, 40, 500);
  fresh.pass_over(3, 1000, 0, 0);
  EXPECT_EQ(fresh.map(3, 1001, 3000, 33 * ms).seq, 40);
}

TEST(RtpRewriter, SameInstantSwitchStillAdvancesTheTimestamp) {
  RtpRewriter rw(1, 0, 100);
  rw.map(5, 10, 0, 0);
  const auto n = rw.map(6, 500, 999, 0);  // new source in the same nanosecond
  EXPECT_EQ(n.seq, 1);
  EXPECT_EQ(n.timestamp, 101U);
}

#include <gst/gst.h>

#include <memory>

#include "veter/common/gst_ptr.hpp"
#include "veter/relay/serve/rtp_appsrc.hpp"

TEST(RtpAppsrc, AnswersThePayloaderQuestionsOfGstRtspServer) {
  gst_init(nullptr, nullptr);
  ASSERT_TRUE(register_rtp_appsrc());
  auto src = veter::common::adopt_floating(gst_element_factory_make("veterrtpsrc", nullptr));
  ASSERT_TRUE(src);
  g_object_set(src.get(), "pt", 97U, nullptr);
  rtp_appsrc_note_packet(src.get(), 65535, 123456, 5 * GST_SECOND);
  GstStructure* raw = nullptr;
  guint pt = 0;
  g_object_get(src.get(), "stats", &raw, "pt", &pt, nullptr);
  const veter::common::StructurePtr owner(raw);
  GstStructure* stats = owner.get();
  ASSERT_NE(stats, nullptr);
  EXPECT_EQ(pt, 97U);
  // gst-rtsp-server 1.22 takes RTP-Info's seq from "seqnum-offset": the next packet's number.
  guint seq = 1;
  guint seq_offset = 1;
  guint ts = 0;
  guint64 running = 0;
  EXPECT_TRUE(gst_structure_get_uint(stats, "seqnum", &seq));
  EXPECT_TRUE(gst_structure_get_uint(stats, "seqnum-offset", &seq_offset));
  EXPECT_TRUE(gst_structure_get_uint(stats, "timestamp", &ts));
  EXPECT_TRUE(gst_structure_get_uint64(stats, "running-time", &running));
  EXPECT_EQ(seq, 0U);  // 65535 + 1 wraps
  EXPECT_EQ(seq_offset, 0U);
  EXPECT_EQ(ts, 123456U);
  EXPECT_EQ(running, 5 * GST_SECOND);
}
