#include "veter/relay/serve/fanout.hpp"

#include <gst/app/gstappsrc.h>
#include <gst/base/gstbasesink.h>
#include <gst/rtp/gstrtpbuffer.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <random>
#include <span>
#include <utility>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "veter/relay/serve/path_media_factory.hpp"
#include "veter/relay/serve/rtp_appsrc.hpp"
#include "veter/relay/rtp/rtp_h264.hpp"

namespace veter::relay {

namespace detail {
// What the media's sinks have received, for a join to wait until packets
// pushed before it have left (a packet still on its way when the joining
// viewer's transport is added would reach it before the one RTP-Info names).
// Shared by the fan-out and the pad probe on one sink (which may outlive the media entry).
struct Drain {
  std::mutex mutex;
  std::condition_variable cv;
};
struct SinkWatch {
  std::shared_ptr<Drain> drain;
  int payload_type = 96;
  std::atomic<int> last_seq{-1};  // -1: no RTP seen (an RTCP sink, or one nobody used yet)
};
}  // namespace detail
using detail::Drain;
using detail::SinkWatch;

struct Fanout::Entry {
  Fanout* owner = nullptr;
  GstRTSPMedia* media = nullptr;  // identity only; lifetime tracked by the signal below
  common::ElementPtr appsrc;
  common::SignalConnection unprepared;
  common::SignalConnection sink_added;  // zero processing deadline for the media's sinks
  common::SignalConnection need_data;   // parameter sets as soon as the media runs
  bool started = false;     // has received its first packet (the parameter sets)
  bool caps_stale = false;  // the publisher's parameter sets changed since its caps were set
  int last_pushed = -1;     // sequence number of the last packet pushed (fan-out lock)
  std::mutex watch_mutex;   // guards watches (sinks are added on RTSP client threads)
  std::vector<std::shared_ptr<SinkWatch>> watches;
};

namespace {
// GstBaseSink reserves a 20 ms processing deadline in live pipelines, and the
// shared media's sinks (added by gst-rtsp-server when it prepares the media)
// sync to the clock: every packet, stamped "now" when pushed, would wait 20 ms
// before leaving. Nothing in the media needs processing time, so each sink
// gets a zero deadline and packets go out as soon as they are pushed.
GstPadProbeReturn on_sink_data(GstPad* /*pad*/, GstPadProbeInfo* info, gpointer user_data) {
  auto* watch = static_cast<std::shared_ptr<SinkWatch>*>(user_data)->get();
  GstBuffer* last = nullptr;
  if ((info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) != 0) {
    GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    const guint n = gst_buffer_list_length(list);
    last = n > 0 ? gst_buffer_list_get(list, n - 1) : nullptr;
  } else {
    last = GST_PAD_PROBE_INFO_BUFFER(info);
  }
  common::MappedRtpBuffer rtp(last, GST_MAP_READ);
  if (rtp) {
    const bool ours = gst_rtp_buffer_get_payload_type(rtp.get()) == watch->payload_type;
    const int seq = gst_rtp_buffer_get_seq(rtp.get());
    rtp.unmap();
    if (ours) {
      {
        std::lock_guard lock(watch->drain->mutex);
        watch->last_seq.store(seq);
      }
      watch->drain->cv.notify_all();
    }
  }
  return GST_PAD_PROBE_OK;
}

void free_watch(gpointer user_data) { delete static_cast<std::shared_ptr<SinkWatch>*>(user_data); }

// A join that did not end within this time belongs to a PLAY that failed
// after it began; the held access units go out anyway.
constexpr std::int64_t kMaxJoinHoldNs = 300'000'000;
// Access units remembered for age_at (30 s at 30 fps).
constexpr std::size_t kSentKept = 900;
// A join waits at most this long for packets pushed before it to reach the sinks.
constexpr std::int64_t kMaxDrainWaitNs = 50'000'000;
// At most this many access units are held during open joins (10 at 30 fps).
constexpr std::size_t kMaxHeld = 10;

}  // namespace

void Fanout::on_deep_element_added(GstBin* /*pipeline*/, GstBin* /*sub_bin*/, GstElement* element, gpointer self) {
  if (!GST_IS_BASE_SINK(element)) {
    return;
  }
  // GstBaseSink reserves a 20 ms processing deadline in live pipelines, and the
  // shared media's sinks (added by gst-rtsp-server when it prepares the media)
  // sync to the clock: every packet, stamped "now" when pushed, would wait 20 ms
  // before leaving. Nothing in the media needs processing time, so each sink
  // gets a zero deadline and packets go out as soon as they are pushed.
  //
  // No last sample either: gst-rtsp-server 1.22 builds a PLAY answer's RTP-Info
  // from the sink's last sample when there is one, and for a buffer list that
  // is the list's FIRST packet, an access unit the joining viewer never gets
  // (rtspsrc then waits its whole latency, 2 s by default, for it). Without
  // it, RTP-Info comes from veterrtpsrc's "stats", which the fan-out keeps
  // naming the packet that goes out next (see begin_join).
  g_object_set(element, "processing-deadline", static_cast<guint64>(0), "enable-last-sample", FALSE, nullptr);
  auto* entry = static_cast<Entry*>(self);
  auto watch = std::make_shared<SinkWatch>();
  watch->drain = entry->owner->drain_;
  watch->payload_type = entry->owner->payload_type_;
  if (common::PadPtr pad{gst_element_get_static_pad(element, "sink")}) {
    gst_pad_add_probe(pad.get(), static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                      &on_sink_data, new std::shared_ptr<SinkWatch>(watch), &free_watch);
  }
  std::lock_guard lock(entry->watch_mutex);
  entry->watches.push_back(std::move(watch));
}

namespace {
// The shared media: an appsrc (veterrtpsrc, see rtp_appsrc.hpp) is the
// "payloader" (pay0) gst-rtsp-server streams from; it carries ready RTP
// packets. No queue, no jitter buffer.
constexpr const char* kLaunch =
    "( veterrtpsrc name=pay0 is-live=true format=time do-timestamp=false min-latency=0 )";

bool is_playing(GstElement* e) {
  GST_OBJECT_LOCK(e);
  const bool playing = GST_STATE(e) == GST_STATE_PLAYING;
  GST_OBJECT_UNLOCK(e);
  return playing;
}

// The element's running time now (what do-timestamp would stamp), or NONE before it has a clock.
GstClockTime running_time_now(GstElement* e) {
  common::GstPtr<GstClock> clock(gst_element_get_clock(e));
  if (!clock) {
    return GST_CLOCK_TIME_NONE;
  }
  const GstClockTime now = gst_clock_get_time(clock.get());
  const GstClockTime base = gst_element_get_base_time(e);
  return now >= base ? now - base : 0;
}

void stamp(GstBufferList* list, GstClockTime pts) {
  const guint n = gst_buffer_list_length(list);
  for (guint i = 0; i < n; ++i) {
    GstBuffer* b = gst_buffer_list_get_writable(list, i);
    GST_BUFFER_PTS(b) = pts;
    GST_BUFFER_DTS(b) = GST_CLOCK_TIME_NONE;
    GST_BUFFER_DURATION(b) = GST_CLOCK_TIME_NONE;
  }
}

std::string base64(const std::vector<std::uint8_t>& v) {
  common::GCharPtr s(g_base64_encode(v.data(), v.size()));
  return s ? std::string(s.get()) : std::string();
}

std::int64_t monotonic_ns() { return g_get_monotonic_time() * 1000; }
}  // namespace

Fanout::Fanout(std::string path_name, GstRTSPLowerTrans protocols, int payload_type)
    : name_(std::move(path_name)),
      payload_type_(payload_type),
      drain_(std::make_shared<Drain>()),
      rewriter_(std::random_device{}(), static_cast<std::uint16_t>(std::random_device{}()), std::random_device{}()) {
  if (!register_rtp_appsrc()) {
    throw std::runtime_error("cannot register the veterrtpsrc element");
  }
  factory_ = new_path_media_factory();
  gst_rtsp_media_factory_set_launch(factory_.get(), kLaunch);
  gst_rtsp_media_factory_set_shared(factory_.get(), TRUE);
  gst_rtsp_media_factory_set_suspend_mode(factory_.get(), GST_RTSP_SUSPEND_MODE_NONE);
  gst_rtsp_media_factory_set_protocols(factory_.get(), protocols);
  gst_rtsp_media_factory_set_latency(factory_.get(), 0);
  gst_rtsp_media_factory_set_eos_shutdown(factory_.get(), FALSE);
  configure_ = common::SignalConnection(
      factory_.get(), g_signal_connect(factory_.get(), "media-configure", G_CALLBACK(&Fanout::on_media_configure), this));
}

Fanout::~Fanout() {
  configure_.disconnect();
  std::lock_guard lock(mutex_);
  entries_.clear();
}

void Fanout::on_media_configure(GstRTSPMediaFactory*, GstRTSPMedia* media, gpointer self) {
  static_cast<Fanout*>(self)->attach(media);
}

void Fanout::on_media_unprepared(GstRTSPMedia* media, gpointer self) { static_cast<Fanout*>(self)->detach(media); }

common::CapsPtr Fanout::caps_locked() const {
  common::CapsPtr caps(gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "video", "payload", G_TYPE_INT,
                                           payload_type_, "clock-rate", G_TYPE_INT, 90000, "encoding-name",
                                           G_TYPE_STRING, "H264", "packetization-mode", G_TYPE_STRING, "1", "ssrc",
                                           G_TYPE_UINT, rewriter_.ssrc(), nullptr));
  if (sps_.size() >= 4 && !pps_.empty()) {
    const std::string sprop = base64(sps_) + "," + base64(pps_);
    const std::string plid = fmt::format("{:02x}{:02x}{:02x}", sps_[1], sps_[2], sps_[3]);
    gst_caps_set_simple(caps.get(), "sprop-parameter-sets", G_TYPE_STRING, sprop.c_str(), "profile-level-id",
                        G_TYPE_STRING, plid.c_str(), nullptr);
  }
  return caps;
}

common::BufferPtr Fanout::parameter_set_packet_locked(RtpRewriter::Numbers numbers) const {
  const std::vector<std::vector<std::uint8_t>> units{sps_, pps_};
  const auto payload = make_stap_a(units);
  common::BufferPtr buf(gst_rtp_buffer_new_allocate(static_cast<guint>(payload.size()), 0, 0));
  common::MappedRtpBuffer rtp(buf.get(), GST_MAP_WRITE);
  if (!rtp) {
    return {};
  }
  gst_rtp_buffer_set_payload_type(rtp.get(), static_cast<guint8>(payload_type_));
  gst_rtp_buffer_set_ssrc(rtp.get(), rewriter_.ssrc());
  gst_rtp_buffer_set_seq(rtp.get(), numbers.seq);
  gst_rtp_buffer_set_timestamp(rtp.get(), numbers.timestamp);
  std::copy(payload.begin(), payload.end(), static_cast<std::uint8_t*>(gst_rtp_buffer_get_payload(rtp.get())));
  rtp.unmap();
  return buf;
}

void Fanout::push_locked(Entry& e, GstBufferList* list, RtpRewriter::Numbers last) {
  if (e.caps_stale) {
    e.caps_stale = false;
    auto caps = caps_locked();
    gst_app_src_set_caps(GST_APP_SRC(e.appsrc.get()), caps.get());
  }
  const GstClockTime now = running_time_now(e.appsrc.get());
  stamp(list, now);
  rtp_appsrc_note_packet(e.appsrc.get(), last.seq, last.timestamp, now);
  e.last_pushed = last.seq;
  gst_app_src_push_buffer_list(GST_APP_SRC(e.appsrc.get()), list);
}

void Fanout::on_need_data(GstElement* appsrc, guint /*length*/, gpointer self) {
  // Emitted from the appsrc's streaming thread whenever its queue is empty. A
  // new media prerolls (and answers DESCRIBE) once its first packet has gone
  // through; handing it the parameter sets the moment it runs completes that
  // at once instead of after the publisher's next packet.
  auto* me = static_cast<Fanout*>(self);
  std::lock_guard lock(me->mutex_);
  for (auto& e : me->entries_) {
    if (e->appsrc.get() != appsrc || e->started) {
      continue;
    }
    if (me->sps_.empty() || me->pps_.empty()) {
      continue;
    }
    // No viewer has a transport on a media this new: this packet only completes
    // its preroll (the last timestamp; the picture after it is not known yet).
    const auto numbers = me->rewriter_.insert(monotonic_ns());
    if (auto ps = me->parameter_set_packet_locked(numbers)) {
      e->started = true;
      GstBufferList* list = gst_buffer_list_new_sized(1);
      gst_buffer_list_add(list, ps.release());
      me->push_locked(*e, list, numbers);
    }
  }
}

void Fanout::attach(GstRTSPMedia* media) {
  common::ElementPtr bin(gst_rtsp_media_get_element(media));
  auto entry = std::make_unique<Entry>();
  entry->owner = this;
  entry->media = media;
  entry->appsrc = common::bin_child(bin.get(), "pay0");
  if (!entry->appsrc) {
    spdlog::error("path {}: media without its appsrc", name_);
    return;
  }
  if (common::GstPtr<GstObject> pipeline{gst_object_get_parent(GST_OBJECT(bin.get()))}) {
    entry->sink_added = common::SignalConnection(
        pipeline.get(),
        g_signal_connect(pipeline.get(), "deep-element-added", G_CALLBACK(&Fanout::on_deep_element_added), entry.get()));
  }
  {
    std::lock_guard lock(mutex_);
    auto caps = caps_locked();
    g_object_set(entry->appsrc.get(), "caps", caps.get(), "pt", static_cast<guint>(payload_type_), "max-bytes",
                 static_cast<guint64>(2 * 1024 * 1024),
                 "leaky-type", GST_APP_LEAKY_TYPE_DOWNSTREAM /* drop the oldest */, nullptr);
  }
  entry->need_data = common::SignalConnection(
      entry->appsrc.get(), g_signal_connect(entry->appsrc.get(), "need-data", G_CALLBACK(&Fanout::on_need_data), this));
  entry->unprepared = common::SignalConnection(
      media, g_signal_connect(media, "unprepared", G_CALLBACK(&Fanout::on_media_unprepared), this));
  spdlog::debug("path {}: shared media created", name_);
  std::lock_guard lock(mutex_);
  entries_.push_back(std::move(entry));
}

void Fanout::detach(GstRTSPMedia* media) {
  std::unique_ptr<Entry> gone;
  {
    std::lock_guard lock(mutex_);
    auto it = std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) { return e->media == media; });
    if (it == entries_.end()) {
      return;
    }
    gone = std::move(*it);
    entries_.erase(it);
  }
  spdlog::debug("path {}: shared media released", name_);
  // `gone` (signal connections, appsrc ref) is released outside the lock.
}

std::chrono::nanoseconds Fanout::age_at(std::uint64_t position) const {
  const std::int64_t now_ns = monotonic_ns();
  std::lock_guard lock(mutex_);
  // The first access unit not completely at or before `position`.
  auto it = std::upper_bound(sent_.begin(), sent_.end(), position,
                             [](std::uint64_t p, const Sent& s) { return p < s.wire_end; });
  if (it == sent_.end()) {
    return std::chrono::nanoseconds(0);
  }
  return std::chrono::nanoseconds(std::max<std::int64_t>(0, now_ns - it->at_ns));
}

void Fanout::resume_at_keyframe(common::GObjectPtr<GstRTSPStreamTransport> transport,
                                std::shared_ptr<ResumeTicket> ticket) {
  std::lock_guard lock(mutex_);
  resumes_.emplace_back(std::move(transport), std::move(ticket));
}

void Fanout::cancel_resume(const std::shared_ptr<ResumeTicket>& ticket) {
  std::lock_guard lock(mutex_);
  std::erase_if(resumes_, [&](const auto& r) { return r.second == ticket; });
}

bool Fanout::has_media() const {
  std::lock_guard lock(mutex_);
  return !entries_.empty();
}

void Fanout::set_parameter_sets(std::vector<std::uint8_t> sps, std::vector<std::uint8_t> pps) {
  std::lock_guard lock(mutex_);
  if (sps == sps_ && pps == pps_) {
    return;
  }
  sps_ = std::move(sps);
  pps_ = std::move(pps);
  for (auto& e : entries_) {
    e->caps_stale = true;  // new SDP (sprop-parameter-sets) for viewers who join from now on
  }
}

std::vector<Fanout::Entry*> Fanout::live_locked() const {
  std::vector<Entry*> live;
  // Nobody playing (a SETUP without PLAY, a DESCRIBE): gst-rtsp-server keeps a
  // prepared live media PLAYING but blocked until its first PLAY, so what it got
  // would wait in the appsrc's queue, up to max-bytes, and reach the next viewer
  // who plays as a burst of frames seconds behind the robot. A media gets its
  // first packet (the parameter sets, to finish preparing) and then nothing
  // until a viewer plays (or is joining: it gets the packets held for its join).
  const bool anyone_playing = playing_.load() > 0 || joins_ > 0;
  for (const auto& e : entries_) {
    // Before PLAYING the appsrc has no clock to stamp with, and nobody receives yet.
    if (is_playing(e->appsrc.get()) && (anyone_playing || !e->started)) {
      live.push_back(e.get());
    }
  }
  return live;
}

std::vector<std::pair<std::shared_ptr<SinkWatch>, int>> Fanout::open_join() {
  const std::int64_t now_ns = monotonic_ns();
  std::lock_guard lock(mutex_);
  if (joins_ == 0) {
    join_since_ns_ = now_ns;
  }
  ++joins_;
  // Nothing is numbered while a join is open, so the next packet is known now:
  // the parameter sets (or, without them, the next picture's first packet).
  // Its timestamp is the next picture's, which has not arrived yet: RTP-Info
  // gets the one it will have from a steady source (RtpRewriter::next).
  const auto next = rewriter_.next(now_ns);
  std::vector<std::pair<std::shared_ptr<SinkWatch>, int>> pending;  // sink, last packet pushed
  for (auto* e : live_locked()) {
    rtp_appsrc_announce_next(e->appsrc.get(), next.seq, next.timestamp, running_time_now(e->appsrc.get()));
    std::lock_guard wl(e->watch_mutex);
    for (const auto& w : e->watches) {
      pending.emplace_back(w, e->last_pushed);
    }
  }
  return pending;
}

void Fanout::begin_join() {
  auto pending = open_join();
  // Wait (bounded) until every sink that carries RTP has received the last
  // packet pushed before the join, so the viewer's first packet is the next one.
  std::unique_lock lock(drain_->mutex);
  drain_->cv.wait_for(lock, std::chrono::nanoseconds(kMaxDrainWaitNs), [&] {
    return std::all_of(pending.begin(), pending.end(), [](const auto& p) {
      const int seen = p.first->last_seq.load();
      return seen < 0 || p.second < 0 || seen == p.second;
    });
  });
}

void Fanout::end_join() {
  const std::int64_t now_ns = monotonic_ns();
  std::lock_guard lock(mutex_);
  if (joins_ == 0) {
    return;  // already dropped by kMaxJoinHoldNs
  }
  if (--joins_ == 0) {
    join_parameter_sets_ = true;
    release_held_locked(now_ns);
  }
}

void Fanout::release_held_locked(std::int64_t now_ns) {
  auto held = std::move(held_);
  held_.clear();
  for (auto& au : held) {
    forward_locked(au.get(), now_ns);
  }
}

void Fanout::push(GstBufferList* au) {
  const std::int64_t now_ns = monotonic_ns();
  std::lock_guard lock(mutex_);
  if (joins_ > 0) {
    if (now_ns - join_since_ns_ < kMaxJoinHoldNs && held_.size() < kMaxHeld) {
      held_.emplace_back(gst_buffer_list_ref(au));
      return;
    }
    joins_ = 0;  // a PLAY that never finished
    join_parameter_sets_ = true;
  }
  release_held_locked(now_ns);
  forward_locked(au, now_ns);
}

void Fanout::forward_locked(GstBufferList* au, std::int64_t now_ns) {
  const auto live = live_locked();
  // The parameter sets lead this access unit for a media that has not had its
  // first packet, and after a viewer joined (its first packet; RTP-Info names it).
  bool lead = join_parameter_sets_;
  for (auto* e : live) {
    lead = lead || !e->started;
  }
  lead = lead && !live.empty() && !sps_.empty() && !pps_.empty();
  RtpRewriter::Numbers lead_numbers;
  if (lead) {
    lead_numbers = rewriter_.insert(now_ns);
    join_parameter_sets_ = false;
    for (auto* e : live) {
      e->started = true;
    }
  }
  const guint n = gst_buffer_list_length(au);
  GstBufferList* out = live.empty() ? nullptr : gst_buffer_list_new_sized(n + 1);
  std::uint64_t bytes = 0;
  RtpRewriter::Numbers last;
  bool first = true;
  bool keyframe = false;
  for (guint i = 0; i < n; ++i) {
    GstBuffer* in = gst_buffer_list_get(au, i);
    if (out == nullptr) {
      // Nobody to send to: copy nothing, keep the rewriter's timeline up to date
      // but give out no numbers. A prepared media holds its first packet (the
      // parameter sets) in gst-rtsp-server's block until the first PLAY, whose
      // RTP-Info names that packet: the next one must follow it without a gap,
      // or the player's jitter buffer waits its whole latency for the missing ones.
      if (common::MappedRtpBuffer rtp(in, GST_MAP_READ); rtp) {
        rewriter_.pass_over(gst_rtp_buffer_get_ssrc(rtp.get()), gst_rtp_buffer_get_seq(rtp.get()),
                            gst_rtp_buffer_get_timestamp(rtp.get()), now_ns);
      }
      continue;
    }
    // A new buffer sharing the packet's memory; mapping it for writing copies
    // the memory (the ingest still holds it), so the publisher's packet is untouched.
    common::BufferPtr b(gst_buffer_copy(in));
    common::MappedRtpBuffer rtp(b.get(), GST_MAP_READWRITE);
    if (!rtp) {
      continue;
    }
    const auto numbers = rewriter_.map(gst_rtp_buffer_get_ssrc(rtp.get()), gst_rtp_buffer_get_seq(rtp.get()),
                                       gst_rtp_buffer_get_timestamp(rtp.get()), now_ns);
    if (!resumes_.empty() && !keyframe) {
      keyframe = inspect_h264_payload(rtp.payload()).idr;
    }
    gst_rtp_buffer_set_ssrc(rtp.get(), rewriter_.ssrc());
    gst_rtp_buffer_set_seq(rtp.get(), numbers.seq);
    gst_rtp_buffer_set_timestamp(rtp.get(), numbers.timestamp);
    rtp.unmap();
    if (first && lead) {
      // RFC 6184 5.1: parameter sets carry the timestamp of the picture they belong to.
      lead_numbers.timestamp = numbers.timestamp;
      if (auto ps = parameter_set_packet_locked(lead_numbers)) {
        bytes += gst_buffer_get_size(ps.get());
        gst_buffer_list_add(out, ps.release());
      }
    }
    first = false;
    last = numbers;
    bytes += gst_buffer_get_size(b.get());
    gst_buffer_list_add(out, b.release());
  }
  if (out == nullptr) {
    return;
  }
  if (keyframe) {
    // Skipped viewers come back exactly at an IDR, so their first picture decodes.
    for (auto& [transport, ticket] : std::exchange(resumes_, {})) {
      gst_rtsp_stream_transport_set_active(transport.get(), TRUE);
      ticket->wire_position = wire_bytes_.load();
      ticket->access_units = access_units_.load();
      ticket->resumed.store(true, std::memory_order_release);
    }
  }
  const std::uint64_t wire = wire_bytes_.fetch_add(bytes + 4ULL * gst_buffer_list_length(out)) + bytes +
                             4ULL * gst_buffer_list_length(out);
  access_units_.fetch_add(1);
  sent_.push_back(Sent{wire, now_ns});
  if (sent_.size() > kSentKept) {
    sent_.pop_front();
  }
  payload_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  bytes_sent_.fetch_add(bytes * static_cast<std::uint64_t>(std::max(0, playing_.load())), std::memory_order_relaxed);
  // Normally one media; a second one (another URL spelling) gets its own copy of the list headers.
  for (std::size_t k = 0; k < live.size(); ++k) {
    GstBufferList* list = k + 1 == live.size() ? out : gst_buffer_list_copy_deep(out);
    push_locked(*live[k], list, last);
  }
}

}  // namespace veter::relay
