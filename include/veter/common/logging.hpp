// Logging: one spdlog logger on stderr (plain lines for journald), with
// GStreamer's debug output and GLib's g_warning()/g_critical() routed into it.
#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace veter::common {

enum class LogLevel { trace, debug, info, warn, error };

/// "trace" | "debug" | "info" | "warn" | "error"; throws ValueError otherwise.
LogLevel parse_log_level(std::string_view text);
std::string_view to_string(LogLevel level);

/// Create the default logger on stderr. Under systemd (JOURNAL_STREAM set) lines
/// carry no timestamp, since journald adds its own.
void init_logging(std::string_view program);
/// Set the level of the project logger and GStreamer's debug threshold
/// (unless GST_DEBUG is set in the environment, which then wins).
void set_log_level(LogLevel level);
/// Route GStreamer's debug log and GLib's log (g_warning from GStreamer, GIO,
/// libsoup...) into spdlog (call once, after gst_init). A few messages that
/// libraries log as warnings on normal operation are logged at debug instead
/// (the table in logging.cpp says why, one by one).
void bridge_gstreamer_logging();

/// The spdlog level a library message is logged at: `level`, or debug when
/// `source` (GStreamer category or GLib domain) and `text` are a known,
/// harmless message (see logging.cpp).
spdlog::level::level_enum library_log_level(std::string_view source, std::string_view text,
                                            spdlog::level::level_enum level);

}  // namespace veter::common
