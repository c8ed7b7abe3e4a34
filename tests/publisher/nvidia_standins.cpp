#include "nvidia_standins.hpp"

#include <gst/base/gstbasetransform.h>
#include <gst/gst.h>

#include <algorithm>
#include <mutex>
#include <sstream>
#include <string>

#include <functional>
#include <vector>

#include "veter/common/gst_ptr.hpp"

namespace veter::test {

namespace {

// How the stand-in works inside (the interface above is NVIDIA's; the inside is not):
//   nvarguscamerasrc = [videotestsrc is-live ! to-NVMM]
//   nvvidconv        = [from-NVMM ! videoconvert ! to-NVMM]
//   nvv4l2h264enc    = [from-NVMM ! x264enc (bitrate/1000, key-int-max=iframeinterval, no B-frames)]
// "to-NVMM"/"from-NVMM" only relabel caps (memory:NVMM <-> system memory); buffers pass untouched.
enum class Kind { argus, conv, enc };

struct StandinSpec {
  const char* type_name;
  const char* element_name;
  Kind kind;
  std::function<std::vector<GParamSpec*>()> properties;
  const char* sink_caps;  // nullptr: no sink pad
  const char* src_caps;
};

StandinViolations g_violations;  // written under its own mutex

void record_violation(const std::string& what) {
  std::lock_guard<std::mutex> lock(g_violations.mutex);
  g_violations.messages.push_back(what);
}

// ---- the caps relabeller (a passthrough GstBaseTransform) ----
struct Relabel {
  GstBaseTransform parent;
};
struct RelabelClass {
  GstBaseTransformClass parent_class;
  gboolean to_nvmm;  // TRUE: system memory in, NVMM (or system memory) out
};

GstCaps* with_features(GstCaps* caps, bool nvmm) {
  GstCaps* out = gst_caps_copy(caps);
  for (guint i = 0; i < gst_caps_get_size(out); ++i) {
    gst_caps_set_features(out, i,
                          gst_caps_features_new(nvmm ? "memory:NVMM" : GST_CAPS_FEATURE_MEMORY_SYSTEM_MEMORY, nullptr));
  }
  return out;
}

GstCaps* relabel_transform_caps(GstBaseTransform* trans, GstPadDirection direction, GstCaps* caps, GstCaps* filter) {
  const bool to_nvmm = G_TYPE_INSTANCE_GET_CLASS(trans, G_TYPE_FROM_INSTANCE(trans), RelabelClass)->to_nvmm != FALSE;
  // Towards the NVMM side both labels are offered; towards the other side only system memory.
  const bool towards_nvmm = (direction == GST_PAD_SINK) == to_nvmm;
  GstCaps* sys = with_features(caps, false);
  GstCaps* out = sys;
  if (towards_nvmm) {
    out = with_features(caps, true);
    out = gst_caps_merge(out, sys);
  }
  if (filter != nullptr) {
    GstCaps* f = gst_caps_intersect_full(filter, out, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref(out);
    out = f;
  }
  return out;
}

GstFlowReturn relabel_transform_ip(GstBaseTransform*, GstBuffer*) { return GST_FLOW_OK; }

void relabel_class_init(gpointer klass, gpointer data) {
  auto* c = static_cast<RelabelClass*>(klass);
  c->to_nvmm = GPOINTER_TO_INT(data);
  auto* bt = GST_BASE_TRANSFORM_CLASS(klass);
  bt->transform_caps = relabel_transform_caps;
  bt->transform_ip = relabel_transform_ip;
  bt->passthrough_on_same_caps = FALSE;
  auto* ec = GST_ELEMENT_CLASS(klass);
  gst_element_class_set_static_metadata(ec, "NVMM relabel", "Test/Standin", "caps memory:NVMM <-> system memory",
                                        "veter tests");
  const char* any_raw = "video/x-raw; video/x-raw(memory:NVMM)";
  gst_element_class_add_pad_template(
      ec, gst_pad_template_new("sink", GST_PAD_SINK, GST_PAD_ALWAYS, gst_caps_from_string(any_raw)));
  gst_element_class_add_pad_template(
      ec, gst_pad_template_new("src", GST_PAD_SRC, GST_PAD_ALWAYS, gst_caps_from_string(any_raw)));
}

void relabel_init(GTypeInstance* instance, gpointer) {
  gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(instance), TRUE);
}

GType relabel_type(bool to_nvmm) {
  const char* name = to_nvmm ? "VeterStandinToNvmm" : "VeterStandinFromNvmm";
  if (GType t = g_type_from_name(name)) {
    return t;
  }
  GTypeInfo info{};
  info.class_size = sizeof(RelabelClass);
  info.class_init = relabel_class_init;
  info.class_data = GINT_TO_POINTER(to_nvmm ? 1 : 0);
  info.instance_size = sizeof(Relabel);
  info.instance_init = relabel_init;
  return g_type_register_static(GST_TYPE_BASE_TRANSFORM, name, &info, static_cast<GTypeFlags>(0));
}

GstElement* make(const char* factory) {
  GstElement* e = gst_element_factory_make(factory, nullptr);
  if (e == nullptr) {
    record_violation(std::string("stand-in needs the element ") + factory);
  }
  return e;
}

GstElement* make_relabel(bool to_nvmm) {
  return GST_ELEMENT(g_object_new(relabel_type(to_nvmm), nullptr));
}

// ---- the stand-ins: bins with NVIDIA's property interface ----
const StandinSpec* spec_of(gpointer instance) {
  return static_cast<const StandinSpec*>(
      g_type_get_qdata(G_TYPE_FROM_INSTANCE(instance), g_quark_from_static_string("veter-standin-spec")));
}

GstElement* inner(GObject* obj) { return static_cast<GstElement*>(g_object_get_data(obj, "veter-inner")); }

// Generic property storage: every value is kept on the object under its name; the encoder maps
// the ones x264enc can honour. L4T applies a property without GST_PARAM_MUTABLE_PLAYING only when
// the element starts: a change while PAUSED/PLAYING would be silently ignored on a Jetson, so the
// stand-in records it as a violation that fails the test.
void standin_set_property(GObject* obj, guint, const GValue* value, GParamSpec* pspec) {
  const GstState state = GST_STATE(GST_ELEMENT(obj));
  if (state > GST_STATE_READY && (pspec->flags & GST_PARAM_MUTABLE_PLAYING) == 0) {
    record_violation(std::string(spec_of(obj)->element_name) + ": property " + g_param_spec_get_name(pspec) +
                     " set in " + gst_element_state_get_name(state) +
                     " (L4T only applies it in NULL/READY)");
  }
  auto* copy = g_new0(GValue, 1);
  g_value_init(copy, G_PARAM_SPEC_VALUE_TYPE(pspec));
  g_value_copy(value, copy);
  g_object_set_data_full(obj, g_param_spec_get_name(pspec), copy, [](gpointer p) {
    g_value_unset(static_cast<GValue*>(p));
    g_free(p);
  });
  GstElement* in = inner(obj);
  if (in == nullptr) {
    return;
  }
  const std::string name = g_param_spec_get_name(pspec);
  if (spec_of(obj)->kind == Kind::enc) {
    if (name == "bitrate") {
      // x264enc takes kbit/s, at most 2048000.
      g_object_set(in, "bitrate", std::clamp(g_value_get_uint(value) / 1000U, 1U, 2048000U), nullptr);
    } else if (name == "iframeinterval" && g_value_get_uint(value) > 0) {
      g_object_set(in, "key-int-max", g_value_get_uint(value), nullptr);
    }
  } else if (spec_of(obj)->kind == Kind::argus && name == "num-buffers") {
    g_object_set(in, "num-buffers", g_value_get_int(value), nullptr);
  }
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
  g_type_set_qdata(G_TYPE_FROM_CLASS(klass), g_quark_from_static_string("veter-standin-spec"),
                   const_cast<StandinSpec*>(spec));
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

void ghost(GstElement* bin, const char* name, GstElement* target) {
  GstPadTemplate* templ = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(bin), name);
  GstPad* target_pad = gst_element_get_static_pad(target, name);
  gst_element_add_pad(bin, gst_ghost_pad_new_from_template(name, target_pad, templ));
  gst_object_unref(target_pad);
}

void standin_instance_init(GTypeInstance* instance, gpointer klass) {
  auto* bin = GST_ELEMENT(instance);
  const auto* spec = static_cast<const StandinSpec*>(
      g_type_get_qdata(G_TYPE_FROM_CLASS(klass), g_quark_from_static_string("veter-standin-spec")));
  std::vector<GstElement*> chain;
  GstElement* keep = nullptr;
  switch (spec->kind) {
    case Kind::argus: {
      GstElement* src = make("videotestsrc");
      if (src != nullptr) {
        g_object_set(src, "is-live", TRUE, nullptr);
        gst_util_set_object_arg(G_OBJECT(src), "pattern", "ball");
      }
      chain = {src, make_relabel(true)};
      keep = src;
      break;
    }
    case Kind::conv:
      chain = {make_relabel(false), make("videoconvert"), make_relabel(true)};
      break;
    case Kind::enc: {
      GstElement* x264 = make("x264enc");
      if (x264 != nullptr) {
        gst_util_set_object_arg(G_OBJECT(x264), "tune", "zerolatency");
        gst_util_set_object_arg(G_OBJECT(x264), "speed-preset", "ultrafast");
        g_object_set(x264, "bframes", 0U, "bitrate", 4000U, "key-int-max", 30U, nullptr);
      }
      chain = {make_relabel(false), x264};
      keep = x264;
      break;
    }
  }
  for (GstElement* e : chain) {
    if (e == nullptr) {
      return;  // recorded; the element has no pads and cannot link
    }
  }
  for (GstElement* e : chain) {
    gst_bin_add(GST_BIN(bin), e);
  }
  for (std::size_t i = 1; i < chain.size(); ++i) {
    gst_element_link(chain[i - 1], chain[i]);
  }
  if (spec->sink_caps != nullptr) {
    ghost(bin, "sink", chain.front());
  }
  ghost(bin, "src", chain.back());
  g_object_set_data(G_OBJECT(instance), "veter-inner", keep);
}

GType enum_type(const char* name, const GEnumValue* values) {
  GType t = g_type_from_name(name);
  return t != 0 ? t : g_enum_register_static(name, values);
}

// L4T's flags: "changeable only in NULL or READY state" unless noted (RWP: also in PLAYING).
constexpr auto RW = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
constexpr auto RWP = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
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
      // bitrate: bit/s, the one property L4T re-reads while encoding (dynamic bitrate change).
      g_param_spec_uint("bitrate", "Target Bitrate", "Set bitrate for v4l2 encode", 0, G_MAXUINT, 4000000, RWP),
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

const StandinSpec* specs() {
  static const StandinSpec all[] = {
      {"VeterStandinNvArgusCameraSrc", "nvarguscamerasrc", Kind::argus, argus_properties, nullptr, kArgusCaps},
      {"VeterStandinNvVidConv", "nvvidconv", Kind::conv, nvvidconv_properties, kConvCaps, kConvCaps},
      {"VeterStandinNvV4l2H264Enc", "nvv4l2h264enc", Kind::enc, nvenc_properties, kNvmmRaw, kH264Caps},
  };
  return all;
}

void register_one(GstPlugin* plugin, const StandinSpec* spec) {
  if (plugin == nullptr) {
    if (veter::common::GstPtr<GstElementFactory> existing{gst_element_factory_find(spec->element_name)}) {
      return;  // the real element is installed: test against it
    }
  }
  GType type = g_type_from_name(spec->type_name);
  if (type == 0) {
    GTypeInfo info{};
    info.class_size = sizeof(GstBinClass);
    info.class_init = standin_class_init;
    info.class_data = spec;
    info.instance_size = sizeof(GstBin);
    info.instance_init = standin_instance_init;
    type = g_type_register_static(GST_TYPE_BIN, spec->type_name, &info, static_cast<GTypeFlags>(0));
  }
  gst_element_register(plugin, spec->element_name, GST_RANK_NONE, type);
}

/// True where the parser takes an unknown property on a bin for a later child's (no error).
bool parser_delays_unknown_bin_properties() {
  static const bool delays = [] {
    GError* raw = nullptr;
    auto bin = common::adopt_floating(
        gst_parse_launch_full("bin veter-no-such-property=1", nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &raw));
    common::GErrorPtr err(raw);
    return !err;
  }();
  return delays;
}

/// The first "element prop=value" of the description whose element is a registered stand-in
/// without that property; empty if there is none. Descriptions here are "a p=v ! b p=v ! ...".
std::string unknown_standin_property(const std::string& description) {
  std::istringstream parts(description);
  for (std::string part; std::getline(parts, part, '!');) {
    std::istringstream words(part);
    std::string factory;
    words >> factory;
    const StandinSpec* spec = nullptr;
    for (int i = 0; i < 3; ++i) {
      if (factory == specs()[i].element_name) {
        spec = &specs()[i];
      }
    }
    common::GstPtr<GstElementFactory> f(spec ? gst_element_factory_find(spec->element_name) : nullptr);
    if (!f || gst_element_factory_get_element_type(f.get()) != g_type_from_name(spec->type_name)) {
      continue;  // not a stand-in (or a real L4T element, which the parser checks itself)
    }
    common::FreePtr<void, g_type_class_unref> klass(g_type_class_ref(g_type_from_name(spec->type_name)));
    std::string unknown;
    for (std::string w; unknown.empty() && words >> w;) {
      const auto eq = w.find('=');
      if (eq != std::string::npos && g_object_class_find_property(G_OBJECT_CLASS(klass.get()), w.substr(0, eq).c_str()) == nullptr) {
        unknown = "no property \"" + w.substr(0, eq) + "\" in element \"" + factory + "\"";
      }
    }
    if (!unknown.empty()) {
      return unknown;
    }
  }
  return {};
}

}  // namespace

common::ElementPtr parse_like_l4t(const std::string& description, common::GErrorPtr* error) {
  GError* raw = nullptr;
  auto parsed = common::adopt_floating(
      gst_parse_launch_full(description.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &raw));
  error->reset(raw);
  if (!parsed || !parser_delays_unknown_bin_properties()) {
    return parsed;
  }
  const std::string unknown = unknown_standin_property(description);
  if (unknown.empty()) {
    return parsed;
  }
  error->reset(g_error_new_literal(GST_PARSE_ERROR, GST_PARSE_ERROR_NO_SUCH_PROPERTY, unknown.c_str()));
  return {};
}

void register_nvidia_standins() {
  static const bool once = [] {
    for (int i = 0; i < 3; ++i) {
      register_one(nullptr, &specs()[i]);
    }
    return true;
  }();
  (void)once;
}

gboolean register_nvidia_standins_plugin(GstPlugin* plugin) {
  for (int i = 0; i < 3; ++i) {
    register_one(plugin, &specs()[i]);
  }
  return TRUE;
}

StandinViolations& standin_violations() { return g_violations; }

}  // namespace veter::test
