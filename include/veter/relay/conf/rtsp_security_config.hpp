// Security configuration keys of the relay: rtsp.users, rtsp.tls,
// connection limits, and the cross-field rules (tokens on non-loopback API
// listeners, pass_sha256 only with TLS). Called from relay_config.cpp.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "veter/common/config_reader.hpp"
#include "veter/relay/conf/relay_config.hpp"

namespace veter::relay {

/// Read users, tls, max_connections, max_connections_per_address, idle_timeout from the rtsp map.
void read_rtsp_security(common::MapReader& rtsp, RtspConfig& out, const std::string& origin);
/// Throws common::ValueError: API/metrics on a non-loopback address without a token,
/// users without a password, pass_sha256 without rtsp.tls, user paths that do not exist,
/// half-configured TLS.
void validate_security(const RelayConfig& cfg);
/// Append the security keys of the rtsp map (inside an open map).
void emit_rtsp_security(YAML::Emitter& e, const RtspConfig& rtsp);
/// True for 127.0.0.0/8, ::1 and "localhost"; false for "" (all interfaces) and anything else.
bool is_loopback_host(const std::string& host);

}  // namespace veter::relay
