// The publisher's pipeline as a gst-launch description: a pure function of the
// configuration and the selected elements (golden-tested, parsed in tests).
//
//   <source> ! <convert to encoder input> ! <encoder> ! <h264 caps> ! rtph264pay
//     ! rtpbin.send_rtp_sink_0
// With encoder passthrough the source delivers H.264 and <encoder> is h264parse (no convert).
//   rtpbin.send_rtp_src_0  ! udpsink name=rtp_sink  (local_port   -> destination port)
//   rtpbin.send_rtcp_src_0 ! udpsink name=rtcp_sink (local_port+1 -> destination port+1)
//   udpsrc name=rtcp_src (local_port+1) ! rtpbin.recv_rtcp_sink_0
//
// At run time rtp_sink gets the socket bound to local_port, and rtcp_sink and
// rtcp_src share the socket bound to local_port+1 (symmetric RTP).
// With srtp_key_file, srtpenc sits before both udpsinks, and a probe on
// rtcp_src (SrtcpFilter, set up at run time) passes only SRTCP that
// authenticates, decrypted, to rtpbin.
#pragma once

#include <string>
#include <string_view>

#include "veter/publisher/publisher_config.hpp"
#include "veter/publisher/selection.hpp"

namespace veter::publisher {

/// Element names in the description that the runtime looks up.
namespace element {
inline constexpr const char* source = "src";
inline constexpr const char* encoder = "enc";  // the encoder; h264parse with passthrough
inline constexpr const char* camera_encoder = "camera_h264";  // test source with passthrough: the camera's x264enc
inline constexpr const char* payloader = "pay";
inline constexpr const char* rtpbin = "rtpbin";
inline constexpr const char* rtp_sink = "rtp_sink";
inline constexpr const char* rtcp_sink = "rtcp_sink";
inline constexpr const char* rtcp_src = "rtcp_src";
inline constexpr const char* rtx_sender = "rtx";  // rtprtxsend, with rtx: true
inline constexpr const char* srtp_encoder = "srtpenc";  // only with srtp_key_file (key set at runtime)
}  // namespace element

/// How one encoder is driven: every encoder property comes from here.
struct EncoderSettings {
  std::string input_caps;   // raw caps the encoder is fed, e.g. "video/x-raw,format=I420"
  std::string properties;   // "key=value ..." for the encoder element
  std::string output_caps;  // H.264 caps after the encoder
};
EncoderSettings encoder_settings(const PublisherConfig& cfg, EncoderKind encoder);
/// The element behind element::encoder: the encoder's own name, h264parse for passthrough.
std::string_view encoder_element(EncoderKind encoder);

/// The full description for gst_parse_launch. Throws std::invalid_argument for a V4L2 H.264
/// source without passthrough, or passthrough with a raw source other than the test pattern.
std::string build_pipeline_description(const PublisherConfig& cfg, const Selection& sel);

}  // namespace veter::publisher
