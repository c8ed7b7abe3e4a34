#include "veter/relay/serve/path_media_factory.hpp"

struct VeterPathMediaFactory {
  GstRTSPMediaFactory parent;
};
struct VeterPathMediaFactoryClass {
  GstRTSPMediaFactoryClass parent_class;
};

G_DEFINE_TYPE(VeterPathMediaFactory, veter_path_media_factory, GST_TYPE_RTSP_MEDIA_FACTORY)

static gchar* veter_path_media_factory_gen_key(GstRTSPMediaFactory* /*factory*/, const GstRTSPUrl* /*url*/) {
  return g_strdup("path");  // one factory per mount point: one key, one shared media
}

static void veter_path_media_factory_class_init(VeterPathMediaFactoryClass* klass) {
  GST_RTSP_MEDIA_FACTORY_CLASS(klass)->gen_key = veter_path_media_factory_gen_key;
}

static void veter_path_media_factory_init(VeterPathMediaFactory* /*self*/) {}

namespace veter::relay {

common::GObjectPtr<GstRTSPMediaFactory> new_path_media_factory() {
  return common::adopt_gobject(
      GST_RTSP_MEDIA_FACTORY(g_object_new(veter_path_media_factory_get_type(), nullptr)));
}

}  // namespace veter::relay
