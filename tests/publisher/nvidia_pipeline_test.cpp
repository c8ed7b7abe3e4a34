// The NVIDIA path as far as it can be checked without a Jetson: the builder's golden
// nvarguscamerasrc/nvvidconv/nvv4l2h264enc pipelines parse strictly against the stand-ins (the
// properties and ranges L4T documents), run, and answer a keyframe request and a live bitrate
// change the way the publisher makes them.
#include <gtest/gtest.h>

#include <gst/gst.h>
#include <gst/video/video.h>

#include <atomic>
#include <thread>

#include "nvidia_standins.hpp"
#include "process.hpp"
#include "rtp_receiver.hpp"
#include "veter/common/gst_ptr.hpp"
#include "veter/publisher/encoder_bitrate.hpp"
#include "veter/publisher/pipeline_builder.hpp"

using namespace std::chrono_literals;
using namespace veter;
using namespace veter::publisher;

namespace {

class Environment : public ::testing::Environment {
 public:
  void SetUp() override {
    gst_init(nullptr, nullptr);
    veter::test::register_nvidia_standins();
  }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new Environment);

bool standins_in_use() {
  common::GstPtr<GstElementFactory> f(gst_element_factory_find("nvv4l2h264enc"));
  return f && g_str_equal(gst_element_factory_get_metadata(f.get(), GST_ELEMENT_METADATA_KLASS), "Test/Standin");
}

/// GObject's warnings while parsing: an out-of-range value is only a g_warning there (the
/// property keeps its old value), which a real pipeline would run with unnoticed.
struct WarningCatcher {
  WarningCatcher() {
    id = g_log_set_handler("GLib-GObject", static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL),
                           &WarningCatcher::on_log, this);
  }
  ~WarningCatcher() { g_log_remove_handler("GLib-GObject", id); }
  WarningCatcher(const WarningCatcher&) = delete;
  WarningCatcher& operator=(const WarningCatcher&) = delete;
  static void on_log(const gchar*, GLogLevelFlags, const gchar* message, gpointer self) {
    static_cast<WarningCatcher*>(self)->messages += std::string(message) + "\n";
  }
  guint id = 0;
  std::string messages;
};

/// Parse like the publisher does, and fail on a parse error or any GObject warning.
common::ElementPtr parse_strict(const std::string& desc, std::string* error) {
  WarningCatcher warnings;
  common::GErrorPtr err;
  auto p = veter::test::parse_like_l4t(desc, &err);
  if (err || !warnings.messages.empty()) {
    *error = (err ? std::string(err->message) + "\n" : std::string()) + warnings.messages;
    return {};
  }
  return p;
}

std::vector<std::string> take_violations() {
  auto& v = veter::test::standin_violations();
  std::lock_guard<std::mutex> lock(v.mutex);
  auto out = v.messages;
  v.messages.clear();
  return out;
}

guint uint_prop(GstElement* e, const char* name) {
  guint v = 0;
  g_object_get(e, name, &v, nullptr);
  return v;
}

class NvidiaPipeline : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!standins_in_use()) {
      GTEST_SKIP() << "the real NVIDIA elements are installed: these tests drive the stand-ins";
    }
    // The receiver decodes (scripts/deps.sh installs these; the Debian 11 stage has no libav).
    for (const char* e : {"x264enc", "h264parse", "avdec_h264"}) {
      if (common::GstPtr<GstElementFactory> f{gst_element_factory_find(e)}; !f) {
        GTEST_SKIP() << "element " << e << " is not installed";
      }
    }
    take_violations();
  }
  void TearDown() override {
    if (pipeline_) {
      gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    }
    EXPECT_TRUE(take_violations().empty());
  }

  /// The builder's pipeline for `source` -> nvv4l2h264enc, 320x240@30 to a receiver here, playing.
  void start(SourceKind source) {
    cfg_.width = 320;
    cfg_.height = 240;
    cfg_.fps = 30;
    cfg_.bitrate_kbps = 800;
    cfg_.keyframe_interval = 3600;  // any later IDR is a requested one
    cfg_.destination = {"127.0.0.1", static_cast<std::uint16_t>(port_)};
    cfg_.local_port = 0;
    Selection sel;
    sel.source = source;
    sel.device = source == SourceKind::argus ? "0" : "";
    sel.encoder = EncoderKind::nvv4l2h264enc;
    std::string error;
    pipeline_ = parse_strict(build_pipeline_description(cfg_, sel), &error);
    ASSERT_TRUE(pipeline_) << error;
    encoder_ = common::bin_child(pipeline_.get(), element::encoder);
    ASSERT_TRUE(encoder_);
    rx_.start();
    ASSERT_NE(gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    ASSERT_TRUE(rx_.wait_for_frames(30, 20s)) << "decoded " << rx_.decoded_frames();
  }

  PublisherConfig cfg_;
  int port_ = veter::test::free_udp_port(true);
  veter::test::RtpH264Receiver rx_{port_};
  common::ElementPtr pipeline_;
  common::ElementPtr encoder_;
};

}  // namespace

TEST(NvidiaStandinRanges, OutOfRangeAndMisspeltPropertiesFailTheStrictParse) {
  if (!standins_in_use()) {
    GTEST_SKIP() << "the real NVIDIA elements are installed";
  }
  for (const char* bad : {
           "nvv4l2h264enc num-B-Frames=3 ! fakesink",       // L4T: 0..2
           "nvv4l2h264enc poc-type=5 ! fakesink",           // 0..2
           "nvv4l2h264enc preset-level=7 ! fakesink",       // enum 0..4
           "nvv4l2h264enc control-rate=2 ! fakesink",       // enum 0..1
           "nvv4l2h264enc idr-interval=30 ! fakesink",      // idrinterval
           "nvv4l2h264enc insert-sps-pps=2 ! fakesink",     // boolean
           "nvarguscamerasrc sensor-id=300 ! fakesink",     // 0..255
           "nvarguscamerasrc saturation=3.5 ! fakesink",    // 0..2
           "nvarguscamerasrc exposurecompensation=-3 ! fakesink",  // -2..2
           "fakesrc ! nvvidconv flip-method=9 ! fakesink",  // enum 0..7
       }) {
    std::string error;
    EXPECT_FALSE(parse_strict(bad, &error)) << "accepted: " << bad;
  }
  std::string error;
  EXPECT_TRUE(parse_strict("nvarguscamerasrc sensor-id=255 saturation=2 ! nvvidconv flip-method=7 ! "
                           "nvv4l2h264enc num-B-Frames=0 poc-type=2 preset-level=4 control-rate=0 "
                           "bitrate=4294967295 ! fakesink",
                           &error))
      << error;
}

TEST(NvidiaGolden, EncoderGetsTheLowLatencyPropertiesInBitsPerSecond) {
  if (!standins_in_use()) {
    GTEST_SKIP() << "the real NVIDIA elements are installed";
  }
  PublisherConfig cfg;
  cfg.bitrate_kbps = 2500;
  cfg.keyframe_interval = 60;
  Selection sel;
  sel.source = SourceKind::argus;
  sel.device = "0";
  sel.encoder = EncoderKind::nvv4l2h264enc;
  std::string error;
  auto p = parse_strict(build_pipeline_description(cfg, sel), &error);
  ASSERT_TRUE(p) << error;
  auto enc = common::bin_child(p.get(), element::encoder);
  ASSERT_TRUE(enc);
  EXPECT_EQ(uint_prop(enc.get(), "bitrate"), 2'500'000U) << "nvv4l2h264enc takes bit/s";
  EXPECT_EQ(uint_prop(enc.get(), "iframeinterval"), 60U);
  EXPECT_EQ(uint_prop(enc.get(), "idrinterval"), 60U) << "every I-frame an IDR";
  EXPECT_EQ(uint_prop(enc.get(), "num-B-Frames"), 0U);
  gboolean sps_pps = FALSE;
  gboolean maxperf = FALSE;
  gint control_rate = -1;
  gint preset = -1;
  gint profile = -1;
  g_object_get(enc.get(), "insert-sps-pps", &sps_pps, "maxperf-enable", &maxperf, "control-rate", &control_rate,
               "preset-level", &preset, "profile", &profile, nullptr);
  EXPECT_TRUE(sps_pps);
  EXPECT_TRUE(maxperf);
  EXPECT_EQ(control_rate, 1) << "constant_bitrate";
  EXPECT_EQ(preset, 1) << "UltraFastPreset";
  EXPECT_EQ(profile, 0) << "Baseline: no B-frames";
}

TEST_F(NvidiaPipeline, TestSourceThroughNvvidconvRunsAndDecodes) {
  start(SourceKind::test);
  EXPECT_EQ(rx_.last_size(), (std::pair<int, int>{320, 240}));
}

TEST_F(NvidiaPipeline, ArgusZeroCopyRunsAndAnswersForceKeyUnit) {
  start(SourceKind::argus);
  EXPECT_EQ(rx_.last_size(), (std::pair<int, int>{320, 240}));
  const auto before = rx_.access_units().size();
  std::size_t keyframes_before = 0;
  for (const auto& au : rx_.access_units()) {
    keyframes_before += au.keyframe ? 1 : 0;
  }
  // What the publisher does for a PLI: an upstream force-key-unit event into the encoder's src pad.
  auto pad = common::static_pad(encoder_.get(), "src");
  ASSERT_TRUE(gst_pad_send_event(pad.get(), gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0)));
  ASSERT_TRUE(rx_.wait_for_frames(before + 30, 20s));
  std::size_t keyframes = 0;
  for (const auto& au : rx_.access_units()) {
    keyframes += au.keyframe ? 1 : 0;
  }
  EXPECT_GT(keyframes, keyframes_before) << "no IDR after force-key-unit (GOP is 3600 frames)";
}

TEST_F(NvidiaPipeline, LiveBitrateChangeIsInBitsPerSecondAndAllowedWhilePlaying) {
  start(SourceKind::test);
  EXPECT_EQ(uint_prop(encoder_.get(), "bitrate"), 800'000U);
  ASSERT_TRUE(set_encoder_bitrate(encoder_.get(), EncoderKind::nvv4l2h264enc, 300));
  EXPECT_EQ(uint_prop(encoder_.get(), "bitrate"), 300'000U);
  const auto n = rx_.access_units().size();
  EXPECT_TRUE(rx_.wait_for_frames(n + 30, 20s)) << "frames stopped after the bitrate change";
  EXPECT_TRUE(take_violations().empty());
  // The check can fail: a property L4T applies only at start, changed while playing, is caught.
  g_object_set(encoder_.get(), "iframeinterval", 30U, nullptr);
  const auto v = take_violations();
  ASSERT_EQ(v.size(), 1U);
  EXPECT_NE(v.front().find("iframeinterval"), std::string::npos) << v.front();
}

TEST(EncoderBitrate, EachEncoderInItsOwnUnit) {
  EXPECT_EQ(live_bitrate_value(EncoderKind::nvv4l2h264enc, 1500), 1'500'000U);
  EXPECT_EQ(live_bitrate_value(EncoderKind::openh264enc, 1500), 1'500'000U);
  EXPECT_EQ(live_bitrate_value(EncoderKind::x264enc, 1500), 1500U);
  EXPECT_EQ(live_bitrate_value(EncoderKind::vah264enc, 1500), 1500U);
  EXPECT_FALSE(live_bitrate_value(EncoderKind::v4l2h264enc, 1500));
  EXPECT_FALSE(live_bitrate_value(EncoderKind::x264enc, 0));
}

TEST(EncoderBitrate, RealX264ChangesWhileRunningAndOutOfRangeIsRefused) {
  auto x264 = common::adopt_floating(gst_element_factory_make("x264enc", nullptr));
  if (!x264) {
    GTEST_SKIP() << "x264enc not installed";
  }
  EXPECT_TRUE(set_encoder_bitrate(x264.get(), EncoderKind::x264enc, 900));
  EXPECT_EQ(uint_prop(x264.get(), "bitrate"), 900U);
  EXPECT_FALSE(set_encoder_bitrate(x264.get(), EncoderKind::x264enc, 5'000'000)) << "x264enc max is 2048000 kbit/s";
  EXPECT_EQ(uint_prop(x264.get(), "bitrate"), 900U);
  EXPECT_FALSE(set_encoder_bitrate(nullptr, EncoderKind::x264enc, 900));
}
