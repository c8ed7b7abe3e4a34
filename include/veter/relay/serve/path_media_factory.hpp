// The media factory of one path: every URL that resolves to the path shares one
// media, whatever its query string or control suffix.
//
// gst-rtsp-server keys shared media by the request URL's path and query
// (default gen_key), so DESCRIBE on "/camera?x=1", "/camera?x=2", ... or a SETUP
// on "/camera/stream=0" without DESCRIBE would each build another pipeline that
// nobody plays: unbounded memory and threads for whoever can reach the port,
// and each new media's first packet took a number from the shared RTP sequence.
// A factory serves exactly one mount point, so its key is a constant.
#pragma once

#include <gst/rtsp-server/rtsp-server.h>

#include "veter/common/gst_ptr.hpp"

namespace veter::relay {

/// A new factory (shared media keyed by the path alone); configure it like gst_rtsp_media_factory_new()'s.
common::GObjectPtr<GstRTSPMediaFactory> new_path_media_factory();

}  // namespace veter::relay
