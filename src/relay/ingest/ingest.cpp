#include "veter/relay/ingest/ingest.hpp"

#include <gst/video/video.h>

#include <random>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace veter::relay {

using common::ElementPtr;
using common::GErrorPtr;

namespace {

common::GObjectPtr<GSocket> bind_udp(const std::string& host, int port) {
  GError* err = nullptr;
  common::GObjectPtr<GInetAddress> addr(g_inet_address_new_from_string(host.c_str()));
  if (!addr) {
    // A host name: resolve it once at start-up.
    common::GObjectPtr<GResolver> resolver(g_resolver_get_default());
    const common::GListPtr<GInetAddress> list(g_resolver_lookup_by_name(resolver.get(), host.c_str(), nullptr, &err));
    if (list.empty()) {
      GErrorPtr e(err);
      throw std::runtime_error(fmt::format("cannot resolve {}: {}", host, e ? e->message : "?"));
    }
    addr = common::ref_gobject(list.front());
  }
  common::GObjectPtr<GSocketAddress> sa(g_inet_socket_address_new(addr.get(), static_cast<guint16>(port)));
  common::GObjectPtr<GSocket> sock(
      g_socket_new(g_inet_address_get_family(addr.get()), G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &err));
  if (!sock) {
    GErrorPtr e(err);
    throw std::runtime_error(fmt::format("cannot create UDP socket: {}", e ? e->message : "?"));
  }
  if (!g_socket_bind(sock.get(), sa.get(), FALSE, &err)) {
    GErrorPtr e(err);
    throw std::runtime_error(fmt::format("cannot bind UDP {}:{}: {}", host, port, e ? e->message : "?"));
  }
  g_socket_set_blocking(sock.get(), FALSE);
  return sock;
}

}  // namespace

Ingest::Ingest(PathConfig cfg, AccessUnitSink sink, ParameterSetsSink parameter_sets)
    : cfg_(std::move(cfg)),
      sink_(std::move(sink)),
      parameter_sets_sink_(std::move(parameter_sets)),
      filter_(cfg_.ingest.allow_from, cfg_.ingest.payload_type, cfg_.ingest.timeout, cfg_.ingest.takeover),
      own_ssrc_(std::random_device{}()) {}

Ingest::~Ingest() { stop(); }

void Ingest::start() {
  const std::string host = cfg_.ingest.listen.bind_host();
  const int port = cfg_.ingest.listen.port;
  if (!cfg_.ingest.srtp_key_file.empty()) {  // SRTP key loaded (and checked) before binding
    srtp_ = std::make_unique<IngestSrtp>(cfg_.name, cfg_.ingest.srtp_key_file, cfg_.ingest.allow_from,
                                         [this](DropReason r) { count_drop(r); });
    srtcp_out_ = std::make_unique<common::SrtcpContext>(srtp_->key(), common::SrtcpContext::Direction::outbound);
    srtcp_in_ = std::make_unique<common::SrtcpContext>(srtp_->key(), common::SrtcpContext::Direction::inbound);
  }
  rtp_socket_ = bind_udp(host, port);
  rtcp_socket_ = bind_udp(host, port + 1);

  pipeline_ = common::adopt_floating(gst_pipeline_new(fmt::format("ingest-{}", cfg_.name).c_str()));
  auto src = common::make_element("udpsrc", "src");
  g_object_set(src.get(), "socket", rtp_socket_.get(), "close-socket", FALSE, "buffer-size", 4 * 1024 * 1024,
               nullptr);
  common::CapsPtr caps(gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "video", "clock-rate",
                                           G_TYPE_INT, 90000, "encoding-name", G_TYPE_STRING, "H264", "payload",
                                           G_TYPE_INT, cfg_.ingest.payload_type, nullptr));
  if (srtp_) {
    caps = srtp_->input_caps(cfg_.ingest.payload_type);
  }
  g_object_set(src.get(), "caps", caps.get(), nullptr);
  ElementPtr srtpdec = srtp_ ? srtp_->make_decoder() : ElementPtr();
  // The packets themselves go to the fan-out: no depayloader, no parser.
  auto appsink = common::make_element("appsink", "out");
  g_object_set(appsink.get(), "sync", FALSE, "async", FALSE, "emit-signals", TRUE, "max-buffers", 256, "drop", TRUE,
               "enable-last-sample", FALSE, nullptr);
  ElementPtr jitter;
  if (cfg_.ingest.nack) {
    repair_ = std::make_unique<IngestRepair>(
        cfg_.name, cfg_.ingest.payload_type, cfg_.ingest.rtx_payload_type, cfg_.ingest.repair_window,
        cfg_.ingest.jitter_buffer,
        [this](std::uint32_t ssrc, std::vector<std::uint16_t> seqs) { send_nack(ssrc, std::move(seqs)); });
    filter_.set_repair_payload_type(cfg_.ingest.rtx_payload_type);
  } else if (cfg_.ingest.jitter_buffer.count() > 0) {
    jitter = common::make_element("rtpjitterbuffer", "jitter");
    g_object_set(jitter.get(), "latency", static_cast<guint>(cfg_.ingest.jitter_buffer.count()), "drop-on-latency",
                 TRUE, nullptr);
  }

  GstBin* bin = GST_BIN(pipeline_.get());
  // gst_bin_add takes the (already sunk) reference: give the bin its own.
  GstElement* rtx = repair_ ? repair_->receiver() : nullptr;
  GstElement* repair_jitter = repair_ ? repair_->jitter_buffer() : nullptr;
  for (auto* e : {src.get(), srtpdec.get(), jitter.get(), rtx, repair_jitter, appsink.get()}) {
    if (e != nullptr) {
      gst_bin_add(bin, GST_ELEMENT(gst_object_ref(e)));
    }
  }
  GstElement* rtp_out = src.get();  // with SRTP: udpsrc ! srtpdec ! ...
  bool linked = true;
  if (srtpdec) {
    linked = gst_element_link_pads(src.get(), "src", srtpdec.get(), "rtp_sink") != FALSE;
    rtp_out = srtpdec.get();
  }
  if (repair_) {
    linked = linked && gst_element_link_many(rtp_out, rtx, repair_jitter, appsink.get(), nullptr);
  } else {
    linked = linked && (jitter ? gst_element_link_many(rtp_out, jitter.get(), appsink.get(), nullptr)
                               : gst_element_link(rtp_out, appsink.get()));
  }
  if (!linked) {
    throw std::runtime_error("cannot link the ingest pipeline");
  }

  auto src_pad = common::static_pad(src.get(), "src");
  // With SRTP the full filter (publisher lock) sees only authenticated packets.
  auto filter_pad = srtpdec ? common::static_pad(srtpdec.get(), "rtp_src") : common::static_pad(src.get(), "src");
  if (srtp_) {
    srtp_->attach(src_pad.get(), filter_pad.get());
  }
  rtp_probe_ = common::PadProbe(
      filter_pad.get(),
      gst_pad_add_probe(filter_pad.get(), GST_PAD_PROBE_TYPE_BUFFER, &Ingest::on_rtp_probe, this, nullptr));
  g_signal_connect(appsink.get(), "new-sample", G_CALLBACK(&Ingest::on_new_sample), this);
  if (repair_) {
    repair_->attach();
  }

  common::BusPtr bus(gst_element_get_bus(pipeline_.get()));
  bus_watch_.reset(gst_bus_add_watch(bus.get(), &Ingest::on_bus_message, this));

  GSource* rtcp_src = g_socket_create_source(rtcp_socket_.get(), G_IO_IN, nullptr);
  g_source_set_callback(rtcp_src, reinterpret_cast<GSourceFunc>(reinterpret_cast<void (*)()>(&Ingest::on_rtcp_readable)),
                        this, nullptr);
  rtcp_watch_ = common::attach_source(rtcp_src);

  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    throw std::runtime_error(fmt::format("path {}: the ingest pipeline does not start", cfg_.name));
  }
  window_start_ = Clock::now();
  spdlog::info("path {}: ingest listening on udp {}:{} (RTCP {}){}{}", cfg_.name, host, port, port + 1,
               cfg_.ingest.jitter_buffer.count() > 0
                   ? fmt::format(", jitter buffer {} ms", cfg_.ingest.jitter_buffer.count())
                   : std::string(),
               repair_ ? fmt::format(", NACK/RTX (pt {}) repair window {}", cfg_.ingest.rtx_payload_type,
                                     cfg_.ingest.repair_window.count() == 0
                                         ? std::string("auto")
                                         : common::format_duration(cfg_.ingest.repair_window))
                       : std::string());
  if (cfg_.ingest.allow_from.empty()) {
    spdlog::warn("path {}: ingest.allow_from is empty: anyone who can reach udp port {} can publish", cfg_.name,
                 port);
  }
}

void Ingest::stop() {
  rtcp_watch_.reset();
  if (srtp_) {
    srtp_->detach();
  }
  rtp_probe_.reset();
  if (pipeline_) {
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    bus_watch_.reset();
    if (repair_) {
      repair_->detach();  // the streaming threads have stopped: no new requests
    }
    pipeline_.reset();
  }
  pending_.reset();
  if (rtcp_socket_) {
    g_socket_close(rtcp_socket_.get(), nullptr);
    rtcp_socket_.reset();
  }
  if (rtp_socket_) {
    g_socket_close(rtp_socket_.get(), nullptr);
    rtp_socket_.reset();
  }
}

gboolean Ingest::on_bus_message(GstBus*, GstMessage* msg, gpointer self) {
  auto* me = static_cast<Ingest*>(self);
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR || GST_MESSAGE_TYPE(msg) == GST_MESSAGE_WARNING) {
    GError* err = nullptr;
    gchar* dbg = nullptr;
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
      gst_message_parse_error(msg, &err, &dbg);
    } else {
      gst_message_parse_warning(msg, &err, &dbg);
    }
    GErrorPtr e(err);
    common::GCharPtr d(dbg);
    spdlog::log(GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR ? spdlog::level::err : spdlog::level::warn,
                "path {}: ingest {}: {} ({})", me->cfg_.name, GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)),
                e ? e->message : "?", d ? d.get() : "");
  }
  return G_SOURCE_CONTINUE;
}

IngestSnapshot Ingest::snapshot() const {
  IngestSnapshot s;
  {
    std::lock_guard lock(mutex_);
    if (publisher_) {
      s.publisher_addr = publisher_->host_string();
      s.publisher_port = publisher_->port;
    }
    s.lost = stats_.lost_total();
    s.takeovers = takeovers_;
    s.reordered = stats_.reordered_total();
    s.jitter_ms = stats_.jitter_ms();
    if (last_packet_) {
      s.last_packet_age_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - *last_packet_).count();
    }
    s.keyframe_interval_s = keyframe_interval_s_;
  }
  s.packets = packets_.load();
  s.bytes = bytes_.load();
  s.repair = repair();
  for (std::size_t i = 0; i < kDropReasonCount; ++i) {
    s.dropped[std::string(to_string(static_cast<DropReason>(i)))] = drops_[i].load();
  }
  s.dropped["srtp_auth"] = srtp_ ? srtp_->auth_failures() + srtcp_rejected_.load() : 0;  // RTP + RTCP
  const bool live = s.last_packet_age_ms && *s.last_packet_age_ms <= cfg_.ingest.timeout.count();
  s.fps = live ? fps_ : 0;
  s.bitrate_bps = live ? bitrate_bps_ : 0;
  return s;
}

bool Ingest::receiving(std::chrono::milliseconds max_age) const {
  std::lock_guard lock(mutex_);
  return last_packet_ && Clock::now() - *last_packet_ <= max_age;
}

std::optional<TrackSnapshot> Ingest::track() const {
  std::lock_guard lock(mutex_);
  return track_;
}

void Ingest::tick() {
  const auto now = Clock::now();
  std::optional<SourceAddress> pub;
  std::optional<Clock::time_point> last;
  bool changed = false;
  std::string res_change;
  std::optional<TrackSnapshot> track;
  std::optional<SourceAddress> taken_from;
  bool bad_sps = false;
  {
    std::lock_guard lock(mutex_);
    pub = publisher_;
    taken_from = std::exchange(taken_from_, std::nullopt);
    last = last_packet_;
    changed = std::exchange(publisher_changed_, false);
    res_change = std::exchange(resolution_change_, {});
    bad_sps = std::exchange(bad_sps_, false);
    track = track_;
  }
  if (changed && pub) {
    rtcp_peer_.reset();
    last_sr_.reset();
    if (taken_from) {
      spdlog::warn("path {}: publisher {} took the path from {}, silent for ingest.timeout ({}; ingest.takeover: {}){}",
                   cfg_.name, pub->to_string(), taken_from->to_string(), common::format_duration(cfg_.ingest.timeout),
                   to_string(cfg_.ingest.takeover),
                   srtp_ ? "" : ": without SRTP anyone who can send (or spoof) UDP from an allowed address can do this");
    } else {
      spdlog::info("path {}: publisher {} is sending", cfg_.name, pub->to_string());
    }
    // Viewers that stayed connected need an IDR of the new stream; don't wait for its GOP.
    keyframe_wanted_.store(true);
  }
  if (bad_sps) {
    spdlog::warn("path {}: the publisher {} sends an H.264 SPS that does not parse or gives an implausible picture: "
                 "the stream looks encrypted (an SRTP publisher, and no paths.{}.ingest.srtp_key_file here?) or "
                 "corrupt; the path is not made ready with it (logged once)",
                 cfg_.name, pub ? pub->to_string() : "?", cfg_.name);
  }
  if (!res_change.empty()) {
    if (cfg_.on_size_change == "continue") {
      spdlog::warn("path {}: resolution changed {}: viewers keep their session; players that cannot switch "
                   "size in-stream must reconnect (or set on_size_change: reconnect)",
                   cfg_.name, res_change);
    }
    if (size_cb_) {
      size_cb_(res_change);
    }
  }
  if (srtp_) {
    srtp_->tick();  // a key mismatch is logged once
  }
  const bool silent = update_readiness(now, pub, last, track);
  tick_feedback(now, silent);
  update_rates(now);
}

void Ingest::update_rates(Clock::time_point now) {
  // Rate window (~1 s).
  const double dt = std::chrono::duration<double>(now - window_start_).count();
  if (dt >= 1.0) {
    const auto aus = access_units_.load();
    const auto bytes = bytes_.load();
    fps_ = static_cast<double>(aus - window_aus_) / dt;
    bitrate_bps_ = static_cast<double>(bytes - window_bytes_) * 8.0 / dt;
    window_aus_ = aus;
    window_bytes_ = bytes;
    window_start_ = now;
  }
}

}  // namespace veter::relay
