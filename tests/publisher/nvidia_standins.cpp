#include "nvidia_standins.hpp"

#include <gst/gst.h>

#include <functional>
#include <vector>

#include "veter/common/gst_ptr.hpp"

namespace veter::test {

namespace {

struct StandinSpec {
  const char* type_name;
  const char* element_name;
  std::function<std::vector<GParamSpec*>()> properties;
  const char* sink_caps;  // nullptr: no sink pad
  const char* src_caps;
};

// Generic property storage: every value is kept on the object under its name.
void standin_set_property(GObject* obj, guint, const GValue* value, GParamSpec* pspec) {
  auto* copy = g_new0(GValue, 1);
  g_value_init(copy, G_PARAM_SPEC_VALUE_TYPE(pspec));
  g_value_copy(value, copy);
  g_object_set_data_full(obj, g_param_spec_get_name(pspec), copy, [](gpointer p) {
    g_value_unset(static_cast<GValue*>(p));
    g_free(p);
  });
}

void standin_get_property(GObject* obj, guint, GValue* value, GParamSpec* pspec) {
  if (auto* stored = static_cast<GValue*>(g_object_get_data(obj, g_param_spec_get_name(pspec)))) {
    g_value_copy(stored, value);
  } else {
    g_param_value_set_default(pspec, value);
  }
}

void standin_class_init(gpointer klass, gpointer data) {
  const auto* spec = static_cast<const StandinSpec*>(data);
  auto* gobject_class = G_OBJECT_CLASS(klass);
  gobject_class->set_property = standin_set_property;
  gobject_class->get_property = standin_get_property;
  guint id = 1;
  for (GParamSpec* p : spec->properties()) {
    g_object_class_install_property(gobject_class, id++, p);
  }
  auto* element_class = GST_ELEMENT_CLASS(klass);
  gst_element_class_set_static_metadata(element_class, spec->element_name, "Test/Standin",
                                        "Stand-in with the documented NVIDIA interface", "veter tests");
  if (spec->sink_caps != nullptr) {
    gst_element_class_add_pad_template(
        element_class, gst_pad_template_new("sink", GST_PAD_SINK, GST_PAD_ALWAYS, gst_caps_from_string(spec->sink_caps)));
  }
  gst_element_class_add_pad_template(
      element_class, gst_pad_template_new("src", GST_PAD_SRC, GST_PAD_ALWAYS, gst_caps_from_string(spec->src_caps)));
}

void standin_instance_init(GTypeInstance* instance, gpointer klass) {
  auto* element = GST_ELEMENT(instance);
  for (const char* name : {"sink", "src"}) {
    if (GstPadTemplate* templ = gst_element_class_get_pad_template(GST_ELEMENT_CLASS(klass), name)) {
      gst_element_add_pad(element, gst_pad_new_from_template(templ, name));
    }
  }
}

GType enum_type(const char* name, const GEnumValue* values) {
  GType t = g_type_from_name(name);
  return t != 0 ? t : g_enum_register_static(name, values);
}

constexpr auto RW = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
constexpr auto RO = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

// ---- nvarguscamerasrc (Argus camera source, NVMM output) ----
std::vector<GParamSpec*> argus_properties() {
  static const GEnumValue wb[] = {{0, "GST_NVCAM_WB_MODE_OFF", "off"},
                                  {1, "GST_NVCAM_WB_MODE_AUTO", "auto"},
                                  {2, "GST_NVCAM_WB_MODE_INCANDESCENT", "incandescent"},
                                  {3, "GST_NVCAM_WB_MODE_FLUORESCENT", "fluorescent"},
                                  {4, "GST_NVCAM_WB_MODE_WARM_FLUORESCENT", "warm-fluorescent"},
                                  {5, "GST_NVCAM_WB_MODE_DAYLIGHT", "daylight"},
                                  {6, "GST_NVCAM_WB_MODE_CLOUDY_DAYLIGHT", "cloudy-daylight"},
                                  {7, "GST_NVCAM_WB_MODE_TWILIGHT", "twilight"},
                                  {8, "GST_NVCAM_WB_MODE_SHADE", "shade"},
                                  {9, "GST_NVCAM_WB_MODE_MANUAL", "manual"},
                                  {0, nullptr, nullptr}};
  static const GEnumValue tnr[] = {{0, "NoiseReduction_Off", "NoiseReduction_Off"},
                                   {1, "NoiseReduction_Fast", "NoiseReduction_Fast"},
                                   {2, "NoiseReduction_HighQuality", "NoiseReduction_HighQuality"},
                                   {0, nullptr, nullptr}};
  static const GEnumValue ee[] = {{0, "EdgeEnhancement_Off", "EdgeEnhancement_Off"},
                                  {1, "EdgeEnhancement_Fast", "EdgeEnhancement_Fast"},
                                  {2, "EdgeEnhancement_HighQuality", "EdgeEnhancement_HighQuality"},
                                  {0, nullptr, nullptr}};
  static const GEnumValue ab[] = {{0, "AeAntibandingMode_Off", "AeAntibandingMode_Off"},
                                  {1, "AeAntibandingMode_Auto", "AeAntibandingMode_Auto"},
                                  {2, "AeAntibandingMode_50HZ", "AeAntibandingMode_50HZ"},
                                  {3, "AeAntibandingMode_60HZ", "AeAntibandingMode_60HZ"},
                                  {0, nullptr, nullptr}};
  return {
      g_param_spec_boolean("silent", "Silent", "Produce verbose output ?", TRUE, RW),
      g_param_spec_int("timeout", "timeout", "timeout to capture in seconds", 0, G_MAXINT, 0, RW),
      g_param_spec_int("num-buffers", "num-buffers", "Number of buffers to output before sending EOS", -1, G_MAXINT,
                       -1, RW),
      g_param_spec_boolean("do-timestamp", "Do timestamp", "Apply current stream time to buffers", TRUE, RW),
      g_param_spec_enum("wbmode", "white balance mode", "White balance affects the color temperature",
                        enum_type("GstNvArgusCamWBMode", wb), 1, RW),
      g_param_spec_float("saturation", "saturation", "Property to adjust saturation value", 0.0F, 2.0F, 1.0F, RW),
      g_param_spec_int("sensor-id", "Sensor ID", "Set the id of camera sensor to use. Default 0.", 0, 255, 0, RW),
      g_param_spec_int("sensor-mode", "Sensor Mode", "Set the camera sensor mode to use. Default -1 (Select the best match)",
                       -1, 255, -1, RW),
      g_param_spec_int("total-sensor-modes", "Total Sensor Modes", "Query the number of sensor modes available.", 0,
                       255, 0, RO),
      g_param_spec_string("exposuretimerange", "Exposure Time Range", "Property to adjust exposure time range in nanoseconds",
                          nullptr, RW),
      g_param_spec_string("gainrange", "Gain Range", "Property to adjust gain range", nullptr, RW),
      g_param_spec_string("ispdigitalgainrange", "ISP Digital Gain Range", "Property to adjust digital gain range",
                          nullptr, RW),
      g_param_spec_enum("tnr-mode", "TNR mode", "property to select temporal noise reduction mode",
                        enum_type("GstNvArgusCamTNRMode", tnr), 1, RW),
      g_param_spec_float("tnr-strength", "TNR Strength", "property to adjust temporal noise reduction strength", -1.0F,
                         1.0F, -1.0F, RW),
      g_param_spec_enum("ee-mode", "Edge Enhancement", "property to select edge enhnacement mode",
                        enum_type("GstNvArgusCamEEMode", ee), 1, RW),
      g_param_spec_float("ee-strength", "Edge Enhancement Strength", "property to adjust edge enhancement strength",
                         -1.0F, 1.0F, -1.0F, RW),
      g_param_spec_enum("aeantibanding", "Auto Exposure Antibanding Mode",
                        "property to set the auto exposure antibanding mode",
                        enum_type("GstNvArgusCamAeAntiBandingMode", ab), 1, RW),
      g_param_spec_float("exposurecompensation", "Exposure Compensation", "property to adjust exposure compensation",
                         -2.0F, 2.0F, 0.0F, RW),
      g_param_spec_boolean("aelock", "AE Lock", "set or unset the auto exposure lock", FALSE, RW),
      g_param_spec_boolean("awblock", "AWB Lock", "set or unset the auto white balance lock", FALSE, RW),
      g_param_spec_boolean("bufapi-version", "Buffer API", "set to use new Buffer API", FALSE, RW),
  };
}

// ---- nvvidconv (VIC converter between NVMM and system memory) ----
std::vector<GParamSpec*> nvvidconv_properties() {
  static const GEnumValue flip[] = {{0, "Identity (no rotation)", "none"},
                                    {1, "Rotate counter-clockwise 90 degrees", "counterclockwise"},
                                    {2, "Rotate 180 degrees", "rotate-180"},
                                    {3, "Rotate clockwise 90 degrees", "clockwise"},
                                    {4, "Flip horizontally", "horizontal-flip"},
                                    {5, "Flip across upper right/lower left diagonal", "upper-right-diagonal"},
                                    {6, "Flip vertically", "vertical-flip"},
                                    {7, "Flip across upper left/lower right diagonal", "upper-left-diagonal"},
                                    {0, nullptr, nullptr}};
  static const GEnumValue interp[] = {{0, "Nearest", "Nearest"},   {1, "Bilinear", "Bilinear"},
                                      {2, "5-Tap", "5-Tap"},       {3, "10-Tap", "10-Tap"},
                                      {4, "Smart", "Smart"},       {5, "Nicest", "Nicest"},
                                      {0, nullptr, nullptr}};
  return {
      g_param_spec_boolean("silent", "Silent", "Produce verbose output ?", FALSE, RW),
      g_param_spec_enum("flip-method", "Flip-Method", "video flip methods", enum_type("GstNvVideoFlipMethod", flip), 0,
                        RW),
      g_param_spec_uint("output-buffers", "Output-Buffers", "number of output buffers", 1, G_MAXUINT, 4, RW),
      g_param_spec_enum("interpolation-method", "Interpolation-method", "Set interpolation methods",
                        enum_type("GstInterpolationType", interp), 0, RW),
      g_param_spec_int("left", "left", "Pixels to crop at left", 0, G_MAXINT, 0, RW),
      g_param_spec_int("right", "right", "Pixels to crop at right", 0, G_MAXINT, 0, RW),
      g_param_spec_int("top", "top", "Pixels to crop at top", 0, G_MAXINT, 0, RW),
      g_param_spec_int("bottom", "bottom", "Pixels to crop at bottom", 0, G_MAXINT, 0, RW),
      g_param_spec_boolean("bl-output", "bl-output", "Blocklinear output, applicable only for memory:NVMM NV12 format "
                           "output buffer", TRUE, RW),
  };
}

// ---- nvv4l2h264enc (hardware H.264 encoder, NVMM input) ----
std::vector<GParamSpec*> nvenc_properties() {
  static const GEnumValue rc[] = {{0, "GST_V4L2_VIDENC_VARIABLE_BITRATE", "variable_bitrate"},
                                  {1, "GST_V4L2_VIDENC_CONSTANT_BITRATE", "constant_bitrate"},
                                  {0, nullptr, nullptr}};
  static const GEnumValue profile[] = {{0, "GST_V4L2_H264_VIDENC_BASELINE_PROFILE", "Baseline"},
                                       {2, "GST_V4L2_H264_VIDENC_MAIN_PROFILE", "Main"},
                                       {4, "GST_V4L2_H264_VIDENC_HIGH_PROFILE", "High"},
                                       {7, "GST_V4L2_H264_VIDENC_HIGH_444_PREDICTIVE", "High444"},
                                       {0, nullptr, nullptr}};
  static const GEnumValue preset[] = {{0, "Disable HW-Preset", "DisablePreset"},
                                      {1, "UltraFastPreset for high perf", "UltraFastPreset"},
                                      {2, "FastPreset", "FastPreset"},
                                      {3, "MediumPreset", "MediumPreset"},
                                      {4, "SlowPreset", "SlowPreset"},
                                      {0, nullptr, nullptr}};
  return {
      g_param_spec_enum("control-rate", "ratecontrol", "Set control rate for v4l2 encode",
                        enum_type("GstV4l2VideoEncRateControlType", rc), 1, RW),
      g_param_spec_uint("bitrate", "Target Bitrate", "Set bitrate for v4l2 encode", 0, G_MAXUINT, 4000000, RW),
      g_param_spec_uint("peak-bitrate", "Peak Bitrate", "Peak bitrate in variable control-rate", 0, G_MAXUINT, 0, RW),
      g_param_spec_uint("iframeinterval", "IFrame Interval", "Encoding Intra Frame occurance frequency", 0, G_MAXUINT,
                        30, RW),
      g_param_spec_uint("idrinterval", "IDR Frame Interval", "Encoding IDR Frame occurance frequency", 0, G_MAXUINT,
                        256, RW),
      g_param_spec_boolean("ratecontrol-enable", "Enable RateControl", "Enable or Disable rate control mode", TRUE, RW),
      g_param_spec_boolean("maxperf-enable", "Enable Max Performance", "Enable or Disable Max Performance mode", FALSE,
                           RW),
      g_param_spec_enum("preset-level", "HWpresetlevelforencoder", "HW preset level for encoder",
                        enum_type("GstV4L2VideoEncHwPreset", preset), 1, RW),
      g_param_spec_enum("profile", "profile", "Set profile for v4l2 encode",
                        enum_type("GstV4l2VideoEncProfileType", profile), 0, RW),
      g_param_spec_boolean("insert-sps-pps", "Insert H.264 SPS, PPS", "Insert H.264 SPS, PPS at every IDR frame",
                           FALSE, RW),
      g_param_spec_boolean("insert-vui", "Insert H.264 VUI", "Insert H.264 VUI(Video Usability Information) in SPS",
                           FALSE, RW),
      g_param_spec_boolean("insert-aud", "Insert H.264 AUD", "Insert H.264 Access Unit Delimiter(AUD)", FALSE, RW),
      g_param_spec_uint("num-B-Frames", "B Frames between two reference frames",
                        "Number of B Frames between two reference frames (not recommended)", 0, 2, 0, RW),
      g_param_spec_uint("vbv-size", "vb size attribute", "virtual buffer size", 0, G_MAXUINT, 0, RW),
      g_param_spec_uint("poc-type", "Picture Order Count type", "Set Picture Order Count type value", 0, 2, 0, RW),
      g_param_spec_boolean("EnableTwopassCBR", "Enable Two pass CBR", "Enable two pass CBR while encoding", FALSE, RW),
  };
}

const char* kNvmmRaw =
    "video/x-raw(memory:NVMM), format=(string){ I420, NV12, P010_10LE, NV24 }, width=(int)[ 1, 2147483647 ], "
    "height=(int)[ 1, 2147483647 ], framerate=(fraction)[ 0/1, 2147483647/1 ]";
const char* kConvCaps =
    "video/x-raw(memory:NVMM), format=(string){ I420, I420_10LE, P010_10LE, I420_12LE, UYVY, YUY2, YVYU, NV12, "
    "NV16, NV24, GRAY8, BGRx, RGBA, Y42B }; video/x-raw, format=(string){ I420, UYVY, YUY2, YVYU, NV12, NV16, NV24, "
    "P010_10LE, GRAY8, BGRx, RGBA, Y42B }";
const char* kArgusCaps =
    "video/x-raw(memory:NVMM), width=(int)[ 1, 2147483647 ], height=(int)[ 1, 2147483647 ], "
    "format=(string){ NV12, P010_10LE }, framerate=(fraction)[ 0/1, 120/1 ]";
const char* kH264Caps = "video/x-h264, stream-format=(string)byte-stream, alignment=(string){ au, nal }";

void register_one(const StandinSpec* spec) {
  if (veter::common::GstPtr<GstElementFactory> existing{gst_element_factory_find(spec->element_name)}) {
    return;  // the real element is installed: test against it
  }
  GTypeInfo info{};
  info.class_size = sizeof(GstElementClass);
  info.class_init = standin_class_init;
  info.class_data = spec;
  info.instance_size = sizeof(GstElement);
  info.instance_init = standin_instance_init;
  const GType type = g_type_register_static(GST_TYPE_ELEMENT, spec->type_name, &info, static_cast<GTypeFlags>(0));
  gst_element_register(nullptr, spec->element_name, GST_RANK_NONE, type);
}

}  // namespace

void register_nvidia_standins() {
  static const StandinSpec specs[] = {
      {"VeterStandinNvArgusCameraSrc", "nvarguscamerasrc", argus_properties, nullptr, kArgusCaps},
      {"VeterStandinNvVidConv", "nvvidconv", nvvidconv_properties, kConvCaps, kConvCaps},
      {"VeterStandinNvV4l2H264Enc", "nvv4l2h264enc", nvenc_properties, kNvmmRaw, kH264Caps},
  };
  static const bool once = [] {
    for (const auto& s : specs) {
      register_one(&s);
    }
    return true;
  }();
  (void)once;
}

}  // namespace veter::test
