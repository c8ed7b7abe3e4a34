// The capture-time SEI on REAL encoder output: x264enc access units stamped with the
// veter SEI are found again (and only ours: x264 writes its own user-data SEI with
// another UUID), survive RTP packetisation both ways, and still decode.
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <span>
#include <string>
#include <vector>

#include "veter/common/gst_ptr.hpp"
#include "veter/common/sei_timestamp.hpp"

namespace sei = veter::common::sei;
using veter::common::ElementPtr;

namespace {

constexpr int kFrames = 30;

ElementPtr launch(const std::string& desc) {
  GError* raw = nullptr;
  ElementPtr p = veter::common::adopt_floating(gst_parse_launch(desc.c_str(), &raw));
  veter::common::GErrorPtr err(raw);
  EXPECT_FALSE(err) << (err ? err->message : "");
  return p;
}

std::vector<std::uint8_t> bytes_of(GstBuffer* buf) {
  const veter::common::MappedBuffer map(buf, GST_MAP_READ);
  if (!map) {
    return {};
  }
  return std::vector<std::uint8_t>(map.bytes().begin(), map.bytes().end());
}

// Pull every sample an appsink gets until EOS (bounded: 20 s per sample).
// `pts` (optional) receives each sample's PTS.
std::vector<std::vector<std::uint8_t>> drain(GstElement* pipeline, const char* sink_name,
                                             std::vector<GstClockTime>* pts = nullptr) {
  auto sink = veter::common::bin_child(pipeline, sink_name);
  std::vector<std::vector<std::uint8_t>> out;
  for (;;) {
    veter::common::SamplePtr s(gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), 20 * GST_SECOND));
    if (!s) {
      break;
    }
    out.push_back(bytes_of(gst_sample_get_buffer(s.get())));
    if (pts != nullptr) {
      pts->push_back(GST_BUFFER_PTS(gst_sample_get_buffer(s.get())));
    }
  }
  return out;
}

// rtph264depay may push one frame as several buffers (rtph264pay config-interval=-1
// repeats SPS/PPS in front of every slice of a multi-slice IDR, and SPS after a slice
// starts a new access unit for the depayloader): join the buffers of one timestamp.
std::vector<std::vector<std::uint8_t>> join_frames(const std::vector<std::vector<std::uint8_t>>& bufs,
                                                   const std::vector<GstClockTime>& pts) {
  std::vector<std::vector<std::uint8_t>> frames;
  for (std::size_t i = 0; i < bufs.size(); ++i) {
    if (i > 0 && pts[i] == pts[i - 1]) {
      frames.back().insert(frames.back().end(), bufs[i].begin(), bufs[i].end());
    } else {
      frames.push_back(bufs[i]);
    }
  }
  return frames;
}

std::vector<int> nal_types(std::span<const std::uint8_t> au) {
  std::vector<int> t;
  sei::for_each_annexb_nal(au, [&](std::span<const std::uint8_t> nal) { t.push_back(nal[0] & 0x1F); });
  return t;
}

// Stamps with bytes that force emulation prevention (00 00 01 / 00 00 03 inside).
std::int64_t stamp_for(int i) { return static_cast<std::int64_t>(0x0000000100000000LL + (i % 4)) + i * 0x1000000LL; }

class SeiRealEncoder : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { gst_init(nullptr, nullptr); }

  void SetUp() override {
    auto enc = launch(
        "videotestsrc num-buffers=" + std::to_string(kFrames) +
        " pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! "
        "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 bitrate=500 ! "
        "video/x-h264,profile=baseline,stream-format=byte-stream,alignment=au ! appsink name=sink sync=false");
    ASSERT_TRUE(enc);
    gst_element_set_state(enc.get(), GST_STATE_PLAYING);
    encoded_ = drain(enc.get(), "sink");
    gst_element_set_state(enc.get(), GST_STATE_NULL);
    ASSERT_EQ(encoded_.size(), static_cast<std::size_t>(kFrames));
    for (int i = 0; i < kFrames; ++i) {
      stamped_.push_back(sei::insert_timestamp_annexb(encoded_[static_cast<std::size_t>(i)], stamp_for(i)));
    }
  }

  // Push the stamped access units through `tail` (which starts after an appsrc named src).
  std::vector<std::vector<std::uint8_t>> through(const std::string& tail) {
    auto p = launch(
        "appsrc name=src format=time is-live=false "
        "caps=video/x-h264,stream-format=byte-stream,alignment=au,width=320,height=240,framerate=30/1 ! " +
        tail);
    EXPECT_TRUE(p);
    auto src = veter::common::bin_child(p.get(), "src");
    gst_element_set_state(p.get(), GST_STATE_PLAYING);
    for (int i = 0; i < kFrames; ++i) {
      const auto& au = stamped_[static_cast<std::size_t>(i)];
      GstBuffer* b = gst_buffer_new_memdup(au.data(), au.size());
      GST_BUFFER_PTS(b) = static_cast<GstClockTime>(i) * GST_SECOND / 30;
      GST_BUFFER_DURATION(b) = GST_SECOND / 30;
      EXPECT_EQ(gst_app_src_push_buffer(GST_APP_SRC(src.get()), b), GST_FLOW_OK);  // takes b
    }
    gst_app_src_end_of_stream(GST_APP_SRC(src.get()));
    last_pts_.clear();
    auto out = drain(p.get(), "sink", &last_pts_);
    gst_element_set_state(p.get(), GST_STATE_NULL);
    return out;
  }

  std::vector<std::vector<std::uint8_t>> encoded_;
  std::vector<std::vector<std::uint8_t>> stamped_;
  std::vector<GstClockTime> last_pts_;
};

}  // namespace

TEST_F(SeiRealEncoder, X264OutputHasNoVeterStampOfItsOwn) {
  // x264 puts a user-data-unregistered SEI (its version banner) in the first access unit:
  // a different UUID, which must not be taken for a timestamp.
  bool x264_sei = false;
  for (const auto& au : encoded_) {
    EXPECT_FALSE(sei::find_timestamp_annexb(au).has_value());
    for (int t : nal_types(au)) {
      x264_sei = x264_sei || t == 6;
    }
  }
  EXPECT_TRUE(x264_sei) << "expected x264's own SEI in the stream (the case this test guards)";
}

TEST_F(SeiRealEncoder, StampsAreFoundInEveryAccessUnit) {
  for (int i = 0; i < kFrames; ++i) {
    const auto& au = stamped_[static_cast<std::size_t>(i)];
    const auto ts = sei::find_timestamp_annexb(au);
    ASSERT_TRUE(ts.has_value()) << "frame " << i;
    EXPECT_EQ(*ts, stamp_for(i));
    // The SEI goes right before the first slice; every original NAL is kept in order.
    auto orig = nal_types(encoded_[static_cast<std::size_t>(i)]);
    auto now = nal_types(au);
    ASSERT_EQ(now.size(), orig.size() + 1);
    std::size_t first_vcl = 0;
    while (first_vcl < orig.size() && !(orig[first_vcl] >= 1 && orig[first_vcl] <= 5)) {
      ++first_vcl;
    }
    EXPECT_EQ(now[first_vcl], 6);
    now.erase(now.begin() + static_cast<long>(first_vcl));
    EXPECT_EQ(now, orig);
  }
}

TEST_F(SeiRealEncoder, StampsSurviveRtpToAvc) {
  const auto out = through(
      "h264parse ! rtph264pay pt=96 mtu=400 config-interval=-1 ! rtph264depay ! "
      "video/x-h264,stream-format=avc,alignment=au ! appsink name=sink sync=false");
  ASSERT_EQ(out.size(), static_cast<std::size_t>(kFrames));
  for (int i = 0; i < kFrames; ++i) {
    const auto ts = sei::find_timestamp_avc(out[static_cast<std::size_t>(i)], 4);
    ASSERT_TRUE(ts.has_value()) << "frame " << i;
    EXPECT_EQ(*ts, stamp_for(i));
  }
}

TEST_F(SeiRealEncoder, StampsSurviveRtpToByteStream) {
  const auto raw_out = through(
      "rtph264pay pt=96 mtu=1200 config-interval=-1 ! rtph264depay ! "
      "video/x-h264,stream-format=byte-stream,alignment=au ! appsink name=sink sync=false");
  const auto out = join_frames(raw_out, last_pts_);
  ASSERT_EQ(out.size(), static_cast<std::size_t>(kFrames));
  for (int i = 0; i < kFrames; ++i) {
    const auto ts = sei::find_timestamp_annexb(out[static_cast<std::size_t>(i)]);
    ASSERT_TRUE(ts.has_value()) << "frame " << i;
    EXPECT_EQ(*ts, stamp_for(i));
  }
}

TEST_F(SeiRealEncoder, StampedStreamStillDecodes) {
  const auto out = through("h264parse ! avdec_h264 ! video/x-raw,width=320,height=240 ! appsink name=sink sync=false");
  EXPECT_EQ(out.size(), static_cast<std::size_t>(kFrames));
}
