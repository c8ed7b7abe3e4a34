// The pipeline builder: golden descriptions for every source x encoder, and
// every combination whose elements exist (real or documented stand-ins) parsed.
#include <gtest/gtest.h>

#include <gst/gst.h>

#include <set>
#include <string>
#include <vector>

#include "nvidia_standins.hpp"
#include "veter/common/gst_ptr.hpp"
#include "veter/publisher/pipeline_builder.hpp"

using namespace veter;
using namespace veter::publisher;

namespace {

// ---- golden pieces, written out by hand ----
const std::string kArgus =
    "nvarguscamerasrc name=src sensor-id=0 ! video/x-raw(memory:NVMM),width=1280,height=720,framerate=30/1,format=NV12";
const std::string kV4l2Raw = "v4l2src name=src device=/dev/video0 ! video/x-raw,width=1280,height=720,framerate=30/1";
const std::string kV4l2Mjpeg =
    "v4l2src name=src device=/dev/video0 ! image/jpeg,width=1280,height=720,framerate=30/1 ! jpegdec";
const std::string kTest =
    "videotestsrc name=src is-live=true pattern=ball ! video/x-raw,width=1280,height=720,framerate=30/1 ! "
    "clockoverlay time-format=\"%Y-%m-%d %H:%M:%S\" halignment=right valignment=top";

const std::string kNvenc =
    "nvv4l2h264enc name=enc bitrate=2000000 control-rate=1 profile=0 preset-level=1 iframeinterval=30 idrinterval=30 "
    "num-B-Frames=0 insert-sps-pps=true insert-vui=true maxperf-enable=true ! video/x-h264,stream-format=byte-stream,alignment=au";
const std::string kV4l2enc =
    "v4l2h264enc name=enc extra-controls=\"controls,video_bitrate=2000000,video_gop_size=30,h264_i_frame_period=30,"
    "repeat_sequence_header=1\" ! video/x-h264,stream-format=byte-stream,alignment=au,profile=constrained-baseline";
const std::string kVaenc =
    "vah264enc name=enc rate-control=cbr bitrate=2000 key-int-max=30 b-frames=0 target-usage=7 ! "
    "video/x-h264,stream-format=byte-stream,alignment=au,profile=constrained-baseline";
const std::string kX264 =
    "x264enc name=enc tune=zerolatency speed-preset=ultrafast bitrate=2000 vbv-buf-capacity=100 key-int-max=30 "
    "bframes=0 sliced-threads=false threads=1 ! "
    "video/x-h264,stream-format=byte-stream,alignment=au,profile=constrained-baseline";
const std::string kOpenh264 =
    "openh264enc name=enc bitrate=2000000 gop-size=30 rate-control=bitrate complexity=low usage-type=camera ! "
    "video/x-h264,stream-format=byte-stream,alignment=au";

// The camera's own H.264 (UVC H.264, e.g. a C920): parsed, not decoded or re-encoded.
const std::string kV4l2H264 = "v4l2src name=src device=/dev/video0 ! video/x-h264,width=1280,height=720,framerate=30/1";
const std::string kPassthrough =
    "h264parse name=enc config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au";
// The test source standing in for an H.264 camera: x264enc is the camera's encoder.
const std::string kTestCamera =
    "x264enc name=camera_h264 tune=zerolatency speed-preset=ultrafast bitrate=2000 vbv-buf-capacity=100 "
    "key-int-max=30 bframes=0 sliced-threads=false threads=1 ! "
    "video/x-h264,stream-format=byte-stream,alignment=au,profile=constrained-baseline";

const std::string kToNvmm = " ! nvvidconv ! video/x-raw(memory:NVMM),format=NV12 ! ";
const std::string kNvToI420 = " ! nvvidconv ! video/x-raw,format=I420 ! ";
const std::string kNvToNv12 = " ! nvvidconv ! video/x-raw,format=NV12 ! ";
const std::string kConvI420 = " ! videoconvert ! video/x-raw,format=I420 ! ";
const std::string kConvNv12 = " ! videoconvert ! video/x-raw,format=NV12 ! ";

const std::string kTail =
    " ! rtph264pay name=pay pt=96 mtu=1200 config-interval=-1 aggregate-mode=zero-latency ! "
    "rtprtxsend name=rtx payload-type-map=\"application/x-rtp-pt-map,96=(uint)97\" max-size-time=1000 max-size-packets=0 ! rtpbin.send_rtp_sink_0 "
    "rtpbin.send_rtp_src_0 ! udpsink name=rtp_sink host=127.0.0.1 port=9000 bind-port=5004 sync=false async=false "
    "rtpbin.send_rtcp_src_0 ! udpsink name=rtcp_sink host=127.0.0.1 port=9001 bind-port=5005 sync=false async=false "
    "udpsrc name=rtcp_src port=5005 caps=application/x-rtcp ! rtpbin.recv_rtcp_sink_0";

struct Combo {
  const char* name;
  Selection sel;
  std::string middle;  // between "rtpbin name=rtpbin " and kTail
  std::vector<const char*> elements;
};

void PrintTo(const Combo& c, std::ostream* os) { *os << c.name; }

Selection sel(SourceKind s, EncoderKind e, V4l2Format f = V4l2Format::raw) {
  Selection out;
  out.source = s;
  out.encoder = e;
  out.v4l2_format = f;
  out.device = s == SourceKind::argus ? "0" : s == SourceKind::v4l2 ? "/dev/video0" : "";
  return out;
}

std::vector<Combo> combos() {
  using E = EncoderKind;
  using S = SourceKind;
  const auto A = S::argus;
  const auto V = S::v4l2;
  const auto T = S::test;
  const auto mj = V4l2Format::mjpeg;
  const auto raw = V4l2Format::raw;
  return {
      {"argus_nvv4l2h264enc", sel(A, E::nvv4l2h264enc), kArgus + " ! " + kNvenc, {"nvarguscamerasrc", "nvv4l2h264enc"}},
      {"argus_v4l2h264enc", sel(A, E::v4l2h264enc), kArgus + kNvToNv12 + kV4l2enc,
       {"nvarguscamerasrc", "nvvidconv", "v4l2h264enc"}},
      {"argus_vah264enc", sel(A, E::vah264enc), kArgus + kNvToNv12 + kVaenc, {"nvarguscamerasrc", "nvvidconv", "vah264enc"}},
      {"argus_x264enc", sel(A, E::x264enc), kArgus + kNvToI420 + kX264, {"nvarguscamerasrc", "nvvidconv", "x264enc"}},
      {"argus_openh264enc", sel(A, E::openh264enc), kArgus + kNvToI420 + kOpenh264,
       {"nvarguscamerasrc", "nvvidconv", "openh264enc"}},
      {"v4l2_nvv4l2h264enc", sel(V, E::nvv4l2h264enc, raw), kV4l2Raw + kToNvmm + kNvenc,
       {"v4l2src", "nvvidconv", "nvv4l2h264enc"}},
      {"v4l2_v4l2h264enc", sel(V, E::v4l2h264enc, raw), kV4l2Raw + kConvNv12 + kV4l2enc,
       {"v4l2src", "videoconvert", "v4l2h264enc"}},
      {"v4l2_vah264enc", sel(V, E::vah264enc, raw), kV4l2Raw + kConvNv12 + kVaenc, {"v4l2src", "videoconvert", "vah264enc"}},
      {"v4l2_x264enc", sel(V, E::x264enc, raw), kV4l2Raw + kConvI420 + kX264, {"v4l2src", "videoconvert", "x264enc"}},
      {"v4l2_openh264enc", sel(V, E::openh264enc, raw), kV4l2Raw + kConvI420 + kOpenh264,
       {"v4l2src", "videoconvert", "openh264enc"}},
      {"v4l2mjpeg_nvv4l2h264enc", sel(V, E::nvv4l2h264enc, mj), kV4l2Mjpeg + kToNvmm + kNvenc,
       {"v4l2src", "jpegdec", "nvvidconv", "nvv4l2h264enc"}},
      {"v4l2mjpeg_v4l2h264enc", sel(V, E::v4l2h264enc, mj), kV4l2Mjpeg + kConvNv12 + kV4l2enc,
       {"v4l2src", "jpegdec", "videoconvert", "v4l2h264enc"}},
      {"v4l2mjpeg_vah264enc", sel(V, E::vah264enc, mj), kV4l2Mjpeg + kConvNv12 + kVaenc,
       {"v4l2src", "jpegdec", "videoconvert", "vah264enc"}},
      {"v4l2mjpeg_x264enc", sel(V, E::x264enc, mj), kV4l2Mjpeg + kConvI420 + kX264,
       {"v4l2src", "jpegdec", "videoconvert", "x264enc"}},
      {"v4l2mjpeg_openh264enc", sel(V, E::openh264enc, mj), kV4l2Mjpeg + kConvI420 + kOpenh264,
       {"v4l2src", "jpegdec", "videoconvert", "openh264enc"}},
      {"test_nvv4l2h264enc", sel(T, E::nvv4l2h264enc), kTest + kToNvmm + kNvenc,
       {"videotestsrc", "clockoverlay", "nvvidconv", "nvv4l2h264enc"}},
      {"test_v4l2h264enc", sel(T, E::v4l2h264enc), kTest + kConvNv12 + kV4l2enc,
       {"videotestsrc", "clockoverlay", "videoconvert", "v4l2h264enc"}},
      {"test_vah264enc", sel(T, E::vah264enc), kTest + kConvNv12 + kVaenc,
       {"videotestsrc", "clockoverlay", "videoconvert", "vah264enc"}},
      {"test_x264enc", sel(T, E::x264enc), kTest + kConvI420 + kX264,
       {"videotestsrc", "clockoverlay", "videoconvert", "x264enc"}},
      {"test_openh264enc", sel(T, E::openh264enc), kTest + kConvI420 + kOpenh264,
       {"videotestsrc", "clockoverlay", "videoconvert", "openh264enc"}},
      {"v4l2h264_passthrough", sel(V, E::passthrough, V4l2Format::h264), kV4l2H264 + " ! " + kPassthrough,
       {"v4l2src", "h264parse"}},
      {"test_passthrough", sel(T, E::passthrough), kTest + kConvI420 + kTestCamera + " ! " + kPassthrough,
       {"videotestsrc", "clockoverlay", "videoconvert", "x264enc", "h264parse"}},
  };
}

class Environment : public ::testing::Environment {
 public:
  void SetUp() override {
    gst_init(nullptr, nullptr);
    veter::test::register_nvidia_standins();
  }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new Environment);

bool element_exists(const char* name) {
  common::GstPtr<GstElementFactory> f(gst_element_factory_find(name));
  return f != nullptr;
}

/// Every capsfilter's caps must fit the pad templates on both sides.
void expect_caps_fit_templates(GstElement* pipeline) {
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(pipeline));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto* el = GST_ELEMENT(g_value_get_object(&item));
    GstElementFactory* factory = gst_element_get_factory(el);  // borrowed
    if (factory != nullptr && g_str_equal(GST_OBJECT_NAME(factory), "capsfilter")) {
      common::CapsPtr filter;
      GstCaps* raw = nullptr;
      g_object_get(el, "caps", &raw, nullptr);
      filter.reset(raw);
      for (const char* name : {"sink", "src"}) {
        auto pad = common::static_pad(el, name);
        common::PadPtr peer(gst_pad_get_peer(pad.get()));
        if (!peer) {
          continue;
        }
        common::CapsPtr templ(gst_pad_get_pad_template_caps(peer.get()));
        common::GCharPtr f(gst_caps_to_string(filter.get()));
        common::GCharPtr t(gst_caps_to_string(templ.get()));
        common::GCharPtr peer_name(gst_object_get_path_string(GST_OBJECT(peer.get())));
        EXPECT_TRUE(gst_caps_can_intersect(filter.get(), templ.get()))
            << "caps " << f.get() << " do not fit " << peer_name.get() << " template " << t.get();
      }
    }
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
}

PublisherConfig default_cfg() { return PublisherConfig{}; }

}  // namespace

class BuilderGolden : public ::testing::TestWithParam<Combo> {};

TEST_P(BuilderGolden, Description) {
  const Combo& c = GetParam();
  EXPECT_EQ(build_pipeline_description(default_cfg(), c.sel), "rtpbin name=rtpbin " + c.middle + kTail);
}

TEST_P(BuilderGolden, ParsesWhereElementsExist) {
  const Combo& c = GetParam();
  std::string missing;
  for (const char* e : c.elements) {
    if (!element_exists(e)) {
      missing += std::string(missing.empty() ? "" : ", ") + e;
    }
  }
  if (!missing.empty()) {
    GTEST_SKIP() << "not on this machine: " << missing;
  }
  const std::string desc = build_pipeline_description(default_cfg(), c.sel);
  GError* raw = nullptr;
  auto pipeline = common::adopt_floating(gst_parse_launch_full(desc.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &raw));
  common::GErrorPtr err(raw);
  ASSERT_FALSE(err) << err->message << "\n" << desc;
  ASSERT_TRUE(pipeline);
  expect_caps_fit_templates(pipeline.get());
  for (const char* name : {element::source, element::encoder, element::payloader, element::rtpbin, element::rtp_sink,
                           element::rtcp_sink, element::rtcp_src}) {
    EXPECT_TRUE(common::bin_child(pipeline.get(), name)) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(AllCombinations, BuilderGolden, ::testing::ValuesIn(combos()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Builder, EveryCombinationIsCovered) {
  std::set<std::pair<int, int>> seen;
  std::size_t passthrough = 0;
  for (const auto& c : combos()) {
    if (c.sel.encoder == EncoderKind::passthrough) {
      ++passthrough;  // only with H.264 from the camera, or the test source's stand-in camera
      continue;
    }
    seen.insert({static_cast<int>(c.sel.source) * 3 + static_cast<int>(c.sel.v4l2_format), static_cast<int>(c.sel.encoder)});
  }
  EXPECT_EQ(seen.size(), 4U * encoder_preference().size());
  EXPECT_EQ(passthrough, 2U);
}

TEST(Builder, CameraH264OnlyWithPassthrough) {
  // H.264 from the camera is never decoded and re-encoded, and passthrough never takes raw video.
  EXPECT_THROW(build_pipeline_description(default_cfg(), sel(SourceKind::v4l2, EncoderKind::x264enc, V4l2Format::h264)),
               std::invalid_argument);
  EXPECT_THROW(build_pipeline_description(default_cfg(), sel(SourceKind::v4l2, EncoderKind::passthrough)),
               std::invalid_argument);
  EXPECT_THROW(build_pipeline_description(default_cfg(), sel(SourceKind::argus, EncoderKind::passthrough)),
               std::invalid_argument);
  // The camera's H.264 goes straight into the parser: no converter, no encoder, no decoder.
  const std::string d =
      build_pipeline_description(default_cfg(), sel(SourceKind::v4l2, EncoderKind::passthrough, V4l2Format::h264));
  for (const char* absent : {"videoconvert", "x264enc", "avdec_h264", "jpegdec", "nvvidconv"}) {
    EXPECT_EQ(d.find(absent), std::string::npos) << absent << " in " << d;
  }
}

TEST(Builder, ConfigFlowsIntoTheDescription) {
  PublisherConfig cfg;
  cfg.width = 640;
  cfg.height = 360;
  cfg.fps = 15;
  cfg.bitrate_kbps = 800;
  cfg.keyframe_interval = 45;
  cfg.mtu = 1400;
  cfg.destination = {"relay.example.org", 7000};
  cfg.local_port = 0;
  cfg.rtx = false;  // no retransmission sender between payloader and rtpbin
  Selection s;
  s.source = SourceKind::test;
  s.encoder = EncoderKind::x264enc;
  EXPECT_EQ(build_pipeline_description(cfg, s),
            "rtpbin name=rtpbin videotestsrc name=src is-live=true pattern=ball ! "
            "video/x-raw,width=640,height=360,framerate=15/1 ! clockoverlay time-format=\"%Y-%m-%d %H:%M:%S\" "
            "halignment=right valignment=top ! videoconvert ! video/x-raw,format=I420 ! x264enc name=enc "
            "tune=zerolatency speed-preset=superfast bitrate=800 vbv-buf-capacity=200 key-int-max=45 bframes=0 sliced-threads=false threads=1 ! "
            "video/x-h264,stream-format=byte-stream,alignment=au,profile=constrained-baseline ! rtph264pay name=pay "
            "pt=96 mtu=1400 config-interval=-1 aggregate-mode=zero-latency ! rtpbin.send_rtp_sink_0 "
            "rtpbin.send_rtp_src_0 ! udpsink name=rtp_sink host=relay.example.org port=7000 bind-port=0 sync=false "
            "async=false rtpbin.send_rtcp_src_0 ! udpsink name=rtcp_sink host=relay.example.org port=7001 "
            "bind-port=0 sync=false async=false udpsrc name=rtcp_src port=0 caps=application/x-rtcp ! "
            "rtpbin.recv_rtcp_sink_0");
}

TEST(Builder, RtxSenderBetweenPayloaderAndRtpbin) {
  PublisherConfig cfg = default_cfg();
  cfg.rtx_payload_type = 101;
  Selection s;
  s.source = SourceKind::test;
  s.encoder = EncoderKind::x264enc;
  const std::string d = build_pipeline_description(cfg, s);
  EXPECT_NE(d.find("aggregate-mode=zero-latency ! rtprtxsend name=rtx "
                   "payload-type-map=\"application/x-rtp-pt-map,96=(uint)101\" max-size-time=1000 "
                   "max-size-packets=0 ! rtpbin.send_rtp_sink_0"),
            std::string::npos)
      << d;
  cfg.rtx = false;
  EXPECT_EQ(build_pipeline_description(cfg, s).find("rtprtxsend"), std::string::npos);
}

TEST(Builder, TestPatternSnowReplacesTheBall) {
  PublisherConfig cfg = default_cfg();
  cfg.test_pattern = "snow";
  Selection s;
  s.source = SourceKind::test;
  s.encoder = EncoderKind::x264enc;
  const std::string d = build_pipeline_description(cfg, s);
  EXPECT_NE(d.find("videotestsrc name=src is-live=true pattern=snow ! "), std::string::npos) << d;
  EXPECT_EQ(d.find("pattern=ball"), std::string::npos) << d;
  EXPECT_NE(d.find("threads=1 option-string=scenecut=0 ! "), std::string::npos) << d;  // no IDR every few frames
  cfg.test_pattern = "ball";
  EXPECT_EQ(build_pipeline_description(cfg, s).find("scenecut"), std::string::npos);
}

TEST(Builder, ArgusSensorIdAndV4l2DeviceAreUsed) {
  Selection a;
  a.source = SourceKind::argus;
  a.device = "1";
  a.encoder = EncoderKind::nvv4l2h264enc;
  EXPECT_NE(build_pipeline_description(default_cfg(), a).find("nvarguscamerasrc name=src sensor-id=1 !"),
            std::string::npos);
  Selection v;
  v.source = SourceKind::v4l2;
  v.device = "/dev/video3";
  EXPECT_NE(build_pipeline_description(default_cfg(), v).find("v4l2src name=src device=/dev/video3 !"),
            std::string::npos);
}

// The stand-ins reject what the real elements would reject: a misspelt property or a bad value.
TEST(NvidiaStandins, RejectUnknownPropertiesAndBadValues) {
  for (const char* bad : {"nvv4l2h264enc iframe-interval=30 ! fakesink", "nvv4l2h264enc bitrate=fast ! fakesink",
                          "nvv4l2h264enc insert-sps-pps=maybe ! fakesink", "nvv4l2h264enc profile=9 ! fakesink",
                          "nvarguscamerasrc sensor=0 ! fakesink", "nvarguscamerasrc sensor-id=front ! fakesink",
                          "fakesrc ! nvvidconv flip=1 ! fakesink"}) {
    common::GErrorPtr err;
    auto p = veter::test::parse_like_l4t(bad, &err);
    EXPECT_TRUE(err) << "accepted: " << bad;
  }
  GError* raw = nullptr;
  auto ok = common::adopt_floating(gst_parse_launch_full(
      "nvarguscamerasrc sensor-id=0 wbmode=daylight ! nvvidconv flip-method=rotate-180 ! "
      "nvv4l2h264enc control-rate=constant_bitrate profile=Baseline preset-level=UltraFastPreset ! fakesink",
      nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &raw));
  common::GErrorPtr err(raw);
  EXPECT_FALSE(err) << (err ? err->message : "");
}
