#include "veter/publisher/publisher.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <vector>

#include "veter/common/cli.hpp"
#include "veter/common/systemd_notify.hpp"
#include "veter/publisher/destination_address.hpp"
#include "veter/publisher/pipeline_builder.hpp"

namespace veter::publisher {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr auto kFirstFrameTimeout = 15s;  // argus can take seconds to deliver its first frame
constexpr auto kStallTimeout = 5s;        // no frame for this long while playing = failure
constexpr auto kStopTimeout = 1000ms;     // EOS drain bound on shutdown
constexpr auto kReresolveInterval = 5s;

std::string address_string(GInetAddress* a) {
  common::GCharPtr s(g_inet_address_to_string(a));
  return s ? s.get() : "";
}

/// The GstStructures in rtpsession's "source-stats" (a GValueArray, deprecated but what it returns).
G_GNUC_BEGIN_IGNORE_DEPRECATIONS
std::vector<const GstStructure*> structures_in(const GValue* arr_val) {
  std::vector<const GstStructure*> out;
  if (arr_val == nullptr || g_strcmp0(G_VALUE_TYPE_NAME(arr_val), "GValueArray") != 0) {
    return out;
  }
  auto* arr = static_cast<GValueArray*>(g_value_get_boxed(arr_val));
  for (guint i = 0; arr != nullptr && i < arr->n_values; ++i) {
    if (GST_VALUE_HOLDS_STRUCTURE(&arr->values[i])) {
      out.push_back(gst_value_get_structure(&arr->values[i]));
    }
  }
  return out;
}
G_GNUC_END_IGNORE_DEPRECATIONS

struct ResolveRequest {
  Publisher* self;
  bool for_start;
};

}  // namespace

Publisher::Publisher(PublisherConfig cfg, std::string description, EncoderKind encoder, common::MainLoop& loop)
    : cfg_(std::move(cfg)),
      description_(std::move(description)),
      encoder_(encoder),
      loop_(loop),
      cancellable_(g_cancellable_new()) {}

Publisher::~Publisher() {
  g_cancellable_cancel(cancellable_.get());
  teardown();
}

void Publisher::start() {
  // Bind now: a taken port is a configuration problem, reported before anything runs.
  // For a name the family is IPv4 until it resolves; one with only IPv6 addresses (AAAA records)
  // reopens the sockets in IPv6 in on_resolved().
  const GSocketFamily family = family_of_host(cfg_.destination.host);
  if (!cfg_.srtp_key_file.empty()) {  // refuses group/other-readable key files; never logs the key
    srtp_key_ = common::load_srtp_key_file(cfg_.srtp_key_file);
    spdlog::info("SRTP (AES_CM_128_HMAC_SHA1_80) with key {} from {}", srtp_key_->fingerprint(), cfg_.srtp_key_file);
    srtcp_filter_ = std::make_unique<SrtcpFilter>(*srtp_key_);  // RTCP from the relay must authenticate too
  }
  sockets_ = open_local_sockets(cfg_.local_port, family);
  if (cfg_.abr && !encoder_rate_adjustable(encoder_)) {
    // Said once, here: nothing later pretends to follow the relay's reports.
    spdlog::info("abr: inactive with encoder {}: the camera's own encoder sets the bitrate, the publisher cannot "
                 "change it; keyframe requests are passed to the camera, which may ignore them (docs/publisher.md)",
                 to_string(encoder_));
  } else if (cfg_.abr) {
    abr_.emplace(std::min(cfg_.bitrate_min_kbps, cfg_.bitrate_kbps), cfg_.bitrate_kbps);
  }
  spdlog::info("local RTP port {} / RTCP port {} (send and receive)", sockets_.port, sockets_.port + 1);
  tick_timer_.reset(g_timeout_add(
      100,
      [](gpointer p) -> gboolean {
        static_cast<Publisher*>(p)->tick();
        return G_SOURCE_CONTINUE;
      },
      this));
  stats_timer_.reset(g_timeout_add_seconds(
      10,
      [](gpointer p) -> gboolean {
        static_cast<Publisher*>(p)->log_stats();
        return G_SOURCE_CONTINUE;
      },
      this));
  last_stats_.at = Clock::now();
  attempt();
}

void Publisher::attempt() {
  retry_timer_.release();
  if (phase_ == Phase::stopping) {
    return;
  }
  const std::string& host = cfg_.destination.host;
  if (g_hostname_is_ip_address(host.c_str())) {
    launch(host);
    return;
  }
  phase_ = Phase::resolving;
  resolve_async(true);
}

void Publisher::resolve_async(bool for_start) {
  resolve_in_flight_ = true;
  common::GObjectPtr<GResolver> resolver(g_resolver_get_default());
  g_resolver_lookup_by_name_async(resolver.get(), cfg_.destination.host.c_str(), cancellable_.get(),
                                  &Publisher::resolve_cb, new ResolveRequest{this, for_start});
}

void Publisher::resolve_cb(GObject* source, GAsyncResult* res, gpointer data) {
  std::unique_ptr<ResolveRequest> req(static_cast<ResolveRequest*>(data));
  GError* raw = nullptr;
  const common::GListPtr<GInetAddress> list(g_resolver_lookup_by_name_finish(G_RESOLVER(source), res, &raw));
  common::GErrorPtr err(raw);
  if (err && g_error_matches(err.get(), G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    return;  // the publisher is gone
  }
  Publisher* self = req->self;
  self->resolve_in_flight_ = false;
  GInetAddress* addr = pick_address(list, self->sockets_.family);
  if (req->for_start) {
    if (self->phase_ == Phase::resolving) {
      self->on_resolved(addr, err ? err->message : "no address");
    }
  } else if (addr != nullptr && self->pipeline_ && g_inet_address_get_family(addr) == self->sockets_.family) {
    // (An address of the other family only is taken at the next restart, which reopens the sockets.)
    const std::string now = address_string(addr);
    if (now != self->address_) {
      spdlog::info("destination {} now resolves to {} (was {})", self->cfg_.destination.host, now, self->address_);
      self->address_ = now;
      self->feedback_.set_relay(now, self->cfg_.destination.port + 1);
      for (const char* name : {element::rtp_sink, element::rtcp_sink}) {
        if (auto sink = common::bin_child(self->pipeline_.get(), name)) {
          g_object_set(sink.get(), "host", now.c_str(), nullptr);
        }
      }
    }
  } else if (err) {
    spdlog::warn("re-resolving {}: {}", self->cfg_.destination.host, err->message);
  }
}

void Publisher::on_resolved(GInetAddress* address, const std::string& error) {
  if (address == nullptr) {
    fail(fmt::format("cannot resolve {}: {}", cfg_.destination.host, error));
    return;
  }
  const GSocketFamily family = g_inet_address_get_family(address);
  if ((family != sockets_.family || !sockets_.rtp) && !pipeline_) {
    // The name has no address of the sockets' family (e.g. only AAAA records): a datagram to an
    // IPv6 address cannot leave an IPv4 socket, so the sockets follow the address, on the same ports.
    const int port = cfg_.local_port != 0 ? cfg_.local_port : sockets_.port;
    try {
      sockets_ = LocalSockets{};  // release the ports before binding them in the other family
      sockets_ = open_local_sockets(port, family);
    } catch (const std::exception& e) {
      fail(fmt::format("{} resolves to {}: {}", cfg_.destination.host, address_string(address), e.what()));
      return;
    }
    spdlog::info("{} resolves to {}: local {} RTP port {} / RTCP port {}", cfg_.destination.host,
                 address_string(address), family == G_SOCKET_FAMILY_IPV6 ? "IPv6" : "IPv4", sockets_.port,
                 sockets_.port + 1);
  }
  launch(address_string(address));
}

void Publisher::launch(const std::string& address) {
  address_ = address;
  GError* raw = nullptr;
  auto pipeline = common::adopt_floating(gst_parse_launch(description_.c_str(), &raw));
  common::GErrorPtr err(raw);
  if (!pipeline || err) {
    // The description is fixed: a parse failure will not heal by retrying soon, but an
    // element can appear (plugin installed) or a device reappear; keep backing off.
    fail(fmt::format("pipeline does not parse: {}", err ? err->message : "unknown error"));
    return;
  }
  pipeline_ = std::move(pipeline);
  const bool v6 = sockets_.family == G_SOCKET_FAMILY_IPV6;
  const char* sock_prop = v6 ? "socket-v6" : "socket";
  auto rtp_sink = common::bin_child(pipeline_.get(), element::rtp_sink);
  auto rtcp_sink = common::bin_child(pipeline_.get(), element::rtcp_sink);
  auto rtcp_src = common::bin_child(pipeline_.get(), element::rtcp_src);
  auto encoder = common::bin_child(pipeline_.get(), element::encoder);
  if (!rtp_sink || !rtcp_sink || !rtcp_src || !encoder) {
    fail("pipeline description lacks the named rtp/rtcp/encoder elements");
    return;
  }
  g_object_set(rtp_sink.get(), sock_prop, sockets_.rtp.get(), "close-socket", FALSE, "host", address.c_str(),
               nullptr);
  g_object_set(rtcp_sink.get(), sock_prop, sockets_.rtcp.get(), "close-socket", FALSE, "host", address.c_str(),
               nullptr);
  g_object_set(rtcp_src.get(), "socket", sockets_.rtcp.get(), "close-socket", FALSE, nullptr);
  feedback_.set_relay(address, cfg_.destination.port + 1);
  auto rtx = common::bin_child(pipeline_.get(), element::rtx_sender);
  feedback_.attach(rtcp_src.get(), rtx.get());  // rtx null when cfg.rtx is off
  if (srtp_key_) {
    auto srtpenc = common::bin_child(pipeline_.get(), element::srtp_encoder);
    if (!srtpenc) {
      fail("pipeline description lacks the srtpenc element");
      return;
    }
    auto key = srtp_key_->to_buffer();
    g_object_set(srtpenc.get(), "key", key.get(), nullptr);
    srtcp_filter_->attach(rtcp_src.get());  // before rtpbin: only authenticated RTCP gets through
  }
  probes_.attach(encoder.get());

  common::BusPtr bus(gst_element_get_bus(pipeline_.get()));
  bus_watch_.reset(gst_bus_add_watch(bus.get(), &Publisher::bus_cb, this));

  phase_ = Phase::running;
  streaming_ = false;
  frames_at_start_ = counters_.frames.load();
  started_at_ = Clock::now();
  last_progress_ = started_at_;
  spdlog::info("starting pipeline -> {}:{} ({})", address, cfg_.destination.port, cfg_.destination.host);
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    // The bus usually carries the reason; give it a moment through the bus watch,
    // but make sure we restart even if no error message comes.
    std::string reason = "state change to PLAYING failed";
    if (common::MessagePtr m{gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR)}) {
      GError* e = nullptr;
      gst_message_parse_error(m.get(), &e, nullptr);
      common::GErrorPtr eptr(e);
      reason = fmt::format("{}: {}", GST_OBJECT_NAME(GST_MESSAGE_SRC(m.get())), eptr ? eptr->message : "error");
    }
    fail(reason);
  }
}

void Publisher::teardown() {
  bus_watch_.reset();
  if (pipeline_) {
    // NULL first: the streaming threads are gone before the probes' state is touched.
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  }
  probes_.detach();
  feedback_.detach();
  if (srtcp_filter_) {
    srtcp_filter_->detach();
  }
  pipeline_.reset();
  streaming_ = false;
}

void Publisher::fail(const std::string& cause) {
  if (phase_ == Phase::stopping) {
    return;
  }
  teardown();
  const auto delay = backoff_.on_failure(Clock::now());
  restart_delays_.push_back(delay);
  spdlog::error("pipeline failed: {}; restarting in {:.1f} s", cause, static_cast<double>(delay.count()) / 1000.0);
  common::systemd::notify_status("restarting after: " + cause);
  phase_ = Phase::waiting;
  retry_timer_.reset(g_timeout_add(
      static_cast<guint>(delay.count()),
      [](gpointer p) -> gboolean {
        static_cast<Publisher*>(p)->attempt();
        return G_SOURCE_REMOVE;
      },
      this));
}

gboolean Publisher::bus_cb(GstBus*, GstMessage* msg, gpointer self) {
  static_cast<Publisher*>(self)->handle_message(msg);
  return G_SOURCE_CONTINUE;
}

void Publisher::handle_message(GstMessage* msg) {
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ERROR: {
      GError* e = nullptr;
      gchar* dbg = nullptr;
      gst_message_parse_error(msg, &e, &dbg);
      common::GErrorPtr err(e);
      common::GCharPtr debug(dbg);
      const std::string cause = fmt::format("{}: {}{}", GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)),
                                            err ? err->message : "error",
                                            debug ? fmt::format(" ({})", debug.get()) : "");
      if (phase_ == Phase::stopping) {
        spdlog::warn("during shutdown: {}", cause);
        finish_shutdown();
        return;
      }
      fail(cause);
      return;
    }
    case GST_MESSAGE_WARNING: {
      GError* e = nullptr;
      gst_message_parse_warning(msg, &e, nullptr);
      common::GErrorPtr err(e);
      const char* src = GST_OBJECT_NAME(GST_MESSAGE_SRC(msg));
      const bool send_failure = g_str_equal(src, element::rtp_sink) || g_str_equal(src, element::rtcp_sink);
      if (send_failure) {
        ++send_failures_;
        maybe_reresolve();
      }
      const auto now = Clock::now();
      if (!send_failure || now - last_send_warning_log_ >= 10s) {
        spdlog::warn("{}: {}", src, err ? err->message : "warning");
        if (send_failure) {
          last_send_warning_log_ = now;
        }
      }
      return;
    }
    case GST_MESSAGE_EOS:
      if (phase_ == Phase::stopping) {
        finish_shutdown();
      } else {
        fail("unexpected end of stream from the source");
      }
      return;
    default:
      return;
  }
}

void Publisher::maybe_reresolve() {
  if (g_hostname_is_ip_address(cfg_.destination.host.c_str()) || resolve_in_flight_) {
    return;
  }
  const auto now = Clock::now();
  if (now - last_reresolve_ < kReresolveInterval) {
    return;
  }
  last_reresolve_ = now;
  resolve_async(false);
}

void Publisher::tick() {
  probes_.flush_pending();
  log_rtcp_events();
  if (phase_ != Phase::running) {
    return;
  }
  follow_congestion();
  const auto now = Clock::now();
  const std::uint64_t frames = counters_.frames.load();
  if (frames != frames_last_tick_) {
    frames_last_tick_ = frames;
    last_progress_ = now;
  }
  if (!streaming_ && frames > frames_at_start_) {
    streaming_ = true;
    backoff_.streaming_since(now);
    spdlog::info("streaming: frames flowing to {}:{}", address_, cfg_.destination.port);
    common::systemd::notify_status(fmt::format("streaming to {}", cfg_.destination.to_string()));
    if (!ready_notified_) {
      ready_notified_ = true;
      common::systemd::notify_ready(fmt::format("streaming to {}", cfg_.destination.to_string()));
    }
  }
  if (probes_.eos_seen()) {
    // A live source only ends when its device went away (camera unplugged, argus daemon gone);
    // don't wait for the RTCP BYE that would carry the EOS to the bus.
    fail("the source ended the stream (end of stream)");
  } else if (!streaming_ && now - started_at_ > kFirstFrameTimeout) {
    fail(fmt::format("no frame within {} s of starting", kFirstFrameTimeout.count()));
  } else if (streaming_ && now - last_progress_ > kStallTimeout) {
    fail(fmt::format("no frame for {} s (source stalled)", kStallTimeout.count()));
  }
}

void Publisher::follow_congestion() {
  const auto now = Clock::now();
  if (!abr_ || now - abr_last_ < std::chrono::milliseconds(900)) {
    return;
  }
  const double secs = std::chrono::duration<double>(now - abr_last_).count();
  const std::uint64_t bytes = counters_.bytes.load();
  const double sent_kbps = abr_last_bytes_ > 0 ? static_cast<double>(bytes - abr_last_bytes_) * 8 / 1000 / secs : 0;
  abr_last_ = now;
  abr_last_bytes_ = bytes;
  const auto rr = receiver_report();
  if (!rr || rr->ext_highest_seq == abr_last_report_seq_) {
    return;  // no new report from the relay
  }
  abr_last_report_seq_ = rr->ext_highest_seq;
  const auto target = abr_->on_report({rr->fraction_lost, rr->rtt_ms, sent_kbps}, now);
  if (!target) {
    return;
  }
  auto encoder = common::bin_child(pipeline_.get(), element::encoder);
  if (encoder && apply_encoder_bitrate(encoder.get(), *target)) {
    spdlog::debug("bitrate target {} kbit/s ({})", *target, abr_->reason());
  }
}

void Publisher::log_rtcp_events() {
  const std::uint64_t requests = counters_.key_requests.load();
  if (requests != key_requests_logged_) {
    spdlog::debug("keyframe request (RTCP PLI/FIR) reached the encoder: {} so far, {} forwarded", requests,
                  counters_.key_forwarded.load());
    key_requests_logged_ = requests;
  }
  if (!srtcp_filter_) {
    return;
  }
  const std::uint64_t rejected = srtcp_filter_->rejected();
  const auto now = Clock::now();
  if (rejected != rtcp_rejected_logged_ && now - last_rtcp_reject_warning_ >= 60s) {
    spdlog::warn("RTCP that is not SRTCP with this publisher's key was dropped ({} datagrams so far, {} "
                 "authenticated): the relay's srtp_key_file differs, or someone sends forged RTCP (key {})",
                 rejected, srtcp_filter_->accepted(), srtp_key_->fingerprint());
    rtcp_rejected_logged_ = rejected;
    last_rtcp_reject_warning_ = now;
  }
}

std::optional<ReceiverReport> Publisher::receiver_report() const {
  if (!pipeline_) {
    return std::nullopt;
  }
  auto rtpbin = common::bin_child(pipeline_.get(), element::rtpbin);
  if (!rtpbin) {
    return std::nullopt;
  }
  GstElement* raw_session = nullptr;
  g_signal_emit_by_name(rtpbin.get(), "get-session", 0u, &raw_session);
  common::ElementPtr session(raw_session);
  if (!session) {
    return std::nullopt;
  }
  GstStructure* raw_stats = nullptr;
  g_object_get(session.get(), "stats", &raw_stats, nullptr);
  common::StructurePtr stats(raw_stats);
  if (!stats) {
    return std::nullopt;
  }
  if (spdlog::should_log(spdlog::level::trace)) {
    common::GCharPtr text(gst_structure_to_string(stats.get()));
    spdlog::trace("rtpsession stats: {}", text.get());
  }
  const GValue* arr_val = gst_structure_get_value(stats.get(), "source-stats");
  // Our own source is the internal one; the relay's report blocks about it are kept on
  // the relay's (remote) source, with rb-ssrc naming ours.
  const auto sources = structures_in(arr_val);
  // With rtx the session has two internal sources: the media's is the payloader's SSRC.
  std::optional<guint> media_ssrc;
  if (auto pay = common::bin_child(pipeline_.get(), element::payloader)) {
    guint ssrc = 0;
    GstStructure* raw_pay = nullptr;
    g_object_get(pay.get(), "stats", &raw_pay, nullptr);
    common::StructurePtr pay_stats(raw_pay);
    if (pay_stats && gst_structure_get_uint(pay_stats.get(), "ssrc", &ssrc)) {
      media_ssrc = ssrc;
    }
  }
  guint own_ssrc = 0;
  gint clock_rate = 90000;
  bool have_own = false;
  for (const GstStructure* s : sources) {
    gboolean internal = FALSE;
    guint ssrc = 0;
    if (gst_structure_get_boolean(s, "internal", &internal) && internal && gst_structure_get_uint(s, "ssrc", &ssrc) &&
        (!media_ssrc || *media_ssrc == ssrc)) {
      own_ssrc = ssrc;
      have_own = true;
      gst_structure_get_int(s, "clock-rate", &clock_rate);
      break;
    }
  }
  if (!have_own) {
    return std::nullopt;
  }
  if (clock_rate <= 0) {
    clock_rate = 90000;
  }
  for (const GstStructure* s : sources) {
    gboolean internal = TRUE;
    gboolean have_rb = FALSE;
    guint rb_ssrc = 0;
    if (!gst_structure_get_boolean(s, "internal", &internal) || internal ||
        !gst_structure_get_boolean(s, "have-rb", &have_rb) || !have_rb ||
        !gst_structure_get_uint(s, "rb-ssrc", &rb_ssrc) || rb_ssrc != own_ssrc) {
      continue;
    }
    guint fraction = 0;
    gint lost = 0;
    guint jitter = 0;
    guint rtt = 0;
    gst_structure_get_uint(s, "rb-fractionlost", &fraction);
    gst_structure_get_int(s, "rb-packetslost", &lost);
    gst_structure_get_uint(s, "rb-jitter", &jitter);
    gst_structure_get_uint(s, "rb-round-trip", &rtt);
    guint ext_seq = 0;
    gst_structure_get_uint(s, "rb-exthighestseq", &ext_seq);
    ReceiverReport rr;
    rr.fraction_lost = fraction / 256.0;
    rr.packets_lost = lost;
    rr.jitter_ms = 1000.0 * jitter / clock_rate;
    rr.rtt_ms = 1000.0 * rtt / 65536.0;
    rr.ext_highest_seq = ext_seq;
    return rr;
  }
  return std::nullopt;
}

void Publisher::log_stats() {
  const auto now = Clock::now();
  Snapshot cur{counters_.frames.load(),
               counters_.bytes.load(),
               counters_.keyframes.load(),
               counters_.forced_idrs.load(),
               srtcp_filter_ ? srtcp_filter_->rejected() : 0,
               feedback_.foreign_rtcp(),
               feedback_.requests(),
               feedback_.refused(),
               now};
  StatsInterval s;
  s.seconds = std::chrono::duration<double>(now - last_stats_.at).count();
  s.frames = cur.frames - last_stats_.frames;
  s.bytes = cur.bytes - last_stats_.bytes;
  s.forced_idrs = cur.forced - last_stats_.forced;
  const std::uint64_t keys = cur.keyframes - last_stats_.keyframes;
  s.periodic_idrs = keys > s.forced_idrs ? keys - s.forced_idrs : 0;
  s.rtcp_rejected = cur.rtcp_rejected - last_stats_.rtcp_rejected;
  s.rtcp_foreign = cur.rtcp_foreign - last_stats_.rtcp_foreign;
  s.rtx_requests = cur.rtx_requests - last_stats_.rtx_requests;
  s.rtx_refused = cur.rtx_refused - last_stats_.rtx_refused;
  s.rr = receiver_report();
  if (abr_) {
    s.target_kbps = abr_->target_kbps();
    s.target_reason = abr_->reason();
  }
  last_stats_ = cur;
  std::string line = format_stats_line(s);
  if (send_failures_ > 0) {
    line += fmt::format(", send failures {}", send_failures_);
    send_failures_ = 0;
  }
  if (phase_ != Phase::running) {
    line += " (not streaming: waiting to restart)";
  }
  spdlog::info("{}", line);
}

void Publisher::shutdown() {
  if (phase_ == Phase::stopping) {
    return;
  }
  common::systemd::notify_stopping();
  const bool can_drain = pipeline_ && phase_ == Phase::running;
  phase_ = Phase::stopping;
  retry_timer_.reset();
  g_cancellable_cancel(cancellable_.get());
  if (!can_drain) {
    finish_shutdown();
    return;
  }
  gst_element_send_event(pipeline_.get(), gst_event_new_eos());
  stop_timer_.reset(g_timeout_add(
      static_cast<guint>(kStopTimeout.count()),
      [](gpointer p) -> gboolean {
        auto* self = static_cast<Publisher*>(p);
        self->stop_timer_.release();
        spdlog::debug("EOS did not drain in time; stopping anyway");
        self->finish_shutdown();
        return G_SOURCE_REMOVE;
      },
      this));
}

void Publisher::finish_shutdown() {
  stop_timer_.reset();
  teardown();
  tick_timer_.reset();
  stats_timer_.reset();
  spdlog::info("stopped: {} frames sent, {} forced IDRs", counters_.frames.load(), counters_.forced_idrs.load());
  loop_.quit(0);
}

}  // namespace veter::publisher
