#include "veter/publisher/pipeline_builder.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace veter::publisher {

namespace {

constexpr const char* kNvmmNv12 = "video/x-raw(memory:NVMM),format=NV12";

/// x264 preset: ultrafast above 720p15-worth of pixels per second, superfast below.
const char* x264_preset(const PublisherConfig& cfg) {
  const long long pixels_per_second = 1LL * cfg.width * cfg.height * cfg.fps;
  return pixels_per_second > 1280LL * 720 * 15 ? "ultrafast" : "superfast";
}

/// x264 frame threads: 1 (no added delay) up to 720p30 worth of pixels, 0 (auto) above.
int x264_threads(const PublisherConfig& cfg) {
  const long long pixels_per_second = 1LL * cfg.width * cfg.height * cfg.fps;
  return pixels_per_second <= 1280LL * 720 * 30 ? 1 : 0;
}

/// Low-latency VBV: three frame intervals (at least 50 ms).
int vbv_ms(const PublisherConfig& cfg) { return std::max(50, 3000 / cfg.fps); }

std::string raw_caps(const PublisherConfig& cfg) {
  return fmt::format("width={},height={},framerate={}/1", cfg.width, cfg.height, cfg.fps);
}

}  // namespace

EncoderSettings encoder_settings(const PublisherConfig& cfg, EncoderKind encoder) {
  const int kbps = cfg.bitrate_kbps;
  const int gop = cfg.keyframe_interval;
  constexpr const char* kAu = "video/x-h264,stream-format=byte-stream,alignment=au";
  switch (encoder) {
    case EncoderKind::nvv4l2h264enc:
      // NVIDIA (L4T "Accelerated GStreamer"): bitrate in bit/s; control-rate 1 = constant_bitrate;
      // profile 0 = Baseline; preset-level 1 = UltraFastPreset; every I-frame an IDR, SPS/PPS
      // with each; no B-frames (they add a frame of delay); maxperf-enable clocks the encoder up.
      return {kNvmmNv12,
              fmt::format("bitrate={} control-rate=1 profile=0 preset-level=1 iframeinterval={} "
                          "idrinterval={} num-B-Frames=0 insert-sps-pps=true insert-vui=true maxperf-enable=true",
                          kbps * 1000, gop, gop),
              kAu};
    case EncoderKind::v4l2h264enc:
      // Stateful V4L2 encoders (e.g. Raspberry Pi): controls by their V4L2 names, bit/s.
      return {"video/x-raw,format=NV12",
              fmt::format("extra-controls=\"controls,video_bitrate={},video_gop_size={},h264_i_frame_period={},"
                          "repeat_sequence_header=1\"",
                          kbps * 1000, gop, gop),
              std::string(kAu) + ",profile=constrained-baseline"};
    case EncoderKind::vah264enc:
      return {"video/x-raw,format=NV12",
              fmt::format("rate-control=cbr bitrate={} key-int-max={} b-frames=0 target-usage=7", kbps, gop),
              std::string(kAu) + ",profile=constrained-baseline"};
    case EncoderKind::x264enc:
      // One slice per picture: rtph264pay config-interval=-1 puts SPS/PPS before every IDR
      // *slice*, which would split a multi-slice IDR (zerolatency's sliced threads) in two.
      // Frame threads add a frame of delay each, so one thread up to 720p30, auto above.
      return {"video/x-raw,format=I420",
              fmt::format("tune=zerolatency speed-preset={} bitrate={} vbv-buf-capacity={} key-int-max={} "
                          "bframes=0 sliced-threads=false threads={}",
                          x264_preset(cfg), kbps, vbv_ms(cfg), gop, x264_threads(cfg)),
              std::string(kAu) + ",profile=constrained-baseline"};
    case EncoderKind::openh264enc:
      return {"video/x-raw,format=I420",
              fmt::format("bitrate={} gop-size={} rate-control=bitrate complexity=low usage-type=camera",
                          kbps * 1000, gop),
              kAu};
    case EncoderKind::passthrough:
      // No encoder: h264parse takes the camera's H.264 to whole access units (what the SEI probe
      // and rtph264pay want) and repeats SPS/PPS before every IDR, which a camera may send only once.
      return {"", "config-interval=-1", kAu};
  }
  return {};
}

std::string_view encoder_element(EncoderKind encoder) {
  return encoder == EncoderKind::passthrough ? "h264parse" : to_string(encoder);
}

namespace {

/// Fresh noise every frame looks like a scene change to x264, which would then make every
/// few frames an IDR; a camera does not, so neither does the test source.
std::string snow_options(const PublisherConfig& cfg, EncoderKind encoder) {
  return cfg.test_pattern == "snow" && encoder == EncoderKind::x264enc ? " option-string=scenecut=0" : "";
}

/// Source element and its caps, ending in raw video (system memory or NVMM for argus).
std::string source_part(const PublisherConfig& cfg, const Selection& sel) {
  switch (sel.source) {
    case SourceKind::argus:
      return fmt::format("nvarguscamerasrc name={} sensor-id={} ! video/x-raw(memory:NVMM),{},format=NV12",
                         element::source, sel.device.empty() ? "0" : sel.device, raw_caps(cfg));
    case SourceKind::v4l2:
      if (sel.v4l2_format == V4l2Format::h264) {
        // The camera's own encoder: its rate and GOP are the camera's (see docs/publisher.md).
        return fmt::format("v4l2src name={} device={} ! video/x-h264,{}", element::source, sel.device, raw_caps(cfg));
      }
      if (sel.v4l2_format == V4l2Format::mjpeg) {
        return fmt::format("v4l2src name={} device={} ! image/jpeg,{} ! jpegdec", element::source, sel.device,
                           raw_caps(cfg));
      }
      return fmt::format("v4l2src name={} device={} ! video/x-raw,{}", element::source, sel.device, raw_caps(cfg));
    case SourceKind::test: {
      // A moving ball (or fresh noise every frame) and a wall clock: frozen video is visible at
      // a glance. The ball compresses far below any useful bitrate; snow needs all of it.
      std::string out = fmt::format(
          "videotestsrc name={} is-live=true pattern={} ! video/x-raw,{} ! "
          "clockoverlay time-format=\"%Y-%m-%d %H:%M:%S\" halignment=right valignment=top",
          element::source, cfg.test_pattern, raw_caps(cfg));
      if (sel.encoder == EncoderKind::passthrough) {
        // Stands in for an H.264 camera: x264enc plays the camera's own encoder, so the passthrough
        // path (parse, stamp, payload) runs on a machine without one.
        const EncoderSettings cam = encoder_settings(cfg, EncoderKind::x264enc);
        out += fmt::format(" ! videoconvert ! {} ! x264enc name={} {}{} ! {}", cam.input_caps,
                           element::camera_encoder, cam.properties, snow_options(cfg, EncoderKind::x264enc),
                           cam.output_caps);
      }
      return out;
    }
  }
  return {};
}

/// From the source's output to what the encoder takes.
std::string convert_part(const Selection& sel, const EncoderSettings& enc) {
  if (sel.encoder == EncoderKind::passthrough) {
    return {};  // H.264 from the camera straight into h264parse
  }
  const bool source_nvmm = sel.source == SourceKind::argus;
  const bool encoder_nvmm = sel.encoder == EncoderKind::nvv4l2h264enc;
  if (source_nvmm && encoder_nvmm) {
    return {};  // zero copy: NVMM NV12 straight into the hardware encoder
  }
  if (source_nvmm || encoder_nvmm) {
    return fmt::format(" ! nvvidconv ! {}", enc.input_caps);  // VIC copies between NVMM and system memory
  }
  return fmt::format(" ! videoconvert ! {}", enc.input_caps);
}

/// RFC 4588 retransmission: rtprtxsend keeps ~1 s of packets and answers the NACKs rtpbin turns
/// into upstream requests with RTX packets (own payload type and SSRC, apt=96).
std::string rtx_part(const PublisherConfig& cfg) {
  if (!cfg.rtx) {
    return {};
  }
  return fmt::format(
      "rtprtxsend name={} payload-type-map=\"application/x-rtp-pt-map,96=(uint){}\" max-size-time=1000 "
      "max-size-packets=0 ! ",
      element::rtx_sender, cfg.rtx_payload_type);
}

}  // namespace

std::string build_pipeline_description(const PublisherConfig& cfg, const Selection& sel) {
  if ((sel.source == SourceKind::v4l2 && sel.v4l2_format == V4l2Format::h264) !=
          (sel.encoder == EncoderKind::passthrough) &&
      sel.source != SourceKind::test) {
    // Selection never pairs them otherwise: H.264 from a camera is passed through, and
    // passthrough needs H.264 from the camera (or the test source's stand-in encoder).
    throw std::invalid_argument(fmt::format("{} with {} video cannot be combined with encoder {}",
                                            element_name(sel.source), to_string(sel.v4l2_format),
                                            to_string(sel.encoder)));
  }
  EncoderSettings enc = encoder_settings(cfg, sel.encoder);
  if (sel.source == SourceKind::test) {
    enc.properties += snow_options(cfg, sel.encoder);
  }
  const int rtp_port = cfg.destination.port;
  const int local = cfg.local_port;
  const std::string& host = cfg.destination.host;
  // SRTP/SRTCP (AES_CM_128_HMAC_SHA1_80) between rtpbin and the sockets. The key is
  // set on the element at runtime, never written into this (logged) description.
  const bool srtp = !cfg.srtp_key_file.empty();
  const std::string srtp_elem =
      srtp ? fmt::format("srtpenc name={} rtp-cipher=aes-128-icm rtp-auth=hmac-sha1-80 rtcp-cipher=aes-128-icm "
                         "rtcp-auth=hmac-sha1-80 ",
                         element::srtp_encoder)
           : std::string();
  const std::string rtp_out = srtp ? fmt::format("! {0}.rtp_sink_0 {0}.rtp_src_0 ", element::srtp_encoder) : "";
  const std::string rtcp_out = srtp ? fmt::format("! {0}.rtcp_sink_0 {0}.rtcp_src_0 ", element::srtp_encoder) : "";
  return fmt::format(
      "rtpbin name={rtpbin} {srtp_elem}"
      "{source}{convert} ! {encoder} name={enc} {props} ! {h264caps} ! "
      "rtph264pay name={pay} pt=96 mtu={mtu} config-interval=-1 aggregate-mode=zero-latency ! {rtx}"
      "{rtpbin}.send_rtp_sink_0 "
      "{rtpbin}.send_rtp_src_0 {rtp_out}! udpsink name={rtp_sink} host={host} port={port} bind-port={lport} "
      "sync=false async=false "
      "{rtpbin}.send_rtcp_src_0 {rtcp_out}! udpsink name={rtcp_sink} host={host} port={port1} bind-port={lport1} "
      "sync=false async=false "
      "udpsrc name={rtcp_src} port={lport1} caps=application/x-rtcp ! {rtpbin}.recv_rtcp_sink_0",
      fmt::arg("rtpbin", element::rtpbin), fmt::arg("srtp_elem", srtp_elem), fmt::arg("rtx", rtx_part(cfg)), fmt::arg("rtp_out", rtp_out),
      fmt::arg("rtcp_out", rtcp_out), fmt::arg("source", source_part(cfg, sel)),
      fmt::arg("convert", convert_part(sel, enc)), fmt::arg("encoder", encoder_element(sel.encoder)),
      fmt::arg("enc", element::encoder), fmt::arg("props", enc.properties), fmt::arg("h264caps", enc.output_caps),
      fmt::arg("pay", element::payloader), fmt::arg("mtu", cfg.mtu), fmt::arg("rtp_sink", element::rtp_sink),
      fmt::arg("host", host), fmt::arg("port", rtp_port), fmt::arg("lport", local),
      fmt::arg("rtcp_sink", element::rtcp_sink), fmt::arg("port1", rtp_port + 1),
      fmt::arg("lport1", local == 0 ? 0 : local + 1), fmt::arg("rtcp_src", element::rtcp_src));
}

}  // namespace veter::publisher
