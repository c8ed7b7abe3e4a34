// Source and encoder selection against a described machine.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "veter/common/cli.hpp"
#include "veter/common/values.hpp"
#include "veter/publisher/selection.hpp"

using namespace veter;
using namespace veter::publisher;

namespace {

struct FakeMachine {
  std::set<std::string> elements{"v4l2src", "videotestsrc", "clockoverlay", "jpegdec", "nvvidconv"};
  std::set<int> argus_sensors;
  std::vector<std::string> devices;
  std::map<std::string, V4l2Format> formats;
  std::set<std::string> h264_devices;  // deliver H.264 themselves at the requested size
  bool nvenc_works = true;
  mutable std::vector<std::string> probed;

  Environment env() const {
    return Environment{
        [this](const std::string& e) { return elements.count(e) > 0; },
        [this](int id) {
          probed.push_back("argus:" + std::to_string(id));
          return argus_sensors.count(id) > 0;
        },
        [this] { return devices; },
        [this](const std::string& dev, int, int, int) -> std::optional<V4l2Format> {
          probed.push_back(dev);
          auto it = formats.find(dev);
          if (it == formats.end()) {
            return std::nullopt;
          }
          return it->second;
        },
        [this](EncoderKind e) {
          probed.push_back("encode:" + std::string(to_string(e)));
          return nvenc_works;
        },
        [this](const std::string& dev, int, int, int) {
          probed.push_back("h264:" + dev);
          return h264_devices.count(dev) > 0;
        }};
  }
};

PublisherConfig cfg_with(const std::string& source, const std::string& encoder = "auto", const std::string& device = "") {
  PublisherConfig c;
  c.source = source;
  c.encoder = encoder;
  c.device = device;
  return c;
}

}  // namespace

TEST(Selection, AutoPrefersArgusWhenASensorAnswers) {
  FakeMachine m;
  m.elements.insert({"nvarguscamerasrc", "nvv4l2h264enc", "x264enc"});
  m.argus_sensors = {0};
  m.devices = {"/dev/video0"};
  m.formats["/dev/video0"] = V4l2Format::raw;
  const auto s = select_elements(cfg_with("auto"), m.env());
  EXPECT_EQ(s.source, SourceKind::argus);
  EXPECT_EQ(s.device, "0");
  EXPECT_EQ(s.encoder, EncoderKind::nvv4l2h264enc);
}

TEST(Selection, AutoFallsBackToTheFirstUsableV4l2Device) {
  FakeMachine m;
  m.elements.insert({"nvarguscamerasrc", "x264enc"});  // element present, no sensor answers
  m.devices = {"/dev/video0", "/dev/video2"};
  m.formats["/dev/video2"] = V4l2Format::mjpeg;
  std::vector<std::string> log;
  const auto s = select_elements(cfg_with("auto"), m.env(), [&](const std::string& l) { log.push_back(l); });
  EXPECT_EQ(s.source, SourceKind::v4l2);
  EXPECT_EQ(s.device, "/dev/video2");
  EXPECT_EQ(s.v4l2_format, V4l2Format::mjpeg);
  EXPECT_EQ(s.encoder, EncoderKind::x264enc);
  EXPECT_EQ(m.probed, (std::vector<std::string>{"argus:0", "/dev/video0", "/dev/video2"}));
  ASSERT_FALSE(log.empty());
}

TEST(Selection, AutoWithoutCameraIsAClearErrorNeverTheTestPattern) {
  FakeMachine m;
  m.elements.insert("x264enc");
  try {
    select_elements(cfg_with("auto"), m.env());
    FAIL() << "selected something without a camera";
  } catch (const common::UnavailableError& e) {
    EXPECT_STREQ(e.what(),
                 "no camera found: tried argus (element nvarguscamerasrc is not installed), v4l2 (no video capture "
                 "device under /dev/video*); use --source test for the test pattern");
  }
}

TEST(Selection, ExplicitSources) {
  FakeMachine m;
  m.elements.insert({"x264enc", "nvarguscamerasrc"});
  m.argus_sensors = {1};
  m.formats["/dev/video7"] = V4l2Format::raw;
  EXPECT_EQ(select_elements(cfg_with("test"), m.env()).source, SourceKind::test);
  const auto a = select_elements(cfg_with("argus", "auto", "1"), m.env());
  EXPECT_EQ(a.source, SourceKind::argus);
  EXPECT_EQ(a.device, "1");
  EXPECT_THROW(select_elements(cfg_with("argus", "auto", "0"), m.env()), common::UnavailableError);
  EXPECT_THROW(select_elements(cfg_with("argus", "auto", "front"), m.env()), common::ValueError);
  const auto v = select_elements(cfg_with("v4l2", "auto", "/dev/video7"), m.env());
  EXPECT_EQ(v.device, "/dev/video7");
  EXPECT_THROW(select_elements(cfg_with("v4l2", "auto", "/dev/video8"), m.env()), common::UnavailableError);
}

TEST(Selection, EncoderAutoIsHardwareFirst) {
  FakeMachine m;
  m.elements.insert({"x264enc", "openh264enc", "vah264enc"});
  EXPECT_EQ(select_elements(cfg_with("test"), m.env()).encoder, EncoderKind::vah264enc);
  m.elements.insert("v4l2h264enc");
  EXPECT_EQ(select_elements(cfg_with("test"), m.env()).encoder, EncoderKind::v4l2h264enc);
  m.elements.insert("nvv4l2h264enc");
  EXPECT_EQ(select_elements(cfg_with("test"), m.env()).encoder, EncoderKind::nvv4l2h264enc);
  FakeMachine only_openh264;
  only_openh264.elements.insert("openh264enc");
  EXPECT_EQ(select_elements(cfg_with("test"), only_openh264.env()).encoder, EncoderKind::openh264enc);
}

TEST(Selection, MissingEncodersAreNamed) {
  FakeMachine m;
  try {
    select_elements(cfg_with("test"), m.env());
    FAIL();
  } catch (const common::UnavailableError& e) {
    EXPECT_STREQ(e.what(),
                 "no H.264 encoder on this machine: tried nvv4l2h264enc, v4l2h264enc, vah264enc, x264enc, openh264enc");
  }
  m.elements.insert("x264enc");
  try {
    select_elements(cfg_with("test", "nvv4l2h264enc"), m.env());
    FAIL();
  } catch (const common::UnavailableError& e) {
    EXPECT_STREQ(e.what(), "encoder nvv4l2h264enc is not available on this machine (no GStreamer element \"nvv4l2h264enc\")");
  }
}

TEST(Selection, NvmmBridgeAndDecoderMustExist) {
  FakeMachine m;
  m.elements = {"videotestsrc", "clockoverlay", "nvv4l2h264enc"};  // no nvvidconv
  EXPECT_THROW(select_elements(cfg_with("test"), m.env()), common::UnavailableError);
  m.elements.insert("nvvidconv");
  EXPECT_EQ(select_elements(cfg_with("test"), m.env()).encoder, EncoderKind::nvv4l2h264enc);
}

// Jetson Orin Nano: nvv4l2h264enc is installed (nvidia-l4t-gstreamer) but there is no NVENC.
TEST(Selection, AutoSkipsAnInstalledNvidiaEncoderThatCannotEncode) {
  FakeMachine m;
  m.elements.insert({"nvv4l2h264enc", "x264enc"});
  m.nvenc_works = false;
  std::vector<std::string> log;
  const auto sel = select_elements(cfg_with("test"), m.env(), [&](const std::string& l) { log.push_back(l); });
  EXPECT_EQ(sel.encoder, EncoderKind::x264enc);
  EXPECT_EQ(std::count(m.probed.begin(), m.probed.end(), "encode:nvv4l2h264enc"), 1);
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log.back().find("nvv4l2h264enc (installed, but encoded no frame: no NVENC?)"), std::string::npos)
      << log.back();
  m.nvenc_works = true;
  EXPECT_EQ(select_elements(cfg_with("test"), m.env()).encoder, EncoderKind::nvv4l2h264enc);
  // An explicit choice is not second-guessed.
  m.nvenc_works = false;
  EXPECT_EQ(select_elements(cfg_with("test", "nvv4l2h264enc"), m.env()).encoder, EncoderKind::nvv4l2h264enc);
}

// A UVC H.264 camera (e.g. a C920) offers H.264 besides raw and MJPEG.
TEST(Selection, AutoPassesThroughACameraThatDeliversH264) {
  FakeMachine m;
  m.elements.insert({"x264enc", "h264parse"});
  m.devices = {"/dev/video0", "/dev/video2"};
  m.formats["/dev/video0"] = V4l2Format::raw;
  m.formats["/dev/video2"] = V4l2Format::mjpeg;
  m.h264_devices = {"/dev/video2"};
  std::vector<std::string> log;
  auto s = select_elements(cfg_with("v4l2"), m.env(), [&](const std::string& l) { log.push_back(l); });
  // /dev/video0 has no H.264: with auto it is taken raw, the first usable device.
  EXPECT_EQ(s.device, "/dev/video0");
  EXPECT_EQ(s.encoder, EncoderKind::x264enc);
  m.devices = {"/dev/video2"};
  log.clear();
  s = select_elements(cfg_with("v4l2"), m.env(), [&](const std::string& l) { log.push_back(l); });
  EXPECT_EQ(s.source, SourceKind::v4l2);
  EXPECT_EQ(s.device, "/dev/video2");
  EXPECT_EQ(s.v4l2_format, V4l2Format::h264);
  EXPECT_EQ(s.encoder, EncoderKind::passthrough);
  ASSERT_FALSE(log.empty());
  EXPECT_NE(log.back().find("passthrough (auto: /dev/video2 delivers H.264 at 1280x720@30"), std::string::npos)
      << log.back();
  // A named encoder is not second-guessed: the camera's MJPEG is decoded and encoded by it.
  s = select_elements(cfg_with("v4l2", "x264enc"), m.env());
  EXPECT_EQ(s.v4l2_format, V4l2Format::mjpeg);
  EXPECT_EQ(s.encoder, EncoderKind::x264enc);
  // Without h264parse, auto does not pick passthrough.
  m.elements.erase("h264parse");
  s = select_elements(cfg_with("v4l2"), m.env());
  EXPECT_EQ(s.v4l2_format, V4l2Format::mjpeg);
  EXPECT_EQ(s.encoder, EncoderKind::x264enc);
}

TEST(Selection, ExplicitPassthroughNeedsACameraThatDeliversH264) {
  FakeMachine m;
  m.elements.insert({"x264enc", "h264parse", "nvarguscamerasrc"});
  m.argus_sensors = {0};
  m.devices = {"/dev/video0", "/dev/video1"};
  m.formats["/dev/video0"] = V4l2Format::raw;
  m.formats["/dev/video1"] = V4l2Format::raw;
  m.h264_devices = {"/dev/video1"};
  // auto source: argus is not tried (raw video); the first device with H.264 is taken.
  auto s = select_elements(cfg_with("auto", "passthrough"), m.env());
  EXPECT_EQ(s.source, SourceKind::v4l2);
  EXPECT_EQ(s.device, "/dev/video1");
  EXPECT_EQ(s.encoder, EncoderKind::passthrough);
  EXPECT_EQ(std::count(m.probed.begin(), m.probed.end(), "argus:0"), 0);
  try {
    select_elements(cfg_with("v4l2", "passthrough", "/dev/video0"), m.env());
    FAIL() << "passthrough of a raw-only camera";
  } catch (const common::UnavailableError& e) {
    EXPECT_STREQ(e.what(),
                 "no camera found: tried v4l2 (/dev/video0 does not deliver H.264 at 1280x720@30, which encoder "
                 "passthrough needs); use --source test for the test pattern");
  }
  EXPECT_THROW(select_elements(cfg_with("argus", "passthrough"), m.env()), common::UnavailableError);
  m.elements.erase("h264parse");
  EXPECT_THROW(select_elements(cfg_with("v4l2", "passthrough", "/dev/video1"), m.env()), common::UnavailableError);
}

TEST(Selection, TestSourceWithPassthroughStandsInForAnH264Camera) {
  FakeMachine m;
  m.elements.insert({"x264enc", "h264parse"});
  EXPECT_EQ(select_elements(cfg_with("test", "passthrough"), m.env()).encoder, EncoderKind::passthrough);
  EXPECT_EQ(select_elements(cfg_with("test"), m.env()).encoder, EncoderKind::x264enc);  // auto: raw is encoded
  m.elements.erase("x264enc");
  m.elements.insert("openh264enc");
  EXPECT_THROW(select_elements(cfg_with("test", "passthrough"), m.env()), common::UnavailableError);
}
