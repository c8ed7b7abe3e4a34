// The `webrtc:` section of the relay configuration (WHEP listener, ICE ports, TLS, token).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "veter/common/config_reader.hpp"
#include "veter/relay/conf/relay_config.hpp"

namespace veter::relay {

void read_webrtc(common::MapReader& webrtc, WebrtcConfig& out, const std::string& origin);
/// Cross-field rules (ports against ingest/RTSP, TLS pairs, users' paths); throws common::ValueError.
void validate_webrtc(const RelayConfig& cfg);
void emit_webrtc(YAML::Emitter& e, const WebrtcConfig& webrtc);

}  // namespace veter::relay
