#include "veter/probe/probe_session.hpp"

#include <arpa/inet.h>
#include <glib-unix.h>
#include <gst/rtp/gstrtpbuffer.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <csignal>
#include <cstring>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "veter/common/exit_codes.hpp"
#include "veter/common/gst_ptr.hpp"
#include "veter/common/sei_timestamp.hpp"

namespace veter::probe {

namespace {

using common::ElementPtr;

constexpr int kNalIdr = 5;
constexpr int kNalSps = 7;
constexpr int kNalPps = 8;
constexpr int kNalSei = 6;
constexpr std::size_t kPtsMapLimit = 512;

using common::make_element;

double us_to_ms(std::int64_t us) { return static_cast<double>(us) / 1000.0; }

bool sockaddr_is_local(const sockaddr* sa, const std::vector<std::string>& local_addrs) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) {
      return true;
    }
    inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
  } else if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) {
      return true;
    }
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
  } else {
    return false;
  }
  for (const auto& a : local_addrs) {
    if (a == buf) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool host_is_local(const std::string& host) {
  if (host.empty() || host == "localhost") {
    return true;
  }
  std::vector<std::string> local_addrs;
  ifaddrs* ifs = nullptr;
  if (getifaddrs(&ifs) == 0) {
    for (ifaddrs* i = ifs; i != nullptr; i = i->ifa_next) {
      if (i->ifa_addr == nullptr) {
        continue;
      }
      char buf[INET6_ADDRSTRLEN] = {};
      if (i->ifa_addr->sa_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf);
      } else if (i->ifa_addr->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr, buf, sizeof buf);
      } else {
        continue;
      }
      local_addrs.emplace_back(buf);
    }
    freeifaddrs(ifs);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) {
    return false;
  }
  bool local = true;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    local = local && sockaddr_is_local(a->ai_addr, local_addrs);
  }
  freeaddrinfo(res);
  return local;
}

// The buffers of the frame being assembled (one RTP timestamp).
struct PendingFrame {
  bool has = false;
  bool idr = false;
  bool vcl = false;
  bool sps = false;
  bool pps = false;
  std::size_t bytes = 0;
  std::optional<std::int64_t> capture_us;
  std::optional<std::uint32_t> rtp_ts;
  GstClockTime pts = GST_CLOCK_TIME_NONE;  // of the frame's first buffer

  void merge(const PendingFrame& p) {
    if (!has) {
      pts = p.pts;
      rtp_ts = p.rtp_ts;
    }
    has = true;
    idr = idr || p.idr;
    vcl = vcl || p.vcl;
    sps = sps || p.sps;
    pps = pps || p.pps;
    bytes += p.bytes;
    if (!capture_us) {
      capture_us = p.capture_us;
    }
  }
};

// Everything the streaming threads write, behind one mutex; the main loop reads snapshots.
struct ProbeState {
  std::mutex mu;
  std::int64_t t0_mono_us = 0;
  std::optional<std::int64_t> connect_mono_us;
  std::optional<std::int64_t> first_frame_mono_us;
  std::optional<double> first_frame_age_ms;
  FrameTimeline received;  // every access unit (bytes, RTP timestamps)
  FrameTimeline shown;     // decodable access units, or decoded frames with --decode
  std::uint64_t keyframes = 0;
  bool sps_seen = false;
  bool pps_seen = false;
  bool decodable = false;
  std::uint64_t rtp_packets = 0;
  std::uint64_t rtp_lost = 0;
  std::optional<std::uint16_t> last_seq;
  std::optional<std::uint32_t> last_rtp_ts;
  std::vector<double> arrival_ms;
  std::vector<double> decoded_ms;
  std::uint64_t with_timestamp = 0;
  std::uint64_t negative = 0;
  std::deque<std::pair<GstClockTime, std::int64_t>> pts_capture;  // decode mode
  PendingFrame pending;
  std::uint64_t decode_errors = 0;
  std::uint64_t concealed = 0;
  std::optional<int> width;
  std::optional<int> height;
};

struct ProbeSession::Impl {
  ProbeOptions opts;
  ProbeState st;
  ElementPtr pipeline;
  ElementPtr depay;
  GMainLoop* loop = nullptr;
  common::SourceId bus_watch;
  common::SourceId status_timer;
  common::SourceId duration_timer;
  common::SourceId sigint;
  common::SourceId sigterm;
  common::SignalConnection pad_added;
  common::PadProbe rtp_probe;
  common::PadProbe au_probe;
  common::PadProbe decoded_probe;
  std::function<void(const ProbeReport&)> on_status;
  std::string error;
  bool not_ready = false;
  bool eos = false;
  GstElement* decoder = nullptr;  // owned by the pipeline

  explicit Impl(ProbeOptions o) : opts(std::move(o)) {}

  void build();
  ProbeReport snapshot(bool final_report);
  void quit() {
    if (loop != nullptr) {
      g_main_loop_quit(loop);
    }
  }

  static void on_pad_added(GstElement* src, GstPad* pad, gpointer self);
  static GstPadProbeReturn on_rtp(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn on_au(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn on_decoded(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static gboolean on_bus(GstBus* bus, GstMessage* msg, gpointer self);
  void handle_error(GstMessage* msg);
  void count_rtp(GstBuffer* buf);
  void finish_frame(std::int64_t mono, std::int64_t wall);  // with st.mu held
};

void ProbeSession::Impl::build() {
  pipeline = common::adopt_floating(gst_pipeline_new("probe"));
  depay = make_element("rtph264depay", "depay");
  auto caps_filter = make_element("capsfilter", "au_caps");
  common::CapsPtr caps(gst_caps_from_string("video/x-h264,stream-format=byte-stream,alignment=au"));
  g_object_set(caps_filter.get(), "caps", caps.get(), nullptr);
  GstBin* bin = GST_BIN(pipeline.get());

  ElementPtr source;
  if (url_scheme(opts.url) == "rtsp") {
    source = make_element("rtspsrc", "src");
    g_object_set(source.get(), "location", opts.url.c_str(), "latency", 0U, nullptr);
    gst_util_set_object_arg(G_OBJECT(source.get()), "protocols", opts.transport == Transport::tcp ? "tcp" : "udp");
    pad_added = common::SignalConnection(
        source.get(), g_signal_connect(source.get(), "pad-added", G_CALLBACK(&Impl::on_pad_added), this));
  } else {
    source = make_element("udpsrc", "src");
    common::CapsPtr rtp_caps(gst_caps_from_string(
        "application/x-rtp,media=video,clock-rate=90000,encoding-name=H264,payload=96"));
    g_object_set(source.get(), "port", rtp_listen_port(opts.url), "caps", rtp_caps.get(), "buffer-size",
                 4 * 1024 * 1024, nullptr);
  }
  gst_bin_add_many(bin, common::ref(source.get()).release(), common::ref(depay.get()).release(),
                   common::ref(caps_filter.get()).release(), nullptr);
  if (url_scheme(opts.url) == "rtp" && !gst_element_link(source.get(), depay.get())) {
    throw std::runtime_error("cannot link udpsrc to rtph264depay");
  }
  if (!gst_element_link(depay.get(), caps_filter.get())) {
    throw std::runtime_error("rtph264depay cannot produce byte-stream access units");
  }

  auto sink = make_element("fakesink", "sink");
  g_object_set(sink.get(), "sync", FALSE, "async", FALSE, nullptr);
  if (opts.decode) {
    auto parse = make_element("h264parse", "parse");
    auto dec = make_element("avdec_h264", "dec");
    // Slice threads only: frame threading would hold frames back and add latency.
    gst_util_set_object_arg(G_OBJECT(dec.get()), "thread-type", "slice");
    g_object_set(dec.get(), "max-errors", -1, nullptr);
    decoder = dec.get();
    gst_bin_add_many(bin, common::ref(parse.get()).release(), common::ref(dec.get()).release(),
                     common::ref(sink.get()).release(), nullptr);
    if (!gst_element_link_many(caps_filter.get(), parse.get(), dec.get(), sink.get(), nullptr)) {
      throw std::runtime_error("cannot link the decoder");
    }
    auto dec_src = common::static_pad(dec.get(), "src");
    decoded_probe = common::PadProbe(
        dec_src.get(), gst_pad_add_probe(dec_src.get(), GST_PAD_PROBE_TYPE_BUFFER, &Impl::on_decoded, this, nullptr));
  } else {
    gst_bin_add(bin, common::ref(sink.get()).release());
    if (!gst_element_link(caps_filter.get(), sink.get())) {
      throw std::runtime_error("cannot link the sink");
    }
  }
  auto depay_sink = common::static_pad(depay.get(), "sink");
  rtp_probe = common::PadProbe(
      depay_sink.get(),
      gst_pad_add_probe(depay_sink.get(),
                        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                        &Impl::on_rtp, this, nullptr));
  auto depay_src = common::static_pad(depay.get(), "src");
  au_probe = common::PadProbe(
      depay_src.get(), gst_pad_add_probe(depay_src.get(), GST_PAD_PROBE_TYPE_BUFFER, &Impl::on_au, this, nullptr));
}

void ProbeSession::Impl::on_pad_added(GstElement* /*src*/, GstPad* pad, gpointer self_ptr) {
  auto* self = static_cast<Impl*>(self_ptr);
  common::CapsPtr caps(gst_pad_get_current_caps(pad));
  if (!caps) {
    caps.reset(gst_pad_query_caps(pad, nullptr));
  }
  const GstStructure* s = caps ? gst_caps_get_structure(caps.get(), 0) : nullptr;
  const char* enc = s != nullptr ? gst_structure_get_string(s, "encoding-name") : nullptr;
  if (enc == nullptr || g_ascii_strcasecmp(enc, "H264") != 0) {
    return;  // audio or another codec: not ours
  }
  auto sink = common::static_pad(self->depay.get(), "sink");
  if (gst_pad_is_linked(sink.get())) {
    return;
  }
  gst_pad_link(pad, sink.get());
}

void ProbeSession::Impl::count_rtp(GstBuffer* buf) {
  common::MappedRtpBuffer rtp(buf, GST_MAP_READ);
  if (!rtp) {
    return;
  }
  const std::uint16_t seq = gst_rtp_buffer_get_seq(rtp.get());
  const std::uint32_t ts = gst_rtp_buffer_get_timestamp(rtp.get());
  rtp.unmap();
  const std::int64_t now = g_get_monotonic_time();
  std::lock_guard lock(st.mu);
  ++st.rtp_packets;
  st.last_rtp_ts = ts;  // the packet the depayloader is about to consume
  if (!st.connect_mono_us && url_scheme(opts.url) == "rtp") {
    st.connect_mono_us = now;
  }
  if (st.last_seq) {
    const auto step = static_cast<std::uint16_t>(seq - *st.last_seq);
    if (step == 0 || step >= 0x8000) {
      return;  // duplicate or late (reordered) packet
    }
    if (step < 1000) {
      st.rtp_lost += step - 1U;
    }
    // A bigger jump is a new publisher (new random sequence start), not loss.
  }
  st.last_seq = seq;
}

GstPadProbeReturn ProbeSession::Impl::on_rtp(GstPad* /*pad*/, GstPadProbeInfo* info, gpointer self_ptr) {
  auto* self = static_cast<Impl*>(self_ptr);
  if ((info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) != 0) {
    GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    const guint n = gst_buffer_list_length(list);
    for (guint i = 0; i < n; ++i) {
      self->count_rtp(gst_buffer_list_get(list, i));
    }
  } else if (GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info)) {
    self->count_rtp(buf);
  }
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn ProbeSession::Impl::on_au(GstPad* /*pad*/, GstPadProbeInfo* info, gpointer self_ptr) {
  auto* self = static_cast<Impl*>(self_ptr);
  GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
  if (buf == nullptr) {
    return GST_PAD_PROBE_OK;
  }
  const std::int64_t mono = g_get_monotonic_time();
  const std::int64_t wall = g_get_real_time();
  common::MappedBuffer map(buf, GST_MAP_READ);
  if (!map) {
    return GST_PAD_PROBE_OK;
  }
  PendingFrame part;
  common::sei::for_each_annexb_nal(map.bytes(),
                                   [&](std::span<const std::uint8_t> nal) {
                                     const int type = nal.empty() ? -1 : (nal[0] & 0x1F);
                                     part.idr = part.idr || type == kNalIdr;
                                     part.vcl = part.vcl || (type >= 1 && type <= 5);
                                     part.sps = part.sps || type == kNalSps;
                                     part.pps = part.pps || type == kNalPps;
                                     if (type == kNalSei && !part.capture_us) {
                                       part.capture_us = common::sei::parse_timestamp_nal(nal);
                                     }
                                   });
  part.bytes = map.size();
  map.unmap();
  const bool marker = GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_MARKER);

  auto& st = self->st;
  std::lock_guard lock(st.mu);
  part.rtp_ts = st.last_rtp_ts;
  part.pts = GST_BUFFER_PTS(buf);
  // A frame is everything with one RTP timestamp, up to the packet with the marker bit:
  // rtph264depay may push one frame as several buffers (e.g. when the payloader repeats
  // SPS/PPS in front of each slice of a multi-slice IDR).
  if (st.pending.has && st.pending.rtp_ts != part.rtp_ts) {
    self->finish_frame(mono, wall);  // the previous frame's marker packet was lost
  }
  st.pending.merge(part);
  if (marker) {
    self->finish_frame(mono, wall);
  }
  return GST_PAD_PROBE_OK;
}

void ProbeSession::Impl::finish_frame(std::int64_t mono, std::int64_t wall) {
  PendingFrame f = std::exchange(st.pending, PendingFrame{});
  st.sps_seen = st.sps_seen || f.sps;
  st.pps_seen = st.pps_seen || f.pps;
  if (!f.vcl) {
    return;  // parameter sets or SEI alone: not a frame
  }
  st.received.add(mono, f.bytes, f.rtp_ts);
  if (f.idr) {
    ++st.keyframes;
  }
  std::optional<double> age_ms;
  if (f.capture_us) {
    age_ms = us_to_ms(wall - *f.capture_us);
    ++st.with_timestamp;
    st.arrival_ms.push_back(*age_ms);
    if (*age_ms < 0) {
      ++st.negative;
    }
  }
  if (!st.decodable && f.idr && st.sps_seen && st.pps_seen) {
    st.decodable = true;
  }
  if (opts.decode) {
    if (f.capture_us && GST_CLOCK_TIME_IS_VALID(f.pts)) {
      st.pts_capture.emplace_back(f.pts, *f.capture_us);
      if (st.pts_capture.size() > kPtsMapLimit) {
        st.pts_capture.pop_front();
      }
    }
  } else if (st.decodable) {
    st.shown.add(mono, f.bytes, f.rtp_ts);
    if (!st.first_frame_mono_us) {
      st.first_frame_mono_us = mono;
      st.first_frame_age_ms = age_ms;
    }
  }
}

GstPadProbeReturn ProbeSession::Impl::on_decoded(GstPad* pad, GstPadProbeInfo* info, gpointer self_ptr) {
  auto* self = static_cast<Impl*>(self_ptr);
  GstBuffer* buf = GST_PAD_PROBE_INFO_BUFFER(info);
  if (buf == nullptr) {
    return GST_PAD_PROBE_OK;
  }
  const std::int64_t mono = g_get_monotonic_time();
  const std::int64_t wall = g_get_real_time();
  int width = 0;
  int height = 0;
  if (common::CapsPtr caps{gst_pad_get_current_caps(pad)}) {
    const GstStructure* s = gst_caps_get_structure(caps.get(), 0);
    gst_structure_get_int(s, "width", &width);
    gst_structure_get_int(s, "height", &height);
  }
  auto& st = self->st;
  std::lock_guard lock(st.mu);
  if (width > 0 && height > 0) {
    st.width = width;
    st.height = height;
  }
  if (GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_CORRUPTED)) {
    ++st.concealed;
  }
  std::optional<double> age_ms;
  if (GST_BUFFER_PTS_IS_VALID(buf)) {
    const GstClockTime pts = GST_BUFFER_PTS(buf);
    // The frame's entry is keyed by the PTS of its first buffer, which is <= the PTS the
    // decoder gives the picture: take the latest entry not after it, drop older ones
    // (frames the decoder did not output).
    std::optional<std::int64_t> capture;
    while (!st.pts_capture.empty() && st.pts_capture.front().first <= pts) {
      capture = st.pts_capture.front().second;
      st.pts_capture.pop_front();
    }
    if (capture) {
      age_ms = us_to_ms(wall - *capture);
      st.decoded_ms.push_back(*age_ms);
    }
  }
  st.shown.add(mono, 0);
  if (!st.first_frame_mono_us) {
    st.first_frame_mono_us = mono;
    st.first_frame_age_ms = age_ms;
  }
  return GST_PAD_PROBE_OK;
}

void ProbeSession::Impl::handle_error(GstMessage* msg) {
  GError* raw = nullptr;
  gchar* raw_debug = nullptr;
  gst_message_parse_error(msg, &raw, &raw_debug);
  common::GErrorPtr err(raw);
  common::GCharPtr debug(raw_debug);
  const std::string text = err ? err->message : "unknown error";
  const std::string detail = debug ? debug.get() : "";
  const bool not_found = err && err->domain == GST_RESOURCE_ERROR &&
                         (err->code == GST_RESOURCE_ERROR_NOT_FOUND ||
                          text.find("404") != std::string::npos || text.find("Not Found") != std::string::npos);
  if (not_found) {
    not_ready = true;
    error = "not ready: the server has no stream at this path (" + text +
            "); is the publisher running and sending to the relay?";
  } else if (detail.find("Failed to connect") != std::string::npos ||
             detail.find("Could not connect") != std::string::npos) {
    error = "cannot connect to the server (nothing listening, or unreachable)";
  } else {
    error = text + (detail.empty() ? "" : " (" + detail + ")");
  }
}

gboolean ProbeSession::Impl::on_bus(GstBus* /*bus*/, GstMessage* msg, gpointer self_ptr) {
  auto* self = static_cast<Impl*>(self_ptr);
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ERROR:
      if (self->error.empty()) {
        self->handle_error(msg);
      }
      self->quit();
      break;
    case GST_MESSAGE_EOS:
      self->eos = true;
      self->quit();
      break;
    case GST_MESSAGE_WARNING:
      if (self->decoder != nullptr && GST_MESSAGE_SRC(msg) == GST_OBJECT(self->decoder)) {
        std::lock_guard lock(self->st.mu);
        ++self->st.decode_errors;
      }
      break;
    case GST_MESSAGE_PROGRESS: {
      GstProgressType type{};
      gchar* code = nullptr;
      gchar* text = nullptr;
      gst_message_parse_progress(msg, &type, &code, &text);
      common::GCharPtr code_owner(code);
      common::GCharPtr text_owner(text);
      // rtspsrc reports "Sent PLAY request" once the server accepted PLAY.
      if (type == GST_PROGRESS_TYPE_COMPLETE && text != nullptr && std::strstr(text, "PLAY") != nullptr) {
        std::lock_guard lock(self->st.mu);
        if (!self->st.connect_mono_us) {
          self->st.connect_mono_us = g_get_monotonic_time();
        }
      }
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

ProbeReport ProbeSession::Impl::snapshot(bool final_report) {
  const std::int64_t now = g_get_monotonic_time();
  ProbeReport r;
  r.url = opts.url;
  r.transport = url_scheme(opts.url) == "rtp" ? "rtp-direct" : (opts.transport == Transport::tcp ? "tcp" : "udp");
  r.decode = opts.decode;
  std::lock_guard lock(st.mu);
  r.duration_s = static_cast<double>(now - st.t0_mono_us) / 1e6;
  if (st.connect_mono_us) {
    r.time_to_connect_ms = us_to_ms(*st.connect_mono_us - st.t0_mono_us);
  }
  if (st.first_frame_mono_us) {
    r.time_to_first_frame_ms = us_to_ms(*st.first_frame_mono_us - st.t0_mono_us);
    r.first_frame_age_ms = st.first_frame_age_ms;
  }
  r.frames = st.shown.frames();
  r.frames_received = st.received.frames();
  r.keyframes = st.keyframes;
  r.fps = st.shown.fps();
  r.bitrate_kbps = st.received.bitrate_kbps();
  r.bytes = st.received.bytes();
  r.rtp_packets = st.rtp_packets;
  r.rtp_lost = st.rtp_lost;
  r.frozen = st.shown.freezes(final_report ? std::optional<std::int64_t>(now) : std::nullopt,
                              st.received.frame_period_ms());
  r.width = st.width;
  r.height = st.height;
  r.decode_errors = st.decode_errors;
  r.concealed_frames = st.concealed;
  r.frames_with_timestamp = st.with_timestamp;
  r.capture_to_arrival_ms = summarize(st.arrival_ms);
  if (final_report) {
    r.arrival_samples_ms = st.arrival_ms;
  }
  if (opts.decode) {
    r.capture_to_decoded_ms = summarize(st.decoded_ms);
  }
  r.negative_latencies = st.negative;
  r.not_ready = not_ready;
  r.error = error;
  return r;
}

ProbeSession::ProbeSession(ProbeOptions opts) : impl_(std::make_unique<Impl>(std::move(opts))) {}
ProbeSession::~ProbeSession() = default;

void ProbeSession::stop() { impl_->quit(); }

ProbeReport ProbeSession::run(const std::function<void(const ProbeReport&)>& on_status, int status_period_ms) {
  Impl& im = *impl_;
  im.build();
  im.on_status = on_status;
  common::MainLoopPtr loop(g_main_loop_new(nullptr, FALSE));
  im.loop = loop.get();
  common::BusPtr bus(gst_pipeline_get_bus(GST_PIPELINE(im.pipeline.get())));
  im.bus_watch = common::SourceId(gst_bus_add_watch(bus.get(), &Impl::on_bus, &im));
  auto on_signal = +[](gpointer self) -> gboolean {
    static_cast<Impl*>(self)->quit();
    return G_SOURCE_CONTINUE;
  };
  im.sigint = common::SourceId(g_unix_signal_add(SIGINT, on_signal, &im));
  im.sigterm = common::SourceId(g_unix_signal_add(SIGTERM, on_signal, &im));
  if (on_status && status_period_ms > 0) {
    im.status_timer = common::SourceId(g_timeout_add(
        static_cast<guint>(status_period_ms),
        +[](gpointer self) -> gboolean {
          auto* impl = static_cast<Impl*>(self);
          impl->on_status(impl->snapshot(false));
          return G_SOURCE_CONTINUE;
        },
        &im));
  }
  if (im.opts.duration_s > 0) {
    im.duration_timer = common::SourceId(g_timeout_add(
        static_cast<guint>(im.opts.duration_s * 1000.0),
        +[](gpointer self) -> gboolean {
          static_cast<Impl*>(self)->quit();
          return G_SOURCE_CONTINUE;
        },
        &im));
  }
  {
    std::lock_guard lock(im.st.mu);
    im.st.t0_mono_us = g_get_monotonic_time();
  }
  if (gst_element_set_state(im.pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    // The bus carries the reason (e.g. the UDP port is taken); collect it.
    while (auto msg = common::MessagePtr(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR))) {
      if (im.error.empty()) {
        im.handle_error(msg.get());
      }
    }
    if (im.error.empty()) {
      im.error = "the pipeline failed to start";
    }
  } else {
    g_main_loop_run(loop.get());
  }
  ProbeReport report = im.snapshot(true);
  im.status_timer.reset();
  im.duration_timer.reset();
  gst_element_set_state(im.pipeline.get(), GST_STATE_NULL);
  im.bus_watch.reset();
  im.sigint.reset();
  im.sigterm.reset();
  im.loop = nullptr;

  if (!report.error.empty()) {
    report.exit_code = common::exit_code::unavailable;
  } else if (report.frames == 0) {
    report.error = im.eos ? "the server ended the stream before a decodable frame arrived"
                          : (report.time_to_connect_ms || report.rtp_packets > 0
                                 ? "no decodable frame (no IDR with SPS/PPS) arrived in time"
                                 : "no video arrived in time");
    report.exit_code = common::exit_code::unavailable;
  } else if (im.eos) {
    report.error = "";  // an orderly end after frames is a normal end of the run
  }
  return report;
}

}  // namespace veter::probe
