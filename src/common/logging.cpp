#include "veter/common/logging.hpp"

#include <gst/gst.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cstdlib>

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
  const char* obj_name = (object != nullptr && GST_IS_OBJECT(object)) ? GST_OBJECT_NAME(object) : "";
  logger->log(lvl, "gst {} {}:{} {}{}{}", gst_debug_category_get_name(category),
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

void bridge_gstreamer_logging() {
  gst_debug_remove_log_function(gst_debug_log_default);
  gst_debug_add_log_function(gst_to_spdlog, nullptr, nullptr);
  if (std::getenv("GST_DEBUG") == nullptr) {
    gst_debug_set_default_threshold(GST_LEVEL_WARNING);
  }
}

}  // namespace veter::common
