// The publisher's pipeline with srtp_key_file: srtpenc on both RTP and RTCP,
// the description parses, and the key is never part of it.
#include <gtest/gtest.h>
#include <gst/gst.h>

#include "veter/common/gst_ptr.hpp"
#include "veter/publisher/pipeline_builder.hpp"
#include "veter/publisher/publisher_config.hpp"
#include "veter/publisher/selection.hpp"

using namespace veter;

TEST(SrtpPipeline, SrtpencOnRtpAndRtcpAndTheDescriptionParses) {
  gst_init(nullptr, nullptr);
  publisher::PublisherConfig cfg;
  cfg.srtp_key_file = "/etc/veter/srtp.key";
  const auto desc = publisher::build_pipeline_description(cfg, publisher::Selection{});
  EXPECT_NE(desc.find("srtpenc name=srtpenc rtp-cipher=aes-128-icm rtp-auth=hmac-sha1-80 rtcp-cipher=aes-128-icm "
                      "rtcp-auth=hmac-sha1-80"),
            std::string::npos)
      << desc;
  EXPECT_NE(desc.find("send_rtp_src_0 ! srtpenc.rtp_sink_0 srtpenc.rtp_src_0 ! udpsink"), std::string::npos);
  EXPECT_NE(desc.find("send_rtcp_src_0 ! srtpenc.rtcp_sink_0 srtpenc.rtcp_src_0 ! udpsink"), std::string::npos);
  EXPECT_EQ(desc.find("key="), std::string::npos) << "the key must be set at runtime, not in the description";
  GError* err = nullptr;
  auto pipeline = common::adopt_floating(gst_parse_launch(desc.c_str(), &err));
  common::GErrorPtr e(err);
  EXPECT_TRUE(pipeline && !e) << (e ? e->message : "");

  publisher::PublisherConfig plain;
  EXPECT_EQ(publisher::build_pipeline_description(plain, publisher::Selection{}).find("srtp"), std::string::npos);
}
