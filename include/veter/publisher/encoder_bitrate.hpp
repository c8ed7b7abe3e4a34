// Changing the encoder's target bitrate while it runs (for a bitrate controller).
//
// Each encoder names and scales its bitrate differently; this is the one place that knows:
//   nvv4l2h264enc  "bitrate", bit/s  (L4T: changeable in PLAYING)
//   x264enc        "bitrate", kbit/s (changeable in PLAYING)
//   vah264enc      "bitrate", kbit/s (changeable in PLAYING)
//   openh264enc    "bitrate", bit/s  (changeable in PLAYING)
//   v4l2h264enc    no live change: extra-controls are applied when the device starts.
// Called from any thread: GObject property writes are thread-safe, and the encoders read the
// new value on their streaming thread.
#pragma once

#include <gst/gst.h>

#include <optional>

#include "veter/publisher/selection.hpp"

namespace veter::publisher {

/// The value of the encoder's "bitrate" property for `kbps` (nullopt: it cannot change live).
std::optional<guint> live_bitrate_value(EncoderKind kind, int kbps);

/// Set the running encoder's bitrate to `kbps`. False (and nothing changed) when this encoder
/// cannot change it live or has no such property.
bool set_encoder_bitrate(GstElement* encoder, EncoderKind kind, int kbps);

}  // namespace veter::publisher
