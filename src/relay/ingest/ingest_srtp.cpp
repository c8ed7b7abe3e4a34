#include "veter/relay/ingest/ingest_srtp.hpp"

#include <gst/net/gstnetaddressmeta.h>
#include <sys/socket.h>

#include <optional>
#include <span>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace veter::relay {

namespace {
constexpr std::uint64_t kMismatchAfter = 50;  // consecutive failures with no success before we call it a mismatch
}

IngestSrtp::IngestSrtp(std::string path_name, const std::string& key_file, std::vector<common::Cidr> allow_from,
                       DropCounter count_drop)
    : path_(std::move(path_name)),
      key_(common::load_srtp_key_file(key_file)),
      allow_from_(std::move(allow_from)),
      count_drop_(std::move(count_drop)) {
  spdlog::info("path {}: SRTP ingest (AES_CM_128_HMAC_SHA1_80), key {} from {}", path_, key_.fingerprint(),
               key_file);
}

IngestSrtp::~IngestSrtp() { detach(); }

common::CapsPtr IngestSrtp::input_caps(int payload_type) const {
  return common::CapsPtr(gst_caps_new_simple("application/x-srtp", "media", G_TYPE_STRING, "video", "clock-rate",
                                             G_TYPE_INT, 90000, "encoding-name", G_TYPE_STRING, "H264", "payload",
                                             G_TYPE_INT, payload_type, nullptr));
}

common::ElementPtr IngestSrtp::make_decoder() {
  auto dec = common::make_element("srtpdec", "srtpdec");
  g_signal_connect(dec.get(), "request-key", G_CALLBACK(&IngestSrtp::on_request_key), this);
  return dec;
}

GstCaps* IngestSrtp::on_request_key(GstElement*, guint ssrc, gpointer self) {
  auto* me = static_cast<IngestSrtp*>(self);
  auto key = me->key_.to_buffer();
  return gst_caps_new_simple("application/x-srtp", "ssrc", G_TYPE_UINT, ssrc, "srtp-key", GST_TYPE_BUFFER, key.get(),
                             "srtp-cipher", G_TYPE_STRING, "aes-128-icm", "srtp-auth", G_TYPE_STRING, "hmac-sha1-80",
                             "srtcp-cipher", G_TYPE_STRING, "aes-128-icm", "srtcp-auth", G_TYPE_STRING,
                             "hmac-sha1-80", nullptr);
}

void IngestSrtp::attach(GstPad* udpsrc_src, GstPad* decoder_src) {
  in_probe_ = common::PadProbe(
      udpsrc_src, gst_pad_add_probe(udpsrc_src, GST_PAD_PROBE_TYPE_BUFFER, &IngestSrtp::on_input, this, nullptr));
  out_probe_ = common::PadProbe(
      decoder_src, gst_pad_add_probe(decoder_src, GST_PAD_PROBE_TYPE_BUFFER, &IngestSrtp::on_output, this, nullptr));
}

void IngestSrtp::detach() {
  in_probe_.reset();
  out_probe_.reset();
}

GstPadProbeReturn IngestSrtp::on_input(GstPad*, GstPadProbeInfo* info, gpointer self) {
  auto* me = static_cast<IngestSrtp*>(self);
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (buffer == nullptr) {
    return GST_PAD_PROBE_OK;
  }
  // Allow list before anything else touches the bytes.
  sockaddr_storage ss{};
  const sockaddr* sa = nullptr;
  if (auto* meta = gst_buffer_get_net_address_meta(buffer); meta != nullptr && meta->addr != nullptr) {
    if (g_socket_address_to_native(meta->addr, &ss, sizeof ss, nullptr)) {
      sa = reinterpret_cast<const sockaddr*>(&ss);
    }
  }
  if (!common::cidr_list_allows(me->allow_from_, sa)) {
    me->count_drop_(DropReason::not_allowed);
    return GST_PAD_PROBE_DROP;
  }
  std::optional<DropReason> drop;
  {
    const common::MappedBuffer map(buffer, GST_MAP_READ);
    if (!map) {
      me->count_drop_(DropReason::too_short);
      return GST_PAD_PROBE_DROP;
    }
    if (looks_like_rtcp(map.bytes())) {
      drop = DropReason::rtcp_on_rtp_port;
    } else {
      drop = parse_rtp(map.bytes()).drop;
    }
  }
  if (drop) {
    me->count_drop_(*drop);
    return GST_PAD_PROBE_DROP;
  }
  me->in_.fetch_add(1, std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn IngestSrtp::on_output(GstPad*, GstPadProbeInfo* info, gpointer self) {
  if (GST_PAD_PROBE_INFO_BUFFER(info) != nullptr) {
    static_cast<IngestSrtp*>(self)->out_.fetch_add(1, std::memory_order_relaxed);
  }
  return GST_PAD_PROBE_OK;
}

std::uint64_t IngestSrtp::auth_failures() const {
  const auto out = out_.load();
  const auto in = in_.load();
  return in > out ? in - out : 0;
}

void IngestSrtp::tick() {
  const auto in = in_.load();
  const auto out = out_.load();
  // srtpdec warns once per failing packet (demoted in common/logging.cpp): one line per interval instead.
  const auto failures = in > out ? in - out : 0;
  const auto now = std::chrono::steady_clock::now();
  if (failures > failures_reported_ && !mismatch_logged_ &&
      (failures_logged_at_ == std::chrono::steady_clock::time_point{} ||
       now - failures_logged_at_ >= std::chrono::seconds(10))) {
    spdlog::warn("path {}: {} SRTP packet(s) failed authentication since the last report (forged, replayed or "
                 "another key); dropped and counted as dropped{{reason=\"srtp_auth\"}}, {} in all",
                 path_, failures - failures_reported_, failures);
    failures_reported_ = failures;
    failures_logged_at_ = now;
  } else if (mismatch_logged_) {
    failures_reported_ = failures;  // reported by the mismatch error
  }
  const auto new_in = in - last_in_;
  const auto new_out = out - last_out_;
  if (new_out > 0) {
    last_in_ = in;
    last_out_ = out;
    if (mismatch_logged_) {
      spdlog::info("path {}: SRTP packets authenticate again", path_);
      mismatch_logged_ = false;
    }
    return;
  }
  if (new_in >= kMismatchAfter && !mismatch_logged_) {
    mismatch_logged_ = true;
    spdlog::error("path {}: none of the last {} SRTP packets authenticated: the publisher's key differs from this "
                  "relay's (key {}), or someone is sending forged packets; they are dropped and counted as "
                  "dropped{{reason=\"srtp_auth\"}}",
                  path_, new_in, key_.fingerprint());
  }
}

}  // namespace veter::relay
