// SRTCP: common::SrtcpContext on its own (index, E flag, tag, replay,
// forgery), against GStreamer's srtpenc/srtpdec (the same wire format both
// ways), and the publisher's SrtcpFilter in front of rtpbin.
#include <gtest/gtest.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <random>
#include <stdexcept>

#include "veter/common/gst_ptr.hpp"
#include "veter/common/srtcp.hpp"
#include "veter/common/srtp_key.hpp"
#include "veter/publisher/srtcp_filter.hpp"
#include "veter/relay/rtp/rtcp_packets.hpp"

using namespace veter;
using common::SrtcpContext;
using Bytes = std::vector<std::uint8_t>;

namespace {

common::SrtpKey key_from(std::uint8_t seed) {
  common::SrtpKey k;
  for (std::size_t i = 0; i < k.bytes.size(); ++i) {
    k.bytes[i] = static_cast<std::uint8_t>(seed + i * 7);
  }
  return k;
}

/// What the relay sends: RR (one report block) + SDES CNAME + PLI.
Bytes rr_with_pli(std::uint32_t own_ssrc, std::uint32_t media_ssrc) {
  relay::ReportBlock b;
  b.ssrc = media_ssrc;
  b.ext_highest_seq = 1234;
  b.jitter = 5;
  Bytes p = relay::build_receiver_report(own_ssrc, b, "veter-relay");
  const Bytes pli = relay::build_pli(own_ssrc, media_ssrc);
  p.insert(p.end(), pli.begin(), pli.end());
  return p;
}

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

/// The E|index word of an SRTCP packet (before the 10-byte tag).
std::uint32_t trailer_word(const Bytes& srtcp) { return be32(&srtcp[srtcp.size() - 14]); }

/// appsrc (caps) ! <middle> ! appsink: push each packet, collect what comes out.
class OneShotPipeline {
 public:
  OneShotPipeline(const std::string& caps, const std::string& middle) {
    gst_init(nullptr, nullptr);
    const std::string desc = "appsrc name=in format=time caps=" + caps + " ! " + middle +
                             " ! appsink name=out sync=false emit-signals=false max-buffers=1000";  // bounded queue
    GError* err = nullptr;
    pipeline_ = common::adopt_floating(gst_parse_launch(desc.c_str(), &err));
    common::GErrorPtr e(err);
    if (e || !pipeline_) {
      throw std::runtime_error(std::string("pipeline: ") + (e ? e->message : "?"));
    }
  }
  ~OneShotPipeline() { gst_element_set_state(pipeline_.get(), GST_STATE_NULL); }
  OneShotPipeline(const OneShotPipeline&) = delete;
  OneShotPipeline& operator=(const OneShotPipeline&) = delete;

  [[nodiscard]] GstElement* element(const char* name) const {
    common::ElementPtr e = common::bin_child(pipeline_.get(), name);
    return e.get();  // the bin keeps its own reference for the pipeline's lifetime
  }
  void play() { ASSERT_NE(gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE); }

  /// Push all packets, then EOS; returns what reached the appsink (bounded: 5 s).
  std::vector<Bytes> run(const std::vector<Bytes>& packets) {
    auto* src = GST_APP_SRC(element("in"));
    for (const auto& p : packets) {
      GstBuffer* b = gst_buffer_new_memdup(p.data(), p.size());
      EXPECT_EQ(gst_app_src_push_buffer(src, b), GST_FLOW_OK);  // takes b
    }
    gst_app_src_end_of_stream(src);
    std::vector<Bytes> out;
    auto* sink = GST_APP_SINK(element("out"));
    while (true) {
      common::SamplePtr s(gst_app_sink_try_pull_sample(sink, 5 * GST_SECOND));
      if (!s) {
        break;
      }
      GstBuffer* b = gst_sample_get_buffer(s.get());
      Bytes v(gst_buffer_get_size(b));
      gst_buffer_extract(b, 0, v.data(), v.size());
      out.push_back(std::move(v));
    }
    return out;
  }

 private:
  common::ElementPtr pipeline_;
};

GstCaps* srtpdec_key(GstElement*, guint ssrc, gpointer key) {
  auto buf = static_cast<common::SrtpKey*>(key)->to_buffer();
  return gst_caps_new_simple("application/x-srtp", "ssrc", G_TYPE_UINT, ssrc, "srtp-key", GST_TYPE_BUFFER, buf.get(),
                             "srtp-cipher", G_TYPE_STRING, "aes-128-icm", "srtp-auth", G_TYPE_STRING, "hmac-sha1-80",
                             "srtcp-cipher", G_TYPE_STRING, "aes-128-icm", "srtcp-auth", G_TYPE_STRING,
                             "hmac-sha1-80", nullptr);
}

}  // namespace

TEST(Srtcp, ProtectKeepsTheHeaderEncryptsTheRestAndCountsTheIndex) {
  const auto key = key_from(1);
  SrtcpContext out(key, SrtcpContext::Direction::outbound);
  const Bytes plain = rr_with_pli(0x11111111, 0x22222222);
  std::uint32_t first = 0;
  for (std::uint32_t i = 0; i < 5; ++i) {
    const Bytes s = out.protect(plain);
    ASSERT_EQ(s.size(), plain.size() + common::kSrtcpOverhead);
    EXPECT_TRUE(std::equal(plain.begin(), plain.begin() + 8, s.begin())) << "first RTCP header + SSRC stay clear";
    EXPECT_FALSE(std::equal(plain.begin() + 8, plain.end(), s.begin() + 8)) << "the rest is encrypted";
    EXPECT_EQ(trailer_word(s) & 0x80000000U, 0x80000000U) << "E flag set";
    if (i == 0) {
      first = trailer_word(s) & 0x7FFFFFFFU;
      EXPECT_LE(first, 1U) << "a new sender starts its SRTCP index at the bottom (libsrtp2: 1)";
    }
    EXPECT_EQ(trailer_word(s) & 0x7FFFFFFFU, first + i) << "SRTCP index + 1 per packet";
  }
  // Another sender SSRC has its own index; the first one's goes on where it was.
  EXPECT_EQ(trailer_word(out.protect(rr_with_pli(0x33333333, 0x22222222))), 0x80000000U | first);
  EXPECT_EQ(trailer_word(out.protect(plain)), 0x80000000U | (first + 5));
}

TEST(Srtcp, BadInputIsAClearError) {
  SrtcpContext out(key_from(1), SrtcpContext::Direction::outbound);
  EXPECT_THROW((void)out.protect(Bytes(4, 0x80)), std::runtime_error);
  EXPECT_THROW((void)out.protect(Bytes(10, 0x80)), std::runtime_error);  // not a multiple of 4
  SrtcpContext in(key_from(1), SrtcpContext::Direction::inbound);
  EXPECT_THROW((void)in.protect(rr_with_pli(1, 2)), std::logic_error);
  Bytes p = rr_with_pli(1, 2);
  EXPECT_THROW((void)out.unprotect(p), std::logic_error);
}

TEST(Srtcp, UnprotectRoundTripsAndRejectsReplayForgeryPlainAndWrongKey) {
  const auto key = key_from(9);
  SrtcpContext out(key, SrtcpContext::Direction::outbound);
  SrtcpContext in(key, SrtcpContext::Direction::inbound);
  const Bytes plain = rr_with_pli(0xA0A0A0A0, 0x0B0B0B0B);
  const Bytes first = out.protect(plain);
  Bytes p = first;
  ASSERT_EQ(in.unprotect(p), SrtcpContext::Result::ok);
  EXPECT_EQ(p, plain);
  EXPECT_TRUE(relay::contains_keyframe_request(p));

  p = first;
  EXPECT_EQ(in.unprotect(p), SrtcpContext::Result::replayed) << "the same packet twice";

  Bytes second = out.protect(plain);
  Bytes tampered = second;
  tampered[12] ^= 0x01;  // one bit of the encrypted report
  EXPECT_EQ(in.unprotect(tampered), SrtcpContext::Result::auth_failed);
  Bytes index_changed = second;
  index_changed[index_changed.size() - 11] ^= 0x01;  // the index, not the tag
  EXPECT_EQ(in.unprotect(index_changed), SrtcpContext::Result::auth_failed);
  p = second;
  EXPECT_EQ(in.unprotect(p), SrtcpContext::Result::ok) << "the genuine packet still passes after the forgeries";

  // Plain RTCP: a bare PLI is shorter than any SRTCP packet; a compound RR+PLI has no E flag / tag.
  Bytes bare_pli = relay::build_pli(0xA0A0A0A0, 0x0B0B0B0B);
  EXPECT_EQ(in.unprotect(bare_pli), SrtcpContext::Result::too_short);
  Bytes plain_compound = rr_with_pli(0xCCCCCCCC, 0x0B0B0B0B);
  EXPECT_NE(in.unprotect(plain_compound), SrtcpContext::Result::ok);
  Bytes plain_padded = rr_with_pli(0xCCCCCCCC, 0x0B0B0B0B);
  plain_padded.insert(plain_padded.end(), {0x80, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10});  // looks like E|index + tag
  EXPECT_EQ(in.unprotect(plain_padded), SrtcpContext::Result::auth_failed);

  SrtcpContext other(key_from(10), SrtcpContext::Direction::outbound);
  Bytes wrong = other.protect(plain);  // a known SSRC with an index already seen: libsrtp checks replay first
  EXPECT_NE(in.unprotect(wrong), SrtcpContext::Result::ok) << "another key";
  Bytes wrong_new_ssrc = other.protect(rr_with_pli(0xDDDDDDDD, 0x0B0B0B0B));
  EXPECT_EQ(in.unprotect(wrong_new_ssrc), SrtcpContext::Result::auth_failed) << "another key";
  for (int i = 0; i < 3; ++i) {
    Bytes w = other.protect(plain);  // index 2 (seen: replay), then new indices: the tag decides
    EXPECT_NE(in.unprotect(w), SrtcpContext::Result::ok) << "another key, packet " << i;
  }

  // Many forged SSRCs, then the genuine sender still passes (no state taken by forgeries).
  std::mt19937 rng(7);
  for (int i = 0; i < 1000; ++i) {
    Bytes f = other.protect(rr_with_pli(static_cast<std::uint32_t>(rng()), 0x0B0B0B0B));
    EXPECT_EQ(in.unprotect(f), SrtcpContext::Result::auth_failed);
  }
  p = out.protect(plain);
  EXPECT_EQ(in.unprotect(p), SrtcpContext::Result::ok);
}

TEST(Srtcp, OutOfOrderWithinTheWindowPassesOnce) {
  const auto key = key_from(3);
  SrtcpContext out(key, SrtcpContext::Direction::outbound);
  SrtcpContext in(key, SrtcpContext::Direction::inbound);
  const Bytes plain = rr_with_pli(5, 6);
  std::vector<Bytes> sent;
  for (int i = 0; i < 4; ++i) {
    sent.push_back(out.protect(plain));
  }
  for (int i : {3, 1, 0, 2}) {
    Bytes p = sent[static_cast<std::size_t>(i)];
    EXPECT_EQ(in.unprotect(p), SrtcpContext::Result::ok) << "packet " << i;
  }
  for (int i : {0, 3}) {
    Bytes p = sent[static_cast<std::size_t>(i)];
    EXPECT_EQ(in.unprotect(p), SrtcpContext::Result::replayed) << "packet " << i;
  }
}

// The relay's SRTCP is what a standard SRTCP receiver (GStreamer's srtpdec) accepts.
TEST(Srtcp, GstreamerSrtpdecDecodesOurSrtcp) {
  auto key = key_from(21);
  SrtcpContext out(key, SrtcpContext::Direction::outbound);
  const Bytes plain = rr_with_pli(0x01020304, 0x05060708);
  const std::vector<Bytes> packets{out.protect(plain), out.protect(plain), out.protect(plain)};
  OneShotPipeline p("application/x-srtcp", "dec.rtcp_sink srtpdec name=dec dec.rtcp_src");
  const common::SignalConnection conn(
      p.element("dec"), g_signal_connect(p.element("dec"), "request-key", G_CALLBACK(&srtpdec_key), &key));
  p.play();
  const auto got = p.run(packets);
  ASSERT_EQ(got.size(), 3U);
  for (const auto& g : got) {
    EXPECT_EQ(g, plain);
  }
}

// The publisher's RTCP (GStreamer's srtpenc) is what the relay's inbound context reads.
TEST(Srtcp, OurUnprotectReadsGstreamerSrtpencRtcp) {
  const auto key = key_from(33);
  OneShotPipeline p("application/x-rtcp",
                    "enc.rtcp_sink_0 srtpenc name=enc rtp-cipher=aes-128-icm rtp-auth=hmac-sha1-80 "
                    "rtcp-cipher=aes-128-icm rtcp-auth=hmac-sha1-80 enc.rtcp_src_0");
  auto kb = key.to_buffer();
  g_object_set(p.element("enc"), "key", kb.get(), nullptr);
  p.play();
  const Bytes plain = rr_with_pli(0x0A0B0C0D, 0x01010101);
  const auto got = p.run({plain, plain});
  ASSERT_EQ(got.size(), 2U);
  SrtcpContext in(key, SrtcpContext::Direction::inbound);
  for (const auto& g : got) {
    EXPECT_EQ(g.size(), plain.size() + common::kSrtcpOverhead);
    Bytes b = g;
    ASSERT_EQ(in.unprotect(b), SrtcpContext::Result::ok);
    EXPECT_EQ(b, plain);
  }
}

TEST(SrtcpFilter, PassesOnlyAuthenticatedRtcpAndCounts) {
  const auto key = key_from(44);
  publisher::SrtcpFilter f(key);
  SrtcpContext relay_side(key, SrtcpContext::Direction::outbound);
  const Bytes plain = rr_with_pli(0x12345678, 0x9ABCDEF0);
  Bytes ok = relay_side.protect(plain);
  const Bytes ok_copy = ok;
  EXPECT_TRUE(f.process(ok));
  EXPECT_EQ(ok, plain) << "rtpbin gets the plain compound RTCP";
  Bytes again = ok_copy;
  EXPECT_FALSE(f.process(again)) << "replay";
  Bytes forged = relay::build_pli(0x12345678, 0x9ABCDEF0);
  EXPECT_FALSE(f.process(forged)) << "plain PLI";
  Bytes fir{0x84, 206, 0, 4, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0, 0x9A, 0xBC, 0xDE, 0xF0, 1, 0, 0, 0};
  EXPECT_FALSE(f.process(fir)) << "plain FIR";
  EXPECT_EQ(f.accepted(), 1U);
  EXPECT_EQ(f.rejected(), 3U);
}

// The probe in a real pipeline: udpsrc-like input, rtpbin-like output.
TEST(SrtcpFilter, ProbeDropsForgedAndDecryptsGenuineBuffers) {
  const auto key = key_from(55);
  publisher::SrtcpFilter f(key);
  OneShotPipeline p("application/x-rtcp", "identity name=id");
  f.attach(p.element("in"));
  p.play();
  SrtcpContext relay_side(key, SrtcpContext::Direction::outbound);
  const Bytes plain = rr_with_pli(0x12345678, 0x9ABCDEF0);
  const Bytes genuine = relay_side.protect(plain);
  const auto got = p.run({relay::build_pli(0x12345678, 0x9ABCDEF0), genuine, genuine, relay_side.protect(plain)});
  f.detach();
  ASSERT_EQ(got.size(), 2U);
  EXPECT_EQ(got[0], plain);
  EXPECT_EQ(got[1], plain);
  EXPECT_EQ(f.accepted(), 2U);
  EXPECT_EQ(f.rejected(), 2U);
}
