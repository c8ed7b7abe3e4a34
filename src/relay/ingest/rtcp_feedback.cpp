// Ingest's RTCP with the publisher, on the main loop: its sender reports (and, with SRTP, the
// SRTCP check), our receiver reports every second, and keyframe requests (PLI) at most every
// 500 ms: on a viewer's PLAY, after packet loss and when a new publisher appears.
#include "veter/relay/ingest/ingest.hpp"

#include <sys/socket.h>

#include <random>

#include <spdlog/spdlog.h>

#include "veter/relay/rtp/rtcp_packets.hpp"

namespace veter::relay {

namespace {
constexpr auto kPliMinInterval = std::chrono::milliseconds(500);
constexpr auto kReportInterval = std::chrono::seconds(1);
}  // namespace

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
      // Allow list before any crypto; then only RTCP that authenticates (and is no
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
      srtcp = srtcp_out_->protect(packet);  // never send our RTCP in clear on an SRTP path
    } catch (const std::exception& e) {
      spdlog::error("path {}: RTCP not sent: {}", cfg_.name, e.what());
      return;
    }
    wire = srtcp;
  }
  GError* err = nullptr;
  if (g_socket_send_to(rtcp_socket_.get(), dest.get(), reinterpret_cast<const gchar*>(wire.data()), wire.size(),
                       nullptr, &err) < 0) {
    common::GErrorPtr e(err);
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
    // One master key for both directions is safe only with distinct SSRCs (the SRTCP
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

void Ingest::tick_feedback(Clock::time_point now, bool silent) {
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
}

}  // namespace veter::relay
