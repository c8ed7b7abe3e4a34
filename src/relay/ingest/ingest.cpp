#include "veter/relay/ingest/ingest.hpp"

#include <gst/app/gstappsink.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <gst/net/gstnetaddressmeta.h>
#include <gst/video/video.h>
#include <sys/socket.h>

#include <random>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "veter/relay/rtp/rtp_h264.hpp"
#include "veter/relay/rtp/sps_info.hpp"
#include "veter/relay/rtp/rtcp_packets.hpp"

namespace veter::relay {

using common::ElementPtr;
using common::GErrorPtr;

namespace {

constexpr auto kPliMinInterval = std::chrono::milliseconds(500);
constexpr auto kReportInterval = std::chrono::seconds(1);

common::GObjectPtr<GSocket> bind_udp(const std::string& host, int port) {
  GError* err = nullptr;
  common::GObjectPtr<GInetAddress> addr(g_inet_address_new_from_string(host.c_str()));
  if (!addr) {
    // A host name: resolve it once at start-up.
    common::GObjectPtr<GResolver> resolver(g_resolver_get_default());
    GList* list = g_resolver_lookup_by_name(resolver.get(), host.c_str(), nullptr, &err);
    if (list == nullptr) {
      GErrorPtr e(err);
      throw std::runtime_error(fmt::format("cannot resolve {}: {}", host, e ? e->message : "?"));
    }
    addr.reset(G_INET_ADDRESS(g_object_ref(list->data)));
    g_resolver_free_addresses(list);
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

ElementPtr make(const char* factory, const char* name) {
  GstElement* e = gst_element_factory_make(factory, name);
  if (e == nullptr) {
    throw std::runtime_error(fmt::format("GStreamer element {} is missing (see scripts/deps.sh)", factory));
  }
  return common::adopt_floating(e);
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
  if (!cfg_.ingest.srtp_key_file.empty()) {  // issue 6: key loaded (and checked) before binding
    srtp_ = std::make_unique<IngestSrtp>(cfg_.name, cfg_.ingest.srtp_key_file, cfg_.ingest.allow_from,
                                         [this](DropReason r) { count_drop(r); });
    srtcp_out_ = std::make_unique<common::SrtcpContext>(srtp_->key(), common::SrtcpContext::Direction::outbound);
    srtcp_in_ = std::make_unique<common::SrtcpContext>(srtp_->key(), common::SrtcpContext::Direction::inbound);
  }
  rtp_socket_ = bind_udp(host, port);
  rtcp_socket_ = bind_udp(host, port + 1);

  pipeline_ = common::adopt_floating(gst_pipeline_new(fmt::format("ingest-{}", cfg_.name).c_str()));
  auto src = make("udpsrc", "src");
  g_object_set(src.get(), "socket", rtp_socket_.get(), "close-socket", FALSE, "buffer-size", 4 * 1024 * 1024,
               nullptr);
  common::CapsPtr caps(gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "video", "clock-rate",
                                           G_TYPE_INT, 90000, "encoding-name", G_TYPE_STRING, "H264", "payload",
                                           G_TYPE_INT, cfg_.ingest.payload_type, nullptr));
  if (srtp_) {
    caps = srtp_->input_caps(cfg_.ingest.payload_type);  // issue 6
  }
  g_object_set(src.get(), "caps", caps.get(), nullptr);
  ElementPtr srtpdec = srtp_ ? srtp_->make_decoder() : ElementPtr();
  // The packets themselves go to the fan-out: no depayloader, no parser.
  auto appsink = make("appsink", "out");
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
    jitter = make("rtpjitterbuffer", "jitter");
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
  GstElement* rtp_out = src.get();  // issue 6: with SRTP, udpsrc ! srtpdec ! ...
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
  // issue 6: with SRTP the full filter (publisher lock) sees only authenticated packets.
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
  rtcp_watch_.reset(g_source_attach(rtcp_src, nullptr));
  g_source_unref(rtcp_src);

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

GstPadProbeReturn Ingest::on_rtp_probe(GstPad*, GstPadProbeInfo* info, gpointer self) {
  auto* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (buffer == nullptr) {
    return GST_PAD_PROBE_OK;
  }
  return static_cast<Ingest*>(self)->handle_rtp(buffer) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

bool Ingest::handle_rtp(GstBuffer* buffer) {
  sockaddr_storage ss{};
  const sockaddr* sa = nullptr;
  if (auto* meta = gst_buffer_get_net_address_meta(buffer); meta != nullptr && meta->addr != nullptr) {
    if (g_socket_address_to_native(meta->addr, &ss, sizeof ss, nullptr)) {
      sa = reinterpret_cast<const sockaddr*>(&ss);
    }
  }
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    count_drop(DropReason::too_short);
    return false;
  }
  const auto now = Clock::now();
  const std::span<const std::uint8_t> data(map.data, map.size);
  bool accepted = false;
  {
    std::lock_guard lock(mutex_);
    auto v = filter_.check_rtp(data, sa, now);
    if (v.drop) {
      count_drop(*v.drop);
    } else if (v.repair) {
      accepted = true;  // a retransmission: rtprtxreceive restores it; sequence statistics stay the media's
      last_packet_ = now;
      if (repair_) {
        repair_->count_retransmission();
      }
    } else {
      accepted = true;
      if (v.new_publisher) {
        publisher_ = v.source;
        publisher_changed_ = true;
        if (v.previous) {
          taken_from_ = v.previous;
          ++takeovers_;
        }
      }
      if (repair_) {
        repair_->set_media_ssrc(v.header.ssrc);
      }
      stats_.on_packet(v.header.ssrc, v.header.seq, v.header.timestamp,
                       std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
      last_packet_ = now;
    }
  }
  if (accepted) {
    packets_.fetch_add(1, std::memory_order_relaxed);
    bytes_.fetch_add(map.size, std::memory_order_relaxed);
  }
  gst_buffer_unmap(buffer, &map);
  return accepted;
}

GstFlowReturn Ingest::on_new_sample(GstElement* sink, gpointer self) {
  common::SamplePtr sample(gst_app_sink_pull_sample(GST_APP_SINK(sink)));
  if (!sample) {
    return GST_FLOW_OK;
  }
  GstBuffer* buffer = gst_sample_get_buffer(sample.get());
  if (buffer != nullptr) {
    static_cast<Ingest*>(self)->handle_packet(buffer);
  }
  return GST_FLOW_OK;
}

void Ingest::handle_packet(GstBuffer* buffer) {
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (!gst_rtp_buffer_map(buffer, GST_MAP_READ, &rtp)) {
    return;  // the packet filter has already checked the header; nothing else gets here
  }
  const std::uint32_t ts = gst_rtp_buffer_get_timestamp(&rtp);
  const bool marker = gst_rtp_buffer_get_marker(&rtp) != FALSE;
  const auto info = inspect_h264_payload(std::span<const std::uint8_t>(
      static_cast<const std::uint8_t*>(gst_rtp_buffer_get_payload(&rtp)), gst_rtp_buffer_get_payload_len(&rtp)));
  if (!info.sps_units.empty() || !info.pps_units.empty()) {
    handle_parameter_sets(info);
  }
  gst_rtp_buffer_unmap(&rtp);
  if (info.pps) {
    seen_pps_.store(true);
  }
  if (info.idr) {
    seen_idr_.store(true);
  }
  // One access unit = the packets of one timestamp, ended by the marker bit
  // (or, when that packet is lost, by the next timestamp).
  // With repair, a packet given up on just before this one breaks the frame it belonged to:
  // this one's if it has the same timestamp, else the unfinished one before it, else (the
  // previous frame ended with its marker) this new one.
  const bool gap = repair_ && repair_->take_loss();
  if (pending_ && pending_ts_ != ts) {
    pending_broken_ = pending_broken_ || gap;
    flush_access_unit();
  } else if (pending_ && gap) {
    pending_broken_ = true;
  } else if (!pending_ && gap) {
    pending_broken_ = true;
  }
  if (!pending_) {
    pending_.reset(gst_buffer_list_new());
    pending_ts_ = ts;
  }
  pending_idr_ = pending_idr_ || info.idr;
  gst_buffer_list_add(pending_.get(), gst_buffer_ref(buffer));
  if (marker) {
    flush_access_unit();
  }
}

void Ingest::handle_parameter_sets(const H264PayloadInfo& info) {
  std::vector<std::uint8_t> sps;
  std::vector<std::uint8_t> pps;
  {
    std::lock_guard lock(mutex_);
    bool changed = false;
    if (!info.sps_units.empty()) {
      const auto& unit = info.sps_units.back();
      if (std::equal(unit.begin(), unit.end(), sps_.begin(), sps_.end())) {
        seen_sps_.store(true);
      } else if (auto t = parse_sps(unit)) {
        sps_.assign(unit.begin(), unit.end());
        changed = true;
        seen_sps_.store(true);
        bad_sps_logged_ = false;
        if (track_ && track_->width != 0 && (track_->width != t->width || track_->height != t->height)) {
          resolution_change_ = fmt::format("{}x{} -> {}x{}", track_->width, track_->height, t->width, t->height);
        }
        track_ = *t;
      } else if (!bad_sps_logged_) {
        // Never a path's parameter sets: viewers would get an SDP (and a "ready" hook) for garbage.
        bad_sps_logged_ = true;
        bad_sps_ = true;
      }
    }
    if (!info.pps_units.empty()) {
      const auto& unit = info.pps_units.back();
      if (!std::equal(unit.begin(), unit.end(), pps_.begin(), pps_.end())) {
        pps_.assign(unit.begin(), unit.end());
        changed = true;
      }
    }
    if (!changed || sps_.empty() || pps_.empty() || !parameter_sets_sink_) {
      return;
    }
    sps = sps_;
    pps = pps_;
  }
  parameter_sets_sink_(std::move(sps), std::move(pps));
}

void Ingest::flush_access_unit() {
  common::BufferListPtr au = std::move(pending_);
  if (std::exchange(pending_broken_, false)) {
    // Incomplete after the repair window: not forwarded (viewers see the last good picture,
    // not a smeared one); the tick asks for an IDR because the unrecoverable count grew.
    pending_idr_ = false;
    repair_->count_frame_dropped();
    return;
  }
  if (std::exchange(pending_idr_, false)) {
    const auto now = Clock::now();
    std::lock_guard lock(mutex_);
    if (last_idr_) {
      keyframe_interval_s_ = std::chrono::duration<double>(now - *last_idr_).count();
    }
    last_idr_ = now;
  }
  access_units_.fetch_add(1, std::memory_order_relaxed);
  sink_(au.get());
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

gboolean Ingest::on_rtcp_readable(GSocket*, GIOCondition, gpointer self) {
  static_cast<Ingest*>(self)->read_rtcp();
  return G_SOURCE_CONTINUE;
}

void Ingest::read_rtcp() {
  std::array<std::uint8_t, 2048> buf{};
  for (int i = 0; i < 64; ++i) {
    GSocketAddress* from_raw = nullptr;
    const gssize n = g_socket_receive_from(rtcp_socket_.get(), &from_raw, reinterpret_cast<gchar*>(buf.data()),
                                           buf.size(), nullptr, nullptr);
    common::GObjectPtr<GSocketAddress> from(from_raw);
    if (n < 0) {
      return;  // EWOULDBLOCK or error: done for now
    }
    sockaddr_storage ss{};
    const sockaddr* sa = nullptr;
    if (from && g_socket_address_to_native(from.get(), &ss, sizeof ss, nullptr)) {
      sa = reinterpret_cast<const sockaddr*>(&ss);
    }
    std::span<const std::uint8_t> data(buf.data(), static_cast<std::size_t>(n));
    std::vector<std::uint8_t> plain;
    if (srtcp_in_) {
      // issue 6: allow list before any crypto; then only RTCP that authenticates (and is no
      // replay) is read. Plain or forged RTCP counts as dropped{reason="srtp_auth"}.
      if (!common::cidr_list_allows(cfg_.ingest.allow_from, sa)) {
        count_drop(DropReason::not_allowed);
        continue;
      }
      plain.assign(data.begin(), data.end());
      if (const auto r = srtcp_in_->unprotect(plain); r != common::SrtcpContext::Result::ok) {
        srtcp_rejected_.fetch_add(1, std::memory_order_relaxed);
        spdlog::debug("path {}: SRTCP from {} dropped: {}", cfg_.name, source_from_sockaddr(sa).to_string(),
                      common::to_string(r));
        continue;
      }
      data = plain;
    }
    if (auto drop = filter_.check_rtcp_datagram(data, sa)) {  // const, no lock state
      count_drop(*drop);
      continue;
    }
    const auto src = source_from_sockaddr(sa);
    std::optional<SourceAddress> pub;
    std::optional<std::uint32_t> media_ssrc;
    {
      std::lock_guard lock(mutex_);
      pub = publisher_;
      media_ssrc = stats_.ssrc();
    }
    if (!pub || !pub->same_host(src)) {
      count_drop(DropReason::foreign_source);
      continue;
    }
    if (!rtcp_peer_ || !g_socket_address_to_native(rtcp_peer_.get(), &ss, sizeof ss, nullptr) ||
        !(source_from_sockaddr(reinterpret_cast<const sockaddr*>(&ss)) == src)) {
      spdlog::debug("path {}: publisher RTCP from {}", cfg_.name, src.to_string());
      rtcp_peer_ = std::move(from);
    }
    // Only the media source's SR times our report blocks (the RTX source sends its own).
    if (auto sr = find_sender_report(data); sr && (!media_ssrc || sr->ssrc == *media_ssrc)) {
      last_sr_ = LastSr{sr->ntp_middle, Clock::now()};
    }
  }
}

void Ingest::send_rtcp(const std::vector<std::uint8_t>& packet) {
  std::optional<SourceAddress> pub;
  {
    std::lock_guard lock(mutex_);
    pub = publisher_;
  }
  if (!pub || !rtcp_socket_) {
    return;
  }
  common::GObjectPtr<GSocketAddress> dest;
  if (rtcp_peer_) {
    dest.reset(G_SOCKET_ADDRESS(g_object_ref(rtcp_peer_.get())));
  } else {
    // No RTCP seen yet: the RTP source address with port + 1 (RFC 3550 convention).
    common::GObjectPtr<GInetAddress> ia(g_inet_address_new_from_bytes(
        pub->addr.data(), pub->family == AF_INET6 ? G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4));
    dest.reset(g_inet_socket_address_new(ia.get(), static_cast<guint16>(pub->port + 1)));
  }
  std::vector<std::uint8_t> srtcp;
  std::span<const std::uint8_t> wire(packet);
  if (srtcp_out_) {
    try {
      srtcp = srtcp_out_->protect(packet);  // issue 6: never send our RTCP in clear on an SRTP path
    } catch (const std::exception& e) {
      spdlog::error("path {}: RTCP not sent: {}", cfg_.name, e.what());
      return;
    }
    wire = srtcp;
  }
  GError* err = nullptr;
  if (g_socket_send_to(rtcp_socket_.get(), dest.get(), reinterpret_cast<const gchar*>(wire.data()), wire.size(),
                       nullptr, &err) < 0) {
    GErrorPtr e(err);
    spdlog::debug("path {}: RTCP send failed: {}", cfg_.name, e ? e->message : "?");
  }
}

void Ingest::send_nack(std::uint32_t media_ssrc, std::vector<std::uint16_t> seqs) {
  // Compound RR (no report block: a block would restart the loss interval of the periodic
  // reports, and the publisher's congestion control would see the loss of a few packets as
  // a fraction) + SDES + generic NACK.
  auto packet = build_receiver_report(own_ssrc_, std::nullopt, "veter-relay");
  const auto nack = build_nack(own_ssrc_, media_ssrc, std::move(seqs));
  packet.insert(packet.end(), nack.begin(), nack.end());
  send_rtcp(packet);
}

void Ingest::send_receiver_report(bool with_pli) {
  std::optional<ReportBlock> block;
  std::optional<std::uint32_t> media_ssrc;
  {
    std::lock_guard lock(mutex_);
    block = stats_.make_report_block();
    media_ssrc = stats_.ssrc();
  }
  if (srtcp_out_ && media_ssrc && *media_ssrc == own_ssrc_) {
    // issue 6: one master key for both directions is safe only with distinct SSRCs (the SRTCP
    // keystream depends on SSRC and index): pick another SSRC, which gets its own SRTCP index.
    own_ssrc_ = own_ssrc_ + 1 + static_cast<std::uint32_t>(std::random_device{}() % 0xFFFF);
  }
  if (block && last_sr_) {
    block->lsr = last_sr_->ntp_middle;
    const auto since = std::chrono::duration<double>(Clock::now() - last_sr_->at).count();
    block->dlsr = static_cast<std::uint32_t>(since * 65536.0);
  }
  auto packet = build_receiver_report(own_ssrc_, block, "veter-relay");
  if (with_pli && media_ssrc) {
    auto pli = build_pli(own_ssrc_, *media_ssrc);
    packet.insert(packet.end(), pli.begin(), pli.end());
  }
  send_rtcp(packet);
  last_rr_ = Clock::now();
}

void Ingest::request_keyframe(const char* why) {
  const auto now = Clock::now();
  bool have_publisher = false;
  {
    std::lock_guard lock(mutex_);
    have_publisher = publisher_.has_value() && stats_.ssrc().has_value();
  }
  if (!have_publisher) {
    return;
  }
  if (now - last_pli_ < kPliMinInterval) {
    keyframe_wanted_.store(true);  // sent by tick() once the 500 ms window has passed
    return;
  }
  last_pli_ = now;
  ++plis_sent_;
  spdlog::debug("path {}: keyframe request (PLI) to the publisher: {}", cfg_.name, why);
  send_receiver_report(true);
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
    srtp_->tick();  // issue 6: key mismatch logged once
  }
  const bool silent = !last || now - *last > cfg_.ingest.timeout;
  if (ready_ && silent) {
    ready_ = false;
    ready_time_.reset();
    seen_sps_ = seen_pps_ = seen_idr_ = false;
    spdlog::info("path {}: not ready: no packets from {} for {}", cfg_.name, pub ? pub->to_string() : "?",
                 common::format_duration(cfg_.ingest.timeout));
    if (ready_cb_) {
      ready_cb_(false);
    }
  } else if (!ready_ && !silent && seen_sps_ && seen_pps_ && seen_idr_) {
    ready_ = true;
    ready_time_ = std::chrono::system_clock::now();
    spdlog::info("path {}: ready: publisher {}, H264 {}x{} {} {}", cfg_.name, pub ? pub->to_string() : "?",
                 track ? track->width : 0, track ? track->height : 0, track ? track->profile : "",
                 track ? track->level : "");
    if (ready_cb_) {
      ready_cb_(true);
    }
  }
  {
    // Lost packets mean a broken picture until the next IDR: ask for one. With repair only
    // the packets the repair window gave up on count.
    std::uint64_t lost = 0;
    if (repair_) {
      repair_->tick();
      lost = repair_->unrecoverable();
    } else {
      std::lock_guard lock(mutex_);
      lost = stats_.lost_total();
    }
    if (lost > lost_seen_) {
      keyframe_wanted_.store(true);
    }
    lost_seen_ = std::max(lost_seen_, lost);
  }
  if (keyframe_wanted_.load() && now - last_pli_ >= kPliMinInterval) {
    keyframe_wanted_.store(false);
    request_keyframe("deferred request or packet loss");
  }
  if (!silent && now - last_rr_ >= kReportInterval) {
    send_receiver_report(false);
  }
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
  s.dropped["srtp_auth"] = srtp_ ? srtp_->auth_failures() + srtcp_rejected_.load() : 0;  // issue 6: RTP + RTCP
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

}  // namespace veter::relay
