#include "veter/relay/serve/rtp_appsrc.hpp"

#include <gst/app/gstappsrc.h>

#include <mutex>

// GObject boilerplate for a GstAppSrc subclass (C API; the macros need C linkage names).
namespace {

struct VeterRtpSrc {
  GstAppSrc parent;
  GMutex lock;
  guint pt;
  gboolean have_packet;
  guint next_seq;  // the sequence number the next packet will carry
  guint timestamp;  // RTP timestamp of the last packet, or of the next one once announced
  GstClockTime running_time;
};

struct VeterRtpSrcClass {
  GstAppSrcClass parent_class;
};

enum { kPropPt = 1, kPropStats, kPropSeqnum, kPropTimestamp };

GType veter_rtp_src_get_type();
// NOLINTNEXTLINE: GLib's type-definition macro
G_DEFINE_TYPE(VeterRtpSrc, veter_rtp_src, GST_TYPE_APP_SRC)

void veter_rtp_src_init(VeterRtpSrc* self) {
  g_mutex_init(&self->lock);
  self->pt = 96;
  self->have_packet = FALSE;
  self->next_seq = 0;
  self->timestamp = 0;
  self->running_time = GST_CLOCK_TIME_NONE;
}

void veter_rtp_src_finalize(GObject* object) {
  auto* self = reinterpret_cast<VeterRtpSrc*>(object);
  g_mutex_clear(&self->lock);
  G_OBJECT_CLASS(veter_rtp_src_parent_class)->finalize(object);
}

void veter_rtp_src_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = reinterpret_cast<VeterRtpSrc*>(object);
  if (id == kPropPt) {
    g_mutex_lock(&self->lock);
    self->pt = g_value_get_uint(value);
    g_mutex_unlock(&self->lock);
  } else {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
  }
}

void veter_rtp_src_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = reinterpret_cast<VeterRtpSrc*>(object);
  g_mutex_lock(&self->lock);
  switch (id) {
    case kPropPt:
      g_value_set_uint(value, self->pt);
      break;
    case kPropStats:
      // The same fields rtpbasepayload reports; gst-rtsp-server builds RTP-Info from them
      // (1.22 reads the sequence number from "seqnum-offset": without it the field stayed
      // unset and a viewer joining a fresh media got a garbage seq and dropped every packet).
      g_value_take_boxed(value, gst_structure_new("application/x-rtp-payload-stats", "clock-rate", G_TYPE_UINT, 90000U,
                                                  "running-time", G_TYPE_UINT64, self->running_time, "seqnum",
                                                  G_TYPE_UINT, self->next_seq, "seqnum-offset", G_TYPE_UINT,
                                                  self->next_seq, "timestamp", G_TYPE_UINT, self->timestamp,
                                                  "timestamp-offset", G_TYPE_UINT, self->timestamp, "pt", G_TYPE_UINT,
                                                  self->pt, nullptr));
      break;
    case kPropSeqnum:
      g_value_set_uint(value, self->next_seq);
      break;
    case kPropTimestamp:
      g_value_set_uint(value, self->timestamp);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
      break;
  }
  g_mutex_unlock(&self->lock);
}

void veter_rtp_src_class_init(VeterRtpSrcClass* klass) {
  auto* gobject_class = G_OBJECT_CLASS(klass);
  gobject_class->finalize = &veter_rtp_src_finalize;
  gobject_class->set_property = &veter_rtp_src_set_property;
  gobject_class->get_property = &veter_rtp_src_get_property;
  const auto rw = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  const auto ro = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_property(gobject_class, kPropPt,
                                  g_param_spec_uint("pt", "Payload type", "RTP payload type of the packets", 0, 127, 96,
                                                    rw));
  g_object_class_install_property(
      gobject_class, kPropStats,
      g_param_spec_boxed("stats", "Statistics", "Sequence number and timestamp of the stream", GST_TYPE_STRUCTURE, ro));
  g_object_class_install_property(gobject_class, kPropSeqnum,
                                  g_param_spec_uint("seqnum", "Sequence number", "Sequence number of the next packet",
                                                    0, G_MAXUINT16, 0, ro));
  g_object_class_install_property(gobject_class, kPropTimestamp,
                                  g_param_spec_uint("timestamp", "Timestamp", "RTP timestamp of the last packet", 0,
                                                    G_MAXUINT32, 0, ro));
  gst_element_class_set_static_metadata(GST_ELEMENT_CLASS(klass), "VETER RTP source", "Source/Network/RTP",
                                        "Pushes ready RTP packets into an RTSP media", "VETER");
}

}  // namespace

namespace veter::relay {

bool register_rtp_appsrc() {
  static const bool ok =
      gst_element_register(nullptr, "veterrtpsrc", GST_RANK_NONE, veter_rtp_src_get_type()) != FALSE;
  return ok;
}

void rtp_appsrc_note_packet(GstElement* src, std::uint16_t seq, std::uint32_t timestamp, GstClockTime running_time) {
  if (!G_TYPE_CHECK_INSTANCE_TYPE(src, veter_rtp_src_get_type())) {
    return;
  }
  auto* self = reinterpret_cast<VeterRtpSrc*>(src);
  g_mutex_lock(&self->lock);
  self->have_packet = TRUE;
  self->next_seq = static_cast<std::uint16_t>(seq + 1);
  self->timestamp = timestamp;
  self->running_time = running_time;
  g_mutex_unlock(&self->lock);
}

}  // namespace veter::relay

namespace veter::relay {

void rtp_appsrc_announce_next(GstElement* src, std::uint16_t next_seq, std::uint32_t timestamp,
                              GstClockTime running_time) {
  if (!G_TYPE_CHECK_INSTANCE_TYPE(src, veter_rtp_src_get_type())) {
    return;
  }
  auto* self = reinterpret_cast<VeterRtpSrc*>(src);
  g_mutex_lock(&self->lock);
  self->have_packet = TRUE;
  self->next_seq = next_seq;
  self->timestamp = timestamp;
  self->running_time = running_time;
  g_mutex_unlock(&self->lock);
}

}  // namespace veter::relay
