#include "veter/publisher/encoder_bitrate.hpp"

namespace veter::publisher {

std::optional<guint> live_bitrate_value(EncoderKind kind, int kbps) {
  if (kbps <= 0) {
    return std::nullopt;
  }
  const auto k = static_cast<guint>(kbps);
  switch (kind) {
    case EncoderKind::nvv4l2h264enc:
    case EncoderKind::openh264enc:
      return k * 1000U;
    case EncoderKind::x264enc:
    case EncoderKind::vah264enc:
      return k;
    case EncoderKind::v4l2h264enc:
    case EncoderKind::passthrough:  // the camera's encoder: not ours to change
      return std::nullopt;
  }
  return std::nullopt;
}

bool set_encoder_bitrate(GstElement* encoder, EncoderKind kind, int kbps) {
  const auto value = live_bitrate_value(kind, kbps);
  if (encoder == nullptr || !value) {
    return false;
  }
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(encoder), "bitrate");
  if (spec == nullptr || (spec->flags & GST_PARAM_MUTABLE_PLAYING) == 0) {
    return false;  // not a property it re-reads while encoding
  }
  if (G_PARAM_SPEC_VALUE_TYPE(spec) == G_TYPE_UINT) {
    const auto* u = G_PARAM_SPEC_UINT(spec);
    if (*value < u->minimum || *value > u->maximum) {
      return false;
    }
    g_object_set(encoder, "bitrate", *value, nullptr);
    return true;
  }
  if (G_PARAM_SPEC_VALUE_TYPE(spec) == G_TYPE_INT) {
    const auto* i = G_PARAM_SPEC_INT(spec);
    const auto v = static_cast<gint64>(*value);
    if (v < i->minimum || v > i->maximum) {
      return false;
    }
    g_object_set(encoder, "bitrate", static_cast<gint>(v), nullptr);
    return true;
  }
  return false;
}

}  // namespace veter::publisher
