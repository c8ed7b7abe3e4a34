// The running publisher restarts a failed pipeline with exponential backoff.
// In-process, real GStreamer: the test source ends after 15 frames each run
// (an unexpected EOS, like a camera going away), the publisher must restart it.
#include <gtest/gtest.h>

#include <gst/gst.h>

#include "process.hpp"
#include "veter/common/main_loop.hpp"
#include "veter/publisher/pipeline_builder.hpp"
#include "veter/publisher/publisher.hpp"

using namespace veter;
using namespace veter::publisher;

TEST(PublisherRestart, FailedPipelineRestartsWithDoublingBackoff) {
  gst_init(nullptr, nullptr);
  PublisherConfig cfg;
  cfg.width = 320;
  cfg.height = 240;
  cfg.bitrate_kbps = 300;
  cfg.destination = {"127.0.0.1", static_cast<std::uint16_t>(veter::test::free_udp_port(true))};
  cfg.local_port = 0;
  Selection sel;
  sel.source = SourceKind::test;
  sel.encoder = EncoderKind::x264enc;
  std::string desc = build_pipeline_description(cfg, sel);
  const std::string live = "is-live=true";
  desc.replace(desc.find(live), live.size(), "is-live=true num-buffers=15");

  common::MainLoop loop;
  Publisher pub(cfg, desc, sel.encoder, loop);
  pub.start();
  common::SourceId stop(g_timeout_add(
      5000,
      [](gpointer p) -> gboolean {
        static_cast<Publisher*>(p)->shutdown();
        return G_SOURCE_REMOVE;
      },
      &pub));
  EXPECT_EQ(loop.run(), 0);
  stop.release();

  const auto& delays = pub.restart_delays();
  ASSERT_GE(delays.size(), 2U) << "the pipeline was not restarted";
  EXPECT_EQ(delays[0].count(), 500);
  EXPECT_EQ(delays[1].count(), 1000);
  if (delays.size() >= 3) {
    EXPECT_EQ(delays[2].count(), 2000);
  }
  // Every run produced its 15 frames: the restarts really ran the pipeline again.
  EXPECT_GE(pub.frames_sent(), 15U * delays.size());
}
