#include "veter/common/logging.hpp"

#include <gst/gst.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cstdlib>
#include <mutex>

#include <fmt/format.h>

#include "veter/common/values.hpp"

namespace veter::common {

LogLevel parse_log_level(std::string_view text) {
  if (text == "trace") {
    return LogLevel::trace;
  }
  if (text == "debug") {
    return LogLevel::debug;
  }
  if (text == "info") {
    return LogLevel::info;
  }
  if (text == "warn" || text == "warning") {
    return LogLevel::warn;
  }
  if (text == "error") {
    return LogLevel::error;
  }
  throw ValueError(fmt::format("\"{}\" is not a log level (trace, debug, info, warn, error)", text));
}

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::trace: return "trace";
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
  }
  return "info";
}

void init_logging(std::string_view program) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(std::string(program), sink);
  if (std::getenv("JOURNAL_STREAM") != nullptr) {
    logger->set_pattern("[%l] %v");
  } else {
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %n [%l] %v");
  }
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

namespace {

// Library warnings that normal operation produces, logged at debug instead.
// Each has a reason; anything not listed keeps its level.
struct Demoted {
  std::string_view source;  // GStreamer debug category or GLib log domain
  std::string_view text;    // a substring of the message
  std::string_view why;
};
constexpr Demoted kDemoted[] = {
    {"rtspserver", "Could not accept client on socket",
     "accept() failed (out of descriptors): ListenWatch backs off and reports it, rate-limited"},
    {"srtpdec", "packet, dropping",
     "one line per forged or replayed packet: the relay counts them (srtp_auth) and logs one line per 10 s"},
    {"srtpdec", "Unable to unprotect buffer", "as above, one line per packet that fails"},
    {"rtspmedia", "was not prepared",
     "gst-rtsp-server asks a shared live media for its range or rates while it is still preparing (a "
     "viewer's DESCRIBE) or unpreparing (the last viewer left); the answer just has no Range"},
    {"rtspmedia", "was prepared by other client", "a second viewer joins the path's shared media: the design"},
    {"bin", "did not really configure latency of 0:00:00.000000000",
     "the shared media runs with latency 0 (rtsp factory latency 0, no jitter buffer); GstBin notes that "
     "setting zero latency changed nothing"},
    {"rtpsession", "Can't determine running time for this packet without knowing configured latency",
     "the first packets of a new media reach rtpbin before the pipeline's latency is configured; they are "
     "sent, only their RTCP sender-report timing is skipped"},
    {"rtspstream", "failed to acquire address from pool",
     "logged on every UDP viewer's SETUP by a pool lookup that does not apply to the relay's unicast-only "
     "rtsp.udp_port_range pool; the viewer then gets its ports and plays"},
};

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::trace: return spdlog::level::trace;
    case LogLevel::debug: return spdlog::level::debug;
    case LogLevel::info: return spdlog::level::info;
    case LogLevel::warn: return spdlog::level::warn;
    case LogLevel::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

GstDebugLevel to_gst(LogLevel level) {
  switch (level) {
    case LogLevel::trace: return GST_LEVEL_DEBUG;
    case LogLevel::debug: return GST_LEVEL_FIXME;
    case LogLevel::info:
    case LogLevel::warn: return GST_LEVEL_WARNING;
    case LogLevel::error: return GST_LEVEL_ERROR;
  }
  return GST_LEVEL_WARNING;
}

}  // namespace

spdlog::level::level_enum library_log_level(std::string_view source, std::string_view text,
                                            spdlog::level::level_enum level) {
  if (level > spdlog::level::info) {
    for (const auto& d : kDemoted) {
      if (source == d.source && text.find(d.text) != std::string_view::npos) {
        return spdlog::level::debug;
      }
    }
  }
  return level;
}

namespace {

void gst_to_spdlog(GstDebugCategory* category, GstDebugLevel level, const gchar* file,
                   const gchar* /*function*/, gint line, GObject* object, GstDebugMessage* message,
                   gpointer /*user_data*/) noexcept {
  spdlog::level::level_enum lvl = spdlog::level::trace;
  switch (level) {
    case GST_LEVEL_ERROR: lvl = spdlog::level::err; break;
    case GST_LEVEL_WARNING: lvl = spdlog::level::warn; break;
    case GST_LEVEL_FIXME:
    case GST_LEVEL_INFO: lvl = spdlog::level::debug; break;
    default: lvl = spdlog::level::trace; break;
  }
  auto logger = spdlog::default_logger_raw();
  if (logger == nullptr || !logger->should_log(lvl)) {
    return;
  }
  const gchar* text = gst_debug_message_get(message);
  const char* cat = gst_debug_category_get_name(category);
  lvl = library_log_level(cat != nullptr ? cat : "", text != nullptr ? text : "", lvl);
  if (!logger->should_log(lvl)) {
    return;
  }
  const char* obj_name = (object != nullptr && GST_IS_OBJECT(object)) ? GST_OBJECT_NAME(object) : "";
  logger->log(lvl, "gst {} {}:{} {}{}{}", cat != nullptr ? cat : "",
              file != nullptr ? file : "", line, obj_name != nullptr ? obj_name : "",
              (obj_name != nullptr && *obj_name != '\0') ? ": " : "", text != nullptr ? text : "");
}
}  // namespace

void set_log_level(LogLevel level) {
  spdlog::set_level(to_spdlog(level));
  if (std::getenv("GST_DEBUG") == nullptr && gst_is_initialized()) {
    gst_debug_set_default_threshold(to_gst(level));
  }
}

namespace {

// GLib's structured and plain log (g_warning() and friends, e.g. GStreamer's
// "Sticky event misordering" or an RTSP transport parser's "unknown transport
// field"): one formatted line through spdlog instead of raw text on stderr.
GLogWriterOutput glib_to_spdlog(GLogLevelFlags log_level, const GLogField* fields, gsize n_fields,
                                gpointer /*user_data*/) noexcept {
  std::string_view domain;
  std::string_view message;
  for (gsize i = 0; i < n_fields; ++i) {
    const std::string_view key = fields[i].key;
    if (fields[i].length >= 0 && fields[i].value != nullptr && (key == "GLIB_DOMAIN" || key == "MESSAGE")) {
      const auto* v = static_cast<const char*>(fields[i].value);
      const std::string_view value = fields[i].length > 0 ? std::string_view(v, static_cast<std::size_t>(fields[i].length))
                                                          : std::string_view(v);
      (key == "MESSAGE" ? message : domain) = value;
    }
  }
  spdlog::level::level_enum lvl = spdlog::level::debug;
  if ((log_level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) != 0) {
    lvl = spdlog::level::err;
  } else if ((log_level & G_LOG_LEVEL_WARNING) != 0) {
    lvl = spdlog::level::warn;
  } else if ((log_level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO)) != 0) {
    lvl = spdlog::level::info;
  }
  lvl = library_log_level(domain, message, lvl);
  auto logger = spdlog::default_logger_raw();
  if (logger != nullptr && logger->should_log(lvl)) {
    logger->log(lvl, "glib {}: {}", domain.empty() ? "-" : domain, message);
  }
  return G_LOG_WRITER_HANDLED;
}

}  // namespace

void bridge_gstreamer_logging() {
  static std::once_flag glib_once;
  std::call_once(glib_once, [] { g_log_set_writer_func(glib_to_spdlog, nullptr, nullptr); });
  gst_debug_remove_log_function(gst_debug_log_default);
  gst_debug_add_log_function(gst_to_spdlog, nullptr, nullptr);
  if (std::getenv("GST_DEBUG") == nullptr) {
    gst_debug_set_default_threshold(GST_LEVEL_WARNING);
  }
}

}  // namespace veter::common
